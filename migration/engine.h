/* engine: the source-side migration engine's private state, shared by the
 * two files that drive it: migrate.c (connection, pre-copy rounds, hand-over,
 * the thread) and postcopy_src.c (post-copy's discard list, urgent channel,
 * request thread, background push and the resume after a broken link).
 *
 * Ownership: the migration thread owns struct engine and everything in it,
 * except what post-copy shares with its request thread: the bitmap (pages
 * still to send, claimed with atomic bit operations), hint (atomic), the
 * urgent channel (writes under urgent_lock) and req_err (written by the
 * request thread, read after it is joined). Status goes to struct migration
 * under its lock (engine_update). Not for use outside migration/. */
#ifndef MIGRATION_ENGINE_H
#define MIGRATION_ENGINE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "../vmm/dirty.h"
#include "migrate.h"
#include "pages.h"
#include "stream.h"
#include "transport.h"

#define SEND_TIMEOUT_MS		15000	/* no progress sending: the link is gone */
#define ACK_TIMEOUT_MS		120000	/* the destination loads the state */
#define RUN_TIMEOUT_MS		30000	/* the destination resumes the VM */

struct engine {
	struct migration *m;
	struct vm *vm;
	struct stream s;
	struct fd_transport ft;
	struct page_writer w;
	struct dirty_log dl;
	uint64_t *bitmap;	/* pages to send; in post-copy shared with the
				 * request thread, claimed with atomics */
	uint64_t npages;
	double t0, t_stun;
	double t_captured, t_sent, t_ok;	/* the switchover's steps */
	int stunned, throttled;
	int postcopy;		/* switch over to post-copy */
	int pc_announced;	/* POSTCOPY already sent (pure post-copy, before
				 * the stun) */
	/* post-copy: the urgent channel, its writer lock, the request thread */
	int urgent_fd;
	struct fd_transport urgent_ft;	/* on urgent_fd; written under urgent_lock */
	pthread_mutex_t urgent_lock;
	uint64_t urgent_bytes;		/* written there (atomic: read by engine_update) */
	pthread_t req_thread;
	uint64_t hint;		/* atomic: push from here next (after a fault) */
	int req_err;
	int req_started;
	uint64_t push_done_ms;	/* atomic: when the push ended (0: not yet) */
};

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* engine_update(e, remaining): copy the page counters into the status. */
void engine_update(struct engine *e, uint64_t remaining);

/* ---- post-copy, source side (postcopy_src.c) ---- */

/* pcs_connect_urgent(e): open the urgent channel, a second connection to
 * the destination's listener. 0 or the stream's error. */
int pcs_connect_urgent(struct engine *e);

/* pcs_switch(e): at the stun: the DISCARD list (pages the destination must
 * drop) and the POSTCOPY section (unless e->pc_announced), a copy of the set
 * still to send kept in the migration (for a resume), and the request
 * thread. 0 or the stream's error. */
int pcs_switch(struct engine *e);

/* pcs_run(e): once the destination runs the VM: push every page not yet
 * sent while the request thread serves faults; wait for the destination's
 * statistics. 0 when every page is there, or the stream's error. */
int pcs_run(struct engine *e);

/* pcs_resume(e): after a broken post-copy: reconnect both channels, learn
 * which pages the destination holds, and send the rest as pcs_run does. */
int pcs_resume(struct engine *e);

#endif
