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
#include "../vmm/err.h"
#include "pages.h"
#include "postcopy.h"
#include "proto.h"
#include "stream.h"

#define RUN_PAGES 16	/* bulk installs: up to 64 KiB per UFFDIO_COPY */

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
		   struct stream *bulk)
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
	pc->bulk_fd = bulk_fd;
	pc->bulk = bulk;
	pc->stop_fd = -1;
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
	pc->cap_lat = 1 << 16;
	pc->lat_us = malloc(pc->cap_lat * sizeof(double));
	pc->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!pc->requested || !pc->lat_us || pc->stop_fd < 0) {
		pc_dst_finish(pc);
		return err_set(-ENOMEM, "out of memory for post-copy");
	}
	return 0;
}

static void fail(struct pc_dst *pc, const char *what, int err)
{
	pthread_mutex_lock(&pc->lock);
	if (!pc->failed) {
		pc->failed = 1;
		snprintf(pc->msg, sizeof(pc->msg), "%s: %s", what, strerror(err));
		log_warn("post-copy: %s; the VM waits, stunned, for pages only the source has",
			 pc->msg);
	}
	pthread_mutex_unlock(&pc->lock);
}

/* Install len bytes of pages at dst (data NULL: zero pages). Returns how
 * many of them were already present (pushed and demanded at once: left as
 * they are), or -errno. */
static int install(struct pc_dst *pc, uint8_t *dst, const void *data, uint64_t len)
{
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
			return dups;
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
	return dups;
}

static int send_request(struct pc_dst *pc, uint32_t kind, uint64_t arg)
{
	uint8_t msg[16];
	uint32_t len = 0;

	memcpy(msg, &kind, 4);
	memcpy(msg + 4, &len, 4);
	memcpy(msg + 8, &arg, 8);
	return write(pc->urgent_fd, msg, 16) == 16 ? 0 : -EPIPE;
}

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, (char *)buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? -EPIPE : -errno;
		got += (size_t)k;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Faults in, requests out, demanded pages installed. */
static void *fault_thread(void *arg)
{
	struct pc_dst *pc = arg;
	uint64_t npages = pc->m->size / MEM_PAGE_SIZE;
	double *fault_t = calloc(npages, sizeof(double));
	static _Thread_local uint8_t page[MEM_PAGE_SIZE];
	int last_reply = 0, broken = 0;

	if (!fault_t) {
		fail(pc, "fault thread", ENOMEM);
		return NULL;
	}
	for (;;) {
		struct pollfd p[3] = { { pc->uffd, POLLIN, 0 }, { pc->urgent_fd, POLLIN, 0 },
				       { pc->stop_fd, POLLIN, 0 } };

		if (last_reply && __atomic_load_n(&pc->bulk_done, __ATOMIC_ACQUIRE))
			break;
		/* With the urgent channel broken, faults are still read (and
		 * left waiting); the stop eventfd is polled in its place. */
		if (broken)
			p[1] = p[2];
		if (poll(p, 2, 50) < 0 && errno != EINTR)
			break;
		{
			uint64_t v;

			if (read(pc->stop_fd, &v, 8) == 8)
				goto out;
		}
		if (broken)
			p[1].revents = 0;
		if (p[0].revents & POLLIN) {
			struct uffd_msg msg;

			while (read(pc->uffd, &msg, sizeof(msg)) == sizeof(msg)) {
				uint64_t a, idx;

				if (msg.event != UFFD_EVENT_PAGEFAULT)
					continue;
				a = msg.arg.pagefault.address & ~(MEM_PAGE_SIZE - 1);
				idx = (a - (uint64_t)(uintptr_t)pc->m->hva) / MEM_PAGE_SIZE;
				if (idx >= npages || pc->requested[idx])
					continue;
				pc->requested[idx] = 1;
				fault_t[idx] = now_us();
				pthread_mutex_lock(&pc->lock);
				pc->st.faults++;
				pthread_mutex_unlock(&pc->lock);
				if (!broken && send_request(pc, PC_REQ_PAGE,
							    page_index_gpa(pc->m, idx)) < 0) {
					fail(pc, "asking the source for a page", EPIPE);
					broken = 1;
				}
			}
		}
		if (!broken && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint64_t w, gpa, idx;
			uint8_t *dst;
			int r, enc;

			r = read_full(pc->urgent_fd, &w, 8);
			if (r == 0 && w == PC_LAST_REPLY) {
				last_reply = 1;
				continue;
			}
			gpa = w & ~(MEM_PAGE_SIZE - 1);
			enc = (int)(w & (MEM_PAGE_SIZE - 1));
			dst = r == 0 ? mem_hva(pc->m, gpa, MEM_PAGE_SIZE) : NULL;
			if (r == 0 && (!dst || (enc != PAGE_RAW && enc != PAGE_ZERO)))
				r = -EPROTO;
			if (r == 0 && enc == PAGE_RAW)
				r = read_full(pc->urgent_fd, page, MEM_PAGE_SIZE);
			if (r == 0)
				r = install(pc, dst, enc == PAGE_RAW ? page : NULL, MEM_PAGE_SIZE);
			if (r < 0) {
				fail(pc, "the urgent channel", -r);
				broken = 1;
				continue;
			}
			idx = (uint64_t)(dst - pc->m->hva) / MEM_PAGE_SIZE;
			pthread_mutex_lock(&pc->lock);
			if (r == 1)
				pc->st.duplicates++;
			else
				pc->st.pages_demanded++;
			if (fault_t[idx] > 0) {
				if (pc->nlat == pc->cap_lat) {
					double *l = realloc(pc->lat_us, 2 * pc->cap_lat * sizeof(double));

					if (l) {
						pc->lat_us = l;
						pc->cap_lat *= 2;
					}
				}
				if (pc->nlat < pc->cap_lat)
					pc->lat_us[pc->nlat++] = now_us() - fault_t[idx];
				fault_t[idx] = 0;
			}
			pthread_mutex_unlock(&pc->lock);
		}
	}
	/* Every page is here. */
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
			 "%.0f us), %llu pages demanded, %llu pushed, %llu duplicates",
			 pc->st.postcopy_ms, (unsigned long long)pc->st.faults, pc->st.fault_p50_us,
			 pc->st.fault_p99_us, pc->st.fault_max_us,
			 (unsigned long long)pc->st.pages_demanded,
			 (unsigned long long)pc->st.pages_pushed,
			 (unsigned long long)pc->st.duplicates);
		pthread_mutex_unlock(&pc->lock);
		if (write(pc->urgent_fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			log_warn("post-copy: could not send the statistics to the source");
	}
out:
	free(fault_t);
	return NULL;
}

