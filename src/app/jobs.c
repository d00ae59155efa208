/* SPDX-License-Identifier: MIT */
/* jobs.c - the durable job runner (see jobs.h). */
#include "jobs.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../understand/language.h"

enum { BATCH = 256, TICK_MS = 1000, NUDGE_MS = 5, MAX_BACKOFF_MS = 3600 * 1000 };

/* One kind of job: load reads inputs (writer), compute works (any thread), apply writes. */
struct handler {
    const char *kind;
    int (*load)(struct kp_store *s, json_t *payload, struct kp_buf *input);
    void (*compute)(const struct kp_buf *input, char *result, size_t cap);
    int (*apply)(struct kp_store *s, json_t *payload, const char *result);
};

/* ---- message.analyse: language now; topic, urgency, sentiment follow ---- */

static int analyse_load(struct kp_store *s, json_t *payload, struct kp_buf *input)
{
    return KP_STORE(s, message_body, kp_json_int(payload, "message_id", 0), input);
}

static void analyse_compute(const struct kp_buf *input, char *result, size_t cap)
{
    const char *lang = kp_language_detect(input->data ? input->data : "");
    snprintf(result, cap, "%s", lang ? lang : "");
}

static int analyse_apply(struct kp_store *s, json_t *payload, const char *result)
{
    if (!*result)
        return 0;
    int rc = KP_STORE(s, message_analysis, kp_json_int(payload, "message_id", 0), result);
    return rc == KP_ENOTFOUND ? 0 : rc; /* the message is gone: nothing to do */
}

static const struct handler handlers[] = {
    {"message.analyse", analyse_load, analyse_compute, analyse_apply},
};

/* ---- one batch ---- */

struct item {
    struct kp_job job;
    const struct handler *h;
    struct kp_buf input;
    char result[64];
    int rc;
};

struct batch {
    struct item items[BATCH];
    size_t n;
};

static const struct handler *find(const char *kind)
{
    for (size_t i = 0; i < KP_ARRAY_LEN(handlers); i++)
        if (strcmp(handlers[i].kind, kind) == 0)
            return &handlers[i];
    return NULL;
}

static void batch_clear(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        json_decref(b->items[i].job.payload);
        kp_buf_release(&b->items[i].input);
    }
    b->n = 0;
}

static int batch_load(struct kp_store *s, struct batch *b, int max)
{
    struct kp_job jobs[BATCH];
    size_t n = 0;
    batch_clear(b);
    int rc = KP_STORE(s, job_claim, kp_clock_now_ms(), jobs, (size_t)max, &n);
    if (rc)
        return rc == KP_ENOTFOUND ? 0 : rc;
    for (size_t i = 0; i < n; i++) {
        struct item *it = &b->items[i];
        memset(it, 0, sizeof(*it));
        it->job = jobs[i];
        it->h = find(it->job.kind);
        kp_buf_init(&it->input, 1 << 20);
        it->rc = it->h ? it->h->load(s, it->job.payload, &it->input) : KP_ENOTFOUND;
    }
    b->n = n;
    return 0;
}

static void batch_compute(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->items[i].rc)
            b->items[i].h->compute(&b->items[i].input, b->items[i].result,
                                   sizeof(b->items[i].result));
}

