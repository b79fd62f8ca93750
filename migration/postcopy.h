/* postcopy: "the CMU method" - move the descriptor, page in over the network.
 * The destination runs the VM before its memory has arrived; guest RAM is
 * registered with userfaultfd (missing mode), so the first touch of a page
 * that is not here yet - by a vCPU inside KVM or by device emulation - blocks
 * that thread and reports a fault.
 *
 * Two connections: the main one carries the bulk push (PAGES sections, then
 * END), the urgent one carries requests (destination -> source) and demanded
 * pages (source -> destination), so a fault is never queued behind megabytes
 * of bulk pages. On the destination:
 *
 *   fault thread   reads faults, asks for each missing page once on the
 *                  urgent channel, installs replies with UFFDIO_COPY (or
 *                  UFFDIO_ZEROPAGE), and times every fault;
 *   bulk thread    reads the pushed batches, installs them in runs of up to
 *                  64 pages (UFFDIO_COPY is much cheaper per page in runs)
 *                  and each run of zero pages at once.
 *
 * Registration happens when the stream says POSTCOPY, before the device and
 * vCPU state are loaded, and the fault thread runs from then on.
 *
 * Neither thread touches guest memory directly (a write to a missing page
 * would block on the fault thread itself); every install is atomic in the
 * kernel, and one that finds the page present (EEXIST: pushed and demanded
 * at once) is counted as a duplicate and ignored: no double install, no lost
 * page. When the bulk stream ends and the source says it has sent its last
 * demanded page, every page is here: the registration is dropped and the
 * fault statistics go back to the source on the urgent channel.
 *
 * When a channel breaks, the destination does not stop or exit: vCPUs that
 * touch a missing page wait in their fault, the others run on, and the
 * recovery thread waits on the listening socket. The source (`vmm migrate
 * --resume`) connects both channels again; the destination answers with
 * the pages it holds, asks again for every fault still unanswered, and the
 * source sends the rest. If the source is lost for good, the pages it alone
 * held are gone: the VM cannot finish and stays waiting until it is quit.
 *
 * Wire formats (little-endian):
 *   request   dest -> src: u32 kind (PC_REQ_PAGE | PC_REQ_STATS), u32 len,
 *             u64 gpa (PAGE) / then len bytes of struct pc_stats (STATS)
 *   reply     src -> dest: u64 gpa | encoding (PAGE_ZERO, PAGE_RAW + 4096
 *             bytes), or PC_LAST_REPLY when the source has no more. After a
 *             demanded page come up to PC_PREFETCH following pages that the
 *             push has not taken, flagged PC_PREFETCHED (one write).
 *             At the switch, before the vCPU state, the pages KVM touches
 *             when that state is loaded come unasked, flagged the same.
 *   resume    src -> dest, new main connection: "VMMRESUM", u64 pages of
 *             guest RAM; then a new urgent connection ("VMMURGNT"); the
 *             destination answers on the main one with a stream header and
 *             a HAVE section: u32 flags, u64 pages, then the bitmap of pages
 *             it holds (u64 words) or, with HAVE_COMPLETE, its struct
 *             pc_stats; the source then sends a stream header, PAGES, END.
 */
#ifndef MIGRATION_POSTCOPY_H
#define MIGRATION_POSTCOPY_H

#include <pthread.h>
#include <stdint.h>
#include "../vmm/mem.h"
#include "stream.h"
#include "transport.h"

#define PC_URGENT_HELLO	"VMMURGNT"	/* first 8 bytes on the urgent channel */
#define PC_PREFETCH	16		/* pages sent after a demanded one */
#define PC_PREFETCHED	0x800u		/* reply flag: sent ahead, not asked for */
#define PC_RESUME_HELLO	"VMMRESUM"	/* first 8 bytes of a resumed main channel */
#define HAVE_COMPLETE	1u		/* HAVE flag: every page is here already */
#define PC_REQ_PAGE	1u
#define PC_REQ_STATS	2u
#define PC_LAST_REPLY	(~0ULL)

/* What the destination measured, sent back to the source at the end. */
struct pc_stats {
	uint64_t faults;		/* distinct pages faulted on */
	uint64_t pages_demanded;	/* installed from the urgent channel */
	uint64_t pages_pushed;		/* installed from the bulk stream */
	uint64_t pages_prefetched;	/* installed from the urgent channel,
					 * sent after a demanded page */
	uint64_t duplicates;		/* arrived when already present */
	double fault_p50_us, fault_p99_us, fault_max_us;
	double postcopy_ms;		/* vCPUs running to the last page */
};

