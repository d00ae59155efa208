/* SPDX-License-Identifier: MIT */
/*
 * email.c - received mails into messages, replies into the outbox (see email.h).
 */
#include "email.h"
#include "../api/api.h"
#include "../base/clock.h"

#include <curl/curl.h>
#include <sodium.h>

static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {KP_MAIL_BROKEN, "broken"},       {KP_MAIL_AUTO, "auto_reply"},      {KP_MAIL_BULK, "bulk"},
    {KP_MAIL_BOUNCE, "bounce"},       {KP_MAIL_DAEMON, "mailer_daemon"}, {KP_MAIL_SIGNED, "signed"},
    {KP_MAIL_ENCRYPTED, "encrypted"}, {KP_MAIL_FORWARDED, "forwarded"},
};

static const char *flags_json(struct kp_arena *a, unsigned flags)
{
    char out[256] = "[";
    size_t o = 1;
    for (size_t i = 0; i < KP_ARRAY_LEN(flag_names); i++)
        if (flags & flag_names[i].flag)
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\"%s\"", o > 1 ? "," : "",
                                  flag_names[i].name);
    snprintf(out + o, sizeof(out) - o, "]");
    return kp_arena_strdup(a, out);
}

/* "[#1234]" anywhere in the subject: the conversation it names, 0 when none. */
static int64_t subject_tag(const char *subject)
{
    for (const char *p = subject ? strstr(subject, "[#") : NULL; p; p = strstr(p + 2, "[#")) {
        char *end;
        long long id = strtoll(p + 2, &end, 10);
        if (end > p + 2 && end - (p + 2) <= 18 && *end == ']' && id > 0)
            return id;
    }
    return 0;
}

static char *lower_dup(struct kp_arena *a, const char *s)
{
    char *d = kp_arena_strdup(a, s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Cuts text at a UTF-8 boundary at most max bytes long. */
static const char *cut_text(struct kp_arena *a, const char *text, size_t max)
{
    size_t len = strlen(text);
    if (len <= max)
        return text;
    while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
        max--;
    return kp_arena_printf(a, "%.*s\n[... cut: the whole mail is in its raw source]", (int)max,
                           text);
}

/* Messages without a Message-ID are known by their bytes: the same bytes twice are one. */
static const char *content_key(struct kp_arena *a, const void *raw, size_t len)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, raw, len);
    char hex[2 * sizeof(h) + 1];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    return kp_arena_printf(a, "sha256:%s", hex);
}

static void prepare_thread(struct kp_email_in *e)
{
    const struct kp_mail *m = &e->mail;
    if (m->in_reply_to) {
        e->thread_ids[e->n_thread_ids] = m->in_reply_to;
        e->thread_rules[e->n_thread_ids++] = "in_reply_to";
    }
    for (size_t i = m->n_refs; i > 0 && e->n_thread_ids < KP_EMAIL_THREAD_IDS; i--) {
        e->thread_ids[e->n_thread_ids] = m->refs[i - 1];
        e->thread_rules[e->n_thread_ids++] = "references";
    }
    e->subject_tag = subject_tag(m->subject);
}

static const char *refs_text(struct kp_arena *a, const struct kp_mail *m)
{
    size_t len = 1;
    for (size_t i = 0; i < m->n_refs; i++)
        len += strlen(m->refs[i]) + 1;
    char *out = kp_arena_alloc(a, len);
    size_t o = 0;
    for (size_t i = 0; i < m->n_refs; i++)
        o += (size_t)snprintf(out + o, len - o, "%s%s", i ? " " : "", m->refs[i]);
    return m->n_refs ? out : NULL;
}

void kp_email_prepare(struct kp_email_in *e, int64_t inbox_id, const char *envelope_from,
                      const void *raw, size_t len)
{
    kp_arena_init(&e->arena);
    e->inbox_id = inbox_id;
    e->raw = raw;
    e->len = len;
    struct kp_arena *a = &e->arena;
    struct kp_mail *m = &e->mail;
    if (kp_mime_parse(raw, len, a, m))
        *m = (struct kp_mail){.text = "", .flags = KP_MAIL_BROKEN, .problem = "the mail is empty"};
    if (envelope_from && !envelope_from[0])
        m->flags |= KP_MAIL_DAEMON; /* the null reverse-path: a notification, never answered */
    e->automatic = m->flags & (KP_MAIL_AUTO | KP_MAIL_BULK | KP_MAIL_DAEMON | KP_MAIL_BOUNCE);
    prepare_thread(e);

    const char *from = m->from_addr;
    if (!from && envelope_from && envelope_from[0])
        from = lower_dup(a, envelope_from);
    struct kp_attachment_new *att = kp_arena_alloc(a, sizeof(*att) * (m->n_parts + 1));
    for (size_t i = 0; i < m->n_parts; i++)
        att[i] =
            (struct kp_attachment_new){m->parts[i].filename, m->parts[i].content_type,
                                       m->parts[i].data, m->parts[i].size, m->parts[i].content_id};
    e->meta = (struct kp_mail_meta){.header_id = m->message_id,
                                    .flags = flags_json(a, m->flags),
                                    .problem = m->problem,
                                    .from_addr = from,
                                    .reply_to = m->reply_to,
                                    .to_addrs = m->to,
                                    .cc_addrs = m->cc,
                                    .subject = m->subject,
                                    .in_reply_to = m->in_reply_to,
                                    .refs = refs_text(a, m),
                                    .raw = raw,
                                    .raw_len = len};
    e->in = (struct kp_inbound){
        .inbox_id = inbox_id,
        .channel = "email",
        .identity_kind = "email",
        .identity_value = from ? from : "unknown-sender@invalid",
        .sender_name = m->from_name,
        .subject = m->subject ? m->subject : "(no subject)",
        .text = cut_text(a, m->text ? m->text : "", KP_EMAIL_TEXT_MAX),
        .html = m->html,
        .external_id = m->message_id ? m->message_id : content_key(a, raw, len),
        .sent_at_ms = m->date_ms,
        .attachments = att,
        .n_attachments = m->n_parts,
        .quiet = e->automatic,
        .mail = &e->meta,
    };
}

