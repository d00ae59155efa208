/* SPDX-License-Identifier: MIT */
/*
 * widget_test.c - unit tests for what the chat widget's API parts share (api_widget.h): the
 * signature of a signed-in customer (HMAC-SHA256 over id, email and name with the inbox's
 * secret; vectors from Python's hmac module, so that a shop's server computing it the
 * documented way gets the same), its constant-time check against forged, tampered and malformed
 * hashes, new secrets, greetings in German and English, and allowed origins.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "api/api_widget.h"

static const char SECRET[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* hmac.new(SECRET.encode(), b"cust-4711\nsarah@example.de\nSarah Neumann", sha256).hexdigest() */
static const char SARAH[] = "0ee420a0f8eda92f6a1459538c4ea5ad3b5f22e0f463199aa241e4db0e1c7b7e";
/* the same with id and name empty */
static const char MAIL_ONLY[] = "55cc8e560ff48b253cc4d2533bc331ca14f784314fa9a1304f963fe7396d9665";
/* "cust-1\n\nJürgen Groß": UTF-8 names are signed as their bytes */
static const char JUERGEN[] = "45e3389b59d2d4bc7e2b8f37f9d8bbafe02b7ea283d3be0ff8350f70f3e25f35";

static void test_sign_matches_documented_hmac(void **state)
{
    (void)state;
    char out[65];
    kp_api_widget_sign(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", out);
    assert_string_equal(out, SARAH);
    kp_api_widget_sign(SECRET, NULL, "sarah@example.de", NULL, out);
    assert_string_equal(out, MAIL_ONLY);
    kp_api_widget_sign(SECRET, "", "sarah@example.de", "", out);
    assert_string_equal(out, MAIL_ONLY); /* missing and empty are the same */
    kp_api_widget_sign(SECRET, "cust-1", NULL, "Jürgen Groß", out);
    assert_string_equal(out, JUERGEN);
}

static void test_verify(void **state)
{
    (void)state;
    assert_true(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", SARAH));
    /* upper-case hex is the same number */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(SARAH[i] >= 'a' && SARAH[i] <= 'f' ? SARAH[i] - 32 : SARAH[i]);
    assert_true(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", upper));
    /* any field changed: refused */
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4712", "sarah@example.de", "Sarah Neumann", SARAH));
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "eve@example.de", "Sarah Neumann", SARAH));
    assert_false(kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Eve", SARAH));
    /* the separator is part of the message: moving text between fields changes the hash */
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711\nsarah@example.de", "", "Sarah Neumann", SARAH));
    /* another secret: refused (a rotated secret invalidates old hashes) */
    char other[65];
    kp_api_widget_new_secret(other);
    assert_false(
        kp_api_widget_verify(other, "cust-4711", "sarah@example.de", "Sarah Neumann", SARAH));
    /* one digit flipped, truncated, too long, not hex, empty, NULL */
    char flipped[65];
    memcpy(flipped, SARAH, sizeof(flipped));
    flipped[63] = flipped[63] == '0' ? '1' : '0';
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", flipped));
    char shortened[65];
    memcpy(shortened, SARAH, sizeof(shortened));
    shortened[62] = '\0';
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", shortened));
    char longer[70];
    snprintf(longer, sizeof(longer), "%s00", SARAH);
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", longer));
    char nothex[65];
    memcpy(nothex, SARAH, sizeof(nothex));
    nothex[0] = 'g';
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", nothex));
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", ""));
    assert_false(
        kp_api_widget_verify(SECRET, "cust-4711", "sarah@example.de", "Sarah Neumann", NULL));
}

static void test_new_secret(void **state)
{
    (void)state;
    char a[KP_WIDGET_SECRET_LEN + 1], b[KP_WIDGET_SECRET_LEN + 1];
    kp_api_widget_new_secret(a);
    kp_api_widget_new_secret(b);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
    assert_string_not_equal(a, b);
}

static void greet(const char *lang, const struct kp_visitor_facts *f, bool identified,
                  const struct kp_widget *w, const char *want)
{
    char out[KP_WIDGET_GREETING_CAP];
    kp_api_widget_greeting(lang, f, identified, w, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_greetings(void **state)
{
    (void)state;
    struct kp_visitor_facts f = {0};
    snprintf(f.name, sizeof(f.name), "Sarah Neumann");
    snprintf(f.subject, sizeof(f.subject), "Wo bleibt meine Bestellung KP-12345?");
    /* an order number in the open conversation's subject */
    greet("de", &f, true, NULL, "Hallo Sarah! Geht es um Ihre Bestellung KP-12345?");
    greet("en-GB", &f, true, NULL, "Hi Sarah! Is this about your order KP-12345?");
    /* no order number there: the last order from the shop's data */
    snprintf(f.subject, sizeof(f.subject), "Rechnung RE-2025-00012 fehlt");
    snprintf(f.last_order, sizeof(f.last_order), "KP-777777");
    greet("de-DE", &f, true, NULL, "Hallo Sarah! Geht es um Ihre Bestellung KP-777777?");
    /* no order at all: the subject */
    f.last_order[0] = '\0';
    greet("de", &f, true, NULL,
          "Hallo Sarah! Geht es um Ihre Anfrage „Rechnung RE-2025-00012 fehlt“?");
    /* nothing known but the name, and not even that */
    f.subject[0] = '\0';
    greet("en", &f, true, NULL, "Hi Sarah! How can we help you today?");
    f.name[0] = '\0';
    greet("de", &f, true, NULL, "Hallo! Wie können wir Ihnen helfen?");
    /* an order number stands alone, with 2 to 4 letters and 4 digits or more */
    snprintf(f.subject, sizeof(f.subject), "Ref orderKP-12345, ABCDE-12345 and KP-12");
    greet("en", &f, true, NULL,
          "Hi there! Is this about your request “Ref orderKP-12345, ABCDE-12345 and KP-12”?");

    /* anonymous visitors: the inbox's greeting in their language, else the other, else a
     * default; what is known of a contact is never told to an anonymous visitor */
    struct kp_widget w = {0};
    snprintf(f.name, sizeof(f.name), "Sarah Neumann");
    greet("de", &f, false, &w, "Hallo! Wie können wir Ihnen helfen?");
    greet("fr", &f, false, &w, "Hi there! How can we help you today?");
    snprintf(w.greeting_en, sizeof(w.greeting_en), "Welcome to Hausgold!");
    greet("de", &f, false, &w, "Welcome to Hausgold!");
    snprintf(w.greeting_de, sizeof(w.greeting_de), "Willkommen bei Hausgold!");
    greet("de", &f, false, &w, "Willkommen bei Hausgold!");
    greet("en", &f, false, &w, "Welcome to Hausgold!");
}

static void test_origins(void **state)
{
    (void)state;
    struct kp_widget w = {0};
    assert_true(kp_api_widget_origin_allowed(&w, "https://anything.example"));
    snprintf(w.origins, sizeof(w.origins), "https://shop.example http://localhost:8080");
    assert_true(kp_api_widget_origin_allowed(&w, "https://shop.example"));
    assert_true(kp_api_widget_origin_allowed(&w, "HTTPS://SHOP.EXAMPLE"));
    assert_true(kp_api_widget_origin_allowed(&w, "http://localhost:8080"));
    assert_false(kp_api_widget_origin_allowed(&w, "https://shop.example.evil"));
    assert_false(kp_api_widget_origin_allowed(&w, "https://shop.exampl"));
    assert_false(kp_api_widget_origin_allowed(&w, "http://localhost"));
    assert_false(kp_api_widget_origin_allowed(&w, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_matches_documented_hmac),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_new_secret),
        cmocka_unit_test(test_greetings),
        cmocka_unit_test(test_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
