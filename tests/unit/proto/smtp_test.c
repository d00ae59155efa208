/* SPDX-License-Identifier: MIT */
/*
 * smtp_test.c - unit tests for the SMTP/LMTP command parser (verbs, paths, parameters, the
 * reply codes they map to) and the DATA decoder (dot-stuffing, the end of data in any split,
 * bare LF, pipelining, the output cap).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proto/smtp.h"

/* Parses s (a C string, no CRLF) and expects reply code rc. */
static void expect_code(const char *s, size_t n, int rc, struct kp_smtp_cmd *cmd)
{
    const char *why = NULL;
    int got = kp_smtp_parse(s, n, cmd, &why);
    if (got != rc)
        fail_msg("'%.80s': expected %d, got %d (%s)", s, rc, got, got ? why : "ok");
    if (rc)
        assert_non_null(why);
}

static struct kp_smtp_cmd ok(const char *s)
{
    struct kp_smtp_cmd cmd;
    expect_code(s, strlen(s), 0, &cmd);
    return cmd;
}

static void bad(const char *s, int rc)
{
    struct kp_smtp_cmd cmd;
    expect_code(s, strlen(s), rc, &cmd);
}

/* MAIL FROM:<...> with the given path text; returns the parsed path in out. */
static int mail_from(const char *inner, char *out)
{
    char line[2048];
    snprintf(line, sizeof(line), "MAIL FROM:<%s>", inner);
    struct kp_smtp_cmd cmd;
    const char *why;
    int rc = kp_smtp_parse(line, strlen(line), &cmd, &why);
    snprintf(out, KP_SMTP_PATH_MAX + 1, "%s", rc == 0 ? cmd.path : "");
    return rc;
}

static void test_verbs_case_insensitive(void **state)
{
    static const struct {
        const char *line;
        enum kp_smtp_verb verb;
    } cases[] = {
        {"HELO client.example", KP_SMTP_HELO},
        {"helo client.example", KP_SMTP_HELO},
        {"eHlO client.example", KP_SMTP_EHLO},
        {"LHLO client.example", KP_SMTP_LHLO},
        {"mail FROM:<a@b.example>", KP_SMTP_MAIL},
        {"MAIL from:<a@b.example>", KP_SMTP_MAIL},
        {"Rcpt To:<a@b.example>", KP_SMTP_RCPT},
        {"data", KP_SMTP_DATA},
        {"RsEt", KP_SMTP_RSET},
        {"noop", KP_SMTP_NOOP},
        {"quit", KP_SMTP_QUIT},
        {"VRFY", KP_SMTP_VRFY},
        {"help", KP_SMTP_HELP},
        {"StartTLS", KP_SMTP_STARTTLS},
        {"bdat 10", KP_SMTP_BDAT},
    };
    for (size_t i = 0; i < KP_ARRAY_LEN(cases); i++) {
        struct kp_smtp_cmd cmd = ok(cases[i].line);
        assert_int_equal(cmd.verb, cases[i].verb);
    }
}

static void test_unknown_and_empty_500(void **state)
{
    bad("", 500);
    bad("   ", 500);
    bad("FOO bar", 500);
    bad("MAILX FROM:<a@b.example>", 500);
    bad("MAIL:FROM:<a@b.example>", 500);
    bad("HEL", 500);
    bad(" HELO x", 500);
    bad("\x16\x03\x01\x02", 500);
    struct kp_smtp_cmd cmd;
    expect_code("DATA\0", 5, 500, &cmd); /* NUL after the verb */
    assert_int_equal(cmd.verb, KP_SMTP_UNKNOWN);
}

static void test_line_length_limit(void **state)
{
    /* HELO ignores words after its domain, so it can fill a whole line */
    char line[KP_SMTP_LINE_MAX + 8];
    memset(line, 'y', sizeof(line));
    memcpy(line, "HELO x ", 7);
    struct kp_smtp_cmd cmd;
    expect_code(line, KP_SMTP_LINE_MAX - 2, 0, &cmd); /* 998 bytes + CRLF = 1000 */
    assert_string_equal(cmd.path, "x");
    expect_code(line, KP_SMTP_LINE_MAX - 1, 500, &cmd);
    expect_code(line, KP_SMTP_LINE_MAX + 8, 500, &cmd);
    memcpy(line, "NOOP", 4);
    expect_code(line, KP_SMTP_LINE_MAX + 8, 500, &cmd);
}

