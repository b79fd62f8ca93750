/* tcp: the TCP connections migration runs over. ADDR:PORT is an IPv4
 * address (a host name is resolved) and a port. */
#ifndef MIGRATION_TCP_H
#define MIGRATION_TCP_H

/* tcp_listen(spec, out_fd) / tcp_accept(lfd, timeout_ms) / tcp_connect(spec,
 * timeout_ms): return an fd or -errno with a message. */
int tcp_listen(const char *spec);
int tcp_accept(int lfd, int timeout_ms);
int tcp_connect(const char *spec, int timeout_ms);

/* tcp_set_timeouts(fd, send_ms, recv_ms): a blocked send or receive fails
 * with ETIMEDOUT after that long without progress (0 = never), so a cut link
 * is noticed instead of hanging until TCP gives up minutes later. */
int tcp_set_timeouts(int fd, int send_ms, int recv_ms);

#endif
