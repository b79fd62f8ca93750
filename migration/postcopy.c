/* postcopy: the destination side of post-copy (see postcopy.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <lz4.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "../vmm/dirty.h"
#include "../vmm/err.h"
#include "pages.h"
#include "postcopy.h"
#include "proto.h"
#include "stream.h"
#include "transport.h"

#define RUN_PAGES 64		/* bulk installs: up to 256 KiB per UFFDIO_COPY */
#define PAGE_TIMEOUT_MS	10000	/* a page follows its header */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int pc_discard(struct mem *m, uint64_t first, uint64_t n)
{
	if (first > m->size / MEM_PAGE_SIZE || n > m->size / MEM_PAGE_SIZE - first)
		return err_set(-EINVAL, "discard of pages %llu+%llu outside guest RAM",
			       (unsigned long long)first, (unsigned long long)n);
	if (n && madvise(m->hva + first * MEM_PAGE_SIZE, n * MEM_PAGE_SIZE, MADV_DONTNEED) < 0)
		return err_set(-errno, "madvise(DONTNEED): %s", strerror(errno));
	return 0;
}

int pc_dst_prepare(struct pc_dst *pc, struct mem *m, int urgent_fd, int bulk_fd,
		   struct stream *bulk, int listen_fd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)(uintptr_t)m->hva, .len = m->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	uint64_t npages = m->size / MEM_PAGE_SIZE;

	memset(pc, 0, sizeof(*pc));
	pthread_mutex_init(&pc->lock, NULL);
	pc->m = m;
	pc->urgent_fd = urgent_fd;
	pc->next_urgent = -1;
	pc->bulk_fd = bulk_fd;
	pc->own_bulk_fd = -1;
	pc->bulk = bulk;
	pc->listen_fd = listen_fd;
	pc->stop_fd = pc->wake_fd = -1;
	pc->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (pc->uffd < 0) {
		int e = errno;

		close(urgent_fd);
		return err_set(-e, "userfaultfd: %s (post-copy needs it; as non-root, "
			       "vm.unprivileged_userfaultfd=1)", strerror(e));
	}
	if (ioctl(pc->uffd, UFFDIO_API, &api) < 0 || ioctl(pc->uffd, UFFDIO_REGISTER, &reg) < 0) {
		int e = errno;

		close(pc->uffd);
		close(urgent_fd);
		pc->uffd = -1;
		return err_set(-e, "userfaultfd registration of guest RAM: %s", strerror(e));
	}
	pc->requested = calloc(npages, 1);
	pc->have = calloc((npages + 63) / 64, 8);
	pc->cap_lat = 1 << 16;
	pc->lat_us = malloc(pc->cap_lat * sizeof(double));
	pc->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!pc->requested || !pc->have || !pc->lat_us || pc->stop_fd < 0 || pc->wake_fd < 0) {
		pc_dst_finish(pc);
		return err_set(-ENOMEM, "out of memory for post-copy");
	}
	return 0;
}

void pc_fail(struct pc_dst *pc, const char *what, int err)
{
	pthread_mutex_lock(&pc->lock);
	/* Quiet when the VMM stops, or when a resume shut the old channels. */
	if (!pc->failed && !pc->stopping && !pc->resuming) {
		pc->failed = 1;
		snprintf(pc->msg, sizeof(pc->msg), "%s: %s", what, strerror(err));
		if (pc->listen_fd >= 0)
			log_warn("post-copy paused: %s; vCPUs that need a page only the source has "
				 "wait for it: `vmm migrate --resume` on the source reconnects",
				 pc->msg);
		else
			log_warn("post-copy: %s; the VM waits, stunned, for pages only the source "
				 "has", pc->msg);
	}
	pthread_mutex_unlock(&pc->lock);
}

static void mark_have(struct pc_dst *pc, const uint8_t *dst, uint64_t len)
{
	uint64_t i = page_index_hva(pc->m, dst);

	for (uint64_t end = i + len / MEM_PAGE_SIZE; i < end; i++)
		__atomic_fetch_or(&pc->have[i / 64], 1ULL << (i % 64), __ATOMIC_RELEASE);
}

/* Install len bytes of pages at dst (data NULL: zero pages). Returns how
 * many of them were already present (pushed and demanded at once: left as
 * they are), or -errno. Every page of the range is present afterwards. */