static void test_helo_needs_argument(void **state)
{
    struct kp_smtp_cmd cmd = ok("EHLO mail.Client.example");
    assert_string_equal(cmd.path, "mail.Client.example"); /* as sent */
    cmd = ok("HELO [192.0.2.1]");
    assert_string_equal(cmd.path, "[192.0.2.1]");
    cmd = ok("LHLO  kp.example   ");
    assert_string_equal(cmd.path, "kp.example");
    cmd = ok("EHLO client.example extra words");
    assert_string_equal(cmd.path, "client.example");
    bad("HELO", 501);
    bad("EHLO", 501);
    bad("LHLO", 501);
    bad("EHLO   ", 501);
    bad("EHLO a\x01"
        "b",
        501);
    char line[400];
    snprintf(line, sizeof(line), "EHLO %0*d", KP_SMTP_PATH_MAX + 1, 0);
    bad(line, 501);
}

static void test_commands_without_argument(void **state)
{
    const char *none[] = {"DATA", "RSET", "QUIT", "STARTTLS"};
    for (size_t i = 0; i < KP_ARRAY_LEN(none); i++) {
        char line[64];
        struct kp_smtp_cmd cmd = ok(none[i]);
        assert_string_equal(cmd.path, "");
        snprintf(line, sizeof(line), "%s ", none[i]);
        ok(line); /* trailing space is not an argument */
        snprintf(line, sizeof(line), "%s now", none[i]);
        bad(line, 501);
        snprintf(line, sizeof(line), "%s\tnow", none[i]);
        bad(line, 501);
    }
}

static void test_commands_with_optional_argument(void **state)
{
    struct kp_smtp_cmd cmd = ok("NOOP");
    assert_string_equal(cmd.path, "");
    cmd = ok("NOOP anything at all");
    assert_string_equal(cmd.path, "anything at all");
    cmd = ok("HELP MAIL");
    assert_int_equal(cmd.verb, KP_SMTP_HELP);
    assert_string_equal(cmd.path, "MAIL");
    cmd = ok("VRFY postmaster");
    assert_string_equal(cmd.path, "postmaster");
    cmd = ok("VRFY");
    assert_string_equal(cmd.path, "");
    bad("NOOP \x7f", 501);
    bad("VRFY a\x1b[0m", 501);
}

static void test_mail_from(void **state)
{
    struct kp_smtp_cmd cmd = ok("MAIL FROM:<kunde@example.org>");
    assert_int_equal(cmd.verb, KP_SMTP_MAIL);
    assert_string_equal(cmd.path, "kunde@example.org");
    assert_int_equal(cmd.size, 0);
    assert_false(cmd.body_8bit);
    assert_false(cmd.smtputf8);
    /* a space (or several) after the colon, as many clients send it */
    cmd = ok("MAIL FROM: <kunde@example.org>");
    assert_string_equal(cmd.path, "kunde@example.org");
    cmd = ok("MAIL FROM:   <kunde@example.org>   ");
    assert_string_equal(cmd.path, "kunde@example.org");
    cmd = ok("RCPT TO: <support@kp.example>");
    assert_string_equal(cmd.path, "support@kp.example");
    bad("MAIL FROM:kunde@example.org", 501); /* no angle brackets */
    bad("MAIL FROM:<kunde@example.org", 501);
    bad("MAIL FROM:", 501);
    bad("MAIL", 501);
    bad("MAIL TO:<a@b.example>", 501);
    bad("RCPT FROM:<a@b.example>", 501);
    bad("MAIL FROM :<a@b.example>", 501);
    bad("MAIL FROM:<a@b.example>x", 501);
    bad("MAIL FROM:<a@b.example>>", 501);
    bad("MAIL FROM:<a b@c.example>", 501);
    bad("MAIL FROM:<@b.example>", 501);
    bad("MAIL FROM:<a@>", 501);
}

