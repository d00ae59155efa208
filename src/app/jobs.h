/* SPDX-License-Identifier: MIT */
/*
 * jobs.h - the durable job runner. Work that follows a commit (analysing a message now; rules,
 * webhooks and summaries later) is a row in the store's job table, written in the same
 * transaction as what caused it. The runner takes due jobs in batches, in three steps:
 *
 *   load     on the writer: claim the jobs (leased for a minute) and read their inputs
 *   compute  on libuv's worker pool: the CPU work, away from the writer and the event loop
 *   apply    on the writer: write the results and delete the jobs, or schedule a retry
 *
 * A crash at any point leaves the jobs in the table, so they run again after the restart.
 */
#ifndef KP_APP_JOBS_H
#define KP_APP_JOBS_H

#include "../api/api.h"

struct kp_jobs;

int kp_jobs_start(struct kp_api *api, struct kp_jobs **out);
/* New work may be due: run soon. From any thread. */
void kp_jobs_nudge(struct kp_jobs *j);
/* Stops taking new batches; a batch under way still finishes. */
void kp_jobs_stop(struct kp_jobs *j);
/* True while a batch is under way. */
bool kp_jobs_busy(struct kp_jobs *j);
/* Frees after the loop has closed the timer. */
void kp_jobs_free(struct kp_jobs *j);

#endif
