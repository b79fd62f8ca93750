/* migrate: the source side of a live migration, run on its own thread (one
 * per migration direction). It owns the connection, the dirty log and the
 * page writer; it reaches the rest of the VMM only through struct mig_host,
 * whose stun/resume/handed_over hooks the host runs on its I/O thread (so no
 * device is in the middle of a request when the VM is stunned).
 *
 * Strategies:
 *   stop-copy  stun, send every page and the device state, hand over.
 *   precopy    ("the Stanford method") log dirty pages, send all RAM while
 *              the guest runs, then resend the pages dirtied meanwhile,
 *              round after round, until the predicted downtime (dirty set
 *              / measured bandwidth) is under the target; if rounds stop
 *              shrinking, throttle the vCPUs (auto-converge) or give up
 *              rounds at max_iterations and switch over anyway.
 *   postcopy   ("the CMU method") stun, send only the vCPU and device state,
 *              let the destination run at once, then serve its page faults
 *              on an urgent channel while pushing every other page in the
 *              background, starting after the last faulted page.
 *   hybrid     pre-copy rounds, then post-copy for what is left: when the
 *              rounds stop shrinking, at max_iterations, or when asked
 *              (mig_postcopy_now).
 *
 * Hand-over (every strategy): the source sends END; the destination loads
 * everything and answers "OK"; the source answers "GO" and from then on the
 * VM belongs to the destination, which resumes it and reports the instant
 * it did ("RN" + CLOCK_MONOTONIC ns). Before "GO" any failure resumes the VM
 * here. After "GO" without "RN" the VM stays stunned here, intact, and the
 * status says the destination's state is unknown: never two running copies,
 * never none. A post-copy that breaks after "GO" pauses: the VM stays stunned
 * here holding every page the destination may lack, and mig_resume()
 * reconnects and sends the pages the destination says it still lacks.
 *
 * Status is read by other threads (the API) under the lock; cancel is a
 * flag plus a shutdown() of the socket, so it interrupts a blocked send. */
#ifndef MIGRATION_MIGRATE_H
#define MIGRATION_MIGRATE_H

#include <pthread.h>
#include <stdint.h>
#include "pages.h"
#include "snapshot.h"

struct vm;

enum mig_strategy { MIG_STOP_COPY, MIG_PRECOPY, MIG_POSTCOPY, MIG_HYBRID };

enum mig_state {
	MIG_NONE,		/* never started */
	MIG_SETUP,		/* connecting */
	MIG_ACTIVE,		/* pre-copy rounds, guest running */
	MIG_SWITCHOVER,		/* guest stunned, last pages and state going out */
	MIG_POSTCOPY_ACTIVE,	/* the destination runs it; pages on demand + push */
	MIG_COMPLETED,		/* the destination runs the VM */
	MIG_FAILED,		/* the VM runs here; msg says why */
	MIG_CANCELLED,		/* the VM runs here */
	MIG_UNKNOWN,		/* "GO" sent, no word from the destination */
	MIG_POSTCOPY_PAUSED,	/* post-copy broke; mig_resume() goes on */
};

struct mig_params {
	char to[128];			/* ADDR:PORT */
	enum mig_strategy strategy;
	uint32_t downtime_ms;		/* pre-copy target, default 300 */
	uint64_t max_bw;		/* bytes/s, 0 = unlimited */
	enum compress_mode compress;
	uint32_t max_iterations;	/* pre-copy rounds, default 30 */
	int auto_converge;		/* default on */
};

#define MIG_MAX_ROUNDS	64	/* pre-copy rounds kept in the status */

/* One pre-copy round, for lining the migration up with what the guest's
 * clients saw (times in ms since the migration started). */
struct mig_round {
	double start_ms, ms;		/* when its sending began, how long it took */
	uint64_t pages;			/* pages sent in it */
	uint64_t dirty;			/* dirty pages the sync after it found (a
					 * round cut short by the switch to
					 * post-copy: its pages left unsent) */
	int throttle_pct;		/* auto-converge's throttle during it */
};