static void test_null_reverse_path(void **state)
{
    struct kp_smtp_cmd cmd = ok("MAIL FROM:<>");
    assert_int_equal(cmd.verb, KP_SMTP_MAIL);
    assert_string_equal(cmd.path, "");
    cmd = ok("MAIL FROM: <> SIZE=100");
    assert_string_equal(cmd.path, "");
    assert_int_equal(cmd.size, 100);
    bad("RCPT TO:<>", 501); /* a null path is never a recipient */
}

static void test_postmaster_without_domain(void **state)
{
    struct kp_smtp_cmd cmd = ok("RCPT TO:<Postmaster>");
    assert_int_equal(cmd.verb, KP_SMTP_RCPT);
    assert_string_equal(cmd.path, "Postmaster");
    cmd = ok("RCPT TO:<postmaster>");
    assert_string_equal(cmd.path, "postmaster");
    cmd = ok("RCPT TO:<POSTMASTER@KP.Example>");
    assert_string_equal(cmd.path, "POSTMASTER@kp.example");
    bad("RCPT TO:<support>", 501);
    bad("RCPT TO:<postmaste>", 501);
    bad("RCPT TO:<postmasters>", 501);
    bad("MAIL FROM:<Postmaster>", 501); /* only as a forward-path */
}

static void test_source_route_dropped(void **state)
{
    struct kp_smtp_cmd cmd = ok("RCPT TO:<@relay1.example,@Relay2.example:user@D.example>");
    assert_string_equal(cmd.path, "user@d.example");
    cmd = ok("MAIL FROM:<@[192.0.2.7]:a@b.example>");
    assert_string_equal(cmd.path, "a@b.example");
    cmd = ok("RCPT TO:<@hop.example:Postmaster>");
    assert_string_equal(cmd.path, "Postmaster");
    bad("RCPT TO:<@relay.example user@d.example>", 501);
    bad("RCPT TO:<@relay.example,user@d.example>", 501);
    bad("RCPT TO:<@:user@d.example>", 501);
    bad("RCPT TO:<@relay.example,:user@d.example>", 501);
}

static void test_quoted_local_part(void **state)
{
    struct kp_smtp_cmd cmd = ok("MAIL FROM:<\"John Doe\"@Example.ORG>");
    assert_string_equal(cmd.path, "\"John Doe\"@example.org");
    cmd = ok("RCPT TO:<\"a\\\"b@c>\"@x.example>");
    assert_string_equal(cmd.path, "\"a\\\"b@c>\"@x.example");
    cmd = ok("RCPT TO:<\"\"@x.example>");
    assert_string_equal(cmd.path, "\"\"@x.example");
    bad("RCPT TO:<\"unterminated@x.example>", 501);
    bad("RCPT TO:<\"a\"b@x.example>", 501);
    bad("RCPT TO:<\"a\x01\"@x.example>", 501);
    bad("RCPT TO:<\"a\\\x01\"@x.example>", 501);
    bad("RCPT TO:<\"Postmaster\">", 501); /* only the bare word is the special case */
}

