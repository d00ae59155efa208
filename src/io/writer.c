/* SPDX-License-Identifier: MIT */
/* writer.c - one writer thread with group commit (see writer.h). */
#include "writer.h"
#include "../base/clock.h"
#include "../base/log.h"

enum { MAX_BATCH = 2048 };

struct kp_writer_port {
    struct kp_writer *w;
    uv_async_t wake;
    struct kp_writer_job *done_head, *done_tail; /* committed, waiting for the loop; w->mu */
};

struct kp_writer {
    struct kp_store *store;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cond;
    struct kp_writer_job *queue_head, *queue_tail; /* waiting for the thread */
    size_t pending;
    bool stopping;
    struct kp_writer_port *main;
    void (*on_commit)(void *ud, const struct kp_notice *notices, size_t n);
    void *on_commit_ud;
    struct kp_writer_stats stats;
};

/* Runs every job of the batch in the open transaction; isolate puts each in a savepoint. */
static bool run_jobs(struct kp_store *s, struct kp_writer_job *batch, bool isolate)
{
    bool all_ok = true;
    for (struct kp_writer_job *j = batch; j; j = j->next) {
        if (isolate && KP_STORE0(s, savepoint)) {
            j->rc = KP_EIO;
            continue;
        }
        j->rc = j->run(s, j->ctx);
        if (isolate && j->rc)
            KP_STORE0(s, undo);
        else if (isolate)
            KP_STORE0(s, release);
        else if (j->rc)
            return false;
        all_ok = all_ok && !j->rc;
    }
    return all_ok;
}

/* BEGIN waits up to the store's busy timeout (10 s) while another process holds the write
 * lock (a CLI command); once more, then the batch fails: its requests answer 503 and its mails
 * 451, so that clients and mail servers retry instead of waiting on a stuck store. */
static int begin(struct kp_store *s)
{
    int rc = KP_STORE0(s, begin);
    if (rc == KP_EBUSY)
        rc = KP_STORE0(s, begin);
    return rc;
}

/*
 * The fast path runs the whole batch without savepoints: a savepoint per job would make the
 * full-text index flush its pending terms for every message. When a job fails, the batch is
 * rolled back and run again with a savepoint around each job, so that one failure undoes only
 * its own changes.
 */
static void run_batch(struct kp_writer *w, struct kp_writer_job *batch)
{
    struct kp_store *s = w->store;
    uint64_t t0 = kp_clock_mono_ns();
    size_t n = 0;
    for (struct kp_writer_job *j = batch; j; j = j->next)
        n++;
    int rc = begin(s);
    if (!rc && !run_jobs(s, batch, false)) {
        KP_STORE0(s, rollback);
        rc = begin(s);
        if (!rc)
            run_jobs(s, batch, true);
    }
    if (!rc && (rc = KP_STORE0(s, commit)) != 0) {
        kp_log_error("commit of %zu jobs failed: %s", n, kp_strerror(rc));
        KP_STORE0(s, rollback);
    }
    if (!rc) {
        struct kp_notice *notices;
        size_t n_notices;
        if (KP_STORE(s, notices_drain, &notices, &n_notices) == 0 && n_notices && w->on_commit)
            w->on_commit(w->on_commit_ud, notices, n_notices);
        free(notices);
    }
    if (rc) {
        atomic_fetch_add(&w->stats.failures, 1);
        for (struct kp_writer_job *j = batch; j; j = j->next)
            j->rc = KP_EIO;
    }
    atomic_fetch_add(&w->stats.commits, 1);
    atomic_fetch_add(&w->stats.jobs, n);
    kp_hist_observe(&w->stats.commit_latency, (double)(kp_clock_mono_ns() - t0) / 1e9);
}