void kp_email_in_release(struct kp_email_in *e)
{
    kp_arena_release(&e->arena);
}

/* ---- storing ---- */

static int store_bounce(struct kp_store *s, struct kp_email_in *e)
{
    const struct kp_mail *m = &e->mail;
    int64_t message_id = 0, conversation_id = 0;
    e->outcome = KP_EMAIL_BOUNCE;
    e->bounce_matched = false;
    int rc = m->bounce_message_id
                 ? KP_STORE(s, mail_bounce, e->inbox_id, m->bounce_message_id, m->bounce_permanent,
                            m->bounce_reason, &message_id, &conversation_id)
                 : KP_ENOTFOUND;
    if (rc && rc != KP_ENOTFOUND)
        return rc;
    if (!rc && m->bounce_permanent) {
        e->bounce_matched = true;
        if ((rc = kp_api_conversation_event(s, "message.updated", conversation_id, message_id,
                                            &e->bounce_ev)))
            return rc;
    }
    return KP_STORE(s, mail_drop, e->inbox_id, "bounce", e->meta.from_addr, m->subject,
                    m->bounce_reason, message_id, e->raw, e->len);
}

/* The conversation the mail answers, by its references, then its subject tag; 0 when none. */
static int find_thread(struct kp_store *s, struct kp_email_in *e, int64_t *conv, const char **rule)
{
    *conv = 0;
    for (size_t i = 0; i < e->n_thread_ids; i++) {
        int rc = KP_STORE(s, mail_thread, e->inbox_id, e->thread_ids[i], 0, NULL, conv);
        if (rc != KP_ENOTFOUND) {
            *rule = e->thread_rules[i];
            return rc;
        }
    }
    if (e->subject_tag) {
        int rc =
            KP_STORE(s, mail_thread, e->inbox_id, NULL, e->subject_tag, e->meta.from_addr, conv);
        if (rc != KP_ENOTFOUND) {
            *rule = "subject_tag";
            return rc;
        }
    }
    *conv = 0;
    *rule = "new";
    return 0;
}

/* The inbox's acknowledgement of a new conversation, when it has one and the sender had none
 * within the window. */
static int acknowledge(struct kp_store *s, struct kp_email_in *e)
{
    struct kp_mail_inbox *box = kp_arena_alloc(&e->arena, sizeof(*box));
    int rc = KP_STORE(s, mail_inbox_get, e->inbox_id, box);
    if (rc == KP_ENOTFOUND || (!rc && !box->autoreply[0]) || !e->meta.from_addr)
        return 0;
    bool allowed = false;
    /* counted per address it goes to: Reply-To when the mail has one */
    const char *to = e->meta.reply_to ? e->meta.reply_to : e->meta.from_addr;
    if (rc || (rc = KP_STORE(s, mail_autoreply_allowed, e->inbox_id, to, kp_clock_now_ms(),
                             KP_EMAIL_AUTOREPLY_WINDOW_MS, &allowed)))
        return rc;
    if (!allowed)
        return 0;
    struct kp_message_new msg = {.conversation_id = e->res.conversation_id,
                                 .direction = "out",
                                 .channel = "email",
                                 .text = box->autoreply};
    int64_t id;
    if ((rc = KP_STORE(s, message_add, &msg, &id)) ||
        (rc = kp_email_queue_reply(s, e->res.conversation_id, id, "email", true)))
        return rc;
    return kp_api_conversation_event(s, "message.created", e->res.conversation_id, id,
                                     &e->autoreply_ev);
}