static void test_lowercase_domain_only(void **state)
{
    char out[KP_SMTP_PATH_MAX + 1];
    assert_int_equal(mail_from("John.Doe@Example.ORG", out), 0);
    assert_string_equal(out, "John.Doe@example.org");
    assert_int_equal(mail_from("A+Tag@SUB.Example.Org", out), 0);
    assert_string_equal(out, "A+Tag@sub.example.org");
    assert_int_equal(mail_from("x@[IPv6:2001:DB8::1]", out), 0);
    assert_string_equal(out, "x@[ipv6:2001:db8::1]");
    assert_int_equal(mail_from("x@[192.0.2.1]", out), 0);
    assert_string_equal(out, "x@[192.0.2.1]");
    assert_int_equal(mail_from("!#$%&'*+-/=?^_`{|}~@x-1.example", out), 0);
    assert_string_equal(out, "!#$%&'*+-/=?^_`{|}~@x-1.example");
    assert_int_equal(mail_from("first..last.@x.example", out), 0); /* seen in the wild */
    assert_int_equal(mail_from("a@localhost", out), 0);
    /* malformed domains */
    assert_int_equal(mail_from("a@-x.example", out), 501);
    assert_int_equal(mail_from("a@x-.example", out), 501);
    assert_int_equal(mail_from("a@x..example", out), 501);
    assert_int_equal(mail_from("a@x.example.", out), 501);
    assert_int_equal(mail_from("a@.x.example", out), 501);
    assert_int_equal(mail_from("a@x_y.example", out), 501);
    assert_int_equal(mail_from("a@[]", out), 501);
    assert_int_equal(mail_from("a@[1.2.3.4", out), 501);
    assert_int_equal(mail_from("a@[ipv6:<x>]", out), 501); /* no brackets or quotes inside */
    assert_int_equal(mail_from("a@[1.2.3.4 ]", out), 501);
    assert_int_equal(mail_from("a@[\"x\"]", out), 501);
    assert_int_equal(mail_from("a@b@c.example", out), 501);
    char label[80];
    memset(label, 'l', 63);
    snprintf(label + 63, sizeof(label) - 63, ".example");
    char inner[128];
    snprintf(inner, sizeof(inner), "a@%s", label);
    assert_int_equal(mail_from(inner, out), 0);
    snprintf(inner, sizeof(inner), "a@l%s", label); /* a 64-byte label */
    assert_int_equal(mail_from(inner, out), 501);
}

static void test_control_characters_rejected(void **state)
{
    char out[KP_SMTP_PATH_MAX + 1];
    static const char *paths[] = {
        "a\x01"
        "b@x.example",
        "a@x\x7f.example",
        "a\tb@x.example",
        "a@x.exa\rmple",
        "a\x1b@x.example",
        "\x7f@x.example",
        "a@[1.2.3.4\x01]",
    };
    for (size_t i = 0; i < KP_ARRAY_LEN(paths); i++)
        assert_int_equal(mail_from(paths[i], out), 501);
    struct kp_smtp_cmd cmd;
    expect_code("MAIL FROM:<a\0b@x.example>", 25, 501, &cmd);
    assert_string_equal(cmd.path, "");
}

static void test_utf8_addresses(void **state)
{
    char out[KP_SMTP_PATH_MAX + 1];
    assert_int_equal(mail_from("j\xc3\xbcrgen@M\xc3\xbcller.example", out), 0);
    assert_string_equal(out, "j\xc3\xbcrgen@m\xc3\xbcller.example");
    assert_int_equal(mail_from("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.example", out),
                     0);
    assert_int_equal(mail_from("\"\xc3\xa9 x\"@x.example", out), 0);
    /* not UTF-8: a lone continuation byte, an overlong '/', a truncated sequence, a surrogate */
    assert_int_equal(mail_from("a\x80@x.example", out), 501);
    assert_int_equal(mail_from("a\xc0\xaf@x.example", out), 501);
    assert_int_equal(mail_from("a\xe2\x82@x.example", out), 501);
    assert_int_equal(mail_from("a@\xed\xa0\x80.example", out), 501);
    assert_int_equal(mail_from("a@x.\xf4\x90\x80\x80", out), 501);
}

/* route + n bytes of local part + "@x.example", between the angle brackets */
static const char *long_path(const char *route, size_t local, char *buf, size_t cap)
{
    size_t r = strlen(route);
    assert_true(r + local + 11 <= cap);
    memcpy(buf, route, r);
    memset(buf + r, 'l', local);
    snprintf(buf + r + local, cap - r - local, "@x.example");
    return buf;
}

static void test_path_length_limit(void **state)
{
    char inner[512];
    char out[KP_SMTP_PATH_MAX + 1];
    size_t local = KP_SMTP_PATH_MAX - strlen("@x.example");
    /* exactly KP_SMTP_PATH_MAX bytes between the brackets */
    long_path("", local, inner, sizeof(inner));
    assert_int_equal(strlen(inner), KP_SMTP_PATH_MAX);
    assert_int_equal(mail_from(inner, out), 0);
    assert_string_equal(out, inner);
    long_path("", local + 1, inner, sizeof(inner));
    assert_int_equal(mail_from(inner, out), 501);
    /* the route counts too, although it is dropped */
    long_path("@r.example:", local - 11, inner, sizeof(inner));
    assert_int_equal(strlen(inner), KP_SMTP_PATH_MAX);
    assert_int_equal(mail_from(inner, out), 0);
    assert_int_equal(strlen(out), KP_SMTP_PATH_MAX - 11);
    long_path("@rr.example:", local - 11, inner, sizeof(inner));
    assert_int_equal(mail_from(inner, out), 501);
    /* a long line of a valid command whose path is too long: 501, not 500 */
    char line[600];
    snprintf(line, sizeof(line), "RCPT TO:<%s>", long_path("", 400, inner, sizeof(inner)));
    bad(line, 501);
}

