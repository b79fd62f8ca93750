/* migrate: the source side of live migration (see migrate.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "../vmm/dirty.h"
#include "../vmm/err.h"
#include "../vmm/vm.h"
#include "migrate.h"
#include "postcopy.h"
#include "proto.h"
#include "tcp.h"

#define SEND_TIMEOUT_MS		15000	/* no progress sending: the link is gone */
#define ACK_TIMEOUT_MS		120000	/* the destination loads the state */
#define RUN_TIMEOUT_MS		30000	/* the destination resumes the VM */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void mig_params_default(struct mig_params *p)
{
	memset(p, 0, sizeof(*p));
	p->strategy = MIG_PRECOPY;
	p->downtime_ms = 300;
	p->compress = COMPRESS_LZ4;
	p->max_iterations = 30;
	p->auto_converge = 1;
}

int mig_parse_strategy(const char *s, enum mig_strategy *out)
{
	if (!strcmp(s, "stop-copy") || !strcmp(s, "stop-and-copy"))
		*out = MIG_STOP_COPY;
	else if (!strcmp(s, "precopy") || !strcmp(s, "pre-copy"))
		*out = MIG_PRECOPY;
	else if (!strcmp(s, "postcopy") || !strcmp(s, "post-copy"))
		*out = MIG_POSTCOPY;
	else if (!strcmp(s, "hybrid"))
		*out = MIG_HYBRID;
	else
		return err_set(-EINVAL, "unknown strategy '%s' (stop-copy, precopy, postcopy, hybrid)",
			       s);
	return 0;
}

int mig_parse_compress(const char *s, enum compress_mode *out)
{
	if (!strcmp(s, "lz4"))
		*out = COMPRESS_LZ4;
	else if (!strcmp(s, "none"))
		*out = COMPRESS_NONE;
	else
		return err_set(-EINVAL, "unknown compression '%s' (lz4, none)", s);
	return 0;
}

const char *mig_strategy_name(enum mig_strategy s)
{
	static const char *const names[] = { "stop-copy", "precopy", "postcopy", "hybrid" };

	return s <= MIG_HYBRID ? names[s] : "?";
}

const char *mig_state_name(enum mig_state s)
{
	static const char *const names[] = { "none", "setup", "active", "switchover", "postcopy",
					     "completed", "failed", "cancelled", "unknown" };

	return s <= MIG_UNKNOWN ? names[s] : "?";
}

/* Engine state, private to the migration thread. */
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
	int stunned, throttled;
	int postcopy;		/* switch over to post-copy */
	/* post-copy: the urgent channel, its writer lock, the request thread */
	int urgent_fd;
	pthread_mutex_t urgent_lock;
	pthread_t req_thread;
	uint64_t hint;		/* atomic: push from here next (after a fault) */
	int req_err;
	int req_started;
};

static int cancelled(struct engine *e)
{
	return __atomic_load_n(&e->m->cancel, __ATOMIC_ACQUIRE);
}

static void update(struct engine *e, uint64_t remaining)
{
	struct mig_status *st = &e->m->st;

	pthread_mutex_lock(&e->m->lock);
	st->pages_sent = e->w.st.pages - e->w.st.zero_pages;
	st->zero_pages = e->w.st.zero_pages;
	st->lz4_pages = e->w.st.lz4_pages;
	st->raw_pages = e->w.st.raw_pages;
	st->bytes_sent = e->s.bytes;
	st->remaining = remaining;
	st->compress_switches = e->w.st.compress_switches;
	st->total_ms = now_ms() - e->t0;
	pthread_mutex_unlock(&e->m->lock);
}