/* The destination's post-copy. Ownership: the fault thread owns uffd reads,
 * requested[] and the urgent channel it reads; the bulk thread owns the
 * bulk stream while it runs; the recovery thread replaces both channels
 * (under lock, with the fault thread told through wake_fd, the bulk thread
 * joined first). have[] is set atomically by every install. */
struct pc_dst {
	struct mem *m;
	int uffd;
	int listen_fd;			/* where a resume comes; -1: none (not owned) */
	pthread_t fault_thread, bulk_thread, recover_thread;
	int fault_started, bulk_started, recover_started;
	int bulk_done;			/* atomic: the bulk stream ended */
	int stop_fd;			/* eventfd: every thread leaves (never read) */
	int wake_fd;			/* eventfd: the fault thread takes next_urgent */
	uint64_t *have;			/* pages installed (atomic bits) */
	uint8_t *requested;		/* per page: asked for (fault thread only) */
	pthread_mutex_t lock;		/* guards everything below */
	int urgent_fd;			/* the urgent channel in use */
	int next_urgent;		/* a resumed urgent channel, for the fault thread */
	int bulk_fd;			/* the main connection in use */
	int own_bulk_fd;		/* a resumed main connection (closed here) */
	struct stream *bulk;		/* the stream the bulk thread reads */
	struct fd_transport rft;	/* a resumed main connection's stream */
	struct stream rs;
	int resuming;			/* a resume is being set up: no completing */
	int complete;			/* every page is here; statistics sent */
	int stopping;			/* pc_dst_finish was called */
	struct pc_stats st;
	double *lat_us;			/* per fault, for percentiles */
	uint64_t nlat, cap_lat;
	double t0;			/* the vCPUs started (0: not yet) */
	uint64_t load_faults;		/* pages faulted on before that */
	uint64_t load_gpa[4];		/* the first of them */
	int failed;			/* broken since the last (re)start */
	uint32_t resumes;
	char msg[256];
	/* Set by the owner after pc_dst_prepare, before pc_dst_start_bulk:
	 * called once, by the fault thread, when every page is here. */
	void (*on_complete)(void *arg);
	void *on_complete_arg;
};

/* pc_dst_prepare(pc, m, urgent_fd, bulk_fd, bulk, listen_fd): register
 * guest RAM with userfaultfd. Pages the source will send must be absent: the
 * stream's DISCARD sections did that. listen_fd (or -1) is where a resume
 * after a broken link will come. Returns 0 or -errno with a message. Before
 * the vCPUs start. Takes urgent_fd; bulk_fd and listen_fd stay the caller's. */
int pc_dst_prepare(struct pc_dst *pc, struct mem *m, int urgent_fd, int bulk_fd,
		   struct stream *bulk, int listen_fd);

/* pc_dst_start_faults(pc): start the fault thread, at once after
 * pc_dst_prepare: loading the vCPU state already touches guest memory (KVM
 * maps the kvmclock page when its MSR is set), and such a touch must fetch
 * the page, not create an empty one. pc_dst_start_bulk(pc): start the bulk
 * thread once the main connection is free (after the hand-over). */
int pc_dst_start_faults(struct pc_dst *pc);
int pc_dst_start_bulk(struct pc_dst *pc);

/* pc_dst_start_recovery(pc): with a listening socket, start the thread that
 * takes a resume from the source after a broken link (postcopy_recover.c). */
int pc_dst_start_recovery(struct pc_dst *pc);

/* pc_fail(pc, what, err): record a break in post-copy (the VM waits for a
 * resume). Any post-copy thread. */
void pc_fail(struct pc_dst *pc, const char *what, int err);

/* pc_dst_finish(pc): wait for the threads (stopping them if the VM ended
 * first) and release everything. */
void pc_dst_finish(struct pc_dst *pc);

/* pc_discard(m, first_page, npages): drop pages the destination holds from
 * pre-copy rounds but which changed since (MADV_DONTNEED), so that they
 * fault and come fresh. Returns 0 or -errno with a message. */
int pc_discard(struct mem *m, uint64_t first_page, uint64_t npages);

#endif
