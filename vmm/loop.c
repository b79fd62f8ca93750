/* loop: epoll dispatch (see loop.h). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "err.h"
#include "loop.h"

int loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < LOOP_MAX; i++)
		l->h[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return err_set(-errno, "epoll_create1: %s", strerror(errno));
	return 0;
}

void loop_free(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events };

	for (int i = 0; i < LOOP_MAX; i++) {
		if (l->h[i].fd >= 0)
			continue;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return err_set(-errno, "epoll_ctl add fd %d: %s", fd, strerror(errno));
		l->h[i].fd = fd;
		l->h[i].fn = fn;
		l->h[i].arg = arg;
		return 0;
	}
	return err_set(-ENOSPC, "I/O loop: too many handlers");
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	for (int i = 0; i < LOOP_MAX; i++) {
		struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)i };

		if (l->h[i].fd == fd) {
			if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
				return err_set(-errno, "epoll_ctl mod: %s", strerror(errno));
			return 0;
		}
	}
	return -ENOENT;
}

int loop_del(struct loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX; i++) {
		if (l->h[i].fd == fd) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->h[i].fd = -1;
			return 0;
		}
	}
	return -ENOENT;
}

void loop_quit(struct loop *l)
{
	l->running = 0;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX];

	l->running = 1;
	while (l->running) {
		int n = epoll_wait(l->epfd, evs, LOOP_MAX, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(-errno, "epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n && l->running; i++) {
			uint32_t k = evs[i].data.u32;

			if (k < LOOP_MAX && l->h[k].fd >= 0)
				l->h[k].fn(l, l->h[k].fd, evs[i].events, l->h[k].arg);
		}
	}
	return 0;
}
