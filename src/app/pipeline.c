/* SPDX-License-Identifier: MIT */
/* pipeline.c - the message pipeline runner (see pipeline.h). */
#include "pipeline.h"
#include "../base/log.h"
#include "../understand/language.h"

enum {
    BATCH = 1000,           /* messages per batch */
    TEXT_CAP = 2000,        /* characters of each text the analysis reads */
    TICK_MS = 1000,         /* a look for work when nothing nudged */
    GATHER_MS = 50,         /* delay after a nudge: commits close together share a batch */
    MAX_BACKOFF_MS = 60000, /* after failures */
};

struct kp_pipeline {
    struct kp_api *api;
    uv_timer_t timer;
    uv_async_t nudge; /* any thread may nudge */
    uv_work_t work;
    struct kp_writer_job done;
    int64_t after; /* the cursor the batch starts from */
    struct kp_pipe_msg msgs[BATCH];
    size_t n;
    struct kp_buf text;
    int failures;
    bool running, again;
    atomic_bool stopped; /* read by nudges from any thread */
};

static void on_timer(uv_timer_t *t);

static void finish(struct kp_pipeline *p, int rc)
{
    p->running = false;
    kp_buf_release(&p->text);
    if (p->stopped)
        return;
    uint64_t delay = TICK_MS;
    if (rc && rc != KP_ECONFLICT) {
        delay = 1000ULL << (p->failures < 6 ? p->failures : 6);
        if (delay > MAX_BACKOFF_MS)
            delay = MAX_BACKOFF_MS;
        p->failures++;
        kp_log_warn("message pipeline: batch after message %lld failed (%d in a row): %s",
                    (long long)p->after, p->failures, kp_strerror(rc));
    } else {
        /* more is waiting: at once when the batch was full, else gather a bigger one */
        if (p->n == BATCH || rc == KP_ECONFLICT)
            delay = 0;
        else if (p->again)
            delay = GATHER_MS;
        p->failures = 0;
    }
    p->again = false;
    uv_timer_start(&p->timer, on_timer, delay, TICK_MS);
}

static int done_run(struct kp_store *s, void *ctx)
{
    struct kp_pipeline *p = ctx;
    return KP_STORE(s, pipeline_done, p->after, p->msgs, p->n);
}

static void done_done(void *ctx, int rc)
{
    finish(ctx, rc);
}

/* The analysis of a batch: any thread. */
static void compute(struct kp_pipe_msg *msgs, size_t n, const struct kp_buf *text)
{
    for (size_t i = 0; i < n; i++) {
        const char *lang = kp_language_detect(text->data + msgs[i].text_off);
        snprintf(msgs[i].lang, sizeof(msgs[i].lang), "%s", lang ? lang : "");
    }
}

static void compute_work(uv_work_t *w)
{
    struct kp_pipeline *p = w->data;
    compute(p->msgs, p->n, &p->text);
}

static void compute_done(uv_work_t *w, int status)
{
    struct kp_pipeline *p = w->data;
    if (status) {
        finish(p, KP_EIO);
        return;
    }
    p->done =
        (struct kp_writer_job){.run = done_run, .done = done_done, .ctx = p, .port = p->api->port};
    kp_writer_submit(p->api->writer, &p->done);
}

static void on_timer(uv_timer_t *t)
{
    struct kp_pipeline *p = t->data;
    if (p->running || p->stopped)
        return;
    p->running = true;
    kp_buf_init(&p->text, (size_t)BATCH * (TEXT_CAP * 4 + 1));
    int rc = KP_STORE(p->api->store, pipeline_next, &p->after, p->msgs, BATCH, TEXT_CAP, &p->text,
                      &p->n);
    if (rc || !p->n) {
        finish(p, rc);
        return;
    }
    p->work.data = p;
    uv_queue_work(p->api->loop, &p->work, compute_work, compute_done);
}

static void on_nudge(uv_async_t *a)
{
    struct kp_pipeline *p = a->data;
    if (p->stopped)
        return;
    if (p->running)
        p->again = true;
    else if (uv_timer_get_due_in(&p->timer) > GATHER_MS)
        uv_timer_start(&p->timer, on_timer, GATHER_MS, TICK_MS);
}

int kp_pipeline_start(struct kp_api *api, struct kp_pipeline **out)
{
    struct kp_pipeline *p = kp_xcalloc(1, sizeof(*p));
    p->api = api;
    uv_timer_init(api->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_timer, 0, TICK_MS);
    uv_async_init(api->loop, &p->nudge, on_nudge);
    p->nudge.data = p;
    uv_unref((uv_handle_t *)&p->nudge);
    *out = p;
    return 0;
}

void kp_pipeline_nudge(struct kp_pipeline *p)
{
    if (!atomic_load(&p->stopped)) /* the handle may be closing */
        uv_async_send(&p->nudge);
}

void kp_pipeline_stop(struct kp_pipeline *p)
{
    p->stopped = true;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, NULL);
    uv_close((uv_handle_t *)&p->nudge, NULL);
}

bool kp_pipeline_busy(struct kp_pipeline *p)
{
    return p->running;
}

void kp_pipeline_free(struct kp_pipeline *p)
{
    if (p)
        kp_buf_release(&p->text);
    free(p);
}

int kp_pipeline_run(struct kp_store *s)
{
    struct kp_pipe_msg *msgs = kp_xmalloc(BATCH * sizeof(*msgs));
    struct kp_buf text;
    int64_t after;
    size_t n;
    int rc;
    do {
        kp_buf_init(&text, (size_t)BATCH * (TEXT_CAP * 4 + 1));
        rc = KP_STORE(s, pipeline_next, &after, msgs, BATCH, TEXT_CAP, &text, &n);
        if (!rc && n) {
            compute(msgs, n, &text);
            if (!(rc = KP_STORE0(s, begin))) {
                rc = KP_STORE(s, pipeline_done, after, msgs, n);
                rc = rc ? rc : KP_STORE0(s, commit);
                if (rc)
                    KP_STORE0(s, rollback);
            }
        }
        kp_buf_release(&text);
    } while (!rc && n == BATCH);
    free(msgs);
    return rc;
}