static void test_mail_parameters(void **state)
{
    struct kp_smtp_cmd cmd = ok("MAIL FROM:<a@b.example> SIZE=12345 BODY=8BITMIME SMTPUTF8");
    assert_string_equal(cmd.path, "a@b.example");
    assert_int_equal(cmd.size, 12345);
    assert_true(cmd.body_8bit);
    assert_true(cmd.smtputf8);
    cmd = ok("mail from:<a@b.example> size=0 body=7bit");
    assert_int_equal(cmd.size, 0);
    assert_false(cmd.body_8bit);
    assert_false(cmd.smtputf8);
    cmd = ok("MAIL FROM:<a@b.example>  Body=8bitMime   smtputf8");
    assert_true(cmd.body_8bit);
    assert_true(cmd.smtputf8);
    cmd = ok("MAIL FROM:<a@b.example> SIZE=18446744073709551615");
    assert_true(cmd.size == UINT64_MAX);
    cmd = ok("MAIL FROM:<a@b.example> SIZE=000000000000000000000000042");
    assert_int_equal(cmd.size, 42);
    /* SIZE overflow and malformed values: 501 */
    bad("MAIL FROM:<a@b.example> SIZE=18446744073709551616", 501);
    bad("MAIL FROM:<a@b.example> SIZE=99999999999999999999999", 501);
    bad("MAIL FROM:<a@b.example> SIZE=", 501);
    bad("MAIL FROM:<a@b.example> SIZE", 501);
    bad("MAIL FROM:<a@b.example> SIZE=-1", 501);
    bad("MAIL FROM:<a@b.example> SIZE=12k", 501);
    bad("MAIL FROM:<a@b.example> SIZE=1=2", 501);
    bad("MAIL FROM:<a@b.example> BODY=BINARYMIME", 501);
    bad("MAIL FROM:<a@b.example> BODY", 501);
    bad("MAIL FROM:<a@b.example> SMTPUTF8=yes", 501);
    bad("MAIL FROM:<a@b.example> =x", 501);
    bad("MAIL FROM:<a@b.example> -X=1", 501);
    bad("MAIL FROM:<a@b.example> X=\x01", 501);
    /* well-formed but unknown: 555 */
    bad("MAIL FROM:<a@b.example> AUTH=<>", 555);
    bad("MAIL FROM:<a@b.example> RET=HDRS", 555);
    bad("MAIL FROM:<a@b.example> SIZE=10 XFOO", 555);
    /* on failure nothing half-parsed is left in the command */
    struct kp_smtp_cmd failed;
    const char *why;
    const char *line = "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME X-Y=1";
    assert_int_equal(kp_smtp_parse(line, strlen(line), &failed, &why), 555);
    assert_int_equal(failed.verb, KP_SMTP_MAIL);
    assert_string_equal(failed.path, "");
    assert_int_equal(failed.size, 0);
    assert_false(failed.body_8bit);
}

static void test_rcpt_parameters_unknown(void **state)
{
    bad("RCPT TO:<a@b.example> NOTIFY=NEVER", 555);
    bad("RCPT TO:<a@b.example> ORCPT=rfc822;a@b.example", 555);
    bad("RCPT TO:<a@b.example> SIZE=10", 555); /* MAIL parameters are not RCPT's */
    bad("RCPT TO:<a@b.example> SMTPUTF8", 555);
    bad("RCPT TO:<a@b.example> =", 501);
    struct kp_smtp_cmd cmd = ok("RCPT TO:<a@b.example>   ");
    assert_string_equal(cmd.path, "a@b.example");
}

