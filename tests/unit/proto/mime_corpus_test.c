/* SPDX-License-Identifier: MIT */
/*
 * mime_corpus_test.c - the email parser over real mails that Debian packages ship as test
 * data (tests/corpus-licences.md names them and their licences; nothing is copied into this
 * repository). Every file must parse without a crash into valid UTF-8; a handful of known
 * files must give known facts (a subject, an attachment, a bounce's recipient).
 *
 * Usage: unit_proto_mime_corpus DEPS_SH. A corpus directory that is missing fails the test
 * when its package is in DEPS_SH (scripts/deps.sh installs it for `make check`), and is
 * skipped otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>

#include "proto/mime.h"

struct corpus {
    const char *dir;
    const char *package;
    const char *name_has; /* files whose name contains this */
    const char *name_prefix;
};

static const struct corpus corpora[] = {
    {"/usr/lib/python3.11/test/test_email/data", "libpython3.11-testsuite", ".txt", "msg_"},
    {"/usr/lib/python3/dist-packages/flufl/bounce/tests/data", "python3-flufl.bounce", ".txt", ""},
    {"/usr/lib/python3/dist-packages/dkim/tests/data", "python3-dkim", ".msg", ""},
    {"/usr/lib/python3/dist-packages/dkim/tests/data", "python3-dkim", ".message", ""},
};

static const char *deps_path;

struct tally {
    int files, broken, bounces;
};

static bool utf8_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (u && *u) {
        int n = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 : (*u & 0xf0) == 0xe0 ? 3 : 4;
        if (*u >= 0x80 && (*u < 0xc2 || *u > 0xf4))
            return false;
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xc0) != 0x80)
                return false;
        u += n;
    }
    return true;
}

static void assert_clean(const char *path, const struct kp_mail *m)
{
    const char *fields[] = {m->text,
                            m->html,
                            m->subject,
                            m->message_id,
                            m->from_addr,
                            m->from_name,
                            m->reply_to,
                            m->to,
                            m->cc,
                            m->problem,
                            m->in_reply_to,
                            m->bounce_reason,
                            m->bounce_recipient,
                            m->bounce_message_id,
                            m->bounce_status};
    assert_non_null(m->text);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!utf8_ok(fields[i]))
            fail_msg("%s: field %zu is not valid UTF-8", path, i);
    for (size_t i = 0; i < m->n_refs; i++)
        assert_true(utf8_ok(m->refs[i]));
    for (size_t i = 0; i < m->n_parts; i++) {
        if (!utf8_ok(m->parts[i].filename) || !utf8_ok(m->parts[i].content_type) ||
            !utf8_ok(m->parts[i].content_id))
            fail_msg("%s: part %zu has a name or type that is not UTF-8", path, i);
    }
    if ((m->flags & KP_MAIL_BROKEN) && !m->problem)
        fail_msg("%s: broken without a problem text", path);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

static void assert_str(const char *path, const char *what, const char *got, const char *want)
{
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: %s is '%s', expected '%s'", path, what, got ? got : "(null)", want);
}

static void assert_bounce(const char *path, const struct kp_mail *m, const char *rcpt,
                          const char *status, bool permanent)
{
    if (!(m->flags & KP_MAIL_BOUNCE))
        fail_msg("%s: not recognised as a bounce", path);
    assert_str(path, "bounce_recipient", m->bounce_recipient, rcpt);
    if (status)
        assert_str(path, "bounce_status", m->bounce_status, status);
    if (m->bounce_permanent != permanent)
        fail_msg("%s: bounce_permanent is %d", path, m->bounce_permanent);
}

