/* SPDX-License-Identifier: MIT */
/*
 * router.c - from a parsed HTTP request to a resource handler: route lookup (404/405),
 * authentication and roles (401/403), CSRF for cookie sessions, JSON body parsing (415/400),
 * then the handler. Also the answer helpers every handler uses, and the request log line.
 */
#include "api.h"
#include "auth.h"
#include "metrics.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../proto/websocket.h"

#include <stdarg.h>
#include <sodium.h>
#include <strings.h>

static const struct kp_route *const tables[] = {
    kp_api_system_routes,        kp_api_session_routes,       kp_api_agents_routes,
    kp_api_teams_routes,         kp_api_inboxes_routes,       kp_api_contacts_routes,
    kp_api_conversations_routes, kp_api_search_routes,        kp_api_stream_routes,
    kp_api_attachments_routes,   kp_api_email_routes,         kp_api_audit_routes,
    kp_api_canned_routes,        kp_api_notifications_routes, kp_api_web_routes,
    kp_api_widget_routes,        kp_api_visitor_routes,
};

void kp_api_routes_foreach(void (*fn)(const struct kp_route *r, void *ud), void *ud)
{
    for (size_t t = 0; t < KP_ARRAY_LEN(tables); t++)
        for (const struct kp_route *r = tables[t]; r->method; r++)
            fn(r, ud);
}

/* ---- answers ---- */

uint64_t kp_api_store_version(struct kp_api *api)
{
    return atomic_load(&kp_writer_stats(api->writer)->commits);
}

struct kp_viewer kp_call_viewer(const struct kp_call *call)
{
    return (struct kp_viewer){.agent_id = call->auth.who.agent_id, .admin = call->auth.who.admin};
}

int kp_call_websocket(struct kp_call *call)
{
    const struct kp_http_request *h = call->req->http;
    const char *why;
    if (!kp_websocket_check(h, &why))
        return 0;
    kp_call_error(call, kp_http_header(h, "Upgrade") ? 400 : 426, "websocket_required", NULL, "%s",
                  why);
    return -1;
}

void *kp_call_alloc(struct kp_call *call, size_t n)
{
    return kp_arena_alloc(&call->req->arena, n);
}

void kp_call_json_headers(struct kp_call *call, int status, const char *headers, json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    if (!text) {
        kp_req_respond(call->req, status, "application/json", headers, "", 0);
        return;
    }
    kp_req_respond(call->req, status, "application/json", headers, text, strlen(text));
    free(text);
}

void kp_call_json(struct kp_call *call, int status, json_t *value)
{
    kp_call_json_headers(call, status, "", value);
}

static void respond_error(struct kp_req *req, int status, const char *headers, const char *code,
                          const char *field, const char *message)
{
    json_t *e = json_pack("{s{ssss}}", "error", "code", code, "message", message);
    if (field && *field)
        json_object_set_new(json_object_get(e, "error"), "field", json_string(field));
    char *text = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    kp_req_respond(req, status, "application/json", headers, text, strlen(text));
    free(text);
}

void kp_call_error(struct kp_call *call, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    respond_error(call->req, status, "", code, field, msg);
}

void kp_call_json_error(struct kp_call *call, const struct kp_json_error *err)
{
    respond_error(call->req, 400, "", err->code, err->field, err->message);
}

void kp_call_store_error(struct kp_call *call, int rc, const char *what)
{
    switch (rc) {
    case KP_ENOTFOUND:
        kp_call_error(call, 404, "not_found", NULL, "%s not found", what);
        break;
    case KP_EEXIST:
        kp_call_error(call, 409, "conflict", NULL, "%s conflicts with an existing one", what);
        break;
    case KP_EINVAL:
        kp_call_error(call, 400, "invalid_value", NULL, "invalid value for %s", what);
        break;
    case KP_EPERM:
        kp_call_error(call, 403, "forbidden", NULL, "not allowed to change %s", what);
        break;
    case KP_ETOOBIG:
        kp_call_error(call, 413, "too_large", NULL, "%s is too large", what);
        break;
    default:
        kp_call_error(call, 503, "unavailable", NULL, "storage is unavailable, try again");
    }
}

int kp_call_check(struct kp_call *call, const struct kp_json_field *fields, size_t n)
{
    struct kp_json_error err;
    if (kp_json_check(call->body, fields, n, true, &err) == 0)
        return 0;
    kp_call_json_error(call, &err);
    return -1;
}

int kp_call_query(struct kp_call *call, const char *key, char *out, size_t cap)
{
    return kp_http_query(call->req->http->query, key, out, cap);
}

