/* SPDX-License-Identifier: MIT */
/*
 * email_send.c - the outbox's sender (see email_send.h). The outbox is read on the loop's read
 * connection; building and sending run on the worker pool; the result is written by the writer.
 * A mail is sent at least once: a crash after the server took it and before the commit sends
 * it again with the same Message-ID, which receivers use to drop the copy.
 */
#include "email_send.h"
#include "../base/clock.h"
#include "email.h"
#include "../base/log.h"
#include "../proto/mime.h"

#include <curl/curl.h>
#include <gmime/gmime.h>

enum { MAX_ERROR = 500 };

struct sending {
    struct kp_email_sender *owner;
    int64_t message_id;
    json_t *mail;              /* mail_outgoing */
    struct kp_mail_inbox *box; /* the inbox that sends it */
    void **att_data;           /* per attachments[i] */
    size_t *att_size;
    size_t n_att;
    uv_work_t work;
    struct kp_writer_job job;
    /* result of the work */
    GByteArray *raw;
    bool sent, permanent;
    char error[MAX_ERROR + 1];
    int64_t retry_at;
    struct kp_event ev;
};

struct kp_email_sender {
    struct kp_api *api;
    struct kp_email_send_config cfg;
    uv_timer_t timer;
    bool stopping, timer_closed;
    int64_t in_flight[KP_EMAIL_SEND_PARALLEL];
    size_t n_in_flight;
};

/* ---- building the mail ---- */

static char *text_to_html(const char *text)
{
    GString *h = g_string_new("<div>");
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<':
            g_string_append(h, "&lt;");
            break;
        case '>':
            g_string_append(h, "&gt;");
            break;
        case '&':
            g_string_append(h, "&amp;");
            break;
        case '"':
            g_string_append(h, "&quot;");
            break;
        case '\n':
            g_string_append(h, "<br>\r\n");
            break;
        case '\r':
            break;
        default:
            g_string_append_c(h, *p);
        }
    }
    g_string_append(h, "</div>");
    return g_string_free(h, FALSE);
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
    GMimeTextPart *t = g_mime_text_part_new_with_subtype(subtype);
    g_mime_text_part_set_text(t, text); /* sets charset utf-8 when needed */
    g_mime_part_set_content_encoding(GMIME_PART(t), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GMIME_OBJECT(t);
}

static GMimeObject *attachment_part(json_t *meta, const void *data, size_t size)
{
    const char *ct = kp_json_str(meta, "content_type");
    GMimeContentType *type = g_mime_content_type_parse(NULL, ct ? ct : "application/octet-stream");
    GMimePart *p = g_mime_part_new_with_type(g_mime_content_type_get_media_type(type),
                                             g_mime_content_type_get_media_subtype(type));
    g_object_unref(type);
    /* GMime writes the name into the headers as it is: no line breaks may get there */
    char *name =
        g_strdup(kp_json_str(meta, "filename") ? kp_json_str(meta, "filename") : "attachment");
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '_';
    g_mime_part_set_filename(p, name);
    g_free(name);
    GMimeStream *mem = g_mime_stream_mem_new_with_buffer(data, size);
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(p, dw);
    g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
    g_object_unref(dw);
    g_object_unref(mem);
    return GMIME_OBJECT(p);
}

/* "<a> <b>" from space-separated bare ids. */
static char *angle_ids(const char *ids)
{
    GString *s = g_string_new("");
    gchar **v = g_strsplit(ids, " ", -1);
    for (gchar **p = v; *p; p++)
        if (**p)
            g_string_append_printf(s, "%s<%s>", s->len ? " " : "", *p);
    g_strfreev(v);
    return g_string_free(s, FALSE);
}

