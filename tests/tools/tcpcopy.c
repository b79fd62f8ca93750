/* tcpcopy: the plain TCP baseline for the migration benchmark. One side
 * listens and reads everything; the other connects and writes N MiB from one
 * buffer in 1 MiB writes - what a single TCP stream between the same two
 * namespaces can carry, with the same socket settings as migration
 * (migration/tcp.c). Prints "TCPCOPY mib=N ms=T mbit_s=R" on the receiver.
 *
 * With "spread" the sender writes MIB MiB of distinct, resident memory
 * instead of one hot 1 MiB buffer again and again, as a VMM sending guest
 * RAM must (its bytes come from memory, not from the cache). A receiver
 * given MIB likewise reads into MIB MiB of distinct memory, made resident
 * before the clock starts, as a receiver landing bytes in RAM must; without
 * it, into one hot 1 MiB buffer.
 *
 *   tcpcopy recv ADDR:PORT [MIB]  tcpcopy send ADDR:PORT MIB [spread] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "../../migration/tcp.h"
#include "../../vmm/err.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	double t0 = 0;
	long long total = 0;
	int fd;

	if (argc >= 3 && !strcmp(argv[1], "recv")) {
		char *end = NULL;
		long mib = argc >= 4 ? strtol(argv[3], &end, 10) : 0;
		size_t mem;
		char *dst = buf;
		int lfd;

		if (argc >= 4 && (*end || mib <= 0 || mib > (1L << 20))) {
			fprintf(stderr, "tcpcopy: '%s' is not a size in MiB\n", argv[3]);
			return 2;
		}
		mem = (size_t)mib << 20;
		if (mem) {
			dst = mmap(NULL, mem, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (dst == MAP_FAILED) {
				perror("tcpcopy: mmap");
				return 1;
			}
			madvise(dst, mem, MADV_HUGEPAGE);	/* as guest RAM */
			memset(dst, 0, mem);
		}
		lfd = tcp_listen(argv[2]);
		if (lfd < 0 || (fd = tcp_accept(lfd, 60000)) < 0) {
			fprintf(stderr, "tcpcopy: %s\n", err_msg());
			return 1;
		}
		for (;;) {
			size_t at = mem ? (size_t)total % mem : 0;
			ssize_t n = read(fd, dst + at, mem ? mem - at : sizeof(buf));

			if (n <= 0)
				break;
			if (!total)
				t0 = now_ms();
			total += n;
		}
		printf("TCPCOPY mib=%.0f ms=%.1f mbit_s=%.0f\n", total / 1048576.0, now_ms() - t0,
		       total * 8 / 1e3 / (now_ms() - t0));
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "send")) {
		long mib = atol(argv[3]);
		int spread = argc >= 5 && !strcmp(argv[4], "spread");
		char *src = buf;

		memset(buf, 0x5a, sizeof(buf));
		if (spread) {
			src = mmap(NULL, (size_t)mib << 20, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (src == MAP_FAILED) {
				perror("tcpcopy: mmap");
				return 1;
			}
			madvise(src, (size_t)mib << 20, MADV_HUGEPAGE);	/* as guest RAM */
			memset(src, 0x5a, (size_t)mib << 20);
		}
		fd = tcp_connect(argv[2], 10000);
		if (fd < 0) {
			fprintf(stderr, "tcpcopy: %s\n", err_msg());
			return 1;
		}
		for (long i = 0; i < mib; i++)
			for (size_t off = 0; off < sizeof(buf);) {
				ssize_t n = write(fd, (spread ? src + ((size_t)i << 20) : buf) + off,
						  sizeof(buf) - off);

				if (n <= 0) {
					perror("tcpcopy: write");
					return 1;
				}
				off += (size_t)n;
			}
		close(fd);
		return 0;
	}
	fprintf(stderr, "usage: tcpcopy recv ADDR:PORT [MIB] | tcpcopy send ADDR:PORT MIB [spread]\n");
	return 2;
}
