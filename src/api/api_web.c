/* SPDX-License-Identifier: MIT */
/*
 * api_web.c - the agent workspace (/, /app/...), the chat widget (/widget/v1/widget.js, the
 * loader any website embeds, and /widget/v1/frame, the chat window it opens in an iframe) and,
 * in demo mode, the demo shop page: files bundled by web/build.mjs and embedded at build time.
 * Answers carry an ETag (304 on a match) and, for clients that accept it, the gzip form. The
 * demo shop is filled in when served: its signed-in customer, signed with the real secret.
 */
#include "api.h"
#include "api_widget.h"
#include "../base/embed.h"
#include "../base/tmpl.h"

#include <strings.h>

extern const struct kp_embed kp_web_assets[];
extern const size_t kp_web_assets_count;

/* The workspace and the shop page load only their own scripts and styles, talk only to this
 * server, and cannot be framed. */
#define PAGE_CSP                                                                                   \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; "    \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"           \
    "X-Frame-Options: DENY\r\nReferrer-Policy: same-origin\r\n"                                    \
    "Permissions-Policy: camera=(), microphone=(), geolocation=()\r\n"

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "text/html; charset=utf-8";
}

static bool accepts_gzip(const struct kp_http_request *r)
{
    const char *ae = kp_http_header(r, "Accept-Encoding");
    return ae && strstr(ae, "gzip") && !strstr(ae, "gzip;q=0");
}

/* Answers with the embedded file name (404 when there is none). extra: more header lines. */
static void send_asset(struct kp_call *call, const char *name, const char *cache, const char *extra)
{
    const struct kp_embed *f = kp_embed_find(kp_web_assets, kp_web_assets_count, name);
    if (!f) {
        kp_call_error(call, 404, "not_found", NULL, "no such file");
        return;
    }
    const char *inm = kp_http_header(call->req->http, "If-None-Match");
    bool gz = f->gz && accepts_gzip(call->req->http);
    char headers[768];
    snprintf(headers, sizeof(headers),
             "ETag: %s\r\nCache-Control: %s\r\nVary: Accept-Encoding\r\n%s%s", f->etag, cache,
             gz ? "Content-Encoding: gzip\r\n" : "", extra);
    if (inm && strcmp(inm, f->etag) == 0) {
        kp_req_respond(call->req, 304, content_type(name), headers, "", 0);
        return;
    }
    kp_req_respond(call->req, 200, content_type(name), headers, gz ? f->gz : f->data,
                   gz ? f->gz_size : f->size);
}

static void index_page(struct kp_call *call)
{
    send_asset(call, "index.html", "no-cache", PAGE_CSP);
}

static void app_file(struct kp_call *call)
{
    const char *name = call->params[0];
    if (strcmp(name, "app.js") != 0 && strcmp(name, "app.css") != 0) {
        kp_call_error(call, 404, "not_found", NULL, "no such file");
        return;
    }
    send_asset(call, name, "no-cache", "");
}

/* Loaded by any website: cacheable for a while, usable across origins. */
static void widget_script(struct kp_call *call)
{
    send_asset(call, "widget.js", "public, max-age=300",
               "Access-Control-Allow-Origin: *\r\nCross-Origin-Resource-Policy: cross-origin\r\n");
}

/* The chat window, framed by the loader on any site the inbox allows: the frame talks only to
 * this server, loads only its own files, and may be framed only by the allowed origins. */
static void widget_frame(struct kp_call *call)
{
    int64_t inbox;
    char origin[KP_WIDGET_ORIGIN_MAX + 1];
    if (kp_call_query_int(call, "inbox", 1, INT64_MAX, 0, &inbox))
        return;
    int n = kp_call_query(call, "origin", origin, sizeof(origin));
    struct kp_widget *w = kp_call_alloc(call, sizeof(*w));
    int rc = inbox ? KP_STORE(call->api->store, widget_get, inbox, w) : KP_ENOTFOUND;
    if (rc == KP_ENOTFOUND) {
        kp_call_error(call, 404, "not_found", "inbox", "no chat widget for this inbox");
        return;
    }
    if (rc) {
        kp_call_store_error(call, rc, "widget");
        return;
    }
    if (n == -2 || (n > 0 && !kp_api_widget_origin_allowed(w, origin))) {
        kp_call_error(call, 403, "origin_not_allowed", "origin",
                      "this site is not allowed to embed the chat widget");
        return;
    }
    char *headers = kp_arena_printf(
        &call->req->arena,
        "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
        "connect-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors %s\r\nReferrer-Policy: no-referrer\r\n"
        "X-Content-Type-Options: nosniff\r\n",
        w->origins[0] ? kp_arena_printf(&call->req->arena, "'self' %s", w->origins) : "*");
    send_asset(call, "frame.html", "no-cache", headers);
}

static void widget_frame_file(struct kp_call *call)
{
    const char *path = call->req->http->path;
    send_asset(call, strrchr(path, '/') + 1, "public, max-age=300", "");
}

static void html_escape(struct kp_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            kp_buf_puts(b, "&amp;");
            break;
        case '<':
            kp_buf_puts(b, "&lt;");
            break;
        case '>':
            kp_buf_puts(b, "&gt;");
            break;
        case '"':
            kp_buf_puts(b, "&quot;");
            break;
        case '\'':
            kp_buf_puts(b, "&#39;");
            break;
        default:
            kp_buf_append(b, s, 1);
        }
    }
}