static void build(struct sending *x)
{
    json_t *m = x->mail;
    GMimeMessage *msg = g_mime_message_new(TRUE);
    const char *name = x->box->display_name[0] ? x->box->display_name : x->box->name;
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, name, x->box->address);
    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, kp_json_str(m, "recipient"));
    const char *subject = kp_json_str(m, "subject");
    g_mime_message_set_subject(msg, subject ? subject : "", "utf-8");
    g_mime_message_set_message_id(msg, kp_json_str(m, "header_id"));
    GDateTime *now = g_date_time_new_now_utc();
    g_mime_message_set_date(msg, now);
    g_date_time_unref(now);
    const char *irt = kp_json_str(m, "in_reply_to"), *refs = kp_json_str(m, "refs");
    if (irt) {
        char *v = angle_ids(irt);
        g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", v, NULL);
        g_free(v);
    }
    if (refs && refs[0]) {
        char *v = angle_ids(refs);
        g_mime_object_set_header(GMIME_OBJECT(msg), "References", v, NULL);
        g_free(v);
    }
    if (kp_json_int(m, "auto", 0)) {
        /* RFC 3834: an automatic answer, never to be answered automatically in turn */
        g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", NULL);
        g_mime_object_set_header(GMIME_OBJECT(msg), "X-Auto-Response-Suppress", "All", NULL);
    }
    const char *text = kp_json_str(m, "text"), *html = kp_json_str(m, "html");
    char *made_html = html ? NULL : text_to_html(text ? text : "");
    GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
    GMimeObject *plain = text_part("plain", text ? text : ""),
                *rich = text_part("html", html ? html : made_html);
    g_mime_multipart_add(alt, plain);
    g_mime_multipart_add(alt, rich);
    g_object_unref(plain);
    g_object_unref(rich);
    g_free(made_html);
    GMimeObject *root = GMIME_OBJECT(alt);
    json_t *atts = json_object_get(m, "attachments");
    if (x->n_att) {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
        g_mime_multipart_add(mixed, root);
        g_object_unref(root);
        for (size_t i = 0; i < x->n_att; i++) {
            GMimeObject *a =
                attachment_part(json_array_get(atts, i), x->att_data[i], x->att_size[i]);
            g_mime_multipart_add(mixed, a);
            g_object_unref(a);
        }
        root = GMIME_OBJECT(mixed);
    }
    g_mime_message_set_mime_part(msg, root);
    g_object_unref(root);
    GMimeFormatOptions *fmt = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
    GMimeStream *out = g_mime_stream_mem_new();
    g_mime_object_write_to_stream(GMIME_OBJECT(msg), fmt, out);
    x->raw = g_byte_array_new();
    GByteArray *mem = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    g_byte_array_append(x->raw, mem->data, mem->len);
    g_object_unref(out);
    g_mime_format_options_free(fmt);
    g_object_unref(msg);
}

/* ---- sending ---- */

struct upload {
    const guint8 *data;
    size_t len, off;
};

static size_t on_upload(char *buf, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t room = size * n, left = u->len - u->off, take = left < room ? left : room;
    memcpy(buf, u->data + u->off, take);
    u->off += take;
    return take;
}

static void send_mail(struct sending *x)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(x->error, sizeof(x->error), "cannot start a mail client");
        return;
    }
    char from[KP_MAIL_ADDRESS_MAX + 3], err[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof(from), "<%s>", x->box->address);
    struct curl_slist *rcpt = curl_slist_append(NULL, kp_json_str(x->mail, "recipient"));
    struct upload u = {x->raw->data, x->raw->len, 0};
    curl_easy_setopt(c, CURLOPT_URL, x->box->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
    curl_easy_setopt(c, CURLOPT_USE_SSL, kp_email_tls(x->box->smtp_url, x->box->smtp_user[0]));
    if (x->owner->cfg.ca_file && x->owner->cfg.ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, x->owner->cfg.ca_file);
    if (x->box->smtp_user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, x->box->smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, x->box->smtp_password);
    }
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        x->sent = true;
    } else {
        x->permanent = code >= 500 && code < 600;
        snprintf(x->error, sizeof(x->error), "%s%s%s (SMTP %ld)", curl_easy_strerror(rc),
                 err[0] ? ": " : "", err, code);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
}

static void work_run(uv_work_t *w)
{
    struct sending *x = w->data;
    if (!x->box->smtp_url[0]) {
        snprintf(x->error, sizeof(x->error), "the inbox %s has no SMTP server to send with",
                 x->box->address);
        x->permanent = true;
        return;
    }
    build(x);
    send_mail(x);
}

/* ---- recording the result ---- */

static void sending_free(struct sending *x)
{
    for (size_t i = 0; i < x->n_att; i++)
        free(x->att_data[i]);
    free(x->att_data);
    free(x->att_size);
    free(x->box);
    json_decref(x->mail);
    if (x->raw)
        g_byte_array_unref(x->raw);
    free(x);
}

static int record_run(struct kp_store *s, void *ctx)
{
    struct sending *x = ctx;
    int rc = x->sent ? KP_STORE(s, mail_sent, x->message_id, x->raw->data, x->raw->len)
                     : KP_STORE(s, mail_failed, x->message_id, x->error, x->retry_at);
    if (rc == KP_ENOTFOUND)
        return 0; /* no longer queued (a bounce came first, or the message was deleted) */
    if (rc)
        return rc;
    return kp_api_conversation_event(
        s, "message.updated", kp_json_int(x->mail, "conversation_id", 0), x->message_id, &x->ev);
}

