/* SPDX-License-Identifier: MIT */
/* language.c - German/English guess by counting frequent function words (see language.h). */
#include "language.h"

#include <ctype.h>

static const char *const de[] = {
    "der",   "die",   "das",    "und",        "ist",   "nicht", "ich",   "sie",   "es",    "ein",
    "eine",  "mit",   "auf",    "für",        "von",   "zu",    "den",   "dem",   "bitte", "meine",
    "mein",  "wurde", "noch",   "kann",       "haben", "habe",  "wir",   "sehr",  "aber",  "auch",
    "danke", "hallo", "leider", "bestellung", "ihr",   "ihnen", "keine", "schon", "wann",  "wie"};
static const char *const en[] = {
    "the",   "and",   "is",    "not",      "you",    "my",    "it",    "to",     "of",    "for",
    "with",  "on",    "this",  "that",     "have",   "has",   "was",   "please", "your",  "can",
    "order", "we",    "are",   "but",      "thanks", "thank", "hello", "hi",     "still", "when",
    "how",   "would", "could", "received", "i",      "me",    "did",   "been",   "any",   "an"};

static bool in(const char *w, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, set[i]) == 0)
            return true;
    return false;
}

const char *kp_language_detect(const char *text)
{
    int nde = 0, nen = 0, words = 0;
    char w[32];
    const unsigned char *p = (const unsigned char *)text;
    while (*p && words < 400) {
        while (*p && !(isalpha(*p) || *p >= 0x80))
            p++;
        size_t k = 0;
        while (*p && (isalpha(*p) || *p >= 0x80)) {
            if (k < sizeof(w) - 1)
                w[k++] = (char)tolower(*p);
            p++;
        }
        if (!k)
            break;
        w[k] = '\0';
        words++;
        nde += in(w, de, KP_ARRAY_LEN(de));
        nen += in(w, en, KP_ARRAY_LEN(en));
        /* umlauts and ß are a strong German signal */
        if (strstr(w, "\xc3\xa4") || strstr(w, "\xc3\xb6") || strstr(w, "\xc3\xbc") ||
            strstr(w, "\xc3\x9f"))
            nde++;
    }
    if (nde + nen < 2 || nde == nen)
        return NULL;
    return nde > nen ? "de" : "en";
}