struct mig_status {
	enum mig_state state;
	enum mig_strategy strategy;
	char msg[512];			/* failure reason or a note */
	uint32_t iteration;		/* pre-copy rounds done */
	uint64_t ram_pages;		/* size of guest RAM in pages */
	uint64_t pages_sent, zero_pages, lz4_pages, raw_pages;
	uint64_t bytes_sent;
	uint64_t remaining;		/* pages still to send in this round */
	uint64_t dirty_pages;		/* dirty set found by the last sync */
	double dirty_rate_mbps, bandwidth_mbps;
	double expected_downtime_ms;
	int throttle_pct;
	int converged;			/* pre-copy met the downtime target */
	double total_ms, downtime_ms, setup_ms, stun_ms;
	double drain_ms;		/* pre-copy: waiting, before the stun, for
					 * the destination to load what was sent */
	/* where the downtime went: stun and capture of the vCPU and device
	 * state here; sending the last pages and the state; the destination
	 * loading it until its "OK"; from "OK" to its vCPUs running */
	double sw_capture_ms, sw_send_ms, sw_load_ms, sw_run_ms;
	uint32_t compress_switches;
	/* post-copy, measured by the destination */
	int postcopy;			/* the switch to post-copy happened */
	uint64_t faults, pages_demanded, pages_prefetched, pages_pushed, duplicates;
	double fault_p50_us, fault_p99_us, fault_max_us, postcopy_ms;
	uint32_t resumes;		/* times a broken post-copy was resumed */
	/* timeline: the start on CLOCK_MONOTONIC (ms), the stun since then,
	 * and the first MIG_MAX_ROUNDS pre-copy rounds */
	double t0_mono_ms, stun_at_ms;
	uint32_t nrounds;
	struct mig_round rounds[MIG_MAX_ROUNDS];
};

struct mig_host {
	struct vm *vm;
	struct snap_config cfg;
	void *arg;
	/* Stun the VM (capturing vCPU state) and write the DEVICE, VCPU and VM
	 * sections into s. Runs on the host's I/O thread; returns 0 or -errno. */
	int (*stun)(struct mig_host *h, struct stream *s);
	/* Un-stun after a failed or cancelled switchover. */
	void (*resume)(struct mig_host *h);
	/* The destination runs the VM: stop this VMM (exit 0). */
	void (*handed_over)(struct mig_host *h);
};

struct migration {
	struct mig_params p;
	struct mig_host *host;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;	/* guards st, fd, cancel */
	struct mig_status st;
	int fd;
	int cancel;
	int committed;		/* "GO" sent: cancel is too late */
	int postcopy_req;	/* hybrid: switch to post-copy now (atomic) */
	double t0;		/* when the migration started (CLOCK_MONOTONIC ms) */
	/* Kept across the threads of one migration (a resume runs a new one),
	 * written by the thread under lock: */
	uint64_t *pc_set;	/* pages the destination needed at the switch */
	struct page_stats carry_pages;
	uint64_t carry_bytes;
	int resuming;		/* the thread resumes a paused post-copy */
};

/* mig_parse_*: option values, for the CLI and the API. 0 or -EINVAL + msg. */
int mig_parse_strategy(const char *s, enum mig_strategy *out);
int mig_parse_compress(const char *s, enum compress_mode *out);
const char *mig_strategy_name(enum mig_strategy s);
const char *mig_state_name(enum mig_state s);
void mig_params_default(struct mig_params *p);

/* mig_start(m, p, host): start the migration thread. 0 or -errno + msg. */
int mig_start(struct migration *m, const struct mig_params *p, struct mig_host *host);

/* mig_status(m, out): a consistent copy of the status. Any thread. */
void mig_status(struct migration *m, struct mig_status *out);

/* mig_cancel(m): stop a migration that has not handed over. Returns 0, or
 * -EBUSY with a message once "GO" is sent. Any thread. */
int mig_cancel(struct migration *m);

/* mig_postcopy_now(m): a hybrid migration switches to post-copy after the
 * current batch. -EINVAL with a message for other strategies. */
int mig_postcopy_now(struct migration *m);

/* mig_resume(m, to): go on with a paused post-copy (to: a new address for
 * the destination, or NULL). 0 or -errno with a message. */
int mig_resume(struct migration *m, const char *to);

/* mig_running(m): the thread has not finished. */
int mig_running(struct migration *m);

/* mig_join(m): wait for the thread and release it. mig_free(m): that, and
 * free what a paused migration kept. */
void mig_join(struct migration *m);
void mig_free(struct migration *m);

#endif