static void test_bdat(void **state)
{
    struct kp_smtp_cmd cmd = ok("BDAT 4096");
    assert_int_equal(cmd.verb, KP_SMTP_BDAT);
    assert_int_equal(cmd.size, 4096);
    assert_string_equal(cmd.path, "");
    cmd = ok("bdat 0 last");
    assert_int_equal(cmd.size, 0);
    assert_string_equal(cmd.path, "LAST");
    bad("BDAT", 501);
    bad("BDAT x", 501);
    bad("BDAT 10 MORE", 501);
    bad("BDAT 10LAST", 501);
    bad("BDAT 99999999999999999999", 501);
}

/* ---------------------------------------------------------------------------------------- */
/* DATA */

struct decoded {
    char out[4096];
    size_t out_len;
    size_t used;
    uint64_t total;
    int done;
};

/* Feeds s in pieces of step bytes (0: all at once), stopping at the end of data. */
static struct decoded decode(const char *s, size_t n, size_t step, size_t cap)
{
    struct decoded r;
    memset(&r, 0, sizeof(r));
    struct kp_smtp_data d;
    kp_smtp_data_init(&d);
    if (step == 0)
        step = n ? n : 1;
    assert_true(cap <= sizeof(r.out));
    for (size_t off = 0; off < n && !r.done; off += step) {
        size_t len = n - off < step ? n - off : step, used = 0;
        r.done = kp_smtp_data_feed(&d, s + off, len, r.out, cap, &r.out_len, &used);
        assert_true(used <= len);
        if (!r.done)
            assert_int_equal(used, len);
        r.used += used;
    }
    if (n == 0) {
        size_t used = 99;
        r.done = kp_smtp_data_feed(&d, "", 0, r.out, cap, &r.out_len, &used);
        assert_int_equal(used, 0);
    }
    r.total = d.total;
    return r;
}

/* Decodes s; asserts the end of data after consuming `used` bytes and the message want. */
static void expect_message(const char *s, size_t used, const char *want)
{
    struct decoded r = decode(s, strlen(s), 0, sizeof(r.out));
    if (!r.done)
        fail_msg("no end of data found in '%s'", s);
    assert_int_equal(r.used, used);
    assert_int_equal(r.out_len, strlen(want));
    assert_memory_equal(r.out, want, r.out_len);
    assert_int_equal(r.total, strlen(want));
}

static void test_data_simple(void **state)
{
    const char *s = "Subject: Hallo\r\n\r\nDie Rechnung fehlt.\r\n.\r\n";
    expect_message(s, strlen(s), "Subject: Hallo\r\n\r\nDie Rechnung fehlt.\r\n");
}

static void test_data_empty(void **state)
{
    expect_message(".\r\n", 3, "");
    expect_message(".\n", 2, "");
    expect_message("\r\n.\r\n", 5, "\r\n");
}

static void test_data_dot_stuffing(void **state)
{
    expect_message("..\r\n.\r\n", 7, ".\r\n");
    expect_message("...x\r\n.\r\n", 9, "..x\r\n");
    expect_message("a\r\n..b\r\n.\r\n", 11, "a\r\n.b\r\n");
    expect_message(".x\r\n.\r\n", 7, "x\r\n"); /* RFC 5321 4.5.2: the first dot goes */
    expect_message(". \r\n.\r\n", 7, " \r\n");
    expect_message("a.\r\n.b.\r\n.\r\n", 12, "a.\r\nb.\r\n"); /* only at line starts */
    /* a dot line that is not the end: ".\r" and something else than LF */
    expect_message(".\rx\r\n.\r\n", 8, "\rx\r\n");
    expect_message("a\r\n.\r\r\n.\r\n", 10, "a\r\n\r\r\n");
}

static void test_data_bare_lf_and_cr(void **state)
{
    expect_message("a\nb\n.\n", 6, "a\r\nb\r\n");
    expect_message("a\r\nb\n.\r\n", 8, "a\r\nb\r\n");
    expect_message("a\r\n.\n", 5, "a\r\n");
    expect_message("a\rb\r\n.\r\n", 8, "a\rb\r\n"); /* a bare CR is data */
    expect_message("a\r\r\n.\r\n", 7, "a\r\r\n");
    /* bare-LF lines still get dot handling */
    expect_message("a\n..b\n.\n", 8, "a\r\n.b\r\n");
}

