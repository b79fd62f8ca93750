/* transport: how state bytes move, as a small ops struct: a file or socket
 * (fd_transport), or memory (mem_transport, for tests and the fuzzer). The
 * stream above never knows which; a test can swap in one that breaks at byte N. */
#ifndef MIGRATION_TRANSPORT_H
#define MIGRATION_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct transport;

struct transport_ops {
	/* write_all: all len bytes or -errno. read_exact: all len bytes, -EPIPE
	 * at end of input, or -errno. writev_all: the n pieces in order, all
	 * of them or -errno (a socket takes them in one system call). */
	int (*write_all)(struct transport *t, const void *buf, size_t len);
	int (*read_exact)(struct transport *t, void *buf, size_t len);
	int (*writev_all)(struct transport *t, const struct iovec *iov, int n);
};

struct transport {
	const struct transport_ops *ops;
};

/* A file descriptor: a file, a pipe or a socket. The caller owns the fd. */
struct fd_transport {
	struct transport t;
	int fd;
};
void fd_transport_init(struct fd_transport *ft, int fd);

/* fd_read_timed(fd, buf, n, timeout_ms): exactly n bytes within timeout_ms
 * (< 0: no limit), whatever the socket's own timeouts. 0, -ETIMEDOUT, -EPIPE
 * at end of input, or -errno. For the short replies and requests beside
 * the stream. A read that times out may have consumed part of the bytes:
 * a timeout means the channel is no longer usable. */
int fd_read_timed(int fd, void *buf, size_t n, int timeout_ms);

/* Memory: writes append to a growing buffer; reads consume data[0..len).
 * cut_at (if not SIZE_MAX) makes every transfer past that byte fail, as a
 * dropped connection would. */
struct mem_transport {
	struct transport t;
	uint8_t *data;
	size_t len, cap, pos;
	size_t cut_at;
};
void mem_transport_init(struct mem_transport *mt, const uint8_t *data, size_t len);
void mem_transport_free(struct mem_transport *mt);

#endif
