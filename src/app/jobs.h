/* SPDX-License-Identifier: MIT */
/*
 * jobs.h - the durable job runner. Work that follows a commit (analysing a message now; rules,
 * webhooks and summaries later) is a row in the store's job table, written in the same
 * transaction as what caused it. The runner claims due jobs through the writer, runs their
 * handlers in that transaction and deletes them on success, or schedules a retry with backoff.
 * A crash at any point leaves the job in the table, so it runs again after the restart.
 */
#ifndef KP_APP_JOBS_H
#define KP_APP_JOBS_H

#include "../api/api.h"

struct kp_jobs;

int kp_jobs_start(struct kp_api *api, struct kp_jobs **out);
/* New work may be due: run soon. */
void kp_jobs_nudge(struct kp_jobs *j);
/* Stops the timer; a batch already with the writer still finishes. */
void kp_jobs_stop(struct kp_jobs *j);
/* True while a batch is with the writer. */
bool kp_jobs_busy(struct kp_jobs *j);
/* Frees after the loop has closed the timer. */
void kp_jobs_free(struct kp_jobs *j);

/* Runs every due job now, on store s (inside the caller's transaction); for tests and the CLI.
 * Returns how many ran. */
int kp_jobs_run_due(struct kp_store *s, int max);

#endif
