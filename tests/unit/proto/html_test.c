/* SPDX-License-Identifier: MIT */
/*
 * html_test.c - unit tests for the inbound HTML sanitiser: the allow-list, XSS vectors
 * (obfuscated javascript: URLs, event handlers, style, svg and math), remote images, cid
 * images, escaping, deep and broken markup, and the plain text form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <strings.h>
#include <time.h>

#include "proto/html.h"

struct result {
    struct kp_arena a;
    char *html, *text;
};

static void sanitize_n(struct result *r, const char *in, size_t len)
{
    kp_arena_init(&r->a);
    assert_int_equal(kp_html_sanitize(in, len, &r->a, &r->html, &r->text), 0);
    assert_non_null(r->html);
    assert_non_null(r->text);
}

static void sanitize(struct result *r, const char *in)
{
    sanitize_n(r, in, strlen(in));
}

static void done(struct result *r)
{
    kp_arena_release(&r->a);
}

static void expect_html(const char *in, const char *html)
{
    struct result r;
    sanitize(&r, in);
    assert_string_equal(r.html, html);
    done(&r);
}

static void expect_text(const char *in, const char *text)
{
    struct result r;
    sanitize(&r, in);
    assert_string_equal(r.text, text);
    done(&r);
}

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

static bool in_list(const char *name, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncasecmp(name, list[i], n) == 0)
            return true;
    return false;
}

/* Reads every tag of html as a browser would and fails unless each element and attribute is
 * on the allow-list, every href is http(s) or mailto and every src is cid. */
static void assert_harmless(const char *html)
{
    static const char *const tags[] = {
        "p",   "br",  "div", "span",    "b",   "strong", "i",          "em",    "u",     "s",
        "sub", "sup", "a",   "ul",      "ol",  "li",     "blockquote", "pre",   "code",  "h1",
        "h2",  "h3",  "h4",  "h5",      "h6",  "hr",     "table",      "thead", "tbody", "tfoot",
        "tr",  "td",  "th",  "caption", "img", "font",   "center",     "small", "big"};
    static const char *const attrs[] = {"href",    "src",   "alt",   "title",  "colspan",
                                        "rowspan", "align", "width", "height", "dir",
                                        "lang",    "rel",   "target"};
    assert_true(utf8_ok(html));
    for (const char *p = html; (p = strchr(p, '<')) != NULL;) {
        p++;
        if (*p == '/')
            p++;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (!in_list(p, n, tags, sizeof(tags) / sizeof(tags[0])))
            fail_msg("element '%.*s' in sanitised html: %s", (int)n, p, html);
        p += n;
        while (*p && *p != '>') {
            p += strspn(p, " ");
            size_t an = strcspn(p, "= >");
            if (an == 0)
                break;
            if (!in_list(p, an, attrs, sizeof(attrs) / sizeof(attrs[0])))
                fail_msg("attribute '%.*s' in sanitised html: %s", (int)an, p, html);
            bool href = an == 4 && strncmp(p, "href", 4) == 0;
            bool src = an == 3 && strncmp(p, "src", 3) == 0;
            p += an;
            assert_true(*p == '=' && p[1] == '"');
            p += 2;
            const char *end = strchr(p, '"');
            assert_non_null(end);
            if (href && strncasecmp(p, "http://", 7) != 0 && strncasecmp(p, "https://", 8) != 0 &&
                strncasecmp(p, "mailto:", 7) != 0)
                fail_msg("href '%.*s' in sanitised html", (int)(end - p), p);
            if (src && strncasecmp(p, "cid:", 4) != 0)
                fail_msg("src '%.*s' in sanitised html", (int)(end - p), p);
            p = end + 1;
        }
    }
}

static void test_formatting_kept(void **state)
{
    expect_html("<p>Hello <b>bold</b>, <i>it</i>, <u>u</u>, <s>s</s>, <em>em</em>, "
                "<strong>st</strong>, <sub>1</sub><sup>2</sup>, <code>c</code></p>",
                "<p>Hello <b>bold</b>, <i>it</i>, <u>u</u>, <s>s</s>, <em>em</em>, "
                "<strong>st</strong>, <sub>1</sub><sup>2</sup>, <code>c</code></p>");
    expect_html("<h1>T</h1><h6>t</h6><hr><center><font color=red face=x>f</font></center>"
                "<small>s</small><big>b</big><span dir=rtl lang=ar>x</span>",
                "<h1>T</h1><h6>t</h6><hr><center><font>f</font></center><small>s</small>"
                "<big>b</big><span dir=\"rtl\" lang=\"ar\">x</span>");
    expect_html("<ul><li>a<li>b</ul><ol><li>c</ol><blockquote>q</blockquote>",
                "<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol><blockquote>q</blockquote>");
}

