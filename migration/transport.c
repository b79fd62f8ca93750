/* transport: fd and memory transports (see transport.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "transport.h"

static int fd_read_exact(struct transport *t, void *buf, size_t len)
{
	struct fd_transport *ft = (struct fd_transport *)t;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(ft->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_writev_all(struct transport *t, const struct iovec *iov, int n)
{
	struct fd_transport *ft = (struct fd_transport *)t;
	struct iovec cur[IOV_MAX], *p = cur;

	if (n < 0 || n > IOV_MAX)
		return -EINVAL;
	memcpy(cur, iov, (size_t)n * sizeof(*iov));	/* advanced below */
	while (n) {
		ssize_t k = writev(ft->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		/* A socket send timeout (SO_SNDTIMEO): the peer stopped taking data. */
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		/* Skip what went out, which may end inside a piece. */
		while (n && (size_t)k >= p->iov_len) {
			k -= (ssize_t)p->iov_len;
			p++;
			n--;
		}
		if (n) {
			p->iov_base = (char *)p->iov_base + k;
			p->iov_len -= (size_t)k;
		}
	}
	return 0;
}

static int fd_write_all(struct transport *t, const void *buf, size_t len)
{
	struct iovec one = { (void *)buf, len };

	return fd_writev_all(t, &one, 1);
}

static const struct transport_ops fd_ops = { fd_write_all, fd_read_exact, fd_writev_all };

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int fd_read_timed(int fd, void *buf, size_t n, int timeout_ms)
{
	double end = mono_ms() + timeout_ms;
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = timeout_ms < 0 ? -1 : (int)(end - mono_ms()), r;
		ssize_t k;

		if (timeout_ms >= 0 && left <= 0)
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

void fd_transport_init(struct fd_transport *ft, int fd)
{
	ft->t.ops = &fd_ops;
	ft->fd = fd;
}

static int mem_write_all(struct transport *t, const void *buf, size_t len)
{
	struct mem_transport *mt = (struct mem_transport *)t;

	if (mt->len + len > mt->cut_at)
		return -ECONNRESET;
	if (mt->len + len > mt->cap) {
		size_t cap = mt->cap ? mt->cap : 4096;
		uint8_t *d;

		while (cap < mt->len + len)
			cap *= 2;
		d = realloc(mt->data, cap);
		if (!d)
			return -ENOMEM;
		mt->data = d;
		mt->cap = cap;
	}
	memcpy(mt->data + mt->len, buf, len);
	mt->len += len;
	return 0;
}

static int mem_read_exact(struct transport *t, void *buf, size_t len)
{
	struct mem_transport *mt = (struct mem_transport *)t;

	if (mt->pos + len > mt->cut_at)
		return -ECONNRESET;
	if (len > mt->len - mt->pos)
		return -EPIPE;
	memcpy(buf, mt->data + mt->pos, len);
	mt->pos += len;
	return 0;
}

static int mem_writev_all(struct transport *t, const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++) {
		int r = mem_write_all(t, iov[i].iov_base, iov[i].iov_len);

		if (r < 0)
			return r;
	}
	return 0;
}

static const struct transport_ops mem_ops = { mem_write_all, mem_read_exact, mem_writev_all };

void mem_transport_init(struct mem_transport *mt, const uint8_t *data, size_t len)
{
	memset(mt, 0, sizeof(*mt));
	mt->t.ops = &mem_ops;
	mt->cut_at = SIZE_MAX;
	if (data && len) {
		mt->data = malloc(len);
		if (mt->data) {
			memcpy(mt->data, data, len);
			mt->len = mt->cap = len;
		}
	}
}

void mem_transport_free(struct mem_transport *mt)
{
	free(mt->data);
	mt->data = NULL;
	mt->len = mt->cap = mt->pos = 0;
}
