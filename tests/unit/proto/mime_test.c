/* SPDX-License-Identifier: MIT */
/*
 * mime_test.c - unit tests for the email parser, on small messages written here: headers and
 * threading ids, every charset the issue lists, RFC 2047/2231 file names, alternative and
 * related parts, forwarded, signed and encrypted mails, loop-protection flags, RFC 3464 and
 * prose bounces (qmail, Exim, Postfix, Exchange), broken input and caps, and parsing on
 * several threads at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>

#include "proto/mime.h"

struct fixture {
    struct kp_arena a;
    struct kp_mail m;
};

static bool utf8_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
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

static void assert_utf8(const char *what, const char *s)
{
    if (s && !utf8_ok(s))
        fail_msg("%s is not valid UTF-8: %s", what, s);
}

/* Every string of a parsed mail is valid UTF-8 (and, being a C string, NUL-free). */
static void assert_clean(const struct kp_mail *m)
{
    assert_non_null(m->text);
    assert_utf8("text", m->text);
    assert_utf8("html", m->html);
    assert_utf8("subject", m->subject);
    assert_utf8("message_id", m->message_id);
    assert_utf8("in_reply_to", m->in_reply_to);
    assert_utf8("from_addr", m->from_addr);
    assert_utf8("from_name", m->from_name);
    assert_utf8("reply_to", m->reply_to);
    assert_utf8("to", m->to);
    assert_utf8("cc", m->cc);
    assert_utf8("problem", m->problem);
    assert_utf8("bounce_reason", m->bounce_reason);
    assert_utf8("bounce_recipient", m->bounce_recipient);
    for (size_t i = 0; i < m->n_refs; i++)
        assert_utf8("ref", m->refs[i]);
    assert_true(m->n_parts <= KP_MAIL_MAX_ATTACHMENTS);
    for (size_t i = 0; i < m->n_parts; i++) {
        assert_non_null(m->parts[i].filename);
        assert_utf8("filename", m->parts[i].filename);
        assert_utf8("content_type", m->parts[i].content_type);
        assert_utf8("content_id", m->parts[i].content_id);
        assert_true(m->parts[i].data != NULL || m->parts[i].size == 0);
    }
    if (m->flags & KP_MAIL_BROKEN)
        assert_non_null(m->problem);
}

static void parse_n(struct fixture *f, const char *raw, size_t len)
{
    kp_arena_init(&f->a);
    assert_int_equal(kp_mime_parse(raw, len, &f->a, &f->m), 0);
    assert_clean(&f->m);
}

static void parse(struct fixture *f, const char *raw)
{
    parse_n(f, raw, strlen(raw));
}

static void done(struct fixture *f)
{
    kp_arena_release(&f->a);
}

static void assert_contains(const char *s, const char *part)
{
    if (!s || !strstr(s, part))
        fail_msg("'%s' not in '%s'", part, s ? s : "(null)");
}

/* ---- headers ---- */

static void test_headers(void **state)
{
    struct fixture f;
    parse(&f, "Message-ID: <abc.123@mail.example.org>\r\n"
              "In-Reply-To: <first@x.example> <second@x.example>\r\n"
              "References: <r1@x.example>\r\n <r2@x.example> <first@x.example>\r\n"
              "Subject: =?UTF-8?B?UmVjaG51bmcgTcOkcno=?= =?ISO-8859-1?Q?_f=FCr_Sie?=\r\n"
              "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <Juergen.Mueller@Example.ORG>\r\n"
              "Reply-To: Support Team <Help@Example.org>\r\n"
              "To: \"Shop, Kasse\" <kasse@shop.example>, b@y.example\r\n"
              "Cc: =?UTF-8?Q?Bj=C3=B6rn?= <bjoern@z.example>\r\n"
              "Date: Tue, 1 Oct 2024 09:30:00 +0200\r\n"
              "\r\n"
              "Hallo\r\nWelt\r\n");
    struct kp_mail *m = &f.m;
    assert_string_equal(m->message_id, "abc.123@mail.example.org");
    assert_string_equal(m->in_reply_to, "first@x.example");
    assert_int_equal(m->n_refs, 3);
    assert_string_equal(m->refs[0], "r1@x.example");
    assert_string_equal(m->refs[2], "first@x.example");
    assert_string_equal(m->subject, "Rechnung M\xc3\xa4rz f\xc3\xbcr Sie");
    assert_string_equal(m->from_addr, "juergen.mueller@example.org");
    assert_string_equal(m->from_name, "J\xc3\xbcrgen M\xc3\xbcller");
    assert_string_equal(m->reply_to, "help@example.org");
    assert_contains(m->to, "kasse@shop.example");
    assert_contains(m->to, "b@y.example");
    assert_contains(m->to, "Shop, Kasse");
    assert_string_equal(m->cc, "Bj\xc3\xb6rn <bjoern@z.example>");
    assert_int_equal(m->date_ms, 1727767800000LL);
    assert_string_equal(m->text, "Hallo\nWelt");
    assert_null(m->html);
    assert_int_equal(m->flags, 0);
    assert_int_equal(m->n_parts, 0);
    done(&f);
}

static void test_references_keep_newest(void **state)
{
    char raw[8192];
    size_t n = (size_t)snprintf(raw, sizeof(raw), "From: a@b.example\r\nReferences:");
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(raw + n, sizeof(raw) - n, " <id%d@x.example>\r\n", i);
    snprintf(raw + n, sizeof(raw) - n, "\r\nbody\r\n");
    struct fixture f;
    parse(&f, raw);
    assert_int_equal(f.m.n_refs, KP_MAIL_MAX_REFS);
    assert_string_equal(f.m.refs[0], "id20@x.example");
    assert_string_equal(f.m.refs[KP_MAIL_MAX_REFS - 1], "id69@x.example");
    done(&f);
}

