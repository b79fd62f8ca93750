/* postcopy_recover: the destination's side of resuming a broken post-copy
 * (the protocol is in postcopy.h). A thread waits on the listening socket
 * for the whole of post-copy. When the source reconnects it stops what is
 * left of the old transfer (shuts both old channels, joins the bulk thread),
 * answers with the pages already here, hands the new urgent channel to the
 * fault thread (which asks again for every fault still waiting) and starts
 * a bulk thread on the new main connection. A connection that is not a
 * resume is refused and the wait goes on; so does a resume that breaks. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "postcopy.h"
#include "proto.h"
#include "tcp.h"

#define HELLO_TIMEOUT_MS	5000
#define URGENT_TIMEOUT_MS	10000

/* The next connection on the listener, with the hello it must start with
 * (and extra bytes after it); -1 if it does not. */
static int take(struct pc_dst *pc, const char *hello, int timeout_ms, void *extra, size_t nextra)
{
	uint8_t buf[8 + 16];
	int fd = tcp_accept(pc->listen_fd, timeout_ms);

	if (fd < 0)
		return -1;
	tcp_set_timeouts(fd, 15000, 60000);
	if (fd_read_timed(fd, buf, 8 + nextra, HELLO_TIMEOUT_MS) < 0 || memcmp(buf, hello, 8)) {
		close(fd);
		return -1;
	}
	memcpy(extra, buf + 8, nextra);
	return fd;
}

/* Answer a resume on fd: the pages here, or (complete) the statistics. */
static int send_have(struct pc_dst *pc, int fd, int complete)
{
	uint64_t npages = pc->m->size / MEM_PAGE_SIZE;
	struct fd_transport ft;
	struct stream out;
	int r;

	fd_transport_init(&ft, fd);
	stream_init(&out, &ft.t);
	stream_write_header(&out);
	stream_begin(&out, SEC_HAVE, 0);
	stream_put_u32(&out, complete ? HAVE_COMPLETE : 0);
	stream_put_u64(&out, npages);
	if (complete) {
		pthread_mutex_lock(&pc->lock);
		stream_put_bytes(&out, &pc->st, sizeof(pc->st));
		pthread_mutex_unlock(&pc->lock);
	} else {
		for (uint64_t w = 0; w < (npages + 63) / 64; w++)
			stream_put_u64(&out, __atomic_load_n(&pc->have[w], __ATOMIC_ACQUIRE));
	}
	r = stream_end(&out);
	if (r < 0)
		log_warn("post-copy resume: cannot answer the source: %s", out.msg);
	stream_free(&out);
	return r;
}

/* One resume, from its main connection fd. Returns 0 when the transfer
 * goes on, or -1 (the wait for another resume goes on). */
static int resume(struct pc_dst *pc, int fd)
{
	int complete, ufd, r;
	uint64_t missing = 0, npages = pc->m->size / MEM_PAGE_SIZE;
	uint8_t none[1];

	pthread_mutex_lock(&pc->lock);
	complete = pc->complete;
	if (!complete) {
		/* Stop what is left of the old transfer. */
		pc->resuming = 1;
		if (pc->urgent_fd >= 0)
			shutdown(pc->urgent_fd, SHUT_RDWR);
		if (pc->bulk_fd >= 0)
			shutdown(pc->bulk_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&pc->lock);
	if (!complete && pc->bulk_started) {
		pthread_join(pc->bulk_thread, NULL);
		pthread_mutex_lock(&pc->lock);
		pc->bulk_started = 0;
		pthread_mutex_unlock(&pc->lock);
	}
	ufd = take(pc, PC_URGENT_HELLO, URGENT_TIMEOUT_MS, none, 0);
	if (ufd < 0) {
		log_warn("post-copy resume: no urgent channel came; waiting for another resume");
		goto fail;
	}
	if (send_have(pc, fd, complete) < 0)
		goto fail;
	if (complete) {
		log_info("post-copy resume: every page was already here; the source has the "
			 "statistics now");
		close(ufd);
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&pc->lock);
	if (pc->stopping) {
		pthread_mutex_unlock(&pc->lock);
		goto fail;
	}
	if (pc->own_bulk_fd >= 0) {
		stream_free(&pc->rs);
		close(pc->own_bulk_fd);
	}
	pc->own_bulk_fd = pc->bulk_fd = fd;
	fd_transport_init(&pc->rft, fd);
	stream_init(&pc->rs, &pc->rft.t);
	pc->bulk = &pc->rs;
	if (pc->next_urgent >= 0)
		close(pc->next_urgent);
	pc->next_urgent = ufd;
	pc->failed = 0;
	pc->resuming = 0;
	pc->resumes++;
	__atomic_store_n(&pc->bulk_done, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pc->lock);
	{
		uint64_t one = 1;

		if (write(pc->wake_fd, &one, 8) != 8) {
			/* cannot happen with an eventfd */
		}
	}
	for (uint64_t w = 0; w < (npages + 63) / 64; w++)
		missing += (uint64_t)__builtin_popcountll(~__atomic_load_n(&pc->have[w],
									    __ATOMIC_ACQUIRE));
	missing -= (npages + 63) / 64 * 64 - npages;
	r = stream_read_header(&pc->rs);
	if (r == 0)
		r = pc_dst_start_bulk(pc);
	if (r < 0) {
		pc_fail(pc, "resume", -r);
		return -1;
	}
	log_info("post-copy resumed: the source reconnected; at most %llu pages still to come",
		 (unsigned long long)missing);
	return 0;
fail:
	if (ufd >= 0)
		close(ufd);
	close(fd);
	pthread_mutex_lock(&pc->lock);
	pc->resuming = 0;
	pthread_mutex_unlock(&pc->lock);
	return -1;
}

static void *recover_thread(void *arg)
{
	struct pc_dst *pc = arg;
	uint64_t npages = pc->m->size / MEM_PAGE_SIZE;

	for (;;) {
		struct pollfd p[2] = { { pc->listen_fd, POLLIN, 0 }, { pc->stop_fd, POLLIN, 0 } };
		uint64_t n;
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = take(pc, PC_RESUME_HELLO, 1000, &n, 8);
		if (fd < 0) {
			log_warn("post-copy: a connection that is not a resume from the source: "
				 "closed");
			continue;
		}
		if (n != npages) {
			log_warn("post-copy: a resume for a VM of %llu pages; this one has %llu: "
				 "closed", (unsigned long long)n, (unsigned long long)npages);
			close(fd);
			continue;
		}
		resume(pc, fd);
	}
	return NULL;
}

int pc_dst_start_recovery(struct pc_dst *pc)
{
	int r;

	if (pc->listen_fd < 0)
		return 0;
	r = pthread_create(&pc->recover_thread, NULL, recover_thread, pc);
	if (r)
		return err_set(-r, "cannot start the post-copy recovery thread: %s", strerror(r));
	pthread_setname_np(pc->recover_thread, "pc-recover");
	pc->recover_started = 1;
	return 0;
}
