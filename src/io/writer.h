/* SPDX-License-Identifier: MIT */
/*
 * writer.h - the single writer with group commit. Every change to the store runs as a job on
 * one writer thread; jobs that arrive while a transaction commits share the next one, so one
 * fsync acknowledges many messages. A job's done callback runs on the event loop only after the
 * transaction holding it has committed (rc 0) or failed (rc < 0) - so an HTTP 2xx, an SMTP 250
 * or a WebSocket push never precedes durability.
 */
#ifndef KP_IO_WRITER_H
#define KP_IO_WRITER_H

#include <uv.h>

#include "../base/hist.h"
#include "../store/store.h"

struct kp_writer_job {
    /* On the writer thread, in the batch's transaction: nonzero undoes this job's changes only.
     * May run twice (after another job of the batch failed, the batch runs again with a
     * savepoint around each job), so it must overwrite, not accumulate, what it fills in. */
    int (*run)(struct kp_store *s, void *ctx);
    /* On the loop thread after commit; rc is run's result or KP_EIO when the commit failed. */
    void (*done)(void *ctx, int rc);
    void *ctx;
    int rc;
    struct kp_writer_port *port; /* the loop that gets done; NULL = the writer's first loop */
    struct kp_writer_job *next;
};

struct kp_writer_stats {
    atomic_uint_fast64_t commits, jobs, failures;
    struct kp_hist commit_latency; /* seconds from BEGIN to COMMIT returned */
};

struct kp_writer;
/* Where done callbacks of one event loop are delivered. */
struct kp_writer_port;

/* Starts the thread, with a port on loop. The writer owns store from now on. */
int kp_writer_new(uv_loop_t *loop, struct kp_store *store, struct kp_writer **out);
/* The port of the loop kp_writer_new was given. */
struct kp_writer_port *kp_writer_main_port(struct kp_writer *w);
/* A port for another loop, used from that loop's thread. Close it from that thread, on its
 * loop, once nothing it submitted is pending (kp_writer_port_close). */
struct kp_writer_port *kp_writer_port_new(struct kp_writer *w, uv_loop_t *loop);
void kp_writer_port_close(struct kp_writer_port *p);
/* fn runs on the writer thread after every commit with that transaction's notices (events,
 * rights changes, revocations), in commit order: the one place that knows the order. Set it
 * before the first submit. */
void kp_writer_on_commit(struct kp_writer *w,
                         void (*fn)(void *ud, const struct kp_notice *notices, size_t n), void *ud);
/* Queues job from the thread of job->port's loop (the first loop when NULL); the caller keeps
 * job's memory alive until its done callback, which runs on that loop. */
void kp_writer_submit(struct kp_writer *w, struct kp_writer_job *job);
/* Jobs queued or running, for shutdown and back-pressure. */
size_t kp_writer_pending(struct kp_writer *w);
const struct kp_writer_stats *kp_writer_stats(struct kp_writer *w);
/* Finishes every queued job, delivers their done callbacks, stops the thread, closes the store. */
void kp_writer_free(struct kp_writer *w);

#endif