static void record_done(void *ctx, int rc)
{
    struct sending *x = ctx;
    struct kp_email_sender *s = x->owner;
    if (rc)
        kp_log_warn("cannot record the delivery of message %lld: %s", (long long)x->message_id,
                    kp_strerror(rc));
    else if (x->sent)
        kp_log_debug("sent message %lld to %s", (long long)x->message_id,
                     kp_json_str(x->mail, "recipient"));
    else
        kp_log_warn("message %lld to %s not sent%s: %s", (long long)x->message_id,
                    kp_json_str(x->mail, "recipient"), x->retry_at ? " (will retry)" : "",
                    x->error);
    for (size_t i = 0; i < s->n_in_flight; i++)
        if (s->in_flight[i] == x->message_id) {
            s->in_flight[i] = s->in_flight[--s->n_in_flight];
            break;
        }
    sending_free(x);
}

static void work_done(uv_work_t *w, int status)
{
    struct sending *x = w->data;
    (void)status;
    if (!x->sent) {
        int64_t attempts = kp_json_int(x->mail, "attempts", 0) + 1;
        int64_t wait = (int64_t)x->owner->cfg.retry_ms << (attempts - 1 < 12 ? attempts - 1 : 12);
        if (wait > 6 * 3600 * 1000LL)
            wait = 6 * 3600 * 1000LL;
        x->retry_at =
            x->permanent || attempts >= KP_EMAIL_SEND_ATTEMPTS ? 0 : kp_clock_now_ms() + wait;
    }
    x->job = (struct kp_writer_job){
        .run = record_run, .done = record_done, .ctx = x, .port = x->owner->api->port};
    kp_writer_submit(x->owner->api->writer, &x->job);
}

/* ---- taking mails from the outbox ---- */

static bool in_flight(struct kp_email_sender *s, int64_t id)
{
    for (size_t i = 0; i < s->n_in_flight; i++)
        if (s->in_flight[i] == id)
            return true;
    return false;
}

static int start_one(struct kp_email_sender *s, int64_t id)
{
    struct kp_store *st = s->api->store;
    struct sending *x = kp_xcalloc(1, sizeof(*x));
    x->owner = s;
    x->message_id = id;
    x->box = kp_xcalloc(1, sizeof(*x->box));
    int rc = KP_STORE(st, mail_outgoing, id, &x->mail);
    if (!rc)
        rc = KP_STORE(st, mail_inbox_get, kp_json_int(x->mail, "inbox_id", 0), x->box);
    json_t *atts = rc ? NULL : json_object_get(x->mail, "attachments");
    x->n_att = json_array_size(atts);
    x->att_data = kp_xcalloc(x->n_att + 1, sizeof(*x->att_data));
    x->att_size = kp_xcalloc(x->n_att + 1, sizeof(*x->att_size));
    for (size_t i = 0; !rc && i < x->n_att; i++) {
        json_t *meta = NULL;
        rc = KP_STORE(st, attachment_get, kp_json_int(json_array_get(atts, i), "id", 0), &meta,
                      &x->att_data[i], &x->att_size[i]);
        json_decref(meta);
    }
    if (rc) {
        sending_free(x);
        return rc;
    }
    s->in_flight[s->n_in_flight++] = id;
    x->work.data = x;
    uv_queue_work(s->api->loop, &x->work, work_run, work_done);
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    struct kp_email_sender *s = t->data;
    if (s->stopping || s->n_in_flight == KP_EMAIL_SEND_PARALLEL)
        return;
    int64_t ids[KP_EMAIL_SEND_PARALLEL * 2];
    size_t n = KP_ARRAY_LEN(ids);
    if (KP_STORE(s->api->store, mail_due, kp_clock_now_ms(), ids, &n))
        return;
    for (size_t i = 0; i < n && s->n_in_flight < KP_EMAIL_SEND_PARALLEL; i++) {
        if (in_flight(s, ids[i]))
            continue;
        int rc = start_one(s, ids[i]);
        if (rc)
            kp_log_warn("cannot read outbound message %lld: %s", (long long)ids[i],
                        kp_strerror(rc));
    }
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    kp_mime_init();
}

int kp_email_send_start(struct kp_api *api, const struct kp_email_send_config *cfg,
                        struct kp_email_sender **out)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, global_init);
    struct kp_email_sender *s = kp_xcalloc(1, sizeof(*s));
    s->api = api;
    s->cfg = *cfg;
    uv_timer_init(api->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_tick, KP_EMAIL_SEND_POLL_MS, KP_EMAIL_SEND_POLL_MS);
    *out = s;
    return 0;
}

void kp_email_send_stop(struct kp_email_sender *s)
{
    if (s && !s->stopping) {
        s->stopping = true;
        uv_timer_stop(&s->timer);
    }
}

size_t kp_email_send_busy(struct kp_email_sender *s)
{
    return s ? s->n_in_flight : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void kp_email_send_free(struct kp_email_sender *s)
{
    if (!s)
        return;
    kp_email_send_stop(s);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}