/* The bulk push: PAGES sections until END, installed in runs. */
static void *bulk_thread(void *arg)
{
	struct pc_dst *pc = arg;
	struct stream *s = pc->bulk;
	static _Thread_local uint8_t run[RUN_PAGES * MEM_PAGE_SIZE];
	uint8_t *run_dst = NULL;
	uint32_t run_n = 0, type;
	uint64_t pushed = 0, dups = 0;
	int r = 0;

#define FLUSH() do {								\
		if (run_n && r == 0) {						\
			int k = install(pc, run_dst, run, (uint64_t)run_n * MEM_PAGE_SIZE); \
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

			if (!dst) {
				stream_fail(s, -EINVAL, "page 0x%llx outside guest RAM",
					    (unsigned long long)gpa);
				break;
			}
			if (run_n && (run_n == RUN_PAGES || dst != run_dst + run_n * MEM_PAGE_SIZE ||
				      enc == PAGE_ZERO))
				FLUSH();
			if (enc == PAGE_ZERO) {
				int k = install(pc, dst, NULL, MEM_PAGE_SIZE);

				r = k < 0 ? k : 0;
				pushed += k == 0;
				dups += k > 0;
				continue;
			}
			if (!run_n)
				run_dst = dst;
			if (enc == PAGE_RAW) {
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
		fail(pc, s->err ? s->msg : "installing pushed pages", s->err ? -s->err : -r);
	else
		__atomic_store_n(&pc->bulk_done, 1, __ATOMIC_RELEASE);
#undef FLUSH
	return NULL;
}

int pc_dst_start_faults(struct pc_dst *pc)
{
	int r;

	pc->t0 = now_us();
	r = pthread_create(&pc->fault_thread, NULL, fault_thread, pc);
	if (r)
		return err_set(-r, "cannot start the post-copy fault thread: %s", strerror(r));
	pc->fault_started = 1;
	return 0;
}

int pc_dst_start_bulk(struct pc_dst *pc)
{
	int r = pthread_create(&pc->bulk_thread, NULL, bulk_thread, pc);

	if (r)
		return err_set(-r, "cannot start the post-copy bulk thread: %s", strerror(r));
	pc->bulk_started = 1;
	return 0;
}

void pc_dst_finish(struct pc_dst *pc)
{
	if (pc->fault_started || pc->bulk_started) {
		uint64_t one = 1;

		/* The VM may have ended before the last page: stop the threads. */
		if (write(pc->stop_fd, &one, 8) != 8) {
			/* cannot happen with an eventfd */
		}
		shutdown(pc->urgent_fd, SHUT_RDWR);
		if (pc->bulk_started && pc->bulk_fd >= 0)
			shutdown(pc->bulk_fd, SHUT_RDWR);
	}
	if (pc->fault_started)
		pthread_join(pc->fault_thread, NULL);
	if (pc->bulk_started)
		pthread_join(pc->bulk_thread, NULL);
	pc->fault_started = pc->bulk_started = 0;
	if (pc->uffd >= 0)
		close(pc->uffd);
	if (pc->stop_fd >= 0)
		close(pc->stop_fd);
	if (pc->urgent_fd >= 0)
		close(pc->urgent_fd);
	pc->uffd = pc->stop_fd = pc->urgent_fd = -1;
	free(pc->requested);
	free(pc->lat_us);
	pc->requested = NULL;
	pc->lat_us = NULL;
}
