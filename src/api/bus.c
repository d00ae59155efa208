/* SPDX-License-Identifier: MIT */
/* bus.c - messages between event loops (see bus.h). */
#include "bus.h"
#include "auth.h"
#include "stream.h"
#include "visitor.h"

struct msg {
    struct kp_notice n;
    struct msg *next;
};

struct kp_bus {
    struct kp_api *api;
    uv_async_t wake;
    uv_mutex_t mu;
    struct msg *head, *tail; /* mu */
    bool closed;             /* mu */
};

static void apply(struct kp_api *api, const struct kp_notice *n)
{
    switch (n->kind) {
    case KP_NOTICE_EVENT:
        kp_stream_publish(api->stream, &n->ev);
        kp_visitor_publish(api->visitors, &n->ev);
        break;
    case KP_NOTICE_AGENT:
        kp_auth_cache_clear(api->auth);
        kp_stream_agent_changed(api->stream, n->agent_id);
        break;
    case KP_NOTICE_REVOKE:
        kp_auth_cache_clear(api->auth);
        kp_stream_revoke(api->stream, n->hash);
        break;
    case KP_NOTICE_NOTIFICATION:
        kp_stream_notification(api->stream, n->agent_id, n->notification_id);
        break;
    case KP_NOTICE_PRESENCE:
        kp_stream_presence(api->stream, &n->presence);
        break;
    case KP_NOTICE_VISITOR_TYPING:
        kp_stream_visitor_typing(api->stream, n->visitor.conversation_id, n->visitor.typing);
        break;
    case KP_NOTICE_WIDGET_OPEN:
        kp_visitor_open(api->visitors, &n->visitor);
        break;
    case KP_NOTICE_AGENTS_ONLINE:
        kp_visitor_agents_changed(api->visitors);
        break;
    }
}

static void on_wake(uv_async_t *a)
{
    struct kp_bus *b = a->data;
    uv_mutex_lock(&b->mu);
    struct msg *m = b->head;
    b->head = b->tail = NULL;
    uv_mutex_unlock(&b->mu);
    while (m) {
        struct msg *next = m->next;
        apply(b->api, &m->n);
        free(m);
        m = next;
    }
}

void kp_bus_init(struct kp_api *api)
{
    struct kp_bus *b = kp_xcalloc(1, sizeof(*b));
    b->api = api;
    uv_mutex_init(&b->mu);
    uv_async_init(api->loop, &b->wake, on_wake);
    b->wake.data = b;
    uv_unref((uv_handle_t *)&b->wake); /* the loop ends when its server is gone */
    api->bus = b;
}

void kp_bus_close(struct kp_api *api)
{
    struct kp_bus *b = api->bus;
    uv_mutex_lock(&b->mu);
    b->closed = true;
    uv_mutex_unlock(&b->mu);
    uv_close((uv_handle_t *)&b->wake, NULL);
}

void kp_bus_release(struct kp_api *api)
{
    struct kp_bus *b = api->bus;
    if (!b)
        return;
    while (b->head) {
        struct msg *m = b->head;
        b->head = m->next;
        free(m);
    }
    uv_mutex_destroy(&b->mu);
    free(b);
    api->bus = NULL;
}

void kp_bus_post(struct kp_api *to, const struct kp_notice *n)
{
    struct kp_bus *b = to->bus;
    struct msg *copy = kp_xmalloc(sizeof(*copy));
    copy->n = *n;
    copy->next = NULL;
    uv_mutex_lock(&b->mu);
    if (b->closed) {
        uv_mutex_unlock(&b->mu);
        free(copy);
        return;
    }
    if (b->tail)
        b->tail->next = copy;
    else
        b->head = copy;
    b->tail = copy;
    uv_async_send(&b->wake);
    uv_mutex_unlock(&b->mu);
}
