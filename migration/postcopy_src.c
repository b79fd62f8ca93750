/* postcopy_src: the source half of post-copy (engine.h has the calls,
 * postcopy.h the wire formats). At the stun the destination learns which
 * pages to drop (DISCARD) and that the rest of RAM comes later (POSTCOPY);
 * once it runs the VM, the request thread answers its faults on the urgent
 * channel while this thread pushes every other page on the main one,
 * starting just past the last fault (pre-paging: guests touch memory in
 * runs). The set of pages the destination needed is kept in struct
 * migration, so that after a broken link pcs_resume() can reconnect, hear
 * which of them arrived, and send only the others. The source's RAM does
 * not change meanwhile: the VM here stays stunned until the end. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "../vmm/vm.h"
#include "engine.h"
#include "postcopy.h"
#include "proto.h"
#include "ram.h"
#include "tcp.h"

#define STATS_TIMEOUT_MS	10000	/* the statistics follow their header */
#define HAVE_TIMEOUT_MS		30000	/* the destination answers a resume */
#define CONFIRM_TIMEOUT_MS	60000	/* statistics after the last page */

/* The runs of pages the destination must drop and fetch anew (pages it got
 * in pre-copy rounds that changed since). A destination that got no page
 * yet has nothing to drop. */
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

/* One write of n pieces on the urgent channel (whole, or an error). */
static int urgent_writev(struct engine *e, const struct iovec *iov, int n)
{
	size_t len = 0;
	int r;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	pthread_mutex_lock(&e->urgent_lock);
	r = e->urgent_ft.t.ops->writev_all(&e->urgent_ft.t, iov, n) < 0 ? -EPIPE : 0;
	pthread_mutex_unlock(&e->urgent_lock);
	if (!r)
		__atomic_fetch_add(&e->urgent_bytes, len, __ATOMIC_RELAXED);
	return r;
}

/* Claim page idx for the urgent channel: its bit cleared, and its reply
 * (word + data, PAGE_RAW or PAGE_ZERO) in iov. Returns the pieces used, 0
 * if the page was no longer to send (unless force: a demanded page goes
 * again even if the push took it, as it may still be on the wire). */
static int claim(struct engine *e, uint64_t idx, uint64_t flags, int force, uint64_t *word,
		 struct iovec *iov)
{
	uint64_t bit = 1ULL << (idx % 64);
	const uint8_t *p = e->vm->mem.hva + idx * MEM_PAGE_SIZE;
	int zero;

	if (!(__atomic_fetch_and(&e->bitmap[idx / 64], ~bit, __ATOMIC_ACQ_REL) & bit) && !force)
		return 0;
	zero = ram_page_is_zero(p);
	*word = page_index_gpa(&e->vm->mem, idx) | (zero ? PAGE_ZERO : PAGE_RAW) | flags;
	iov[0] = (struct iovec){ word, 8 };
	if (zero)
		return 1;
	iov[1] = (struct iovec){ (void *)p, MEM_PAGE_SIZE };
	return 2;
}

static void take_stats(struct migration *m, const struct pc_stats *ps)
{
	pthread_mutex_lock(&m->lock);
	m->st.faults = ps->faults;
	m->st.pages_demanded = ps->pages_demanded;
	m->st.pages_prefetched = ps->pages_prefetched;
	m->st.pages_pushed = ps->pages_pushed;
	m->st.duplicates = ps->duplicates;
	m->st.fault_p50_us = ps->fault_p50_us;
	m->st.fault_p99_us = ps->fault_p99_us;
	m->st.fault_max_us = ps->fault_max_us;
	m->st.postcopy_ms = ps->postcopy_ms;
	pthread_mutex_unlock(&m->lock);
}

/* Faults in, pages out, claiming each in the bitmap so the push skips it
 * and moving the push's cursor just past it. Ends at the destination's
 * statistics (every page is there) or at a broken channel (req_err). */
