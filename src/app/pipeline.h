/* SPDX-License-Identifier: MIT */
/*
 * pipeline.h - the message pipeline: the work that follows the commit of every message
 * (analysing its language and indexing it for search now; classification and rules later).
 *
 * The messages table is the queue and the store keeps one cursor, the newest message done, so
 * storing a message costs no extra row. The runner on the first event loop takes the messages
 * after the cursor in batches, in three steps:
 *
 *   next     on the loop's read connection: the batch and the texts it needs
 *   compute  on libuv's worker pool: the CPU work, away from the writer and the event loop
 *   done     on the writer: the results, the search index for the batch and the new cursor,
 *            in one transaction
 *
 * A crash at any point leaves the cursor where it was, so the batch runs again after the
 * restart; a batch is never applied twice (done checks the cursor). Under load the batches
 * grow, which is what makes indexing cheap: FTS5 writes one index segment per statement.
 */
#ifndef KP_APP_PIPELINE_H
#define KP_APP_PIPELINE_H

#include "../api/api.h"

struct kp_pipeline;

int kp_pipeline_start(struct kp_api *api, struct kp_pipeline **out);
/* New messages were committed: run soon. From any thread. */
void kp_pipeline_nudge(struct kp_pipeline *p);
/* Stops taking new batches; a batch under way still finishes. */
void kp_pipeline_stop(struct kp_pipeline *p);
/* True while a batch is under way. */
bool kp_pipeline_busy(struct kp_pipeline *p);
/* Frees after the loop has closed the timer. */
void kp_pipeline_free(struct kp_pipeline *p);
/* Does all the pipeline's work on s in this thread, before any loop runs (the demo data). */
int kp_pipeline_run(struct kp_store *s);

#endif