static void test_data_not_the_end(void **state)
{
    static const char *inputs[] = {"a\r\n.", "a\r\n.\r", "a\r\n", "x.\r\n", "a\r\n .\r\n", ""};
    for (size_t i = 0; i < KP_ARRAY_LEN(inputs); i++) {
        struct decoded r = decode(inputs[i], strlen(inputs[i]), 0, sizeof(r.out));
        assert_false(r.done);
        assert_int_equal(r.used, strlen(inputs[i]));
    }
}

static void test_data_pipelining(void **state)
{
    const char *s = "Hi\r\n.\r\nQUIT\r\n";
    struct decoded r = decode(s, strlen(s), 0, sizeof(r.out));
    assert_true(r.done);
    assert_int_equal(r.used, 7);
    assert_string_equal(s + r.used, "QUIT\r\n");
    assert_int_equal(r.out_len, 4);
    /* after the end, nothing more is consumed */
    struct kp_smtp_data d;
    kp_smtp_data_init(&d);
    char out[16];
    size_t out_len = 0, used = 0;
    assert_int_equal(kp_smtp_data_feed(&d, ".\r\nMAIL", 7, out, sizeof(out), &out_len, &used), 1);
    assert_int_equal(used, 3);
    assert_int_equal(kp_smtp_data_feed(&d, "MAIL", 4, out, sizeof(out), &out_len, &used), 1);
    assert_int_equal(used, 0);
    assert_int_equal(out_len, 0);
    assert_int_equal(d.total, 0);
    /* and a new message starts after kp_smtp_data_init */
    kp_smtp_data_init(&d);
    assert_int_equal(kp_smtp_data_feed(&d, "x\r\n.\r\n", 6, out, sizeof(out), &out_len, &used), 1);
    assert_int_equal(out_len, 3);
}

static void test_data_terminator_split(void **state)
{
    /* every split of the terminator across two and three calls */
    const char *s = "x\r\n.\r\nNEXT";
    size_t n = strlen(s);
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            struct kp_smtp_data d;
            kp_smtp_data_init(&d);
            char out[64];
            size_t out_len = 0, used = 0, consumed = 0;
            size_t cuts[] = {0, a, b, n};
            int done = 0;
            for (size_t k = 0; k < 3 && !done; k++) {
                done = kp_smtp_data_feed(&d, s + cuts[k], cuts[k + 1] - cuts[k], out, sizeof(out),
                                         &out_len, &used);
                consumed += used;
            }
            assert_true(done);
            assert_int_equal(consumed, 6);
            assert_int_equal(out_len, 3);
            assert_memory_equal(out, "x\r\n", 3);
        }
    }
}

static void test_data_output_cap(void **state)
{
    const char *s = "abcdefgh\r\n..ij\r\n.\r\n";
    char out[16];
    memset(out, '#', sizeof(out));
    struct kp_smtp_data d;
    kp_smtp_data_init(&d);
    size_t out_len = 0, used = 0;
    assert_int_equal(kp_smtp_data_feed(&d, s, strlen(s), out, 4, &out_len, &used), 1);
    assert_int_equal(used, strlen(s));
    assert_int_equal(out_len, 4);
    assert_memory_equal(out, "abcd", 4);
    for (size_t i = 4; i < sizeof(out); i++)
        assert_int_equal(out[i], '#'); /* nothing written past out_cap */
    assert_int_equal(d.total, strlen("abcdefgh\r\n.ij\r\n"));
    /* out_len is in/out: bytes are appended after what is there */
    kp_smtp_data_init(&d);
    out_len = 2;
    assert_int_equal(kp_smtp_data_feed(&d, "xyz\n.\n", 6, out, 6, &out_len, &used), 1);
    assert_int_equal(out_len, 6);
    assert_memory_equal(out, "abxyz\r", 6);
    assert_int_equal(d.total, 5);
    /* a cap of 0 writes nothing and still counts */
    kp_smtp_data_init(&d);
    out_len = 0;
    assert_int_equal(kp_smtp_data_feed(&d, "12345\r\n.\r\n", 10, NULL, 0, &out_len, &used), 1);
    assert_int_equal(out_len, 0);
    assert_int_equal(d.total, 7);
}