/* Send every page whose bit is set, clearing the bits. */
static int send_bitmap(struct engine *e, uint64_t count)
{
	uint64_t words = (e->npages + 63) / 64, left = count;

	for (uint64_t w = 0; w < words; w++) {
		uint64_t v = e->bitmap[w];

		e->bitmap[w] = 0;
		while (v) {
			uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(v);

			v &= v - 1;
			if (page_write(&e->w, i) < 0)
				return e->s.err;
			left--;
			if (e->w.n == 0) {	/* a batch just went out */
				if (cancelled(e))
					return stream_fail(&e->s, -ECANCELED, "cancelled");
				update(e, left);
				if (e->m->p.strategy == MIG_HYBRID && !e->stunned &&
				    __atomic_load_n(&e->m->postcopy_req, __ATOMIC_ACQUIRE)) {
					e->bitmap[w] |= v;	/* the rest: post-copy */
					e->postcopy = 1;
					pthread_mutex_lock(&e->m->lock);
					snprintf(e->m->st.msg, sizeof(e->m->st.msg),
						 "asked to switch in round %u: post-copy for the "
						 "%llu pages not sent yet", e->m->st.iteration + 1,
						 (unsigned long long)left);
					pthread_mutex_unlock(&e->m->lock);
					return 0;
				}
			}
		}
	}
	page_flush(&e->w);
	update(e, 0);
	return e->s.err;
}

static uint64_t count_bits(const uint64_t *b, uint64_t npages)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < (npages + 63) / 64; w++)
		n += (uint64_t)__builtin_popcountll(b[w]);
	return n;
}

static void set_all(struct engine *e)
{
	uint64_t words = (e->npages + 63) / 64;

	memset(e->bitmap, 0xff, words * 8);
	if (e->npages % 64)
		e->bitmap[words - 1] = (1ULL << (e->npages % 64)) - 1;
}

