/* tcp: listen, accept and connect with timeouts (see tcp.h). */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "tcp.h"

/* IPv4 literals only (and "localhost"): a static VMM cannot load NSS. */
static int resolve(const char *spec, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	long port;

	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host) || !colon[1])
		return err_set(-EINVAL, "'%s': expected ADDR:PORT", spec);
	memcpy(host, spec, colon - spec);
	host[colon - spec] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return err_set(-EINVAL, "'%s': bad port", spec);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return err_set(-EINVAL, "'%s': '%s' is not an IPv4 address", spec, host);
	return 0;
}

static void tune(int fd)
{
	int one = 1, buf = 4 << 20;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
}

int tcp_listen(const char *spec)
{
	struct sockaddr_in sa;
	int fd, one = 1, r = resolve(spec, &sa);

	if (r < 0)
		return r;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(-errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		r = err_set(-errno, "listen on %s: %s", spec, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int tcp_accept(int lfd, int timeout_ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd, r = poll(&p, 1, timeout_ms);

	if (r == 0)
		return err_set(-ETIMEDOUT, "no incoming connection within %d s", timeout_ms / 1000);
	if (r < 0)
		return err_set(-errno, "poll: %s", strerror(errno));
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return err_set(-errno, "accept: %s", strerror(errno));
	tune(fd);
	return fd;
}

int tcp_connect(const char *spec, int timeout_ms)
{
	struct sockaddr_in sa;
	struct pollfd p;
	int fd, err = 0, r = resolve(spec, &sa);
	socklen_t len = sizeof(err);

	if (r < 0)
		return r;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(-errno, "socket: %s", strerror(errno));
	tune(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		r = err_set(-errno, "connect to %s: %s", spec, strerror(errno));
		close(fd);
		return r;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	r = poll(&p, 1, timeout_ms);
	if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		r = err_set(r == 0 ? -ETIMEDOUT : -(err ? err : errno), "connect to %s: %s", spec,
			    r == 0 ? "timed out" : strerror(err ? err : errno));
		close(fd);
		return r;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int tcp_set_timeouts(int fd, int send_ms, int recv_ms)
{
	struct timeval snd = { send_ms / 1000, (send_ms % 1000) * 1000 };
	struct timeval rcv = { recv_ms / 1000, (recv_ms % 1000) * 1000 };
	unsigned user = (unsigned)(send_ms > recv_ms ? send_ms : recv_ms);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) < 0)
		return err_set(-errno, "socket timeouts: %s", strerror(errno));
	/* Unacknowledged data older than this also fails the connection. */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user));
	return 0;
}