/* A small deterministic generator, so that failures reproduce. */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_data_any_split_same_result(void **state)
{
    static const char *samples[] = {
        "Subject: x\r\n\r\nline 1\r\n..dotted\r\n.\r\nQUIT\r\n",
        ".\r\nRSET\r\n",
        "a\nb\n..c\n.\nMAIL FROM:<>\r\n",
        "\r\r\n.\r.\r\n..\r\n.\n",
        "no end\r\n.x\r\n. \r\n",
        "x\r\n.\r",
        "mixed\r\nends\n\r\n.\r\n.\r\n",
    };
    uint32_t seed = 0x4b6e6f74;
    for (size_t i = 0; i < KP_ARRAY_LEN(samples); i++) {
        const char *s = samples[i];
        size_t n = strlen(s);
        for (size_t cap = 0; cap <= 64; cap += 7) {
            struct decoded whole = decode(s, n, 0, cap);
            for (size_t step = 1; step <= n; step++) {
                struct decoded part = decode(s, n, step, cap);
                assert_int_equal(part.done, whole.done);
                assert_int_equal(part.used, whole.used);
                assert_int_equal(part.out_len, whole.out_len);
                assert_true(part.total == whole.total);
                assert_memory_equal(part.out, whole.out, whole.out_len);
            }
            /* random splits, with empty reads among them */
            for (int round = 0; round < 50; round++) {
                struct kp_smtp_data d;
                kp_smtp_data_init(&d);
                char out[64];
                size_t out_len = 0, off = 0, consumed = 0;
                int done = 0;
                while (!done && off <= n) {
                    size_t len = rnd(&seed) % 5, used = 0;
                    if (len > n - off)
                        len = n - off;
                    done = kp_smtp_data_feed(&d, s + off, len, out, cap, &out_len, &used);
                    consumed += used;
                    if (off == n)
                        break;
                    off += len;
                }
                assert_int_equal(done, whole.done);
                assert_int_equal(consumed, whole.used);
                assert_int_equal(out_len, whole.out_len);
                assert_memory_equal(out, whole.out, out_len);
            }
        }
    }
    /* byte at a time, the way a slow client sends */
    const char *s = samples[0];
    struct decoded bytewise = decode(s, strlen(s), 1, sizeof(bytewise.out));
    assert_true(bytewise.done);
    assert_int_equal(bytewise.out_len, strlen("Subject: x\r\n\r\nline 1\r\n.dotted\r\n"));
    assert_memory_equal(bytewise.out, "Subject: x\r\n\r\nline 1\r\n.dotted\r\n", bytewise.out_len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs_case_insensitive),
        cmocka_unit_test(test_unknown_and_empty_500),
        cmocka_unit_test(test_line_length_limit),
        cmocka_unit_test(test_helo_needs_argument),
        cmocka_unit_test(test_commands_without_argument),
        cmocka_unit_test(test_commands_with_optional_argument),
        cmocka_unit_test(test_mail_from),
        cmocka_unit_test(test_null_reverse_path),
        cmocka_unit_test(test_postmaster_without_domain),
        cmocka_unit_test(test_source_route_dropped),
        cmocka_unit_test(test_quoted_local_part),
        cmocka_unit_test(test_lowercase_domain_only),
        cmocka_unit_test(test_control_characters_rejected),
        cmocka_unit_test(test_utf8_addresses),
        cmocka_unit_test(test_path_length_limit),
        cmocka_unit_test(test_mail_parameters),
        cmocka_unit_test(test_rcpt_parameters_unknown),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_data_simple),
        cmocka_unit_test(test_data_empty),
        cmocka_unit_test(test_data_dot_stuffing),
        cmocka_unit_test(test_data_bare_lf_and_cr),
        cmocka_unit_test(test_data_not_the_end),
        cmocka_unit_test(test_data_pipelining),
        cmocka_unit_test(test_data_terminator_split),
        cmocka_unit_test(test_data_output_cap),
        cmocka_unit_test(test_data_any_split_same_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