/* Pre-copy rounds while the guest runs. */
static int precopy(struct engine *e)
{
	struct migration *m = e->m;
	uint64_t dirty = e->npages, prev_dirty = ~0ULL, n;
	double bw = 0, t_sync = now_ms(), bytes_per_page = MEM_PAGE_SIZE;
	int r, stuck = 0;

	r = dirty_start(&e->dl, &e->vm->mem, e->vm->fd);
	if (r < 0)
		return stream_fail(&e->s, r, "%s", err_msg());
	set_all(e);
	/* With the log initially set this drains KVM's all-ones start. */
	if ((r = dirty_sync(&e->dl, e->bitmap, &n)) < 0)
		return stream_fail(&e->s, r, "%s", err_msg());
	pthread_mutex_lock(&m->lock);
	m->st.state = MIG_ACTIVE;
	pthread_mutex_unlock(&m->lock);
	for (uint32_t round = 0;; round++) {
		double t = now_ms(), ms;
		uint64_t b0 = e->s.bytes, p0 = e->w.st.pages;

		if (send_bitmap(e, dirty) < 0)
			return e->s.err;
		if (e->postcopy)
			return 0;	/* asked to switch: the bitmap holds the rest */
		ms = now_ms() - t;
		/* Bandwidth from rounds big enough to measure. */
		if (e->w.st.pages - p0 >= 64 && ms > 0.5) {
			bw = (double)(e->s.bytes - b0) / ms;		/* bytes per ms */
			bytes_per_page = (double)(e->s.bytes - b0) / (double)(e->w.st.pages - p0);
		}
		t = now_ms();
		if ((r = dirty_sync(&e->dl, e->bitmap, &n)) < 0)
			return stream_fail(&e->s, r, "%s", err_msg());
		dirty = count_bits(e->bitmap, e->npages);
		pthread_mutex_lock(&m->lock);
		m->st.iteration = round + 1;
		m->st.dirty_pages = dirty;
		m->st.dirty_rate_mbps = t > t_sync ? n * MEM_PAGE_SIZE * 8 / 1e3 / (t - t_sync) : 0;
		m->st.bandwidth_mbps = bw * 8 / 1e3;
		m->st.expected_downtime_ms = bw > 0 ? dirty * bytes_per_page / bw : 0;
		pthread_mutex_unlock(&m->lock);
		t_sync = t;
		/* Under the target: switch over, unless another round is cheap
		 * and still shrinks the set by a fifth - each such round cuts the
		 * downtime further for little total time. */
		if (bw > 0 && dirty * bytes_per_page / bw <= m->p.downtime_ms) {
			if (!(prev_dirty != ~0ULL && dirty * 5 < prev_dirty * 4 && dirty > 16 &&
			      round + 1 < m->p.max_iterations)) {
				pthread_mutex_lock(&m->lock);
				m->st.converged = 1;
				pthread_mutex_unlock(&m->lock);
				return 0;
			}
			prev_dirty = dirty;
			continue;
		}
		stuck = prev_dirty != ~0ULL && dirty * 10 > prev_dirty * 9 ? stuck + 1 : 0;
		/* Hybrid: what pre-copy cannot finish, post-copy does. */
		if (m->p.strategy == MIG_HYBRID &&
		    (stuck >= 2 || round + 1 >= m->p.max_iterations ||
		     __atomic_load_n(&m->postcopy_req, __ATOMIC_ACQUIRE))) {
			pthread_mutex_lock(&m->lock);
			snprintf(m->st.msg, sizeof(m->st.msg), "%s after %u rounds: post-copy for "
				 "the last %llu dirty pages",
				 __atomic_load_n(&m->postcopy_req, __ATOMIC_ACQUIRE) ? "asked to switch" :
				 stuck >= 2 ? "pre-copy stopped converging" : "round limit reached",
				 round + 1, (unsigned long long)dirty);
			pthread_mutex_unlock(&m->lock);
			e->postcopy = 1;
			return 0;
		}
		if (round + 1 >= m->p.max_iterations) {
			pthread_mutex_lock(&m->lock);
			snprintf(m->st.msg, sizeof(m->st.msg),
				 "did not converge in %u rounds (%llu pages dirty, expected "
				 "downtime %.0f ms > %u ms); switched over anyway",
				 m->p.max_iterations, (unsigned long long)dirty,
				 m->st.expected_downtime_ms, m->p.downtime_ms);
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
		/* Not shrinking by a tenth for two rounds: slow the guest down. */
		if (m->p.auto_converge && stuck >= 2) {
			int pct = e->throttled ? e->vm->throttle_pct + 10 : 20;

			vm_set_throttle(e->vm, pct);
			e->throttled = 1;
			stuck = 0;
			pthread_mutex_lock(&m->lock);
			m->st.throttle_pct = e->vm->throttle_pct;
			pthread_mutex_unlock(&m->lock);
		}
		prev_dirty = dirty;
	}
}

/* Read exactly n bytes within timeout_ms; 0 or -errno. */
static int read_reply(int fd, void *buf, size_t n, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - now_ms()), r;
		ssize_t k;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return k == 0 ? -EPIPE : -errno;
		got += (size_t)k;
	}
	return 0;
}

/* Post-copy: the runs of pages the destination must drop and fetch anew
 * (pages it got in pre-copy rounds that changed since). A destination that
 * got no page yet has nothing to drop. */
static int send_discard(struct engine *e)
{
	uint64_t i = 0, n = 0;

	if (e->w.st.pages == 0)
		return 0;
	stream_begin(&e->s, SEC_DISCARD, 0);
	stream_put_u32(&e->s, 0);
	while (i < e->npages && !e->s.err) {
		uint64_t start;

		/* whole empty words at a time */
		while (i < e->npages && !(i % 64) && !e->bitmap[i / 64])
			i += 64;
		while (i < e->npages && !bitmap_test(e->bitmap, i))
			i++;
		if (i >= e->npages)
			break;
		start = i;
		while (i < e->npages && !(i % 64) && e->bitmap[i / 64] == ~0ULL)
			i += 64;
		while (i < e->npages && bitmap_test(e->bitmap, i))
			i++;
		if (i > e->npages)
			i = e->npages;
		stream_put_u64(&e->s, start);
		stream_put_u64(&e->s, i - start);
		if (++n == 65536) {	/* 1 MiB sections */
			stream_patch_u32(&e->s, 0, (uint32_t)n);
			stream_end(&e->s);
			stream_begin(&e->s, SEC_DISCARD, 0);
			stream_put_u32(&e->s, 0);
			n = 0;
		}
	}
	stream_patch_u32(&e->s, 0, (uint32_t)n);
	return stream_end(&e->s);
}

