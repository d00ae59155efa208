/* SPDX-License-Identifier: MIT */
/* tmpl_test.c - unit tests for {{variable}} substitution in canned answers: known, unknown and
 * empty variables, spacing, malformed braces, UTF-8 values, the output cap and first words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/tmpl.h"

static const struct kp_tmpl_var vars[] = {
    {"contact.name", "Lena Schmidt"}, {"contact.first_name", "Lena"},
    {"contact.email", NULL}, /* the contact has no email address */
    {"agent.name", "Jürgen Groß"},    {"conversation.id", "42"},
};

/* Renders tpl with vars into a fresh buffer; returns the text (caller frees). */
static char *render(const char *tpl, size_t cap, int *rc)
{
    struct kp_buf b;
    kp_buf_init(&b, cap);
    *rc = kp_tmpl_render(tpl, vars, KP_ARRAY_LEN(vars), &b);
    char *s = kp_xstrdup(b.data ? b.data : "");
    kp_buf_release(&b);
    return s;
}

static void expect(const char *tpl, const char *want)
{
    int rc;
    char *got = render(tpl, 0, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    free(got);
}

static void test_known_variables(void **state)
{
    expect("Hallo {{contact.first_name}}, hier ist {{agent.name}}.",
           "Hallo Lena, hier ist Jürgen Groß.");
    expect("{{contact.name}}", "Lena Schmidt");
    expect("#{{conversation.id}}#{{conversation.id}}", "#42#42");
    expect("{{ contact.first_name }} and {{\tagent.name}}", "Lena and Jürgen Groß");
    expect("", "");
    expect("no variables at all", "no variables at all");
}

static void test_missing_value_is_empty(void **state)
{
    expect("Mail: <{{contact.email}}>", "Mail: <>");
}

static void test_unknown_and_malformed_stay(void **state)
{
    expect("{{order.number}} for {{contact.first_name}}", "{{order.number}} for Lena");
    expect("{{Contact.Name}}", "{{Contact.Name}}"); /* names are case-sensitive */
    expect("{{contact.first_name}", "{{contact.first_name}");
    expect("{contact.first_name}}", "{contact.first_name}}");
    expect("{{}} {{ }} {{contact first_name}}", "{{}} {{ }} {{contact first_name}}");
    expect("{{{contact.first_name}}}", "{Lena}");
    expect("{{", "{{");
    expect("trailing {{contact.na", "trailing {{contact.na");
    expect("{{contact.first_name}}{{contact.first_name}}", "LenaLena");
    /* a name longer than any variable is left alone without reading past it */
    expect("{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}",
           "{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}");
}

static void test_cap(void **state)
{
    int rc;
    char *got = render("{{contact.name}} {{contact.name}}", 20, &rc);
    assert_int_equal(rc, KP_ETOOBIG);
    assert_true(strlen(got) <= 20);
    free(got);
    got = render("{{contact.name}} {{contact.name}}", 25, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(got, "Lena Schmidt Lena Schmidt");
    free(got);
}

static void test_first_word(void **state)
{
    char out[16];
    kp_tmpl_first_word("Lena Schmidt", out, sizeof(out));
    assert_string_equal(out, "Lena");
    kp_tmpl_first_word("  Özlem\tKaya", out, sizeof(out));
    assert_string_equal(out, "Özlem");
    kp_tmpl_first_word("Cher", out, sizeof(out));
    assert_string_equal(out, "Cher");
    kp_tmpl_first_word(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    kp_tmpl_first_word("   ", out, sizeof(out));
    assert_string_equal(out, "");
    /* cut short at a character boundary: "ü" is two bytes and must not be split */
    char small[6];
    kp_tmpl_first_word("Jürgens Groß", small, sizeof(small));
    assert_string_equal(small, "Jürg");
    kp_tmpl_first_word("Jüx", small, 3);
    assert_string_equal(small, "J");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_variables),
        cmocka_unit_test(test_missing_value_is_empty),
        cmocka_unit_test(test_unknown_and_malformed_stay),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_first_word),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