/* The demo customer (api->demo_customer's contact): name and first email address, copied. */
static int demo_customer(struct kp_call *call, char **name, char **email)
{
    struct kp_store *store = call->api->store;
    int64_t contact;
    json_t *c;
    int rc = call->api->demo_customer
                 ? KP_STORE(store, identity_owner, "shop", call->api->demo_customer, &contact)
                 : KP_ENOTFOUND;
    if (rc || (rc = KP_STORE(store, contact_get, contact, &c)))
        return rc;
    const char *n = kp_json_str(c, "name");
    *name = kp_arena_strdup(&call->req->arena, n ? n : "");
    *email = NULL;
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(c, "identities"), i, id)
    {
        if (!*email && strcmp(kp_json_str(id, "kind"), "email") == 0)
            *email = kp_arena_strdup(&call->req->arena, kp_json_str(id, "value"));
    }
    json_decref(c);
    return *email ? 0 : KP_ENOTFOUND;
}

/* The demo shop with the widget of the first webchat inbox; signed in as the demo customer
 * (his identity signed with the inbox's secret, as a shop's server would), or as a guest with
 * ?guest=1. */
static void demo_shop(struct kp_call *call)
{
    if (!call->api->demo) {
        kp_call_error(call, 404, "not_found", NULL, "the demo shop exists in demo mode only");
        return;
    }
    const struct kp_embed *page = kp_embed_find(kp_web_assets, kp_web_assets_count, "shop.html");
    if (!page) {
        kp_call_error(call, 404, "not_found", NULL, "no such file");
        return;
    }
    json_t *inboxes;
    int rc = KP_STORE(call->api->store, inbox_list, &inboxes);
    if (rc) {
        kp_call_store_error(call, rc, "inboxes");
        return;
    }
    int64_t inbox = 0;
    size_t i;
    json_t *ib;
    json_array_foreach(inboxes, i, ib)
    {
        if (!inbox && strcmp(kp_json_str(ib, "channel"), "webchat") == 0)
            inbox = kp_json_int(ib, "id", 0);
    }
    json_decref(inboxes);
    struct kp_widget *w = kp_call_alloc(call, sizeof(*w));
    char guest[4];
    char *name = NULL, *email = NULL, inbox_text[24], hash[65];
    bool signed_in = kp_call_query(call, "guest", guest, sizeof(guest)) < 0 &&
                     KP_STORE(call->api->store, widget_get, inbox, w) == 0 &&
                     demo_customer(call, &name, &email) == 0;
    snprintf(inbox_text, sizeof(inbox_text), "%lld", (long long)inbox);
    struct kp_buf account, snippet, out;
    kp_buf_init(&account, 0);
    kp_buf_init(&snippet, 0);
    kp_buf_init(&out, 0);
    kp_buf_puts(&snippet, "<script src=\"/widget/v1/widget.js\" data-inbox=\"");
    kp_buf_puts(&snippet, inbox_text);
    kp_buf_puts(&snippet, "\"");
    if (signed_in) {
        kp_api_widget_sign(w->secret, call->api->demo_customer, email, name, hash);
        const char *attrs[][2] = {
            {"id", call->api->demo_customer}, {"name", name}, {"email", email}, {"hash", hash}};
        for (size_t a = 0; a < KP_ARRAY_LEN(attrs); a++) {
            kp_buf_printf(&snippet, " data-user-%s=\"", attrs[a][0]);
            html_escape(&snippet, attrs[a][1]);
            kp_buf_puts(&snippet, "\"");
        }
        kp_buf_puts(&account, "<span class=\"account-name\">Angemeldet als <strong>");
        html_escape(&account, name);
        kp_buf_puts(&account, "</strong></span> <a href=\"/demo/shop?guest=1\">Abmelden</a>");
    } else {
        kp_buf_puts(&account, "<a href=\"/demo/shop\" class=\"account-login\">Anmelden</a>");
    }
    kp_buf_puts(&snippet, " async></script>");
    const struct kp_tmpl_var vars[] = {{"account", account.data}, {"widget", snippet.data}};
    kp_tmpl_render(page->data, vars, KP_ARRAY_LEN(vars), &out); /* out has no cap */
    kp_req_respond(call->req, 200, "text/html; charset=utf-8",
                   "Cache-Control: no-store\r\n" PAGE_CSP, out.data, out.len);
    kp_buf_release(&account);
    kp_buf_release(&snippet);
    kp_buf_release(&out);
}

static void demo_file(struct kp_call *call)
{
    if (!call->api->demo) {
        kp_call_error(call, 404, "not_found", NULL, "the demo shop exists in demo mode only");
        return;
    }
    send_asset(call, "shop.css", "no-cache", "");
}

const struct kp_route kp_api_web_routes[] = {
    {"GET", "/", index_page, KP_PUBLIC, false},
    {"GET", "/app/{file}", app_file, KP_PUBLIC, false},
    {"GET", "/widget/v1/widget.js", widget_script, KP_PUBLIC, false},
    {"GET", "/widget/v1/frame", widget_frame, KP_PUBLIC, false},
    {"GET", "/widget/v1/frame.js", widget_frame_file, KP_PUBLIC, false},
    {"GET", "/widget/v1/frame.css", widget_frame_file, KP_PUBLIC, false},
    {"GET", "/demo/shop", demo_shop, KP_PUBLIC, false},
    {"GET", "/demo/shop.css", demo_file, KP_PUBLIC, false},
    {0},
};
