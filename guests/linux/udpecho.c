/* udpecho: send every UDP datagram that arrives on PORT straight back. The
 * guest half of the guest-observed interruption probe: tests/tools/udpprobe.c
 * asks every millisecond from outside the VM and times the replies, the same
 * way for every migration strategy and for QEMU. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port = argc > 1 ? atoi(argv[1]) : 0;
	char buf[2048];

	if (port <= 0 || port > 65535) {
		fprintf(stderr, "usage: udpecho PORT\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udpecho");
		return 1;
	}
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n > 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}