static void test_unknown_elements_unwrapped(void **state)
{
    expect_html("<html><body><article><section><custom-tag x=1>inside</custom-tag>"
                "</section></article><marquee>gone</marquee></body></html>",
                "inside");
    expect_html("<table><colgroup><col width=5></colgroup><tr><td>x</td></tr></table>",
                "<table><tbody><tr><td>x</td></tr></tbody></table>");
}

static void test_dropped_with_content(void **state)
{
    expect_html("<head><title>Title</title><style>p{color:red}</style><meta http-equiv=refresh "
                "content=0><base href=http://evil/></head><body>a<script>alert(1)</script>b"
                "<iframe src=http://evil/>c</iframe><object data=x>d</object><embed src=x>"
                "<form action=http://evil/><input name=p value=secret><button>e</button></form>"
                "<noscript>f</noscript><template><p>g</p></template><textarea>h</textarea>z</body>",
                "abz");
}

static void test_javascript_urls_dropped(void **state)
{
    static const char *const vectors[] = {
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "\x01javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "jav&#x0A;ascript:alert(1)",
        "jav&#13;ascript:alert(1)",
        "java&Tab;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
        "&#0000106&#0000097vascript:alert(1)",
        "javascript&colon;alert(1)",
        "javascript&#58;alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "//evil.example/x",
        "/api/v1/agents",
        "relative/path",
        "http:/api/v1/agents",
        "https:evil.example",
        "http:\\\\evil.example/",
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char in[512];
        snprintf(in, sizeof(in), "<a href=\"%s\">x</a>", vectors[i]);
        struct result r;
        sanitize(&r, in);
        assert_harmless(r.html);
        if (strcmp(r.html, "<a>x</a>") != 0)
            fail_msg("vector %zu: %s -> %s", i, in, r.html);
        assert_string_equal(r.text, "x");
        done(&r);
    }
    static const char with_nul[] = "<a href=\"java\0script:alert(1)\">x</a>";
    struct result r;
    sanitize_n(&r, with_nul, sizeof(with_nul) - 1);
    assert_string_equal(r.html, "<a>x</a>");
    done(&r);
    /* unquoted and single-quoted attribute forms too */
    expect_html("<a href=javascript:alert(1)>x</a><a href='javascript:alert(1)'>y</a>",
                "<a>x</a><a>y</a>");
}

static void test_safe_links_kept(void **state)
{
    expect_html("<a href=\"https://example.org/a?b=1&amp;c=2\" target=_self name=n>Shop</a>",
                "<a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"noopener noreferrer\" "
                "target=\"_blank\">Shop</a>");
    expect_html("<a href=' HTTP://example.org/ '>x</a>",
                "<a href=\"HTTP://example.org/\" rel=\"noopener noreferrer\" "
                "target=\"_blank\">x</a>");
    expect_html("<a href=\"mailto:anna@example.org\" title='Write \"us\"'>Anna</a>",
                "<a href=\"mailto:anna@example.org\" title=\"Write &quot;us&quot;\" "
                "rel=\"noopener noreferrer\" target=\"_blank\">Anna</a>");
}

static void test_event_handlers_and_style_dropped(void **state)
{
    expect_html("<p onclick=\"alert(1)\" style=\"background:url(javascript:x)\" "
                "onmouseover=alert(2) class=c id=i align=center>t</p>",
                "<p align=\"center\">t</p>");
    expect_html("<img src=cid:a onerror=alert(1) style=x alt=pic>",
                "<img src=\"cid:a\" alt=\"pic\">");
    expect_html("<table background=http://evil/x bgcolor=red width=100%><tr><td colspan=2 "
                "rowspan=1 height=3 onclick=x>c</td></tr></table>",
                "<table width=\"100%\"><tbody><tr><td colspan=\"2\" rowspan=\"1\" "
                "height=\"3\">c</td></tr></tbody></table>");
}