/* What is known about some of the files. */
static void check_known(const char *path, const struct kp_mail *m)
{
    if (ends_with(path, "test_email/data/msg_01.txt")) {
        assert_str(path, "subject", m->subject, "This is a test message");
        assert_str(path, "from_addr", m->from_addr, "bbb@ddd.com");
        assert_str(path, "message_id", m->message_id, "15090.61304.110929.45684@aaa.zzz.org");
    } else if (ends_with(path, "test_email/data/msg_07.txt")) {
        assert_str(path, "subject", m->subject, "Here is your dingus fish");
        assert_int_equal(m->n_parts, 1);
        assert_str(path, "filename", m->parts[0].filename, "dingusfish.gif");
        assert_str(path, "content_type", m->parts[0].content_type, "image/gif");
        assert_memory_equal(m->parts[0].data, "GIF87a", 6);
        assert_false(m->flags & KP_MAIL_BROKEN);
    } else if (ends_with(path, "test_email/data/msg_16.txt")) {
        assert_bounce(path, m, "jangel1@cougar.noc.ucla.edu", "5.0.0", true);
    } else if (ends_with(path, "test_email/data/msg_39.txt")) {
        assert_true(m->flags & KP_MAIL_BROKEN); /* its base64 parts are "XXX" */
    } else if (ends_with(path, "test_email/data/msg_43.txt")) {
        assert_bounce(path, m, "xxxxxxx@dot.ca.gov", "5.7.1", true);
    } else if (ends_with(path, "bounce/tests/data/dsn_01.txt")) {
        assert_bounce(path, m, "userx@example.com", "5.0.0", true);
        assert_str(path, "bounce_message_id", m->bounce_message_id,
                   "F1218V8zDv60gxapzha000001ae@hotmail.com");
        assert_true(m->flags & KP_MAIL_BULK);
    } else if (ends_with(path, "bounce/tests/data/dsn_05.txt")) {
        assert_bounce(path, m, "userx@example.cz", "4.4.1", false);
    } else if (ends_with(path, "bounce/tests/data/qmail_01.txt")) {
        assert_bounce(path, m, "userx@example.de", NULL, true);
    } else if (ends_with(path, "bounce/tests/data/postfix_01.txt")) {
        assert_bounce(path, m, "xxxxx@local.ie", "5.1.1", true);
    } else if (ends_with(path, "bounce/tests/data/exim_01.txt")) {
        assert_bounce(path, m, "userx@its.example.nl", "5.1.1", true);
    } else if (ends_with(path, "bounce/tests/data/yahoo_11.txt")) {
        assert_bounce(path, m, "bad_user@aol.com", "5.1.1", true);
    } else if (ends_with(path, "bounce/tests/data/qmail_08.txt")) {
        assert_true(m->flags & KP_MAIL_AUTO); /* an auto-reply, not a bounce */
        assert_false(m->flags & KP_MAIL_BOUNCE);
    } else if (ends_with(path, "bounce/tests/data/sina_01.txt")) {
        /* a raw GB2312 subject, read in the charset of the text */
        assert_str(path, "subject", m->subject,
                   "\xe9\x82\xae\xe4\xbb\xb6\xe4\xbc\xa0\xe8\xbe\x93\xe5\xa4\xb1\xe8\xb4\xa5"
                   "\xef\xbc\x81");
    } else if (ends_with(path, "dkim/tests/data/rfc6376.msg")) {
        assert_str(path, "subject", m->subject, "Is dinner ready?");
        assert_str(path, "from_addr", m->from_addr, "joe@football.example.com");
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static void parse_file(const char *path, struct tally *t)
{
    size_t len;
    char *raw = read_file(path, &len);
    if (!raw)
        fail_msg("cannot read '%s'", path);
    if (len == 0) {
        free(raw);
        return;
    }
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_mail m;
    assert_int_equal(kp_mime_parse(raw, len, &a, &m), 0);
    assert_clean(path, &m);
    check_known(path, &m);
    t->files++;
    t->broken += (m.flags & KP_MAIL_BROKEN) != 0;
    t->bounces += (m.flags & KP_MAIL_BOUNCE) != 0;
    kp_arena_release(&a);
    free(raw);
}

/* True when scripts/deps.sh names the package (so it is installed for the tests). */
static bool package_is_in_deps(const char *package)
{
    size_t len;
    char *deps = deps_path ? read_file(deps_path, &len) : NULL;
    if (!deps)
        fail_msg("cannot read the dependency list '%s'", deps_path ? deps_path : "(none)");
    deps = realloc(deps, len + 1);
    deps[len] = '\0';
    bool found = false;
    size_t pl = strlen(package);
    for (const char *p = deps; (p = strstr(p, package)) != NULL; p += pl) {
        char before = p == deps ? ' ' : p[-1], after = p[pl];
        if ((before == ' ' || before == '\n' || before == '(') &&
            (after == ' ' || after == '\n' || after == ')'))
            found = true;
    }
    free(deps);
    return found;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses every matching file of one corpus; returns false when it is not installed. */
static bool run_corpus(const struct corpus *c, struct tally *t)
{
    DIR *d = opendir(c->dir);
    if (!d) {
        if (package_is_in_deps(c->package))
            fail_msg("'%s' is missing: install %s (scripts/deps.sh check)", c->dir, c->package);
        print_message("skipped %s: %s is not installed\n", c->dir, c->package);
        return false;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, c->name_has) ||
            strncmp(e->d_name, c->name_prefix, strlen(c->name_prefix)) != 0)
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", c->dir, names[i]);
        parse_file(path, t);
        free(names[i]);
    }
    free(names);
    return true;
}

static void report(const char *name, const struct tally *t)
{
    print_message("%s: %d files parsed, %d flagged broken, %d bounces\n", name, t->files, t->broken,
                  t->bounces);
}

static void test_python_email_corpus(void **state)
{
    struct tally t = {0};
    if (!run_corpus(&corpora[0], &t))
        skip();
    report("python test_email", &t);
    assert_true(t.files >= 40);
    assert_true(t.broken < t.files / 3);
}

static void test_flufl_bounce_corpus(void **state)
{
    struct tally t = {0};
    if (!run_corpus(&corpora[1], &t))
        skip();
    report("flufl.bounce", &t);
    assert_true(t.files >= 100);
    /* nearly all of them are bounces of one kind or another */
    assert_true(t.bounces >= t.files * 9 / 10);
}

static void test_dkim_corpus(void **state)
{
    struct tally t = {0};
    bool msg = run_corpus(&corpora[2], &t);
    bool message = run_corpus(&corpora[3], &t);
    if (!msg && !message)
        skip();
    report("dkimpy", &t);
    assert_true(t.files >= 8);
}

int main(int argc, char **argv)
{
    deps_path = argc > 1 ? argv[1] : NULL;
    kp_mime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_email_corpus),
        cmocka_unit_test(test_flufl_bounce_corpus),
        cmocka_unit_test(test_dkim_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