static int batch_apply(struct kp_store *s, struct batch *b)
{
    int64_t now = kp_clock_now_ms();
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        int rc = it->rc ? it->rc : it->h->apply(s, it->job.payload, it->result);
        if (rc) {
            int64_t backoff = 1000LL << (it->job.attempts < 20 ? it->job.attempts : 20);
            if (backoff > MAX_BACKOFF_MS)
                backoff = MAX_BACKOFF_MS;
            kp_log_warn("job %lld '%s' failed (attempt %d): %s", (long long)it->job.id,
                        it->job.kind, it->job.attempts, kp_strerror(rc));
            rc = KP_STORE(s, job_finish, it->job.id, kp_strerror(rc), now + backoff);
        } else {
            rc = KP_STORE(s, job_finish, it->job.id, NULL, 0);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the runner on the event loop ---- */

struct kp_jobs {
    struct kp_api *api;
    uv_timer_t timer;
    uv_async_t nudge; /* any loop may nudge */
    uv_work_t work;
    struct kp_writer_job load, apply;
    struct batch batch;
    bool running, again;
    atomic_bool stopped; /* read by nudges from any loop */
};

static void on_timer(uv_timer_t *t);
static void on_nudge(uv_async_t *a);

static void finish(struct kp_jobs *j, bool full)
{
    j->running = false;
    batch_clear(&j->batch);
    if (j->stopped)
        return;
    /* a full batch means more is due; a nudge during the batch may have added more */
    if (full || j->again)
        uv_timer_start(&j->timer, on_timer, 0, TICK_MS);
    j->again = false;
}

static int load_run(struct kp_store *s, void *ctx)
{
    struct kp_jobs *j = ctx;
    return batch_load(s, &j->batch, BATCH);
}

static int apply_run(struct kp_store *s, void *ctx)
{
    return batch_apply(s, &((struct kp_jobs *)ctx)->batch);
}

static void apply_done(void *ctx, int rc)
{
    struct kp_jobs *j = ctx;
    finish(j, !rc && j->batch.n == BATCH);
}

static void compute_work(uv_work_t *w)
{
    batch_compute(&((struct kp_jobs *)w->data)->batch);
}

static void compute_done(uv_work_t *w, int status)
{
    struct kp_jobs *j = w->data;
    if (status) {
        finish(j, false);
        return;
    }
    j->apply.run = apply_run;
    j->apply.done = apply_done;
    j->apply.ctx = j;
    j->apply.port = j->api->port;
    kp_writer_submit(j->api->writer, &j->apply);
}

static void load_done(void *ctx, int rc)
{
    struct kp_jobs *j = ctx;
    if (rc || !j->batch.n) {
        finish(j, false);
        return;
    }
    j->work.data = j;
    uv_queue_work(j->api->loop, &j->work, compute_work, compute_done);
}

static void on_timer(uv_timer_t *t)
{
    struct kp_jobs *j = t->data;
    if (j->running || j->stopped)
        return;
    j->running = true;
    j->load.run = load_run;
    j->load.done = load_done;
    j->load.ctx = j;
    j->load.port = j->api->port;
    kp_writer_submit(j->api->writer, &j->load);
}

int kp_jobs_start(struct kp_api *api, struct kp_jobs **out)
{
    struct kp_jobs *j = kp_xcalloc(1, sizeof(*j));
    j->api = api;
    uv_timer_init(api->loop, &j->timer);
    j->timer.data = j;
    uv_timer_start(&j->timer, on_timer, 0, TICK_MS);
    uv_async_init(api->loop, &j->nudge, on_nudge);
    j->nudge.data = j;
    uv_unref((uv_handle_t *)&j->nudge);
    *out = j;
    return 0;
}

static void on_nudge(uv_async_t *a)
{
    struct kp_jobs *j = a->data;
    if (j->stopped)
        return;
    if (j->running)
        j->again = true;
    else if (uv_timer_get_due_in(&j->timer) > NUDGE_MS)
        uv_timer_start(&j->timer, on_timer, NUDGE_MS, TICK_MS);
}

void kp_jobs_nudge(struct kp_jobs *j)
{
    if (!atomic_load(&j->stopped)) /* the handle may be closing */
        uv_async_send(&j->nudge);
}

void kp_jobs_stop(struct kp_jobs *j)
{
    j->stopped = true;
    uv_timer_stop(&j->timer);
    uv_close((uv_handle_t *)&j->timer, NULL);
    uv_close((uv_handle_t *)&j->nudge, NULL);
}

bool kp_jobs_busy(struct kp_jobs *j)
{
    return j->running;
}

void kp_jobs_free(struct kp_jobs *j)
{
    if (j)
        batch_clear(&j->batch);
    free(j);
}
