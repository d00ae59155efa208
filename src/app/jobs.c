/* SPDX-License-Identifier: MIT */
/* jobs.c - the durable job runner (see jobs.h). */
#include "jobs.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../understand/language.h"

enum { BATCH = 256, TICK_MS = 1000, NUDGE_MS = 5, MAX_BACKOFF_MS = 3600 * 1000 };

struct kp_jobs {
    struct kp_api *api;
    uv_timer_t timer;
    struct kp_writer_job job;
    bool running, again, stopped;
    int ran;
};

/* message.analyse: language now; topic, urgency, sentiment follow in later steps. */
static int analyse(struct kp_store *s, json_t *payload)
{
    int64_t id = kp_json_int(payload, "message_id", 0);
    json_t *msg;
    int rc = KP_STORE(s, message_get, id, &msg);
    if (rc == KP_ENOTFOUND)
        return 0; /* the message is gone: nothing to do */
    if (rc)
        return rc;
    const char *lang = kp_language_detect(kp_json_str(msg, "text"));
    rc = lang ? KP_STORE(s, message_analysis, id, lang) : 0;
    json_decref(msg);
    return rc;
}

static const struct {
    const char *kind;
    int (*run)(struct kp_store *s, json_t *payload);
} handlers[] = {
    {"message.analyse", analyse},
};

int kp_jobs_run_due(struct kp_store *s, int max)
{
    int n = 0;
    int64_t now = kp_clock_now_ms();
    while (n < max) {
        struct kp_job job = {0};
        int rc = KP_STORE(s, job_claim, now, &job);
        if (rc)
            break; /* none due, or the store failed: the next tick tries again */
        rc = KP_ENOTFOUND;
        for (size_t i = 0; i < KP_ARRAY_LEN(handlers); i++)
            if (strcmp(handlers[i].kind, job.kind) == 0)
                rc = handlers[i].run(s, job.payload);
        json_decref(job.payload);
        if (rc) {
            int64_t backoff = 1000LL << (job.attempts < 20 ? job.attempts : 20);
            if (backoff > MAX_BACKOFF_MS)
                backoff = MAX_BACKOFF_MS;
            kp_log_warn("job %lld '%s' failed (attempt %d): %s", (long long)job.id, job.kind,
                        job.attempts, kp_strerror(rc));
            rc = KP_STORE(s, job_finish, job.id, kp_strerror(rc), now + backoff);
        } else {
            rc = KP_STORE(s, job_finish, job.id, NULL, 0);
        }
        if (rc)
            return rc < 0 ? n : n;
        n++;
    }
    return n;
}

static int batch_run(struct kp_store *s, void *ctx)
{
    struct kp_jobs *j = ctx;
    j->ran = kp_jobs_run_due(s, BATCH);
    return 0;
}

static void on_timer(uv_timer_t *t);

static void batch_done(void *ctx, int rc)
{
    struct kp_jobs *j = ctx;
    j->running = false;
    if (j->stopped)
        return;
    /* a full batch means more is due; a nudge during the batch may have added more */
    if (!rc && (j->ran == BATCH || j->again))
        uv_timer_start(&j->timer, on_timer, 0, TICK_MS);
    j->again = false;
}

static void on_timer(uv_timer_t *t)
{
    struct kp_jobs *j = t->data;
    if (j->running || j->stopped)
        return;
    j->running = true;
    j->job.run = batch_run;
    j->job.done = batch_done;
    j->job.ctx = j;
    kp_writer_submit(j->api->writer, &j->job);
}

int kp_jobs_start(struct kp_api *api, struct kp_jobs **out)
{
    struct kp_jobs *j = kp_xcalloc(1, sizeof(*j));
    j->api = api;
    uv_timer_init(api->loop, &j->timer);
    j->timer.data = j;
    uv_timer_start(&j->timer, on_timer, 0, TICK_MS);
    *out = j;
    return 0;
}

void kp_jobs_nudge(struct kp_jobs *j)
{
    if (j->stopped)
        return;
    if (j->running)
        j->again = true;
    else if (uv_timer_get_due_in(&j->timer) > NUDGE_MS)
        uv_timer_start(&j->timer, on_timer, NUDGE_MS, TICK_MS);
}

void kp_jobs_stop(struct kp_jobs *j)
{
    j->stopped = true;
    uv_timer_stop(&j->timer);
    uv_close((uv_handle_t *)&j->timer, NULL);
}

bool kp_jobs_busy(struct kp_jobs *j)
{
    return j->running;
}

void kp_jobs_free(struct kp_jobs *j)
{
    free(j);
}