/* Post-copy, source side: the request thread reads the destination's
 * faults from the urgent channel and answers each at once with the page,
 * claiming it in the bitmap so the push skips it, and moves the push's
 * cursor just past it (pre-paging: guests touch memory in runs). */
static int urgent_write(struct engine *e, const void *p, size_t n, const void *p2, size_t n2)
{
	int r = 0;

	pthread_mutex_lock(&e->urgent_lock);
	if (write(e->urgent_fd, p, n) != (ssize_t)n || (n2 && write(e->urgent_fd, p2, n2) != (ssize_t)n2))
		r = -EPIPE;
	pthread_mutex_unlock(&e->urgent_lock);
	return r;
}

static void *request_thread(void *arg)
{
	struct engine *e = arg;
	struct migration *m = e->m;
	uint8_t msg[16];

	for (;;) {
		uint32_t kind, len;
		uint64_t gpa, idx, word;
		const uint8_t *p;

		if (read_reply(e->urgent_fd, msg, 16, 24 * 3600 * 1000) < 0) {
			e->req_err = -EPIPE;
			break;
		}
		memcpy(&kind, msg, 4);
		memcpy(&len, msg + 4, 4);
		memcpy(&gpa, msg + 8, 8);
		if (kind == PC_REQ_STATS) {
			struct pc_stats ps;

			if (len != sizeof(ps) || read_reply(e->urgent_fd, &ps, sizeof(ps), 10000) < 0) {
				e->req_err = -EPROTO;
				break;
			}
			pthread_mutex_lock(&m->lock);
			m->st.faults = ps.faults;
			m->st.pages_demanded = ps.pages_demanded;
			m->st.pages_pushed = ps.pages_pushed;
			m->st.duplicates = ps.duplicates;
			m->st.fault_p50_us = ps.fault_p50_us;
			m->st.fault_p99_us = ps.fault_p99_us;
			m->st.fault_max_us = ps.fault_max_us;
			m->st.postcopy_ms = ps.postcopy_ms;
			pthread_mutex_unlock(&m->lock);
			break;
		}
		p = kind == PC_REQ_PAGE ? mem_hva(&e->vm->mem, gpa, MEM_PAGE_SIZE) : NULL;
		if (!p || (gpa & (MEM_PAGE_SIZE - 1))) {
			e->req_err = -EPROTO;
			break;
		}
		idx = (uint64_t)(p - e->vm->mem.hva) / MEM_PAGE_SIZE;
		__atomic_fetch_and(&e->bitmap[idx / 64], ~(1ULL << (idx % 64)), __ATOMIC_ACQ_REL);
		__atomic_store_n(&e->hint, idx + 1, __ATOMIC_RELEASE);
		word = gpa | (ram_page_is_zero(p) ? PAGE_ZERO : PAGE_RAW);
		if (urgent_write(e, &word, 8, (word & PAGE_RAW) ? p : NULL,
				 (word & PAGE_RAW) ? MEM_PAGE_SIZE : 0) < 0) {
			e->req_err = -EPIPE;
			break;
		}
	}
	return NULL;
}

/* The background push of every page not yet sent, from the cursor on. */
static int postcopy_push(struct engine *e)
{
	uint64_t words = (e->npages + 63) / 64, w = 0, empty = 0, last = PC_LAST_REPLY;

	while (empty < words && !e->s.err) {
		uint64_t v = __atomic_exchange_n(&e->bitmap[w], 0, __ATOMIC_ACQ_REL), h;


		empty = v ? 0 : empty + 1;
		while (v) {
			page_write(&e->w, w * 64 + (uint64_t)__builtin_ctzll(v));
			v &= v - 1;
		}
		w = (w + 1) % words;
		/* After each batch: jump to just past the last fault. */
		if (e->w.n == 0) {
			h = __atomic_exchange_n(&e->hint, ~0ULL, __ATOMIC_ACQ_REL);
			if (h < e->npages) {
				w = h / 64;
				empty = 0;
			}
			update(e, 0);
		}
	}
	page_flush(&e->w);
	stream_begin(&e->s, SEC_END, 0);
	stream_end(&e->s);
	if (e->s.err)
		return e->s.err;
	/* The push is complete: say so on the urgent channel too. */
	if (urgent_write(e, &last, 8, NULL, 0) < 0)
		return stream_fail(&e->s, -EPIPE, "the urgent channel broke");
	return 0;
}