int kp_call_query_int(struct kp_call *call, const char *key, int64_t min, int64_t max, int64_t def,
                      int64_t *out)
{
    char buf[32];
    int n = kp_call_query(call, key, buf, sizeof(buf));
    if (n == -1) {
        *out = def;
        return 0;
    }
    char *end = buf;
    long long v = n > 0 ? strtoll(buf, &end, 10) : 0;
    if (n <= 0 || *end || v < min || v > max) {
        kp_call_error(call, 400, "invalid_value", key,
                      "query parameter '%s' must be an integer from %lld to %lld", key,
                      (long long)min, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- writes ---- */

struct write_ctx {
    struct kp_writer_job job;
    struct kp_call *call;
    kp_write_fn run;
    kp_write_done_fn done;
    void *user;
};

void *kp_call_write_ctx(struct kp_call *call, size_t size)
{
    return kp_call_alloc(call, size);
}

static int on_write_run(struct kp_store *s, void *ctx)
{
    struct write_ctx *w = ctx;
    return w->run(s, w->user);
}

static void on_write_done(void *ctx, int rc)
{
    struct write_ctx *w = ctx;
    w->done(w->call, w->user, rc);
}

void kp_call_write(struct kp_call *call, void *ctx, kp_write_fn run, kp_write_done_fn done)
{
    struct write_ctx *w = kp_call_alloc(call, sizeof(*w));
    w->call = call;
    w->run = run;
    w->done = done;
    w->user = ctx;
    w->job.run = on_write_run;
    w->job.done = on_write_done;
    w->job.ctx = w;
    w->job.port = call->api->port;
    kp_writer_submit(call->api->writer, &w->job);
}

/* ---- routing ---- */

/* Matches path against pattern, filling params. */
static bool match(const char *pattern, const char *path, struct kp_call *call, char *scratch)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            size_t len = se ? (size_t)(se - s) : strlen(s);
            if (len == 0 || np == KP_MAX_PARAMS || len > 200)
                return false;
            memcpy(scratch, s, len);
            scratch[len] = '\0';
            bool is_id = pe - p >= 3 && strncmp(pe - 2, "id", 2) == 0;
            int64_t id = 0;
            if (is_id) {
                char *end;
                long long v = strtoll(scratch, &end, 10);
                if (*end || v <= 0 || scratch[0] == '+' || scratch[0] == '-')
                    return false;
                id = v;
            }
            call->params[np] = scratch;
            call->ids[np] = id;
            np++;
            scratch += len + 1;
            p = pe + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

static bool body_is_json(const struct kp_http_request *h)
{
    const char *ct = kp_http_header(h, "Content-Type");
    if (!ct)
        return false;
    size_t n = strcspn(ct, "; ");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

static void release_body(void *v)
{
    json_decref(v);
}

void kp_api_on_request(struct kp_req *req, void *app)
{
    struct kp_api *api = app;
    const struct kp_http_request *h = req->http;
    struct kp_call *call = kp_arena_alloc(&req->arena, sizeof(*call));
    call->req = req;
    call->api = api;
    req->user = call;
    char *scratch = kp_arena_alloc(&req->arena, strlen(h->path) + KP_MAX_PARAMS + 1);

    const struct kp_route *found = NULL;
    char allow[128] = "";
    bool head = strcmp(h->method, "HEAD") == 0;
    for (size_t t = 0; t < KP_ARRAY_LEN(tables) && !found; t++) {
        for (const struct kp_route *r = tables[t]; r->method; r++) {
            if (!match(r->pattern, h->path, call, scratch))
                continue;
            if (strcmp(r->method, h->method) == 0 || (head && strcmp(r->method, "GET") == 0)) {
                found = r;
                break;
            }
            size_t al = strlen(allow);
            snprintf(allow + al, sizeof(allow) - al, "%s%s", al ? ", " : "", r->method);
        }
    }
    if (!found) {
        if (allow[0]) {
            req->route = "(method not allowed)";
            char hdr[160];
            snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
            char msg[200];
            snprintf(msg, sizeof(msg), "method %s is not allowed here; allowed: %s", h->method,
                     allow);
            respond_error(req, 405, hdr, "method_not_allowed", NULL, msg);
        } else {
            req->route = "(unknown)";
            respond_error(req, 404, "", "not_found", NULL, "no such route");
        }
        return;
    }
    call->route = found;
    req->route = found->pattern;

    if (found->access != KP_PUBLIC) {
        int rc = kp_auth_request(api, h, &call->auth);
        if (rc == KP_EIO) {
            kp_call_store_error(call, rc, "session");
            return;
        }
        if (rc || !call->auth.who.agent_id) {
            respond_error(req, 401, "WWW-Authenticate: Bearer\r\n", "unauthorized", NULL,
                          "valid credentials are required: a session cookie or a Bearer token");
            return;
        }
        if (found->access == KP_ADMIN && !call->auth.who.admin) {
            kp_call_error(call, 403, "forbidden", NULL, "this needs the admin role");
            return;
        }
        bool safe = strcmp(h->method, "GET") == 0 || head;
        if (call->auth.via_cookie && !safe) {
            const char *sent = kp_http_header(h, "X-CSRF-Token");
            if (!kp_auth_csrf_equal(sent, call->auth.csrf)) {
                kp_call_error(call, 403, "csrf_failed", NULL,
                              "missing or wrong X-CSRF-Token header for a cookie session");
                return;
            }
        }
    }
    if (found->json_body) {
        if (!body_is_json(h)) {
            kp_call_error(call, 415, "unsupported_media_type", NULL,
                          "request body must be sent as Content-Type: application/json");
            return;
        }
        struct kp_json_error err;
        if (kp_json_parse_body(h->body, h->body_len, api->limits.json_depth, &call->body, &err)) {
            kp_call_json_error(call, &err);
            return;
        }
        kp_arena_on_release(&req->arena, release_body, call->body);
    }
    found->handler(call);
}

/* ---- the log line ---- */

static size_t json_escape(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return o;
}

void kp_api_on_finish(struct kp_req *req, void *app)
{
    struct kp_api *api = app;
    double secs = (double)(kp_clock_mono_ns() - req->start_ns) / 1e9;
    const char *route = req->route ? req->route : "(none)";
    kp_metrics_request(api->metrics, route, req->status, secs);
    if (kp_log_get_level() > KP_LOG_INFO)
        return;
    struct kp_call *call = req->user;
    char path[600], ts[32], line[1024];
    json_escape(path, sizeof(path), req->http->path);
    kp_clock_iso8601(kp_clock_now_ms(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"req\":\"%s\","
                     "\"method\":\"%s\",\"route\":\"%s\",\"path\":\"%s\",\"status\":%d,"
                     "\"ms\":%.3f,\"bytes\":%zu,\"agent\":%lld}",
                     ts, req->id, req->http->method, route, path, req->status, secs * 1000,
                     req->response_bytes, call ? (long long)call->auth.who.agent_id : 0LL);
    if (n > 0)
        kp_log_json_line(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int kp_call_attachments(struct kp_call *call, json_t *list, struct kp_attachment_new *out,
                        size_t *n)
{
    static const struct kp_json_field fields[] = {
        {"filename", KP_JSON_STRING, true, false, 255},
        {"content_type", KP_JSON_STRING, true, false, 127},
        {"data", KP_JSON_STRING, true, false, 0},
    };
    size_t total = 0, i;
    json_t *a;
    *n = 0;
    if (json_array_size(list) > KP_API_MAX_ATTACHMENTS) {
        kp_call_error(call, 400, "too_many", "attachments", "at most %d attachments",
                      KP_API_MAX_ATTACHMENTS);
        return -1;
    }
    json_array_foreach(list, i, a)
    {
        struct kp_json_error err;
        if (!json_is_object(a)) {
            kp_call_error(call, 400, "wrong_type", "attachments", "attachments must be objects");
            return -1;
        }
        if (kp_json_check(a, fields, KP_ARRAY_LEN(fields), true, &err)) {
            kp_call_json_error(call, &err);
            return -1;
        }
        const char *b64 = kp_json_str(a, "data");
        size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3, len = 0;
        total += cap;
        if (total > call->api->limits.max_attachment_bytes + 3) {
            kp_call_error(call, 413, "too_large", "attachments", "attachments are too large");
            return -1;
        }
        unsigned char *bin = kp_call_alloc(call, cap);
        if (sodium_base642bin(bin, cap, b64, b64len, "\r\n", &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) {
            kp_call_error(call, 400, "invalid_value", "attachments",
                          "attachment data must be standard base64");
            return -1;
        }
        if (!kp_api_printable(kp_json_str(a, "filename"))) {
            kp_call_error(call, 400, "invalid_value", "attachments",
                          "file names must not contain control characters");
            return -1;
        }
        out[i] = (struct kp_attachment_new){kp_json_str(a, "filename"),
                                            kp_json_str(a, "content_type"), bin, len, NULL};
    }
    *n = json_array_size(list);
    return 0;
}

size_t kp_api_attachment_limit(const struct kp_api *api)
{
    /* a file travels as base64 in a JSON body: the body limit caps it too */
    size_t max = api->limits.max_attachment_bytes, body = api->limits.max_body_bytes;
    size_t fits = body > 2048 ? (body - 2048) / 4 * 3 : 0;
    return body && fits < max ? fits : max;
}

bool kp_api_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}