/* A mail kept without a conversation that was kept before: nothing to do again. */
static int kept_before(struct kp_store *s, struct kp_email_in *e, bool *seen)
{
    int rc = KP_STORE(s, mail_kept_seen, e->inbox_id, e->in.external_id, seen);
    if (!rc && *seen)
        e->outcome = KP_EMAIL_DUPLICATE;
    return rc;
}

int kp_email_store(struct kp_store *s, struct kp_email_in *e)
{
    memset(&e->res, 0, sizeof(e->res));
    e->autoreply_ev = (struct kp_event){0};
    e->bounce_ev = (struct kp_event){0};
    bool seen = false;
    int rc;
    if (e->mail.flags & KP_MAIL_BOUNCE)
        return (rc = kept_before(s, e, &seen)) || seen ? rc : store_bounce(s, e);
    const char *rule;
    int64_t conv;
    if ((rc = find_thread(s, e, &conv, &rule)))
        return rc;
    if (!conv && e->automatic) {
        if ((rc = kept_before(s, e, &seen)) || seen)
            return rc;
        e->outcome = KP_EMAIL_KEPT;
        return KP_STORE(s, mail_drop, e->inbox_id, "auto_reply", e->meta.from_addr, e->mail.subject,
                        "an automatic mail outside any conversation", 0, e->raw, e->len);
    }
    e->meta.thread_rule = rule;
    e->in.conversation_id = conv;
    e->in.new_conversation = !conv;
    if ((rc = kp_api_ingest(s, &e->in, &e->res, &e->ev)))
        return rc;
    e->outcome = e->res.duplicate ? KP_EMAIL_DUPLICATE : KP_EMAIL_STORED;
    if (e->res.new_conversation && !e->automatic)
        return acknowledge(s, e);
    return 0;
}

/* ---- replies ---- */

bool kp_email_plain_address(const char *a)
{
    const char *at = strrchr(a, '@');
    if (!at || at == a || !at[1] || strlen(a) > KP_MAIL_ADDRESS_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr("<>,;\"()[]\\", *p))
            return false;
    return true;
}

static const char *reply_subject(struct kp_arena *a, const char *subject, int64_t conv)
{
    if (!subject || !subject[0])
        subject = "Your inquiry";
    bool re = strncasecmp(subject, "re:", 3) == 0 || strncasecmp(subject, "aw:", 3) == 0;
    bool tagged = subject_tag(subject) == conv;
    char *out = kp_arena_printf(a, "%s%s%s", re ? "" : "Re: ", subject,
                                tagged ? "" : kp_arena_printf(a, " [#%lld]", (long long)conv));
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' '; /* one line */
    return out;
}

/* The newest max ids of a space-separated list. */
static const char *last_refs(const char *refs, size_t max)
{
    size_t n = 0;
    for (const char *p = refs + strlen(refs); p > refs; p--)
        if (p[-1] == ' ' && ++n == max)
            return p;
    return refs;
}

int kp_email_queue_reply(struct kp_store *s, int64_t conversation_id, int64_t message_id,
                         const char *channel, bool automatic)
{
    json_t *ctx = NULL;
    int rc = KP_STORE(s, mail_reply_context, conversation_id, &ctx);
    if (rc)
        return rc;
    if (!channel)
        channel = kp_json_str(ctx, "channel");
    if (!channel || strcmp(channel, "email") != 0) {
        json_decref(ctx);
        return 0;
    }
    const char *address = kp_json_str(ctx, "address"), *recipient = kp_json_str(ctx, "recipient");
    if (!address || !recipient || !kp_email_plain_address(recipient)) {
        json_decref(ctx);
        return KP_ECONFLICT;
    }
    struct kp_arena a;
    kp_arena_init(&a);
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof(rnd));
    char hex[2 * sizeof(rnd) + 1];
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    const char *at = strrchr(address, '@');
    const char *refs = kp_json_str(ctx, "refs");
    struct kp_mail_out out = {
        .message_id = message_id,
        .inbox_id = kp_json_int(ctx, "inbox_id", 0),
        .header_id = kp_arena_printf(&a, "kp.%lld.%s@%s", (long long)message_id, hex,
                                     at ? at + 1 : "knotenpunkt.invalid"),
        .recipient = recipient,
        .subject = reply_subject(&a, kp_json_str(ctx, "subject"), conversation_id),
        .in_reply_to = kp_json_str(ctx, "in_reply_to"),
        .refs = refs && refs[0] ? last_refs(refs, 20) : NULL,
        .automatic = automatic,
    };
    rc = KP_STORE(s, mail_queue, &out);
    kp_arena_release(&a);
    json_decref(ctx);
    return rc;
}

/* ---- TLS for the mail clients ---- */

static bool loopback_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool local = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        local = strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 ||
                strcmp(host, "[::1]") == 0;
    curl_free(host);
    curl_url_cleanup(u);
    return local;
}

long kp_email_tls(const char *url, bool credentials)
{
    return credentials && !loopback_host(url) ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY;
}