/* Stun, last pages, state, END, "OK"/"GO". Returns 0 once "GO" is sent. */
static int switchover(struct engine *e)
{
	struct migration *m = e->m;
	struct mem_transport mt;
	struct stream ms;
	uint64_t n = 0;
	char ok[2];
	int r;

	pthread_mutex_lock(&m->lock);
	m->st.state = MIG_SWITCHOVER;
	pthread_mutex_unlock(&m->lock);
	/* The device state is captured into memory on the I/O thread while
	 * the VM is stunned, then sent from here. */
	mem_transport_init(&mt, NULL, 0);
	stream_init(&ms, &mt.t);
	e->t_stun = now_ms();
	r = m->host->stun(m->host, &ms);
	if (r < 0) {
		stream_fail(&e->s, r, "cannot stun the VM: %s", ms.err ? ms.msg : err_msg());
		goto out;
	}
	e->stunned = 1;
	if (e->dl.on) {
		if ((r = dirty_sync(&e->dl, e->bitmap, &n)) < 0) {
			stream_fail(&e->s, r, "%s", err_msg());
			goto out;
		}
	} else {
		set_all(e);
	}
	if (e->postcopy) {
		/* The destination drops what it holds of these pages; they
		 * come on demand or in the push after it runs. */
		if (send_discard(e) < 0)
			goto out;
		stream_begin(&e->s, SEC_POSTCOPY, 0);
		if (stream_end(&e->s) < 0)
			goto out;
		/* Serve faults from here on: loading the vCPU state on the
		 * destination already touches guest pages. */
		r = pthread_create(&e->req_thread, NULL, request_thread, e);
		if (r) {
			stream_fail(&e->s, -r, "cannot start the post-copy request thread");
			goto out;
		}
		e->req_started = 1;
	} else if (send_bitmap(e, count_bits(e->bitmap, e->npages)) < 0) {
		goto out;
	}
	if (e->s.t->ops->write_all(e->s.t, mt.data, mt.len) < 0) {
		stream_fail(&e->s, -EPIPE, "the connection broke sending the device state");
		goto out;
	}
	e->s.bytes += mt.len;
	stream_begin(&e->s, SEC_END, 0);
	if (stream_end(&e->s) < 0)
		goto out;
	update(e, 0);
	r = read_reply(e->ft.fd, ok, 2, ACK_TIMEOUT_MS);
	if (r < 0 || memcmp(ok, "OK", 2)) {
		stream_fail(&e->s, r < 0 ? r : -EPROTO, "the destination did not accept the VM (%s)",
			    r == -EPIPE ? "it closed the connection: see its log" :
			    r < 0 ? strerror(-r) : "bad reply");
		goto out;
	}
	pthread_mutex_lock(&m->lock);
	if (m->cancel) {
		pthread_mutex_unlock(&m->lock);
		stream_fail(&e->s, -ECANCELED, "cancelled");
		goto out;
	}
	m->committed = 1;
	pthread_mutex_unlock(&m->lock);
	if (e->s.t->ops->write_all(e->s.t, "GO", 2) < 0)
		/* Unknowable whether it arrived: handled as committed below. */
		stream_fail(&e->s, -EPIPE, "the connection broke sending GO");
out:
	stream_free(&ms);
	mem_transport_free(&mt);
	return e->s.err;
}