static void thread_main(void *arg)
{
    struct kp_writer *w = arg;
    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->queue_head && !w->stopping)
            uv_cond_wait(&w->cond, &w->mu);
        if (!w->queue_head && w->stopping)
            break;
        /* take up to MAX_BATCH jobs */
        struct kp_writer_job *batch = w->queue_head, *last = batch;
        size_t n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->queue_head = last->next;
        if (!w->queue_head)
            w->queue_tail = NULL;
        last->next = NULL;
        uv_mutex_unlock(&w->mu);

        run_batch(w, batch);

        uv_mutex_lock(&w->mu);
        for (struct kp_writer_job *j = batch, *next; j; j = next) {
            next = j->next;
            struct kp_writer_port *p = j->port ? j->port : w->main;
            j->next = NULL;
            if (p->done_tail)
                p->done_tail->next = j;
            else
                p->done_head = j;
            p->done_tail = j;
            uv_async_send(&p->wake);
        }
    }
    uv_mutex_unlock(&w->mu);
}

static void deliver(struct kp_writer_port *p)
{
    struct kp_writer *w = p->w;
    uv_mutex_lock(&w->mu);
    struct kp_writer_job *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    uv_mutex_unlock(&w->mu);
    while (j) {
        struct kp_writer_job *next = j->next;
        uv_mutex_lock(&w->mu);
        w->pending--;
        uv_mutex_unlock(&w->mu);
        j->done(j->ctx, j->rc); /* may free j */
        j = next;
    }
}

static void on_wake(uv_async_t *a)
{
    deliver(a->data);
}

struct kp_writer_port *kp_writer_port_new(struct kp_writer *w, uv_loop_t *loop)
{
    struct kp_writer_port *p = kp_xcalloc(1, sizeof(*p));
    p->w = w;
    uv_async_init(loop, &p->wake, on_wake);
    p->wake.data = p;
    uv_unref((uv_handle_t *)&p->wake); /* the loop ends when its server is gone */
    return p;
}

static void on_port_closed(uv_handle_t *h)
{
    free(h->data);
}

void kp_writer_port_close(struct kp_writer_port *p)
{
    if (p)
        uv_close((uv_handle_t *)&p->wake, on_port_closed);
}

void kp_writer_on_commit(struct kp_writer *w,
                         void (*fn)(void *ud, const struct kp_notice *notices, size_t n), void *ud)
{
    w->on_commit = fn;
    w->on_commit_ud = ud;
}

struct kp_writer_port *kp_writer_main_port(struct kp_writer *w)
{
    return w->main;
}

int kp_writer_new(uv_loop_t *loop, struct kp_store *store, struct kp_writer **out)
{
    struct kp_writer *w = kp_xcalloc(1, sizeof(*w));
    w->store = store;
    uv_mutex_init(&w->mu);
    uv_cond_init(&w->cond);
    w->main = kp_writer_port_new(w, loop);
    if (uv_thread_create(&w->thread, thread_main, w) != 0) {
        kp_log_error("cannot start the writer thread");
        kp_writer_port_close(w->main);
        return KP_EIO;
    }
    *out = w;
    return 0;
}

void kp_writer_submit(struct kp_writer *w, struct kp_writer_job *job)
{
    job->next = NULL;
    job->rc = 0;
    uv_mutex_lock(&w->mu);
    KP_ASSERT(!w->stopping);
    if (w->queue_tail)
        w->queue_tail->next = job;
    else
        w->queue_head = job;
    w->queue_tail = job;
    w->pending++;
    uv_cond_signal(&w->cond);
    uv_mutex_unlock(&w->mu);
}

size_t kp_writer_pending(struct kp_writer *w)
{
    uv_mutex_lock(&w->mu);
    size_t n = w->pending;
    uv_mutex_unlock(&w->mu);
    return n;
}

const struct kp_writer_stats *kp_writer_stats(struct kp_writer *w)
{
    return &w->stats;
}

void kp_writer_free(struct kp_writer *w)
{
    if (!w)
        return;
    uv_mutex_lock(&w->mu);
    w->stopping = true;
    uv_cond_signal(&w->cond);
    uv_mutex_unlock(&w->mu);
    uv_thread_join(&w->thread);
    deliver(w->main); /* what the last batches finished for the first loop */
    kp_store_close(w->store);
    uv_mutex_destroy(&w->mu);
    uv_cond_destroy(&w->cond);
    kp_writer_port_close(w->main);
    free(w);
}
