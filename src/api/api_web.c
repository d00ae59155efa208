/* SPDX-License-Identifier: MIT */
/*
 * api_web.c - the agent workspace (/, /app/...), the chat widget's script (/widget/v1/...) and,
 * in demo mode, the demo shop page: files bundled by web/build.mjs and embedded at build time.
 * Answers carry an ETag (304 on a match) and, for clients that accept it, the gzip form.
 */
#include "api.h"
#include "../base/embed.h"

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

static void demo_shop(struct kp_call *call)
{
    if (!call->api->demo) {
        kp_call_error(call, 404, "not_found", NULL, "the demo shop exists in demo mode only");
        return;
    }
    send_asset(call, "shop.html", "no-cache", PAGE_CSP);
}

const struct kp_route kp_api_web_routes[] = {
    {"GET", "/", index_page, KP_PUBLIC, false},
    {"GET", "/app/{file}", app_file, KP_PUBLIC, false},
    {"GET", "/widget/v1/widget.js", widget_script, KP_PUBLIC, false},
    {"GET", "/demo/shop", demo_shop, KP_PUBLIC, false},
    {0},
};
