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
#include "engine.h"
#include "migrate.h"
#include "policy.h"
#include "proto.h"
#include "resident.h"
#include "tcp.h"

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
					     "completed", "failed", "cancelled", "unknown",
					     "postcopy-paused" };

	return s <= MIG_POSTCOPY_PAUSED ? names[s] : "?";
}

static int cancelled(struct engine *e)
{
	return __atomic_load_n(&e->m->cancel, __ATOMIC_ACQUIRE);
}

void engine_update(struct engine *e, uint64_t remaining)
{
	struct mig_status *st = &e->m->st;

	pthread_mutex_lock(&e->m->lock);
	st->pages_sent = e->w.st.pages - e->w.st.zero_pages;
	st->zero_pages = e->w.st.zero_pages;
	st->lz4_pages = e->w.st.lz4_pages;
	st->raw_pages = e->w.st.raw_pages;
	/* both connections: post-copy's replies go on the urgent one */
	st->bytes_sent = e->s.bytes + __atomic_load_n(&e->urgent_bytes, __ATOMIC_RELAXED);
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
				engine_update(e, left);
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
	engine_update(e, 0);
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

/* Round `round` in the status (under m->lock): the first MIG_MAX_ROUNDS
 * in full, the count always. */
static void note_round(struct migration *m, uint32_t round, double start_ms, double ms,
		       uint64_t sent, uint64_t dirty, int throttle_pct)
{
	if (round < MIG_MAX_ROUNDS) {
		m->st.rounds[round] = (struct mig_round){
			.start_ms = start_ms, .ms = ms, .pages = sent, .dirty = dirty,
			.throttle_pct = throttle_pct };
		m->st.nrounds = round + 1;
	}
	m->st.iteration = round + 1;
}

/* Pre-copy rounds while the guest runs. */
static int precopy(struct engine *e)
{
	struct migration *m = e->m;
	uint64_t dirty = e->npages, n;
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
		double t = now_ms(), ms, t_round = t, predicted;
		uint64_t b0 = e->s.bytes, p0 = e->w.st.pages, sent;

		if (send_bitmap(e, dirty) < 0)
			return e->s.err;
		ms = now_ms() - t;
		sent = e->w.st.pages - p0;
		if (e->postcopy) {
			/* Asked to switch: the bitmap holds the rest of this round,
			 * recorded as its "dirty". */
			pthread_mutex_lock(&m->lock);
			note_round(m, round, t_round - e->t0, ms, sent,
				   count_bits(e->bitmap, e->npages), e->vm->throttle_pct);
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
		/* Bandwidth from rounds big enough to measure. */
		if (sent >= 64 && ms > 0.5) {
			bw = (double)(e->s.bytes - b0) / ms;		/* bytes per ms */
			bytes_per_page = (double)(e->s.bytes - b0) / (double)sent;
		}
		t = now_ms();
		if ((r = dirty_sync(&e->dl, e->bitmap, &n)) < 0)
			return stream_fail(&e->s, r, "%s", err_msg());
		dirty = count_bits(e->bitmap, e->npages);
		predicted = bw > 0 ? dirty * bytes_per_page / bw : 0;
		pthread_mutex_lock(&m->lock);
		note_round(m, round, t_round - e->t0, ms, sent, dirty, e->vm->throttle_pct);
		m->st.dirty_pages = dirty;
		m->st.dirty_rate_mbps = t > t_sync ? n * MEM_PAGE_SIZE * 8 / 1e3 / (t - t_sync) : 0;
		m->st.bandwidth_mbps = bw * 8 / 1e3;
		m->st.expected_downtime_ms = predicted;
		pthread_mutex_unlock(&m->lock);
		t_sync = t;
		/* Under the target: switch over, or one more round (policy.h). */
		if (bw > 0 && predicted <= m->p.downtime_ms) {
			if (precopy_converged(sent, dirty, predicted, m->p.downtime_ms, round,
					      m->p.max_iterations)) {
				pthread_mutex_lock(&m->lock);
				m->st.converged = 1;
				pthread_mutex_unlock(&m->lock);
				return 0;
			}
			continue;
		}
		stuck = precopy_stuck(sent, dirty) ? stuck + 1 : 0;
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
	}
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
	pthread_mutex_lock(&m->lock);
	m->st.stun_at_ms = e->t_stun - e->t0;
	pthread_mutex_unlock(&m->lock);
	r = m->host->stun(m->host, &ms);
	if (r < 0) {
		stream_fail(&e->s, r, "cannot stun the VM: %s", ms.err ? ms.msg : err_msg());
		goto out;
	}
	e->stunned = 1;
	e->w.stable = 1;	/* from now on guest RAM stays as it is */
	e->t_captured = now_ms();
	if (e->dl.on) {
		if ((r = dirty_sync(&e->dl, e->bitmap, &n)) < 0) {
			stream_fail(&e->s, r, "%s", err_msg());
			goto out;
		}
	} else {
		set_all(e);
	}
	if (e->postcopy) {
		if (pcs_switch(e) < 0)
			goto out;
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
	e->t_sent = now_ms();
	engine_update(e, 0);
	r = fd_read_timed(e->ft.fd, ok, 2, ACK_TIMEOUT_MS);
	e->t_ok = now_ms();
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

/* SYNC, then the destination's "RD": everything sent so far is loaded. */
static int wait_ready(struct engine *e)
{
	char rd[2];
	int r;

	stream_begin(&e->s, SEC_SYNC, 0);
	if (stream_end(&e->s) < 0)
		return e->s.err;
	r = fd_read_timed(e->ft.fd, rd, 2, ACK_TIMEOUT_MS);
	if (r < 0 || memcmp(rd, "RD", 2))
		return stream_fail(&e->s, r < 0 ? r : -EPROTO, "the destination did not get ready "
				   "for the VM (%s)", r == -EPIPE ? "it closed the connection: see "
				   "its log" : r < 0 ? strerror(-r) : "bad reply");
	return 0;
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
		if (pcs_connect_urgent(e) < 0)
			return e->s.err;
	}
	if (m->p.strategy == MIG_POSTCOPY) {
		/* Nothing sent, nothing to drop: the destination can set up
		 * userfaultfd now, while the VM still runs here. */
		e->postcopy = e->pc_announced = 1;
		stream_begin(&e->s, SEC_POSTCOPY, 0);
		stream_end(&e->s);
		set_all(e);
	}
	/* Pre-copy and stop-and-copy: the destination backs the pages this
	 * side has backed now, before the clock of any round or stun. */
	if ((m->p.strategy == MIG_PRECOPY || m->p.strategy == MIG_STOP_COPY) &&
	    resident_send(&e->s, &e->vm->mem) < 0)
		return e->s.err;
	/* Stun only once the destination has built the VM (and, for
	 * post-copy, registered its memory): not inside the downtime. */
	if (wait_ready(e) < 0)
		return e->s.err;
	if (m->p.strategy == MIG_PRECOPY || m->p.strategy == MIG_HYBRID) {
		double t;

		if (precopy(e) < 0)
			return e->s.err;
		/* Drain: the destination may lag behind what this side has
		 * written (pages in socket buffers, pages it still decodes).
		 * Waiting for it here, while the guest runs, keeps that lag out
		 * of the downtime; what the guest dirties meanwhile goes in the
		 * final round like any other dirt. */
		t = now_ms();
		if (wait_ready(e) < 0)
			return e->s.err;
		pthread_mutex_lock(&m->lock);
		m->st.drain_ms = now_ms() - t;
		pthread_mutex_unlock(&m->lock);
	}
	if (switchover(e) < 0)
		return e->s.err;
	r = fd_read_timed(fd, rn, sizeof(rn), RUN_TIMEOUT_MS);
	if (r < 0 || memcmp(rn, "RN", 2))
		return stream_fail(&e->s, r < 0 ? r : -EPROTO, "no word from the destination after "
				   "the hand-over (%s)", r < 0 ? strerror(-r) : "bad reply");
	memcpy(&ns, rn + 2, 8);
	/* Both VMMs read CLOCK_MONOTONIC of one machine (namespaces share it). */
	pthread_mutex_lock(&m->lock);
	m->st.downtime_ms = (double)ns / 1e6 - e->t_stun;
	m->st.stun_ms = now_ms() - e->t_stun;
	m->st.sw_capture_ms = e->t_captured - e->t_stun;
	m->st.sw_send_ms = e->t_sent - e->t_captured;
	m->st.sw_load_ms = e->t_ok - e->t_sent;
	m->st.sw_run_ms = (double)ns / 1e6 - e->t_ok;
	if (e->postcopy) {
		m->st.state = MIG_POSTCOPY_ACTIVE;
		m->st.postcopy = 1;
	}
	pthread_mutex_unlock(&m->lock);
	if (!e->postcopy)
		return 0;
	/* The destination runs the VM: push the rest while faults are served. */
	return pcs_run(e);
}

static void *mig_thread(void *arg)
{
	struct migration *m = arg;
	struct engine e = { .m = m, .vm = m->host->vm };
	int r = 0, committed;

	e.t0 = m->t0;
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
	if (!r && m->resuming) {
		/* A broken post-copy goes on: the VM is stunned here, the
		 * counters carry on from where they were. */
		e.postcopy = e.stunned = e.w.stable = 1;
		e.w.st = m->carry_pages;
		e.s.bytes = m->carry_bytes;
		r = pcs_resume(&e);
	} else if (!r) {
		r = migrate(&e);
	}
	/* Tracking and throttling end whatever happened. */
	dirty_stop(&e.dl);
	if (e.throttled)
		vm_set_throttle(e.vm, 0);
	engine_update(&e, 0);
	pthread_mutex_lock(&m->lock);
	committed = m->committed;
	m->carry_pages = e.w.st;
	m->carry_bytes = e.s.bytes;
	m->st.total_ms = now_ms() - e.t0;
	if (!r) {
		m->st.state = MIG_COMPLETED;
	} else if (committed && e.postcopy && m->pc_set) {
		m->st.state = MIG_POSTCOPY_PAUSED;
		snprintf(m->st.msg, sizeof(m->st.msg), "post-copy broke: %s; the VM stays stunned "
			 "here with every page the destination may lack, and the destination "
			 "waits for them: `vmm migrate --api PATH --resume` reconnects and "
			 "finishes", e.s.msg);
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

	free(m->pc_set);
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->t0 = now_ms();
	m->p = *p;
	m->host = host;
	m->fd = -1;
	m->st.state = MIG_SETUP;
	m->st.strategy = p->strategy;
	m->st.ram_pages = host->vm->mem.size / MEM_PAGE_SIZE;
	m->st.t0_mono_ms = m->t0;
	r = pthread_create(&m->thread, NULL, mig_thread, m);
	if (r)
		return err_set(-r, "cannot start the migration thread: %s", strerror(r));
	pthread_setname_np(m->thread, "migrate");
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

int mig_resume(struct migration *m, const char *to)
{
	int r;

	pthread_mutex_lock(&m->lock);
	if (m->st.state != MIG_POSTCOPY_PAUSED) {
		r = err_set(-EINVAL, "nothing to resume: %s", m->thread_started ?
			    (m->st.state == MIG_POSTCOPY_ACTIVE ? "post-copy is running" :
			     "the migration is not a paused post-copy") : "no migration");
		pthread_mutex_unlock(&m->lock);
		return r;
	}
	pthread_mutex_unlock(&m->lock);
	mig_join(m);	/* the thread has ended: the state says so */
	if (to && strlen(to) >= sizeof(m->p.to))
		return err_set(-EINVAL, "address too long");
	pthread_mutex_lock(&m->lock);
	if (to)
		strcpy(m->p.to, to);
	m->resuming = 1;
	m->st.state = MIG_POSTCOPY_ACTIVE;
	snprintf(m->st.msg, sizeof(m->st.msg), "resuming post-copy to %s", m->p.to);
	pthread_mutex_unlock(&m->lock);
	r = pthread_create(&m->thread, NULL, mig_thread, m);
	if (r) {
		pthread_mutex_lock(&m->lock);
		m->st.state = MIG_POSTCOPY_PAUSED;
		pthread_mutex_unlock(&m->lock);
		return err_set(-r, "cannot start the migration thread: %s", strerror(r));
	}
	pthread_setname_np(m->thread, "migrate");
	m->thread_started = 1;
	return 0;
}

void mig_free(struct migration *m)
{
	mig_join(m);
	free(m->pc_set);
	m->pc_set = NULL;
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