/* The whole migration; returns 0 when the destination runs the VM. */
static int migrate(struct engine *e)
{
	struct migration *m = e->m;
	char rn[10];
	uint64_t ns;
	int fd, r;

	fd = tcp_connect(m->p.to, 10000);
	if (fd < 0)
		return stream_fail(&e->s, fd, "%s", err_msg());
	tcp_set_timeouts(fd, SEND_TIMEOUT_MS, 0);
	pthread_mutex_lock(&m->lock);
	m->fd = fd;
	if (m->cancel)
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&m->lock);
	fd_transport_init(&e->ft, fd);
	e->s.t = &e->ft.t;
	stream_write_header(&e->s);
	snapshot_put_config(&e->s, &m->host->cfg);
	pthread_mutex_lock(&m->lock);
	m->st.setup_ms = now_ms() - e->t0;
	pthread_mutex_unlock(&m->lock);
	if (e->s.err)
		return e->s.err;
	if (m->p.strategy == MIG_POSTCOPY || m->p.strategy == MIG_HYBRID) {
		/* The urgent channel: a second connection to the same listener. */
		e->urgent_fd = tcp_connect(m->p.to, 10000);
		if (e->urgent_fd < 0)
			return stream_fail(&e->s, e->urgent_fd, "urgent channel: %s", err_msg());
		if (write(e->urgent_fd, PC_URGENT_HELLO, 8) != 8)
			return stream_fail(&e->s, -EPIPE, "urgent channel: cannot write");
	}
	if (m->p.strategy == MIG_POSTCOPY) {
		e->postcopy = 1;
		set_all(e);
	} else if ((m->p.strategy == MIG_PRECOPY || m->p.strategy == MIG_HYBRID) &&
		   precopy(e) < 0) {
		return e->s.err;
	}
	if (switchover(e) < 0)
		return e->s.err;
	r = read_reply(fd, rn, sizeof(rn), RUN_TIMEOUT_MS);
	if (r < 0 || memcmp(rn, "RN", 2))
		return stream_fail(&e->s, r < 0 ? r : -EPROTO, "no word from the destination after "
				   "the hand-over (%s)", r < 0 ? strerror(-r) : "bad reply");
	memcpy(&ns, rn + 2, 8);
	/* Both VMMs read CLOCK_MONOTONIC of one machine (namespaces share it). */
	pthread_mutex_lock(&m->lock);
	m->st.downtime_ms = (double)ns / 1e6 - e->t_stun;
	m->st.stun_ms = now_ms() - e->t_stun;
	if (e->postcopy) {
		m->st.state = MIG_POSTCOPY_ACTIVE;
		m->st.postcopy = 1;
	}
	pthread_mutex_unlock(&m->lock);
	if (!e->postcopy)
		return 0;
	/* The destination runs the VM: push the rest while faults are served. */
	r = postcopy_push(e);
	if (r < 0)	/* the request thread may wait on a dead link: wake it */
		shutdown(e->urgent_fd, SHUT_RDWR);
	pthread_join(e->req_thread, NULL);
	e->req_started = 0;
	if (r == 0 && e->req_err)
		r = stream_fail(&e->s, e->req_err, "the urgent channel broke before the "
				"destination confirmed every page");
	return r;
}