static void test_svg_and_math_dropped(void **state)
{
    static const char *const vectors[] = {
        "<svg><script>alert(1)</script></svg>",
        "<svg onload=alert(1)><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
        "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
        "<svg><style>*{background:url(http://evil/)}</style></svg>",
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct result r;
        sanitize(&r, vectors[i]);
        assert_harmless(r.html);
        done(&r);
    }
    expect_html("before<svg><text>inside</text></svg>after", "beforeafter");
}

static void test_remote_images_dropped_cid_kept(void **state)
{
    expect_html("<p><img src=\"https://tracker.example/open.gif?u=1\" width=1 height=1>"
                "<img src=\"http://evil.example/x.png\"><img src=//cdn.example/y.png>"
                "<img src=\"data:image/png;base64,AAAA\"><img>"
                "<img src=\"cid:logo@shop.example\" alt=\"Logo\" width=\"120\">"
                "<img src=\" CID:part2\"><image src=cid:old></p>",
                "<p><img src=\"cid:logo@shop.example\" alt=\"Logo\" width=\"120\">"
                "<img src=\"CID:part2\"><img src=\"cid:old\"></p>");
    expect_html("<img srcset=\"http://evil/a.png 1x\" src=cid:x>", "<img src=\"cid:x\">");
}

static void test_nested_tables(void **state)
{
    expect_html("<table><tr><td><table><tr><td>inner</td></tr></table></td><td>b</td></tr>"
                "<caption>cap</caption></table>",
                "<table><tbody><tr><td><table><tbody><tr><td>inner</td></tr></tbody></table>"
                "</td><td>b</td></tr></tbody><caption>cap</caption></table>");
    /* text in a table is moved before it, as a browser does */
    expect_html("<table>stray<tr><td>c</td></tr></table>",
                "stray<table><tbody><tr><td>c</td></tr></tbody></table>");
}

