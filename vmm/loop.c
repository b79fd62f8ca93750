/* loop: epoll dispatch (see loop.h). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "err.h"
#include "loop.h"

static void on_call(struct loop *l, int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)arg;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	pthread_mutex_lock(&l->call_lock);
	if (l->call_fn && !l->call_done) {
		l->call_fn(l->call_arg);
		l->call_done = 1;
		pthread_cond_broadcast(&l->call_cond);
	}
	pthread_mutex_unlock(&l->call_lock);
}

int loop_init(struct loop *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	for (int i = 0; i < LOOP_MAX; i++)
		l->h[i].fd = -1;
	pthread_mutex_init(&l->call_lock, NULL);
	pthread_cond_init(&l->call_cond, NULL);
	l->call_fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return err_set(-errno, "epoll_create1: %s", strerror(errno));
	l->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->call_fd < 0) {
		r = err_set(-errno, "eventfd: %s", strerror(errno));
		loop_free(l);
		return r;
	}
	r = loop_add(l, l->call_fd, EPOLLIN, on_call, NULL);
	if (r < 0)
		loop_free(l);
	return r;
}

void loop_free(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->call_fd >= 0)
		close(l->call_fd);
	l->epfd = l->call_fd = -1;
}

int loop_call(struct loop *l, loop_call_fn fn, void *arg)
{
	uint64_t one = 1;
	int r = 0;

	pthread_mutex_lock(&l->call_lock);
	/* One call at a time: wait for a previous caller to be served. */
	while (l->call_fn && l->running)
		pthread_cond_wait(&l->call_cond, &l->call_lock);
	if (!__atomic_load_n(&l->running, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&l->call_lock);
		return -ESHUTDOWN;
	}
	l->call_fn = fn;
	l->call_arg = arg;
	l->call_done = 0;
	if (write(l->call_fd, &one, sizeof(one)) != sizeof(one))
		r = -errno;
	while (!r && !l->call_done && __atomic_load_n(&l->running, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&l->call_cond, &l->call_lock);
	if (!r && !l->call_done)
		r = -ESHUTDOWN;
	l->call_fn = NULL;
	pthread_cond_broadcast(&l->call_cond);
	pthread_mutex_unlock(&l->call_lock);
	return r;
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
	/* Wake a thread waiting in loop_call: its call will not be served. */
	pthread_mutex_lock(&l->call_lock);
	__atomic_store_n(&l->running, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&l->call_cond);
	pthread_mutex_unlock(&l->call_lock);
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX];

	__atomic_store_n(&l->running, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&l->running, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(l->epfd, evs, LOOP_MAX, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(-errno, "epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n && __atomic_load_n(&l->running, __ATOMIC_ACQUIRE); i++) {
			uint32_t k = evs[i].data.u32;

			if (k < LOOP_MAX && l->h[k].fd >= 0)
				l->h[k].fn(l, l->h[k].fd, evs[i].events, l->h[k].arg);
		}
	}
	return 0;
}