static int install(struct pc_dst *pc, uint8_t *dst, const void *data, uint64_t len)
{
	uint8_t *const start = dst;
	const uint64_t total = len;
	int dups = 0;

	while (len) {
		int r;

		if (data) {
			struct uffdio_copy c = { .dst = (uint64_t)(uintptr_t)dst,
						 .src = (uint64_t)(uintptr_t)data, .len = len };

			r = ioctl(pc->uffd, UFFDIO_COPY, &c);
			/* Part installed (the kernel stopped at a present page
			 * and says EAGAIN or EEXIST): go on after that part. */
			if (r < 0 && c.copy > 0 && (uint64_t)c.copy < len) {
				dst += c.copy;
				data = (const uint8_t *)data + c.copy;
				len -= (uint64_t)c.copy;
				continue;
			}
		} else {
			struct uffdio_zeropage z = { .range = { (uint64_t)(uintptr_t)dst, len } };

			r = ioctl(pc->uffd, UFFDIO_ZEROPAGE, &z);
			if (r < 0 && z.zeropage > 0 && (uint64_t)z.zeropage < len) {
				dst += z.zeropage;
				len -= (uint64_t)z.zeropage;
				continue;
			}
		}
		if (r == 0)
			break;
		if (errno == EAGAIN)
			continue;
		if (errno != EEXIST)
			return -errno;
		/* The first page is present: skip it, go on with the rest. */
		dups++;
		dst += MEM_PAGE_SIZE;
		if (data)
			data = (const uint8_t *)data + MEM_PAGE_SIZE;
		len -= MEM_PAGE_SIZE;
	}
	mark_have(pc, start, total);
	return dups;
}