static void test_escaping(void **state)
{
    expect_html("<p>1 &lt; 2 &amp;&amp; 3 &gt; 2 \"q\" 'a'</p>",
                "<p>1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;q&quot; &#39;a&#39;</p>");
    expect_html("<p title='a\"b<c>&amp;'>x</p>", "<p title=\"a&quot;b&lt;c&gt;&amp;\">x</p>");
    expect_html("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
                "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    /* outside svg and math, CDATA is a bogus comment that ends at the first > */
    expect_html("<!-- <script>alert(1)</script> -->ok<![CDATA[<b>]]>", "ok]]&gt;");
}

static void test_broken_markup_is_well_formed(void **state)
{
    expect_html("<b><i>x</b>y</i>", "<b><i>x</i></b><i>y</i>");
    expect_html("<p>a<div>b</p>c", "<p>a</p><div>b<p></p>c</div>");
    expect_html("<ul><li>a<li>b", "<ul><li>a</li><li>b</li></ul>");
    expect_html("<a href=https://a.example/>one<a href=https://b.example/>two",
                "<a href=\"https://a.example/\" rel=\"noopener noreferrer\" target=\"_blank\">"
                "one</a><a href=\"https://b.example/\" rel=\"noopener noreferrer\" "
                "target=\"_blank\">two</a>");
    expect_html("<p unclosed=\"", "");
    expect_html("</p></div></b>", "");
}

static void test_deep_nesting_is_flattened(void **state)
{
    size_t depth = 500;
    char *in = malloc(depth * 5 + 2);
    for (size_t i = 0; i < depth; i++)
        memcpy(in + i * 5, "<div>", 5);
    memcpy(in + depth * 5, "x", 2);
    struct result r;
    sanitize(&r, in);
    size_t opened = 0;
    for (const char *p = r.html; (p = strstr(p, "<div>")) != NULL; p++)
        opened++;
    size_t closed = 0;
    for (const char *p = r.html; (p = strstr(p, "</div>")) != NULL; p++)
        closed++;
    assert_int_equal(opened, 100);
    assert_int_equal(closed, 100);
    assert_non_null(strstr(r.html, "x"));
    assert_string_equal(r.text, "x");
    done(&r);
    free(in);
}

/* Tens of thousands of nested elements make the tree builder quadratic: the guard stops it
 * and the text with its tags stripped is shown instead. */
static void test_pathological_input_falls_back(void **state)
{
    size_t depth = 100000;
    char *in = malloc(depth * 5 + 16);
    for (size_t i = 0; i < depth; i++)
        memcpy(in + i * 5, "<div>", 5);
    memcpy(in + depth * 5, "a &lt; b", 9);
    time_t start = time(NULL);
    struct result r;
    sanitize(&r, in);
    assert_true(time(NULL) - start < 30);
    assert_harmless(r.html);
    assert_non_null(strstr(r.text, "a &lt; b"));
    assert_string_equal(r.html, "<pre>a &amp;lt; b</pre>");
    done(&r);
    free(in);
}

static void test_bad_bytes(void **state)
{
    static const char in[] = "<p>caf\xe9 \xff\xfe <b>\0nul</b> \xe2\x82 ok \xed\xa0\x80</p>";
    struct result r;
    sanitize_n(&r, in, sizeof(in) - 1);
    assert_true(utf8_ok(r.html));
    assert_true(utf8_ok(r.text));
    assert_non_null(strstr(r.html, "nul"));
    assert_non_null(strstr(r.text, "ok"));
    done(&r);
    /* gumbo turns a character reference past U+10FFFF into a raw byte */
    sanitize(&r, "<p title=\"&#x110000aaaaaaaaaaaaa;\">x&#x110000aaaaaaaaaaaaaaaa;y</p>");
    assert_true(utf8_ok(r.html));
    assert_true(utf8_ok(r.text));
    assert_harmless(r.html);
    done(&r);
    /* no html at all, or nothing but whitespace */
    sanitize_n(&r, NULL, 0);
    assert_string_equal(r.html, "");
    assert_string_equal(r.text, "");
    done(&r);
    expect_text(" \n\t ", "");
}

static void test_text_form(void **state)
{
    expect_text("<p>Hello   <b>world</b>,\n  how are\tyou?</p><p>Second&nbsp;&nbsp;para</p>",
                "Hello world, how are you?\n\nSecond para");
    expect_text("line one<br>line two<br><br>after gap<div>block</div><div>next</div>",
                "line one\nline two\n\nafter gap\nblock\nnext");
    expect_text("<a href=\"https://example.org/x\">the shop</a> and "
                "<a href=\"https://example.org/\">https://example.org/</a> and "
                "<a href=\"mailto:anna@example.org\">anna@example.org</a> and "
                "<a href=\"javascript:alert(1)\">bad</a>",
                "the shop (https://example.org/x) and https://example.org/ and "
                "anna@example.org and bad");
    expect_text("<ul><li>one</li><li>two</li></ul><ol><li>first<li>second</ol>",
                "- one\n- two\n1. first\n2. second");
    expect_text("<p>Answer</p><blockquote><p>quoted</p><p>more</p></blockquote>",
                "Answer\n\n> quoted\n\n> more");
    expect_text("<pre>  indented\n    code</pre>after", "  indented\n    code\n\nafter");
    expect_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>",
                "a b\nc d");
    expect_text("<head><title>T</title><style>x{}</style></head><script>s()</script>"
                "<img src=https://t.example/p.gif alt=\"\">Hi <img src=cid:l alt=Logo> there",
                "Hi Logo there");
    /* without a text pointer only the html is made */
    struct kp_arena a;
    kp_arena_init(&a);
    char *html;
    assert_int_equal(kp_html_sanitize("<p>x</p>", 8, &a, &html, NULL), 0);
    assert_string_equal(html, "<p>x</p>");
    kp_arena_release(&a);
}

static void test_input_cap(void **state)
{
    size_t n = KP_HTML_MAX_INPUT + 1000;
    char *in = malloc(n);
    memset(in, 'a', n);
    memcpy(in + KP_HTML_MAX_INPUT, "ZZZZ", 4);
    struct result r;
    sanitize_n(&r, in, n);
    assert_int_equal(strlen(r.text), KP_HTML_MAX_INPUT);
    assert_null(strstr(r.text, "Z"));
    done(&r);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formatting_kept),
        cmocka_unit_test(test_unknown_elements_unwrapped),
        cmocka_unit_test(test_dropped_with_content),
        cmocka_unit_test(test_javascript_urls_dropped),
        cmocka_unit_test(test_safe_links_kept),
        cmocka_unit_test(test_event_handlers_and_style_dropped),
        cmocka_unit_test(test_svg_and_math_dropped),
        cmocka_unit_test(test_remote_images_dropped_cid_kept),
        cmocka_unit_test(test_nested_tables),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_broken_markup_is_well_formed),
        cmocka_unit_test(test_deep_nesting_is_flattened),
        cmocka_unit_test(test_pathological_input_falls_back),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_text_form),
        cmocka_unit_test(test_input_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