static void *mig_thread(void *arg)
{
	struct migration *m = arg;
	struct engine e = { .m = m, .vm = m->host->vm };
	int r = 0, committed;

	e.t0 = now_ms();
	e.npages = e.vm->mem.size / MEM_PAGE_SIZE;
	e.urgent_fd = -1;
	e.hint = ~0ULL;
	pthread_mutex_init(&e.urgent_lock, NULL);
	fd_transport_init(&e.ft, -1);
	stream_init(&e.s, &e.ft.t);
	e.bitmap = calloc((e.npages + 63) / 64, 8);
	if (!e.bitmap)
		r = stream_fail(&e.s, -ENOMEM, "out of memory for the page bitmap");
	else if (page_writer_init(&e.w, &e.s, &e.vm->mem, m->p.compress, m->p.max_bw) < 0)
		r = stream_fail(&e.s, -ENOMEM, "out of memory for the page writer");
	if (!r)
		r = migrate(&e);
	/* Tracking and throttling end whatever happened. */
	dirty_stop(&e.dl);
	if (e.throttled)
		vm_set_throttle(e.vm, 0);
	update(&e, 0);
	pthread_mutex_lock(&m->lock);
	committed = m->committed;
	m->st.total_ms = now_ms() - e.t0;
	if (!r) {
		m->st.state = MIG_COMPLETED;
	} else if (committed && e.postcopy && m->st.state == MIG_POSTCOPY_ACTIVE) {
		m->st.state = MIG_UNKNOWN;
		snprintf(m->st.msg, sizeof(m->st.msg), "post-copy broke: %s; the destination runs "
			 "the VM but may lack pages that only this VMM holds: it keeps them, "
			 "stunned, and does not exit", e.s.msg);
	} else if (committed) {
		m->st.state = MIG_UNKNOWN;
		snprintf(m->st.msg, sizeof(m->st.msg), "%s; the VM stays stunned here with all its "
			 "state: if the destination does not run it, `vmm ctl resume` resumes it "
			 "here", e.s.msg);
	} else {
		m->st.state = m->cancel ? MIG_CANCELLED : MIG_FAILED;
		snprintf(m->st.msg, sizeof(m->st.msg), "%s%s%s; the VM keeps running here",
			 m->cancel ? "" : m->p.to, m->cancel ? "" : ": ",
			 m->cancel ? "migration cancelled" : e.s.msg);
	}
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	pthread_mutex_unlock(&m->lock);
	if (r && !committed && e.stunned)
		m->host->resume(m->host);
	if (e.req_started) {
		shutdown(e.urgent_fd, SHUT_RDWR);
		pthread_join(e.req_thread, NULL);
	}
	if (e.urgent_fd >= 0)
		close(e.urgent_fd);
	page_writer_free(&e.w);
	free(e.bitmap);
	e.s.t = NULL;
	stream_free(&e.s);
	if (!r)
		m->host->handed_over(m->host);
	return NULL;
}

int mig_start(struct migration *m, const struct mig_params *p, struct mig_host *host)
{
	int r;

	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->p = *p;
	m->host = host;
	m->fd = -1;
	m->st.state = MIG_SETUP;
	m->st.strategy = p->strategy;
	m->st.ram_pages = host->vm->mem.size / MEM_PAGE_SIZE;
	r = pthread_create(&m->thread, NULL, mig_thread, m);
	if (r)
		return err_set(-r, "cannot start the migration thread: %s", strerror(r));
	m->thread_started = 1;
	return 0;
}

void mig_status(struct migration *m, struct mig_status *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->st;
	pthread_mutex_unlock(&m->lock);
}

int mig_cancel(struct migration *m)
{
	int r = 0;

	pthread_mutex_lock(&m->lock);
	if (m->committed || m->st.state >= MIG_COMPLETED) {
		r = err_set(-EBUSY, "too late to cancel: the migration is %s",
			    m->committed && m->st.state < MIG_COMPLETED ? "handing over" :
			    mig_state_name(m->st.state));
	} else {
		__atomic_store_n(&m->cancel, 1, __ATOMIC_RELEASE);
		if (m->fd >= 0)
			shutdown(m->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int mig_postcopy_now(struct migration *m)
{
	if (m->p.strategy != MIG_HYBRID)
		return err_set(-EINVAL, "only a hybrid migration switches to post-copy (this one is "
			       "%s)", mig_strategy_name(m->p.strategy));
	__atomic_store_n(&m->postcopy_req, 1, __ATOMIC_RELEASE);
	return 0;
}

int mig_running(struct migration *m)
{
	int r;

	pthread_mutex_lock(&m->lock);
	r = m->thread_started && m->st.state < MIG_COMPLETED;
	pthread_mutex_unlock(&m->lock);
	return r;
}

void mig_join(struct migration *m)
{
	if (m->thread_started)
		pthread_join(m->thread, NULL);
	m->thread_started = 0;
}