static void test_from_fallbacks(void **state)
{
    struct fixture f;
    parse(&f, "Sender: List Bot <Bot@Lists.example>\r\nSubject: x\r\n\r\nbody\r\n");
    assert_string_equal(f.m.from_addr, "bot@lists.example");
    assert_string_equal(f.m.from_name, "List Bot");
    done(&f);
    parse(&f, "Return-Path: <Owner@Example.net>\r\nSubject: x\r\n\r\nbody\r\n");
    assert_string_equal(f.m.from_addr, "owner@example.net");
    done(&f);
    parse(&f, "Subject: nobody\r\n\r\nbody\r\n");
    assert_null(f.m.from_addr);
    assert_null(f.m.message_id);
    assert_int_equal(f.m.date_ms, 0);
    done(&f);
}

/* ---- charsets ---- */

static void test_charsets(void **state)
{
    static const struct {
        const char *charset, *bytes, *utf8;
    } cases[] = {
        {"utf-8",
         "Gr\xc3\xbc\xc3\x9f"
         "e aus K\xc3\xb6ln",
         "Gr\xc3\xbc\xc3\x9f"
         "e aus K\xc3\xb6ln"},
        {"iso-8859-1",
         "Gr\xfc\xdf"
         "e",
         "Gr\xc3\xbc\xc3\x9f"
         "e"},
        {"ISO-8859-15", "Preis: 5 \xa4", "Preis: 5 \xe2\x82\xac"},
        {"iso-8859-2",
         "\xa3\xf3"
         "d\xbc",
         "\xc5\x81\xc3\xb3"
         "d\xc5\xba"},
        {"iso-8859-5", "\xbf\xe0\xd8\xd2\xd5\xe2",
         "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
        {"windows-1252", "\x80 \x93quoted\x94", "\xe2\x82\xac \xe2\x80\x9cquoted\xe2\x80\x9d"},
        {"windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2",
         "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
        {"windows-1250",
         "\x8a\x9d"
         "astn\xfd",
         "\xc5\xa0\xc5\xa5"
         "astn\xc3\xbd"},
        {"koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
        {"gb2312", "\xc4\xe3\xba\xc3", "\xe4\xbd\xa0\xe5\xa5\xbd"},
        {"big5",
         "\xa7"
         "A\xa6n",
         "\xe4\xbd\xa0\xe5\xa5\xbd"},
        {"utf-7", "Hi +AOQgrA-", "Hi \xc3\xa4\xe2\x82\xac"},
        {"shift_jis", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd",
         "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"},
        {"iso-2022-jp", "\x1b$B$3$s$K$A$O\x1b(B",
         "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"},
        {"euc-kr", "\xbe\xc8\xb3\xe7", "\xec\x95\x88\xeb\x85\x95"},
        /* no charset, or a wrong one: UTF-8 when the bytes are, else windows-1252 */
        {NULL,
         "Gr\xfc\xdf"
         "e",
         "Gr\xc3\xbc\xc3\x9f"
         "e"},
        {NULL,
         "Gr\xc3\xbc\xc3\x9f"
         "e",
         "Gr\xc3\xbc\xc3\x9f"
         "e"},
        {"utf-8", "caf\xe9 \x80", "caf\xc3\xa9 \xe2\x82\xac"},
        {"us-ascii", "na\xc3\xafve", "na\xc3\xafve"},
        {"x-no-such-charset",
         "Gr\xfc\xdf"
         "e",
         "Gr\xc3\xbc\xc3\x9f"
         "e"},
        {"iso-8859-5", "\xd0\x9f\xd1\x80\xd0\xb8", "\xd0\x9f\xd1\x80\xd0\xb8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char raw[512];
        char ct[128] = "text/plain";
        if (cases[i].charset)
            snprintf(ct, sizeof(ct), "text/plain; charset=\"%s\"", cases[i].charset);
        snprintf(raw, sizeof(raw),
                 "From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: %s\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
                 ct, cases[i].bytes);
        struct fixture f;
        parse(&f, raw);
        if (strcmp(f.m.text, cases[i].utf8) != 0)
            fail_msg("charset %s: got '%s', want '%s'", cases[i].charset ? cases[i].charset : "-",
                     f.m.text, cases[i].utf8);
        done(&f);
    }
}

static void test_utf16_base64(void **state)
{
    struct fixture f;
    /* "Hi \u00e4" in UTF-16 with a little-endian byte order mark, and big-endian without */
    parse(&f, "From: a@b.example\r\nContent-Type: text/plain; charset=utf-16\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n//5IAGkAIADkAA==\r\n");
    assert_string_equal(f.m.text, "Hi \xc3\xa4");
    done(&f);
    parse(&f, "From: a@b.example\r\nContent-Type: text/plain; charset=UTF-16BE\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nAEgAaQAgAOQ=\r\n");
    assert_string_equal(f.m.text, "Hi \xc3\xa4");
    done(&f);
    /* UCS-4 values past U+10FFFF: iconv writes them as 6-byte forms, which must not pass */
    parse(&f, "From: a@b.example\r\nContent-Type: text/plain; charset=UCS-4BE\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nAAAAQX////8AAABC\r\n");
    assert_true(strncmp(f.m.text, "A\xef\xbf\xbd", 4) == 0);
    assert_true(f.m.text[strlen(f.m.text) - 1] == 'B');
    done(&f);
}

static void test_8bit_headers(void **state)
{
    struct fixture f;
    /* raw UTF-8 in headers (RFC 6532) is fine; raw latin1 is read as such but flagged */
    parse(&f, "From: J\xc3\xbcrgen <j@example.org>\r\nSubject: Gr\xc3\xbc\xc3\x9f"
              "e\r\n\r\nx\r\n");
    assert_string_equal(f.m.subject, "Gr\xc3\xbc\xc3\x9f"
                                     "e");
    assert_string_equal(f.m.from_name, "J\xc3\xbcrgen");
    assert_false(f.m.flags & KP_MAIL_BROKEN);
    done(&f);
    parse(&f, "From: j@example.org\r\nSubject: Gr\xfc\xdf"
              "e \x01\xff\r\n\r\nx\r\n");
    assert_true(f.m.flags & KP_MAIL_BROKEN);
    assert_contains(f.m.subject, "Gr\xc3\xbc\xc3\x9f"
                                 "e");
    assert_contains(f.m.problem, "8-bit");
    done(&f);
    /* a raw header in the charset of the text (common with old Chinese and Russian clients) */
    parse(&f, "From: j@example.org\r\nSubject: \xc4\xe3\xba\xc3\r\n"
              "Content-Type: text/plain; charset=gb2312\r\n\r\n\xc4\xe3\xba\xc3\r\n");
    assert_string_equal(f.m.subject, "\xe4\xbd\xa0\xe5\xa5\xbd");
    assert_string_equal(f.m.text, "\xe4\xbd\xa0\xe5\xa5\xbd");
    done(&f);
}

/* ---- parts ---- */

static void test_filenames(void **state)
{
    struct fixture f;
    parse(&f,
          "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
          "--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
          "--XX\r\nContent-Type: application/pdf\r\n"
          "Content-Disposition: attachment; filename=\"=?UTF-8?B?UmVjaG51bmcgTcOkcnoucGRm?=\"\r\n"
          "\r\n%PDF-1\r\n"
          "--XX\r\nContent-Type: application/pdf\r\n"
          "Content-Disposition: attachment; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.pdf\r\n"
          "\r\n%PDF-2\r\n"
          "--XX\r\nContent-Type: text/plain\r\n"
          "Content-Disposition: attachment;\r\n filename*0*=iso-8859-1''Bl%E4tter%20;\r\n"
          " filename*1=\"und Bl\"; filename*2=\"umen.txt\"\r\n"
          "\r\nnotes\r\n"
          "--XX\r\nContent-Type: image/PNG; name=\"../../etc/passwd\"\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgpmYWtlcG5n\r\n"
          "--XX\r\nContent-Type: application/octet-stream\r\n\r\nraw\r\n"
          "--XX--\r\n");
    struct kp_mail *m = &f.m;
    assert_string_equal(m->text, "See attached.");
    assert_int_equal(m->n_parts, 5);
    assert_string_equal(m->parts[0].filename, "Rechnung M\xc3\xa4rz.pdf");
    assert_string_equal(m->parts[0].content_type, "application/pdf");
    assert_int_equal(m->parts[0].size, 6);
    assert_memory_equal(m->parts[0].data, "%PDF-1", 6);
    assert_string_equal(m->parts[1].filename, "Gr\xc3\xbc\xc3\x9f"
                                              "e \xe2\x82\xac.pdf");
    assert_string_equal(m->parts[2].filename, "Bl\xc3\xa4tter und Blumen.txt");
    assert_string_equal(m->parts[2].content_type, "text/plain");
    assert_string_equal(m->parts[3].filename, "passwd");
    assert_string_equal(m->parts[3].content_type, "image/png");
    assert_int_equal(m->parts[3].size, 15);
    assert_memory_equal(m->parts[3].data, "\x89PNG\r\n\x1a\nfakepng", 15);
    assert_string_equal(m->parts[4].filename, "attachment-5");
    assert_false(m->parts[4].is_inline);
    done(&f);
}

static void test_alternative(void **state)
{
    struct fixture f;
    parse(&f, "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
              "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n"
              "--b1\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
              "<html><head><style>p{}</style></head><body><p onclick=3Dx()>Gr=FC=DFe "
              "<script>alert(1)</script><b>HTML</b></p></body></html>\r\n"
              "--b1--\r\n");
    assert_string_equal(f.m.text, "Plain version");
    assert_string_equal(f.m.html, "<p>Gr\xc3\xbc\xc3\x9f"
                                  "e <b>HTML</b></p>");
    assert_int_equal(f.m.n_parts, 0);
    done(&f);
    /* html only: the text comes from it */
    parse(&f, "From: a@b.example\r\nContent-Type: text/html\r\n\r\n"
              "<p>Hello <a href=\"https://shop.example/o/1\">your order</a></p><p>Bye</p>\r\n");
    assert_string_equal(f.m.text, "Hello your order (https://shop.example/o/1)\n\nBye");
    assert_non_null(f.m.html);
    done(&f);
    /* Outlook's meeting request: the calendar is kept as a file */
    parse(&f, "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"
              "--b2\r\nContent-Type: text/plain\r\n\r\nMeeting\r\n"
              "--b2\r\nContent-Type: text/html\r\n\r\n<p>Meeting</p>\r\n"
              "--b2\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n"
              "--b2--\r\n");
    assert_string_equal(f.m.text, "Meeting");
    assert_int_equal(f.m.n_parts, 1);
    assert_string_equal(f.m.parts[0].content_type, "text/calendar");
    done(&f);
}

static void test_cid_inline_image(void **state)
{
    struct fixture f;
    parse(&f, "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
              "--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
              "--a\r\nContent-Type: text/plain\r\n\r\nLogo below\r\n"
              "--a\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
              "--r\r\nContent-Type: text/html\r\n\r\n"
              "<p>Logo below</p><img src=\"cid:logo.123@shop.example\" alt=\"Logo\">"
              "<img src=\"https://tracker.example/pixel.gif\">\r\n"
              "--r\r\nContent-Type: image/png\r\nContent-ID: <logo.123@shop.example>\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgpmYWtlcG5n\r\n"
              "--r--\r\n"
              "--a--\r\n"
              "--m\r\nContent-Type: application/pdf; name=invoice.pdf\r\n"
              "Content-Disposition: attachment; filename=invoice.pdf\r\n\r\n%PDF\r\n"
              "--m--\r\n");
    struct kp_mail *m = &f.m;
    assert_string_equal(m->text, "Logo below");
    assert_string_equal(m->html, "<p>Logo below</p><img src=\"cid:logo.123@shop.example\" "
                                 "alt=\"Logo\">");
    assert_int_equal(m->n_parts, 2);
    assert_string_equal(m->parts[0].content_id, "logo.123@shop.example");
    assert_true(m->parts[0].is_inline);
    assert_int_equal(m->parts[0].size, 15);
    assert_string_equal(m->parts[1].filename, "invoice.pdf");
    assert_null(m->parts[1].content_id);
    assert_false(m->parts[1].is_inline);
    done(&f);
}

static void test_flowed_text(void **state)
{
    struct fixture f;
    parse(&f, "From: a@b.example\r\nContent-Type: text/plain; format=flowed; delsp=no\r\n\r\n"
              "This is one long \r\nparagraph that \r\nwraps.\r\n"
              "> quoted \r\n> line\r\n"
              " >not quoted\r\n"
              "-- \r\nSignature\r\n");
    assert_string_equal(f.m.text, "This is one long paragraph that wraps.\n> quoted line\n"
                                  ">not quoted\n-- \nSignature");
    done(&f);
}

/* ---- forwarded, signed, encrypted ---- */

static void test_forwarded(void **state)
{
    struct fixture f;
    parse(&f, "From: agent@shop.example\r\nSubject: Fwd: Beschwerde\r\n"
              "Content-Type: multipart/mixed; boundary=f\r\n\r\n"
              "--f\r\nContent-Type: text/plain\r\n\r\nPlease have a look.\r\n"
              "--f\r\nContent-Type: message/rfc822\r\n\r\n"
              "From: =?UTF-8?Q?K=C3=A4the?= <kaethe@example.org>\r\n"
              "To: shop@shop.example\r\n"
              "Date: Mon, 30 Sep 2024 08:00:00 +0000\r\n"
              "Subject: Beschwerde\r\n"
              "Message-ID: <inner@example.org>\r\n"
              "Content-Type: multipart/mixed; boundary=g\r\n\r\n"
              "--g\r\nContent-Type: text/html\r\n\r\n<p>The parcel was <b>empty</b>.</p>\r\n"
              "--g\r\nContent-Type: image/jpeg; name=photo.jpg\r\n\r\nJPEG\r\n"
              "--g--\r\n"
              "--f--\r\n");
    struct kp_mail *m = &f.m;
    assert_true(m->flags & KP_MAIL_FORWARDED);
    assert_false(m->flags & KP_MAIL_BROKEN);
    assert_string_equal(m->text, "Please have a look.\n\n"
                                 "---------- Forwarded message ----------\n"
                                 "From: K\xc3\xa4the <kaethe@example.org>\n"
                                 "Date: Mon, 30 Sep 2024 08:00:00 +0000\n"
                                 "Subject: Beschwerde\n"
                                 "To: shop@shop.example\n\n"
                                 "The parcel was empty.");
    assert_null(m->html);
    assert_int_equal(m->n_parts, 1);
    assert_string_equal(m->parts[0].filename, "photo.jpg");
    assert_false(m->flags & KP_MAIL_BOUNCE);
    done(&f);
}

static void test_signed(void **state)
{
    struct fixture f;
    parse(&f, "From: a@b.example\r\nContent-Type: multipart/signed; micalg=pgp-sha256;\r\n"
              " protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n"
              "--s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned words.\r\n"
              "--s\r\nContent-Type: application/pgp-signature; name=signature.asc\r\n\r\n"
              "-----BEGIN PGP SIGNATURE-----\r\nabc\r\n-----END PGP SIGNATURE-----\r\n"
              "--s--\r\n");
    assert_true(f.m.flags & KP_MAIL_SIGNED);
    assert_false(f.m.flags & KP_MAIL_ENCRYPTED);
    assert_string_equal(f.m.text, "Signed words.");
    assert_int_equal(f.m.n_parts, 1);
    assert_string_equal(f.m.parts[0].content_type, "application/pgp-signature");
    assert_string_equal(f.m.parts[0].filename, "signature.asc");
    done(&f);
    /* S/MIME: the signature has no name of its own */
    parse(&f, "From: a@b.example\r\nContent-Type: multipart/signed; "
              "protocol=\"application/pkcs7-signature\"; boundary=s\r\n\r\n"
              "--s\r\nContent-Type: text/plain\r\n\r\nSigned.\r\n"
              "--s\r\nContent-Type: application/pkcs7-signature\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n"
              "--s--\r\n");
    assert_true(f.m.flags & KP_MAIL_SIGNED);
    assert_string_equal(f.m.parts[0].filename, "smime.p7s");
    assert_string_equal(f.m.parts[0].content_type, "application/pkcs7-signature");
    done(&f);
}

static void test_encrypted(void **state)
{
    struct fixture f;
    parse(&f, "From: a@b.example\r\nContent-Type: multipart/encrypted; "
              "protocol=\"application/pgp-encrypted\"; boundary=e\r\n\r\n"
              "--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
              "--e\r\nContent-Type: application/octet-stream; name=encrypted.asc\r\n\r\n"
              "-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n"
              "--e--\r\n");
    assert_true(f.m.flags & KP_MAIL_ENCRYPTED);
    assert_contains(f.m.text, "encrypted");
    assert_int_equal(f.m.n_parts, 2);
    assert_string_equal(f.m.parts[0].content_type, "application/pgp-encrypted");
    assert_string_equal(f.m.parts[1].filename, "encrypted.asc");
    done(&f);
    parse(&f, "From: a@b.example\r\nContent-Type: application/pkcs7-mime; "
              "smime-type=enveloped-data; name=smime.p7m\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n");
    assert_true(f.m.flags & KP_MAIL_ENCRYPTED);
    assert_contains(f.m.text, "encrypted");
    assert_int_equal(f.m.n_parts, 1);
    assert_string_equal(f.m.parts[0].filename, "smime.p7m");
    assert_string_equal(f.m.parts[0].content_type, "application/pkcs7-mime");
    done(&f);
}

/* ---- loop protection ---- */

static unsigned flags_of(const char *headers)
{
    char raw[1024];
    snprintf(raw, sizeof(raw), "%sSubject: hi\r\n\r\nHello\r\n", headers);
    struct fixture f;
    parse(&f, raw);
    unsigned flags = f.m.flags;
    done(&f);
    return flags;
}

static void test_loop_flags(void **state)
{
    const char *person = "From: Anna <anna@example.org>\r\n";
    char h[512];
    assert_int_equal(flags_of(person), 0);
#define WITH(extra) (snprintf(h, sizeof(h), "%s%s", person, extra), h)
    assert_int_equal(flags_of(WITH("Auto-Submitted: auto-replied\r\n")), KP_MAIL_AUTO);
    assert_int_equal(flags_of(WITH("Auto-Submitted: auto-generated; type=x\r\n")), KP_MAIL_AUTO);
    assert_int_equal(flags_of(WITH("Auto-Submitted: No\r\n")), 0);
    assert_int_equal(flags_of(WITH("X-Autoreply: yes\r\n")), KP_MAIL_AUTO);
    assert_int_equal(flags_of(WITH("X-Auto-Response-Suppress: All\r\n")), KP_MAIL_AUTO);
    assert_int_equal(flags_of(WITH("Precedence: auto_reply\r\n")), KP_MAIL_AUTO);
    assert_int_equal(flags_of(WITH("Precedence: bulk\r\n")), KP_MAIL_BULK);
    assert_int_equal(flags_of(WITH("Precedence: junk\r\n")), KP_MAIL_BULK);
    assert_int_equal(flags_of(WITH("Precedence: LIST\r\n")), KP_MAIL_BULK);
    assert_int_equal(flags_of(WITH("Precedence: first-class\r\n")), 0);
    assert_int_equal(flags_of(WITH("List-Id: News <news.example.org>\r\n")), KP_MAIL_BULK);
    assert_int_equal(flags_of(WITH("List-Unsubscribe: <mailto:u@example.org>\r\n")), KP_MAIL_BULK);
    assert_int_equal(flags_of(WITH("Return-Path: <>\r\n")), KP_MAIL_DAEMON);
    assert_int_equal(flags_of(WITH("Return-Path: <anna@example.org>\r\n")), 0);
#undef WITH
    assert_int_equal(flags_of("From: MAILER-DAEMON@mx.example.org\r\n"), KP_MAIL_DAEMON);
    assert_int_equal(flags_of("From: Mail System <postmaster@example.org>\r\n"), KP_MAIL_DAEMON);
    assert_int_equal(flags_of("From: MAILER-DAEMON\r\n"), KP_MAIL_DAEMON);
}

/* ---- bounces ---- */

static const char dsn[] =
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
    "To: support@shop.example\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n"
    "--R\r\nContent-Description: Notification\r\nContent-Type: text/plain\r\n\r\n"
    "This is the mail system at host mx.example.net.\r\n\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n\r\n"
    "<kunde@example.net>: host mail.example.net[192.0.2.1] said: 550 5.1.1\r\n"
    "    <kunde@example.net>: Recipient address rejected: User unknown\r\n\r\n"
    "--R\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.net\r\n"
    "Arrival-Date: Tue,  1 Oct 2024 10:00:00 +0200 (CEST)\r\n\r\n"
    "Final-Recipient: rfc822; other@example.net\r\n"
    "Action: delivered\r\n"
    "Status: 2.0.0\r\n\r\n"
    "Final-Recipient: rfc822; Kunde@Example.NET\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mail.example.net\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <kunde@example.net>: Recipient address\r\n"
    "    rejected: User unknown\r\n\r\n"
    "--R\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: support@shop.example\r\nTo: kunde@example.net\r\n"
    "Subject: Ihre Bestellung\r\nMessage-ID: <ticket-42.7@shop.example>\r\n\r\n"
    "Guten Tag\r\n"
    "--R--\r\n";

static void test_dsn(void **state)
{
    struct fixture f;
    parse(&f, dsn);
    struct kp_mail *m = &f.m;
    assert_true(m->flags & KP_MAIL_BOUNCE);
    assert_true(m->flags & KP_MAIL_DAEMON);
    assert_true(m->flags & KP_MAIL_AUTO);
    assert_false(m->flags & KP_MAIL_FORWARDED);
    assert_string_equal(m->bounce_message_id, "ticket-42.7@shop.example");
    assert_string_equal(m->bounce_recipient, "kunde@example.net");
    assert_string_equal(m->bounce_status, "5.1.1");
    assert_string_equal(m->bounce_reason,
                        "550 5.1.1 <kunde@example.net>: Recipient address rejected: User unknown");
    assert_true(m->bounce_permanent);
    assert_contains(m->text, "could not\nbe delivered");
    assert_contains(m->text, "---------- Original message ----------");
    done(&f);
}

static void test_dsn_delay_and_success(void **state)
{
    static const char delay[] =
        "From: MAILER-DAEMON@mx.example.net\r\nSubject: Delayed Mail (still being retried)\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=D\r\n\r\n"
        "--D\r\nContent-Type: text/plain\r\n\r\nTHIS IS A WARNING ONLY.\r\n"
        "--D\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; slow@example.net\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
        "Diagnostic-Code: X-Postfix; connect to mx.example.net: Connection timed out\r\n\r\n"
        "--D\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: support@shop.example\r\nMessage-Id:\r\n <delayed-1@shop.example>\r\n\r\n"
        "--D--\r\n";
    struct fixture f;
    parse(&f, delay);
    assert_true(f.m.flags & KP_MAIL_BOUNCE);
    assert_false(f.m.bounce_permanent);
    assert_string_equal(f.m.bounce_status, "4.4.1");
    assert_string_equal(f.m.bounce_recipient, "slow@example.net");
    assert_string_equal(f.m.bounce_message_id, "delayed-1@shop.example");
    assert_string_equal(f.m.bounce_reason, "connect to mx.example.net: Connection timed out");
    done(&f);

    static const char success[] =
        "From: MAILER-DAEMON@mx.example.net\r\nSubject: Successful Mail Delivery Report\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=S\r\n\r\n"
        "--S\r\nContent-Type: text/plain\r\n\r\nYour message was successfully delivered.\r\n"
        "--S\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Final-Recipient: rfc822; ok@example.net\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
        "--S--\r\n";
    parse(&f, success);
    assert_false(f.m.flags & KP_MAIL_BOUNCE);
    assert_true(f.m.flags & KP_MAIL_AUTO);
    assert_null(f.m.bounce_recipient);
    done(&f);
}

static void test_qmail_bounce(void **state)
{
    struct fixture f;
    parse(&f, "Return-Path: <>\r\n"
              "From: MAILER-DAEMON@mail.example.com\r\n"
              "To: support@shop.example\r\n"
              "Subject: failure notice\r\n\r\n"
              "Hi. This is the qmail-send program at mail.example.com.\r\n"
              "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
              "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
              "<gone@example.com>:\r\n"
              "Sorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
              "--- Below this line is a copy of the message.\r\n\r\n"
              "Return-Path: <support@shop.example>\r\n"
              "Received: (qmail 1234 invoked from network); 1 Oct 2024 10:00:00 -0000\r\n"
              "Message-ID: <q-77@shop.example>\r\n"
              "From: support@shop.example\r\nTo: gone@example.com\r\nSubject: Re: Retoure\r\n\r\n"
              "Hallo\r\n");
    struct kp_mail *m = &f.m;
    assert_true(m->flags & KP_MAIL_BOUNCE);
    assert_true(m->flags & KP_MAIL_DAEMON);
    assert_string_equal(m->bounce_recipient, "gone@example.com");
    assert_string_equal(m->bounce_status, "5.1.1");
    assert_string_equal(m->bounce_reason, "Sorry, no mailbox here by that name. (#5.1.1)");
    assert_string_equal(m->bounce_message_id, "q-77@shop.example");
    assert_true(m->bounce_permanent);
    done(&f);
}

static void test_exim_bounce(void **state)
{
    struct fixture f;
    parse(&f, "From: Mail Delivery System <Mailer-Daemon@exim.example.org>\r\n"
              "To: support@shop.example\r\n"
              "Subject: Mail delivery failed: returning message to sender\r\n\r\n"
              "This message was created automatically by mail delivery software.\r\n\r\n"
              "A message that you sent could not be delivered to one or more of its\r\n"
              "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
              "  nobody@example.org\r\n"
              "    host mx.example.org [198.51.100.7]\r\n"
              "    SMTP error from remote mail server after RCPT TO:<nobody@example.org>:\r\n"
              "    550 5.1.1 User unknown\r\n\r\n"
              "------ This is a copy of the message, including all the headers. ------\r\n\r\n"
              "Return-path: <support@shop.example>\r\n"
              "Message-Id: <E1abc-0001@shop.example>\r\n"
              "From: support@shop.example\r\nTo: nobody@example.org\r\n\r\nHi\r\n");
    struct kp_mail *m = &f.m;
    assert_true(m->flags & KP_MAIL_BOUNCE);
    assert_string_equal(m->bounce_recipient, "nobody@example.org");
    assert_string_equal(m->bounce_status, "5.1.1");
    assert_string_equal(m->bounce_reason,
                        "host mx.example.org [198.51.100.7] SMTP error from remote mail server "
                        "after RCPT TO:<nobody@example.org>: 550 5.1.1 User unknown");
    assert_string_equal(m->bounce_message_id, "E1abc-0001@shop.example");
    assert_true(m->bounce_permanent);
    done(&f);
    /* Exim's delay warning */
    parse(&f, "From: Mail Delivery System <Mailer-Daemon@exim.example.org>\r\n"
              "Subject: Warning: message 1abc-0001 delayed 24 hours\r\n"
              "Auto-Submitted: auto-replied\r\n\r\n"
              "This message was created automatically by mail delivery software.\r\n"
              "A message that you sent has not yet been delivered to one or more of its\r\n"
              "recipients after more than 24 hours on the queue on exim.example.org.\r\n\r\n"
              "  late@example.org\r\n    Delay reason: SMTP error 451 4.3.0 try later\r\n\r\n"
              "No action is required on your part.\r\n");
    assert_true(f.m.flags & KP_MAIL_BOUNCE);
    assert_false(f.m.bounce_permanent);
    assert_string_equal(f.m.bounce_recipient, "late@example.org");
    assert_string_equal(f.m.bounce_status, "4.3.0");
    done(&f);
}

static void test_postfix_bounce_without_dsn(void **state)
{
    struct fixture f;
    parse(&f, "From: MAILER-DAEMON@postfix.example (Mail Delivery System)\r\n"
              "To: support@shop.example\r\n"
              "Subject: Undelivered Mail Returned to Sender\r\n"
              "Content-Type: multipart/mixed; boundary=P\r\n\r\n"
              "--P\r\nContent-Type: text/plain\r\n\r\n"
              "This is the mail system at host postfix.example.\r\n\r\n"
              "I'm sorry to have to inform you that your message could not\r\n"
              "be delivered to one or more recipients. It's attached below.\r\n\r\n"
              "                   The mail system\r\n\r\n"
              "<full@example.net>: host mx.example.net[203.0.113.5] said: 552 Mailbox\r\n"
              "    full (in reply to RCPT TO command)\r\n\r\n"
              "--P\r\nContent-Type: message/rfc822\r\n\r\n"
              "From: support@shop.example\r\nTo: full@example.net\r\n"
              "Message-ID: <pf-9@shop.example>\r\nSubject: Antwort\r\n\r\nText\r\n"
              "--P--\r\n");
    struct kp_mail *m = &f.m;
    assert_true(m->flags & KP_MAIL_BOUNCE);
    assert_string_equal(m->bounce_recipient, "full@example.net");
    assert_string_equal(m->bounce_status, "552");
    assert_string_equal(m->bounce_reason,
                        "host mx.example.net[203.0.113.5] said: 552 Mailbox full (in reply to "
                        "RCPT TO command)");
    assert_string_equal(m->bounce_message_id, "pf-9@shop.example");
    assert_true(m->bounce_permanent);
    done(&f);
}

static void test_exchange_bounce(void **state)
{
    struct fixture f;
    parse(&f, "From: postmaster@outlook.example\r\nTo: support@shop.example\r\n"
              "Subject: Undeliverable: Ihre Anfrage\r\n"
              "Content-Type: text/plain\r\n\r\n"
              "Delivery has failed to these recipients or groups:\r\n\r\n"
              "Max.Mustermann@Example.com (Max.Mustermann@Example.com)\r\n"
              "The e-mail address you entered couldn't be found. Please check the "
              "recipient's e-mail address and try to resend the message.\r\n\r\n"
              "Diagnostic information for administrators:\r\n\r\n"
              "Generating server: mail.outlook.example\r\n\r\n"
              "Max.Mustermann@Example.com\r\n"
              "#550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found ##\r\n\r\n"
              "Original message headers:\r\n\r\n"
              "Message-ID: <ex-5@shop.example>\r\nSubject: Ihre Anfrage\r\n");
    struct kp_mail *m = &f.m;
    assert_true(m->flags & KP_MAIL_BOUNCE);
    assert_string_equal(m->bounce_recipient, "max.mustermann@example.com");
    assert_string_equal(m->bounce_status, "5.1.10");
    assert_contains(m->bounce_reason, "couldn't be found");
    assert_string_equal(m->bounce_message_id, "ex-5@shop.example");
    done(&f);
}

static void test_not_a_bounce(void **state)
{
    struct fixture f;
    /* a customer whose parcel could not be delivered is not a bounce */
    parse(&f, "From: Anna <anna@example.org>\r\nSubject: Undeliverable parcel\r\n\r\n"
              "My parcel could not be delivered and was returned to sender. Order 4711.\r\n");
    assert_false(f.m.flags & KP_MAIL_BOUNCE);
    assert_null(f.m.bounce_recipient);
    done(&f);
    /* a postmaster writing as a person */
    parse(&f, "From: postmaster@example.org\r\nSubject: Question about my invoice\r\n\r\n"
              "Hello, where is my invoice?\r\n");
    assert_true(f.m.flags & KP_MAIL_DAEMON);
    assert_false(f.m.flags & KP_MAIL_BOUNCE);
    done(&f);
}

/* ---- broken input ---- */

static void expect_broken(const char *raw, size_t len, const char *problem, const char *text)
{
    struct fixture f;
    parse_n(&f, raw, len ? len : strlen(raw));
    if (!(f.m.flags & KP_MAIL_BROKEN))
        fail_msg("not flagged broken: %.60s", raw);
    if (problem)
        assert_contains(f.m.problem, problem);
    if (text)
        assert_contains(f.m.text, text);
    done(&f);
}

static void test_broken_inputs(void **state)
{
    expect_broken("Just some words\nand no headers at all\n", 0, "no headers", "and no headers");
    expect_broken("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=T\r\n\r\n"
                  "--T\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
                  "--T\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 cut he",
                  0, "truncated", "first part");
    expect_broken("From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\n"
                  "prologue words\r\n--X\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--X--\r\n",
                  0, "boundary", "prologue words");
    expect_broken("From: a@b.example\r\nContent-Type: text/plain\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8g!!!d29ybGQ*\r\n",
                  0, "base64", "Hello");
    static const char nul[] = "From: a@b.example\r\nSubject: a\0b\r\n\r\nbody\0with nul\r\n";
    expect_broken(nul, sizeof(nul) - 1, "NUL", "body");
    expect_broken("From: \xff\xfe\x80 <x@y.example>\r\nSubject: \xc0\xaf\xed\xa0\x80\r\n\r\nok\r\n",
                  0, "8-bit", "ok");
}

static void test_deep_nesting(void **state)
{
    char raw[8192];
    size_t n = (size_t)snprintf(raw, sizeof(raw), "From: a@b.example\r\n");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(raw + n, sizeof(raw) - n,
                              "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    n += (size_t)snprintf(raw + n, sizeof(raw) - n, "Content-Type: text/plain\r\n\r\ndeep\r\n");
    struct fixture f;
    parse_n(&f, raw, n);
    assert_true(f.m.flags & KP_MAIL_BROKEN);
    assert_contains(f.m.problem, "nested");
    done(&f);
    /* message/rfc822 inside message/rfc822, too */
    n = (size_t)snprintf(raw, sizeof(raw), "From: a@b.example\r\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(raw + n, sizeof(raw) - n,
                              "Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n", i);
    n += (size_t)snprintf(raw + n, sizeof(raw) - n, "\r\ninnermost\r\n");
    parse_n(&f, raw, n);
    assert_true(f.m.flags & KP_MAIL_BROKEN);
    assert_true(f.m.flags & KP_MAIL_FORWARDED);
    assert_contains(f.m.text, "level 0");
    done(&f);
}

static void test_thousand_parts(void **state)
{
    size_t cap = 1 << 17;
    char *raw = malloc(cap);
    size_t n = (size_t)snprintf(raw, cap,
                                "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=Z\r\n"
                                "\r\n--Z\r\nContent-Type: text/plain\r\n\r\nMany files.\r\n");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(raw + n, cap - n,
                              "--Z\r\nContent-Type: application/octet-stream; name=f%d.bin\r\n"
                              "\r\ndata %d\r\n",
                              i, i);
    n += (size_t)snprintf(raw + n, cap - n, "--Z--\r\n");
    struct fixture f;
    parse_n(&f, raw, n);
    assert_int_equal(f.m.n_parts, KP_MAIL_MAX_ATTACHMENTS);
    assert_string_equal(f.m.parts[0].filename, "f0.bin");
    assert_string_equal(f.m.parts[99].filename, "f99.bin");
    assert_true(f.m.flags & KP_MAIL_BROKEN);
    assert_contains(f.m.problem, "attachments");
    assert_string_equal(f.m.text, "Many files.");
    done(&f);
    free(raw);
}

static void test_long_text_is_cut(void **state)
{
    size_t body = 5u << 20;
    char *raw = malloc(body + 256);
    int n =
        snprintf(raw, 256, "From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    /* "\u00e4" over and over: the cut must not split one */
    for (size_t i = 0; i < body; i += 2)
        memcpy(raw + n + i, "\xc3\xa4", 2);
    struct fixture f;
    parse_n(&f, raw, (size_t)n + body);
    size_t len = strlen(f.m.text);
    assert_true(len <= (4u << 20) && len >= (4u << 20) - 4);
    assert_true(f.m.flags & KP_MAIL_BROKEN);
    assert_contains(f.m.problem, "too long");
    done(&f);
    free(raw);
}

static void test_empty_input(void **state)
{
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_mail m;
    assert_int_equal(kp_mime_parse("", 0, &a, &m), KP_EINVAL);
    assert_string_equal(m.text, "");
    kp_arena_release(&a);
    struct fixture f;
    parse(&f, "\r\n");
    assert_string_equal(f.m.text, "");
    done(&f);
}

/* ---- threads ---- */

static void *parse_many(void *arg)
{
    for (int i = 0; i < 50; i++) {
        struct kp_arena a;
        kp_arena_init(&a);
        struct kp_mail m;
        kp_mime_parse(dsn, sizeof(dsn) - 1, &a, &m);
        bool ok = (m.flags & KP_MAIL_BOUNCE) && m.bounce_recipient &&
                  strcmp(m.bounce_recipient, "kunde@example.net") == 0;
        kp_arena_release(&a);
        if (!ok)
            return arg;
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t t[4];
    int ids[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, parse_many, &ids[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *failed;
        pthread_join(t[i], &failed);
        assert_null(failed);
    }
}

int main(void)
{
    kp_mime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_references_keep_newest),
        cmocka_unit_test(test_from_fallbacks),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_utf16_base64),
        cmocka_unit_test(test_8bit_headers),
        cmocka_unit_test(test_filenames),
        cmocka_unit_test(test_alternative),
        cmocka_unit_test(test_cid_inline_image),
        cmocka_unit_test(test_flowed_text),
        cmocka_unit_test(test_forwarded),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_loop_flags),
        cmocka_unit_test(test_dsn),
        cmocka_unit_test(test_dsn_delay_and_success),
        cmocka_unit_test(test_qmail_bounce),
        cmocka_unit_test(test_exim_bounce),
        cmocka_unit_test(test_postfix_bounce_without_dsn),
        cmocka_unit_test(test_exchange_bounce),
        cmocka_unit_test(test_not_a_bounce),
        cmocka_unit_test(test_broken_inputs),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_thousand_parts),
        cmocka_unit_test(test_long_text_is_cut),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