static int send_request(int fd, uint32_t kind, uint64_t arg)
{
	uint8_t msg[16];
	uint32_t len = 0;

	memcpy(msg, &kind, 4);
	memcpy(msg + 4, &len, 4);
	memcpy(msg + 8, &arg, 8);
	return write(fd, msg, 16) == 16 ? 0 : -EPIPE;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Every page is here: drop the registration, compute the statistics and
 * send them to the source (if this fails, a resume asks for them again). */
static void complete(struct pc_dst *pc, int ufd)
{
	struct uffdio_range rg = { (uint64_t)(uintptr_t)pc->m->hva, pc->m->size };
	uint8_t msg[16 + sizeof(struct pc_stats)];
	uint32_t kind = PC_REQ_STATS, len = sizeof(struct pc_stats);

	ioctl(pc->uffd, UFFDIO_UNREGISTER, &rg);
	pthread_mutex_lock(&pc->lock);
	pc->st.postcopy_ms = (now_us() - pc->t0) / 1e3;
	if (pc->nlat) {
		qsort(pc->lat_us, pc->nlat, sizeof(double), cmp_double);
		pc->st.fault_p50_us = pc->lat_us[pc->nlat / 2];
		pc->st.fault_p99_us = pc->lat_us[pc->nlat * 99 / 100];
		pc->st.fault_max_us = pc->lat_us[pc->nlat - 1];
	}
	memcpy(msg, &kind, 4);
	memcpy(msg + 4, &len, 4);
	memset(msg + 8, 0, 8);
	memcpy(msg + 16, &pc->st, sizeof(pc->st));
	log_info("post-copy complete in %.0f ms: %llu faults (p50 %.0f us, p99 %.0f us, max "
		 "%.0f us), %llu pages demanded, %llu prefetched, %llu pushed, %llu duplicates%s",
		 pc->st.postcopy_ms, (unsigned long long)pc->st.faults, pc->st.fault_p50_us,
		 pc->st.fault_p99_us, pc->st.fault_max_us,
		 (unsigned long long)pc->st.pages_demanded,
		 (unsigned long long)pc->st.pages_prefetched,
		 (unsigned long long)pc->st.pages_pushed,
		 (unsigned long long)pc->st.duplicates, pc->resumes ? " (after a resume)" : "");
	pthread_mutex_unlock(&pc->lock);
	if (write(ufd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		log_warn("post-copy: could not send the statistics to the source");
	if (pc->on_complete)
		pc->on_complete(pc->on_complete_arg);
}

/* The fault thread's own state (nobody else touches it). */
struct fault_ctx {
	struct pc_dst *pc;
	uint64_t npages;
	double *fault_t;		/* per page: when it was first faulted on */
	uint8_t *page;			/* a reply's data, before it is installed */
	int ufd;			/* the urgent channel in use */
	int broken;			/* it broke: faults wait for a resume */
	int last_reply;			/* the source said it has no more */
};

/* A resume brought a new urgent channel: take it and ask again for every
 * page faulted on that has not arrived. */
static void take_new_channel(struct fault_ctx *f)
{
	struct pc_dst *pc = f->pc;
	uint64_t v;

	if (read(pc->wake_fd, &v, 8) != 8)
		return;
	pthread_mutex_lock(&pc->lock);
	if (pc->next_urgent >= 0) {
		close(f->ufd);
		f->ufd = pc->urgent_fd = pc->next_urgent;
		pc->next_urgent = -1;
		f->broken = f->last_reply = 0;
	}
	pthread_mutex_unlock(&pc->lock);
	for (uint64_t i = 0; i < f->npages && !f->broken; i++)
		if (pc->requested[i] && !bitmap_test(pc->have, i) &&
		    send_request(f->ufd, PC_REQ_PAGE, page_index_gpa(pc->m, i)) < 0)
			f->broken = 1;
}

/* Every pending fault: ask the source for its page, once per page. */
static void read_faults(struct fault_ctx *f)
{
	struct pc_dst *pc = f->pc;
	struct uffd_msg msg;

	while (read(pc->uffd, &msg, sizeof(msg)) == sizeof(msg)) {
		uint64_t a, idx, gpa;

		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		a = msg.arg.pagefault.address & ~(MEM_PAGE_SIZE - 1);
		idx = page_index_hva(pc->m, (const void *)(uintptr_t)a);
		if (idx >= f->npages || pc->requested[idx])
			continue;
		pc->requested[idx] = 1;
		f->fault_t[idx] = now_us();
		gpa = page_index_gpa(pc->m, idx);
		pthread_mutex_lock(&pc->lock);
		pc->st.faults++;
		if (!pc->t0 && pc->load_faults++ < 4)
			pc->load_gpa[pc->load_faults - 1] = gpa;
		pthread_mutex_unlock(&pc->lock);
		if (!f->broken && send_request(f->ufd, PC_REQ_PAGE, gpa) < 0) {
			pc_fail(pc, "asking the source for a page", EPIPE);
			f->broken = 1;
		}
	}
}

/* One reply from the urgent channel: a page (demanded or prefetched) to
 * install and account for, or the source's last-reply marker. */
static void take_reply(struct fault_ctx *f)
{
	struct pc_dst *pc = f->pc;
	uint64_t w, gpa, idx;
	uint8_t *dst;
	int r, enc;

	r = fd_read_timed(f->ufd, &w, 8, PAGE_TIMEOUT_MS);
	if (r == 0 && w == PC_LAST_REPLY) {
		f->last_reply = 1;
		return;
	}
	gpa = w & ~(MEM_PAGE_SIZE - 1);
	enc = (int)(w & (MEM_PAGE_SIZE - 1) & ~PC_PREFETCHED);
	dst = r == 0 ? mem_hva(pc->m, gpa, MEM_PAGE_SIZE) : NULL;
	if (r == 0 && (!dst || (enc != PAGE_RAW && enc != PAGE_ZERO)))
		r = -EPROTO;
	if (r == 0 && enc == PAGE_RAW)
		r = fd_read_timed(f->ufd, f->page, MEM_PAGE_SIZE, PAGE_TIMEOUT_MS);
	if (r == 0)
		r = install(pc, dst, enc == PAGE_RAW ? f->page : NULL, MEM_PAGE_SIZE);
	if (r < 0) {
		pc_fail(pc, "the urgent channel", -r);
		f->broken = 1;
		return;
	}
	idx = page_index_hva(pc->m, dst);
	pthread_mutex_lock(&pc->lock);
	if (r == 1)
		pc->st.duplicates++;
	else if (w & PC_PREFETCHED)
		pc->st.pages_prefetched++;
	else
		pc->st.pages_demanded++;
	if (f->fault_t[idx] > 0) {
		if (pc->nlat == pc->cap_lat) {
			double *l = realloc(pc->lat_us, 2 * pc->cap_lat * sizeof(double));

			if (l) {
				pc->lat_us = l;
				pc->cap_lat *= 2;
			}
		}
		if (pc->nlat < pc->cap_lat)
			pc->lat_us[pc->nlat++] = now_us() - f->fault_t[idx];
		f->fault_t[idx] = 0;
	}
	pthread_mutex_unlock(&pc->lock);
}

/* Faults in, requests out, demanded pages installed, until every page is
 * here (or the stop eventfd). */
static void *fault_thread(void *arg)
{
	struct pc_dst *pc = arg;
	struct fault_ctx f = { .pc = pc, .npages = pc->m->size / MEM_PAGE_SIZE };

	f.fault_t = calloc(f.npages, sizeof(double));
	f.page = malloc(MEM_PAGE_SIZE);
	if (!f.fault_t || !f.page) {
		pc_fail(pc, "fault thread", ENOMEM);
		goto out;
	}
	pthread_mutex_lock(&pc->lock);
	f.ufd = pc->urgent_fd;
	pthread_mutex_unlock(&pc->lock);
	for (;;) {
		/* With the urgent channel broken, faults are still read (and
		 * left waiting for a resume). */
		struct pollfd p[4] = { { pc->uffd, POLLIN, 0 }, { f.broken ? -1 : f.ufd, POLLIN, 0 },
				       { pc->stop_fd, POLLIN, 0 }, { pc->wake_fd, POLLIN, 0 } };
		int done;

		pthread_mutex_lock(&pc->lock);
		/* Not while a resume is being set up or its channel is
		 * still to be taken: last_reply may be the old channel's. */
		done = f.last_reply && __atomic_load_n(&pc->bulk_done, __ATOMIC_ACQUIRE) &&
		       !pc->resuming && pc->next_urgent < 0;
		if (done)
			pc->complete = 1;
		pthread_mutex_unlock(&pc->lock);
		if (done) {
			complete(pc, f.ufd);
			break;
		}
		if (poll(p, 4, 50) < 0) {
			if (errno == EINTR)
				continue;
			pc_fail(pc, "fault thread: poll", errno);
			break;
		}
		if (p[2].revents & POLLIN)
			break;
		if (p[3].revents & POLLIN) {
			take_new_channel(&f);
			continue;
		}
		if (p[0].revents & POLLIN)
			read_faults(&f);
		if (!f.broken && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			take_reply(&f);
	}
out:
	free(f.fault_t);
	free(f.page);
	return NULL;
}

/* The bulk push: PAGES sections until END, installed in runs: up to
 * RUN_PAGES pages of data copied at once, and every run of zero pages in a
 * section zeroed at once (an idle guest's memory is mostly such runs, and
 * an ioctl per page is what costs). */
static void *bulk_thread(void *arg)
{
	struct pc_dst *pc = arg;
	struct stream *s;
	uint8_t *run = malloc(RUN_PAGES * MEM_PAGE_SIZE), *run_dst = NULL;
	uint32_t run_n = 0, type;
	int run_zero = 0;		/* the run is of zero pages (no data) */
	uint64_t pushed = 0, dups = 0;
	int r = 0;

	if (!run) {
		pc_fail(pc, "bulk thread", ENOMEM);
		return NULL;
	}
	pthread_mutex_lock(&pc->lock);
	s = pc->bulk;
	pthread_mutex_unlock(&pc->lock);
#define FLUSH() do {								\
		if (run_n && r == 0) {						\
			int k = install(pc, run_dst, run_zero ? NULL : run,	\
					(uint64_t)run_n * MEM_PAGE_SIZE);	\
			r = k < 0 ? k : 0;					\
			pushed += run_n - (k > 0 ? (uint32_t)k : 0);		\
			dups += k > 0 ? (uint64_t)k : 0;			\
		}								\
		run_n = 0;							\
	} while (0)

	while (r == 0 && stream_next(s, &type, NULL, NULL) == 0 && type != SEC_END) {
		uint32_t count;

		if (type != SEC_PAGES) {
			stream_fail(s, -EPROTO, "post-copy: unexpected section type %u", type);
			break;
		}
		count = stream_get_u32(s);
		if (count == 0 || count > PAGES_BATCH) {
			stream_fail(s, -EINVAL, "PAGES section with %u pages", count);
			break;
		}
		for (uint32_t i = 0; i < count && r == 0 && !s->err; i++) {
			uint64_t w = stream_get_u64(s), gpa = w & ~(MEM_PAGE_SIZE - 1);
			unsigned enc = (unsigned)(w & (MEM_PAGE_SIZE - 1));
			uint8_t *dst = s->err ? NULL : mem_hva(pc->m, gpa, MEM_PAGE_SIZE);
			int zero = enc == PAGE_ZERO;

			if (!dst) {
				stream_fail(s, -EINVAL, "page 0x%llx outside guest RAM",
					    (unsigned long long)gpa);
				break;
			}
			if (run_n && (zero != run_zero || dst != run_dst + run_n * MEM_PAGE_SIZE ||
				      (!zero && run_n == RUN_PAGES)))
				FLUSH();
			if (!run_n) {
				run_dst = dst;
				run_zero = zero;
			}
			if (zero) {
				/* nothing to read */
			} else if (enc == PAGE_RAW) {
				stream_get_bytes(s, run + run_n * MEM_PAGE_SIZE, MEM_PAGE_SIZE);
			} else if (enc == PAGE_LZ4) {
				uint16_t len = stream_get_u16(s);
				const char *src = stream_get_ptr(s, len);

				if (src && LZ4_decompress_safe(src, (char *)run + run_n * MEM_PAGE_SIZE,
							       len, (int)MEM_PAGE_SIZE) != (int)MEM_PAGE_SIZE)
					stream_fail(s, -EINVAL, "page 0x%llx: bad LZ4 block",
						    (unsigned long long)gpa);
			} else {
				stream_fail(s, -EINVAL, "page 0x%llx: unknown encoding %u",
					    (unsigned long long)gpa, enc);
			}
			if (!s->err)
				run_n++;
		}
		FLUSH();
	}
	pthread_mutex_lock(&pc->lock);
	pc->st.pages_pushed += pushed;
	pc->st.duplicates += dups;
	pthread_mutex_unlock(&pc->lock);
	if (s->err || r < 0)
		pc_fail(pc, s->err ? s->msg : "installing pushed pages", s->err ? -s->err : -r);
	else
		__atomic_store_n(&pc->bulk_done, 1, __ATOMIC_RELEASE);
#undef FLUSH
	free(run);
	return NULL;
}

int pc_dst_start_faults(struct pc_dst *pc)
{
	int r;

	r = pthread_create(&pc->fault_thread, NULL, fault_thread, pc);
	if (r)
		return err_set(-r, "cannot start the post-copy fault thread: %s", strerror(r));
	pthread_setname_np(pc->fault_thread, "pc-faults");
	pc->fault_started = 1;
	return 0;
}

int pc_dst_start_bulk(struct pc_dst *pc)
{
	int r;

	/* postcopy_ms counts from the first start (the vCPUs run), not from
	 * a resume; the fault thread reads it after bulk_done, which the
	 * bulk thread publishes. */
	if (!pc->t0)
		pc->t0 = now_us();
	r = pthread_create(&pc->bulk_thread, NULL, bulk_thread, pc);

	if (r)
		return err_set(-r, "cannot start the post-copy bulk thread: %s", strerror(r));
	pthread_setname_np(pc->bulk_thread, "pc-bulk");
	pc->bulk_started = 1;
	return 0;
}

void pc_dst_finish(struct pc_dst *pc)
{
	uint64_t one = 1;

	/* The VM may have ended before the last page: stop the threads. */
	pthread_mutex_lock(&pc->lock);
	pc->stopping = 1;
	if (pc->stop_fd >= 0 && write(pc->stop_fd, &one, 8) != 8) {
		/* cannot happen with an eventfd */
	}
	if (pc->urgent_fd >= 0)
		shutdown(pc->urgent_fd, SHUT_RDWR);
	if (pc->bulk_started && pc->bulk_fd >= 0)
		shutdown(pc->bulk_fd, SHUT_RDWR);
	pthread_mutex_unlock(&pc->lock);
	/* The recovery thread first: it may be joining or starting threads. */
	if (pc->recover_started)
		pthread_join(pc->recover_thread, NULL);
	if (pc->bulk_started)
		pthread_join(pc->bulk_thread, NULL);
	if (pc->fault_started)
		pthread_join(pc->fault_thread, NULL);
	pc->fault_started = pc->bulk_started = pc->recover_started = 0;
	if (pc->uffd >= 0)
		close(pc->uffd);
	if (pc->stop_fd >= 0)
		close(pc->stop_fd);
	if (pc->wake_fd >= 0)
		close(pc->wake_fd);
	if (pc->urgent_fd >= 0)
		close(pc->urgent_fd);
	if (pc->next_urgent >= 0)
		close(pc->next_urgent);
	if (pc->own_bulk_fd >= 0) {
		stream_free(&pc->rs);
		close(pc->own_bulk_fd);
	}
	pc->uffd = pc->stop_fd = pc->wake_fd = pc->urgent_fd = pc->next_urgent = -1;
	pc->own_bulk_fd = -1;
	free(pc->requested);
	free(pc->have);
	free(pc->lat_us);
	pc->requested = NULL;
	pc->have = NULL;
	pc->lat_us = NULL;
}
