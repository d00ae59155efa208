/* SPDX-License-Identifier: MIT */
/* language.c - German/English guess by counting frequent function words (see language.h). */
#include "language.h"

#include <ctype.h>

enum { DE = 1, EN = 2 };

/* Sorted by bytes for bsearch. */
static const struct word {
    const char *w;
    int lang;
} words[] = {
    {"aber", DE},     {"an", EN},     {"and", EN},    {"any", EN},        {"are", EN},
    {"auch", DE},     {"auf", DE},    {"been", EN},   {"bestellung", DE}, {"bitte", DE},
    {"but", EN},      {"can", EN},    {"could", EN},  {"danke", DE},      {"das", DE},
    {"dem", DE},      {"den", DE},    {"der", DE},    {"did", EN},        {"die", DE},
    {"ein", DE},      {"eine", DE},   {"es", DE},     {"for", EN},        {"für", DE},
    {"habe", DE},     {"haben", DE},  {"hallo", DE},  {"has", EN},        {"have", EN},
    {"hello", EN},    {"hi", EN},     {"how", EN},    {"i", EN},          {"ich", DE},
    {"ihnen", DE},    {"ihr", DE},    {"is", EN},     {"ist", DE},        {"it", EN},
    {"kann", DE},     {"keine", DE},  {"leider", DE}, {"me", EN},         {"mein", DE},
    {"meine", DE},    {"mit", DE},    {"my", EN},     {"nicht", DE},      {"noch", DE},
    {"not", EN},      {"of", EN},     {"on", EN},     {"order", EN},      {"please", EN},
    {"received", EN}, {"schon", DE},  {"sehr", DE},   {"sie", DE},        {"still", EN},
    {"thank", EN},    {"thanks", EN}, {"that", EN},   {"the", EN},        {"this", EN},
    {"to", EN},       {"und", DE},    {"von", DE},    {"wann", DE},       {"was", EN},
    {"we", EN},       {"when", EN},   {"wie", DE},    {"wir", DE},        {"with", EN},
    {"would", EN},    {"wurde", DE},  {"you", EN},    {"your", EN},       {"zu", DE},
};

static int cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct word *)elem)->w);
}

const char *kp_language_detect(const char *text)
{
    int nde = 0, nen = 0, n = 0;
    char w[32];
    const unsigned char *p = (const unsigned char *)text;
    while (*p && n < 400) {
        while (*p && !(isalpha(*p) || *p >= 0x80))
            p++;
        size_t k = 0;
        bool umlaut = false;
        while (*p && (isalpha(*p) || *p >= 0x80)) {
            /* ä ö ü ß (UTF-8 lead byte 0xc3) are a strong German signal */
            umlaut = umlaut ||
                     (*p == 0xc3 && (p[1] == 0xa4 || p[1] == 0xb6 || p[1] == 0xbc || p[1] == 0x9f));
            if (k < sizeof(w) - 1)
                w[k++] = (char)tolower(*p);
            p++;
        }
        if (!k)
            break;
        w[k] = '\0';
        n++;
        const struct word *hit = bsearch(w, words, KP_ARRAY_LEN(words), sizeof(words[0]), cmp);
        if (hit) {
            nde += (hit->lang & DE) != 0;
            nen += (hit->lang & EN) != 0;
        }
        nde += umlaut;
    }
    if (nde + nen < 2 || nde == nen)
        return NULL;
    return nde > nen ? "de" : "en";
}