static void *request_thread(void *arg)
{
	struct engine *e = arg;
	uint8_t msg[16];

	for (;;) {
		uint32_t kind, len;
		uint64_t gpa, idx, words[PC_PREFETCH + 1];
		struct iovec iov[2 * (PC_PREFETCH + 1)];
		const uint8_t *p;
		int n, j;
		struct pollfd pf = { e->urgent_fd, POLLIN, 0 };
		int k = poll(&pf, 1, 1000);

		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0) {
			/* Requests may pause for long; the confirmation after
			 * the last page may not. */
			uint64_t t = __atomic_load_n(&e->push_done_ms, __ATOMIC_ACQUIRE);

			if (t && now_ms() - (double)t > CONFIRM_TIMEOUT_MS) {
				e->req_err = -ETIMEDOUT;
				break;
			}
			continue;
		}
		if (fd_read_timed(e->urgent_fd, msg, 16, STATS_TIMEOUT_MS) < 0) {
			e->req_err = -EPIPE;
			break;
		}
		memcpy(&kind, msg, 4);
		memcpy(&len, msg + 4, 4);
		memcpy(&gpa, msg + 8, 8);
		if (kind == PC_REQ_STATS) {
			struct pc_stats ps;

			if (len != sizeof(ps) ||
			    fd_read_timed(e->urgent_fd, &ps, sizeof(ps), STATS_TIMEOUT_MS) < 0) {
				e->req_err = -EPROTO;
				break;
			}
			take_stats(e->m, &ps);
			break;
		}
		p = kind == PC_REQ_PAGE ? mem_hva(&e->vm->mem, gpa, MEM_PAGE_SIZE) : NULL;
		if (!p || (gpa & (MEM_PAGE_SIZE - 1))) {
			e->req_err = -EPROTO;
			break;
		}
		/* The page, then the next ones the push has not taken
		 * (pre-paging: a guest that touched this page will likely
		 * touch those next, before a bulk batch could bring them). */
		idx = page_index_hva(&e->vm->mem, p);
		n = claim(e, idx, 0, 1, &words[0], iov);
		for (j = 1; j <= PC_PREFETCH && idx + (uint64_t)j < e->npages; j++) {
			int c = claim(e, idx + (uint64_t)j, PC_PREFETCHED, 0, &words[j], iov + n);

			if (!c)
				break;
			n += c;
		}
		__atomic_store_n(&e->hint, idx + (uint64_t)j, __ATOMIC_RELEASE);
		if (urgent_writev(e, iov, n) < 0) {
			e->req_err = -EPIPE;
			break;
		}
	}
	return NULL;
}

static int start_requests(struct engine *e)
{
	int r = pthread_create(&e->req_thread, NULL, request_thread, e);

	if (r)
		return stream_fail(&e->s, -r, "cannot start the post-copy request thread");
	pthread_setname_np(e->req_thread, "pc-requests");
	e->req_started = 1;
	return 0;
}

/* The background push of every page not yet sent, from the cursor on. */
static int push(struct engine *e)
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
			engine_update(e, 0);
		}
	}
	page_flush(&e->w);
	stream_begin(&e->s, SEC_END, 0);
	stream_end(&e->s);
	if (e->s.err)
		return e->s.err;
	/* The push is complete: say so on the urgent channel too. */
	if (urgent_writev(e, &(struct iovec){ &last, 8 }, 1) < 0)
		return stream_fail(&e->s, -EPIPE, "the urgent channel broke");
	__atomic_store_n(&e->push_done_ms, (uint64_t)now_ms(), __ATOMIC_RELEASE);
	return 0;
}

int pcs_connect_urgent(struct engine *e)
{
	e->urgent_fd = tcp_connect(e->m->p.to, 10000);
	if (e->urgent_fd < 0)
		return stream_fail(&e->s, e->urgent_fd, "urgent channel: %s", err_msg());
	fd_transport_init(&e->urgent_ft, e->urgent_fd);
	if (e->urgent_ft.t.ops->write_all(&e->urgent_ft.t, PC_URGENT_HELLO, 8) < 0)
		return stream_fail(&e->s, -EPIPE, "urgent channel: cannot write");
	return 0;
}

/* Right after the stun, before the vCPU state goes: the pages KVM will touch
 * on the destination as soon as that state is loaded (it writes the wall
 * clock and maps the kvmclock page when their MSRs are set), pushed on the
 * urgent channel so that loading the state, inside the downtime, does not
 * wait on a fault's round trip. */
static int presend_kvm_pages(struct engine *e)
{
	uint64_t gpa[64], word[64];
	struct iovec iov[128];
	int n = vm_kvm_pages(e->vm, gpa, 64), k = 0;

	for (int i = 0; i < n; i++) {
		const uint8_t *p = mem_hva(&e->vm->mem, gpa[i], MEM_PAGE_SIZE);

		/* An address outside RAM is the guest's own mistake: KVM will
		 * not touch RAM for it, and there is nothing to send. */
		if (p)
			k += claim(e, page_index_hva(&e->vm->mem, p), PC_PREFETCHED, 0, &word[i],
				   &iov[k]);
	}
	if (k && urgent_writev(e, iov, k) < 0)
		return stream_fail(&e->s, -EPIPE, "the urgent channel broke");
	return 0;
}

int pcs_switch(struct engine *e)
{
	struct migration *m = e->m;
	size_t bytes = (e->npages + 63) / 64 * 8;
	uint64_t *keep = malloc(bytes);

	if (!keep)
		return stream_fail(&e->s, -ENOMEM, "out of memory for the post-copy page set");
	memcpy(keep, e->bitmap, bytes);
	pthread_mutex_lock(&m->lock);
	free(m->pc_set);
	m->pc_set = keep;
	pthread_mutex_unlock(&m->lock);
	/* The destination drops what it holds of these pages; they come on
	 * demand or in the push after it runs. */
	if (!e->pc_announced) {
		if (send_discard(e) < 0)
			return e->s.err;
		stream_begin(&e->s, SEC_POSTCOPY, 0);
		if (stream_end(&e->s) < 0)
			return e->s.err;
	}
	if (presend_kvm_pages(e) < 0)
		return e->s.err;
	/* Serve faults from here on: loading the vCPU state on the
	 * destination may touch other guest pages too. */
	return start_requests(e);
}

int pcs_run(struct engine *e)
{
	int r = push(e);

	if (r < 0)	/* the request thread may wait on a dead link: wake it */
		shutdown(e->urgent_fd, SHUT_RDWR);
	pthread_join(e->req_thread, NULL);
	e->req_started = 0;
	if (r == 0 && e->req_err)
		r = stream_fail(&e->s, e->req_err, "%s", e->req_err == -ETIMEDOUT ?
				"the destination did not confirm every page within 60 s of the "
				"last one" : "the urgent channel broke before the destination "
				"confirmed every page");
	return r;
}

/* Read the destination's answer to a resume: which pages it holds. Leaves
 * in e->bitmap the pages still to send; *complete when it needs none (it
 * got everything and the confirmation was lost: its statistics come too). */
static int read_have(struct engine *e, int *complete)
{
	struct migration *m = e->m;
	struct stream in;
	uint32_t type, flags;
	uint64_t n, words = (e->npages + 63) / 64;

	stream_init(&in, &e->ft.t);
	*complete = 0;
	if (stream_read_header(&in) == 0 && stream_next(&in, &type, NULL, NULL) == 0 &&
	    type != SEC_HAVE)
		stream_fail(&in, -EPROTO, "section %u instead of the list of pages it holds", type);
	flags = stream_get_u32(&in);
	n = stream_get_u64(&in);
	if (!in.err && n != e->npages)
		stream_fail(&in, -EPROTO, "it has %llu pages of guest RAM, this VM %llu",
			    (unsigned long long)n, (unsigned long long)e->npages);
	if (!in.err && (flags & HAVE_COMPLETE)) {
		struct pc_stats ps;

		stream_get_bytes(&in, &ps, sizeof(ps));
		if (!in.err) {
			take_stats(m, &ps);
			*complete = 1;
		}
	} else {
		for (uint64_t w = 0; w < words && !in.err; w++)
			e->bitmap[w] = m->pc_set[w] & ~stream_get_u64(&in);
	}
	if (in.err)
		stream_fail(&e->s, in.err, "resume: the destination's answer: %s", in.msg);
	stream_free(&in);
	return e->s.err;
}

int pcs_resume(struct engine *e)
{
	struct migration *m = e->m;
	uint64_t left = 0;
	uint8_t hello[16];
	int fd, complete;

	fd = tcp_connect(m->p.to, 10000);
	if (fd < 0)
		return stream_fail(&e->s, fd, "%s", err_msg());
	tcp_set_timeouts(fd, SEND_TIMEOUT_MS, HAVE_TIMEOUT_MS);
	pthread_mutex_lock(&m->lock);
	m->fd = fd;
	pthread_mutex_unlock(&m->lock);
	fd_transport_init(&e->ft, fd);
	e->s.t = &e->ft.t;
	memcpy(hello, PC_RESUME_HELLO, 8);
	memcpy(hello + 8, &e->npages, 8);
	if (e->ft.t.ops->write_all(&e->ft.t, hello, 16) < 0)
		return stream_fail(&e->s, -EPIPE, "resume: cannot write to the destination");
	if (pcs_connect_urgent(e) < 0 || read_have(e, &complete) < 0)
		return e->s.err;
	if (complete) {
		log_info("resume: the destination already had every page");
		return 0;
	}
	for (uint64_t w = 0; w < (e->npages + 63) / 64; w++)
		left += (uint64_t)__builtin_popcountll(e->bitmap[w]);
	log_info("resume: the destination lacks %llu pages; sending them",
		 (unsigned long long)left);
	pthread_mutex_lock(&m->lock);
	m->st.state = MIG_POSTCOPY_ACTIVE;
	m->st.resumes++;
	snprintf(m->st.msg, sizeof(m->st.msg), "resumed post-copy (%u time%s): %llu pages were "
		 "still missing", m->st.resumes, m->st.resumes == 1 ? "" : "s",
		 (unsigned long long)left);
	pthread_mutex_unlock(&m->lock);
	if (stream_write_header(&e->s) < 0 || start_requests(e) < 0)
		return e->s.err;
	return pcs_run(e);
}
