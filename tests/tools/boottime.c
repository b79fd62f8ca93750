/* boottime: time a VMM from its start to the guest's READY line and measure
 * its resident memory that is not guest RAM, the same way for our VMM and
 * for QEMU. Used by scripts/bench-boot.sh inside the lab.
 *
 *   boottime GUEST_RAM_BYTES CMD [ARGS...]
 *   -> "ready_ms=N total_ms=N vmm_rss_kib=N status=N"
 *
 * "Not guest RAM" is the resident memory of every mapping smaller than the
 * guest's RAM, read from /proc/PID/smaps at the READY line: guest RAM is one
 * mapping at least that large in both VMMs.
 *
 * BOOTTIME_MARKER=TEXT times TEXT instead of READY; BOOTTIME_STOP=1 then ends
 * the child with SIGTERM once it appeared (for VMMs that run on).
 * BOOTTIME_LINES=1 also prints every output line to stderr with the time it
 * arrived ("+ms text"; a line counts from its first byte), for finding where
 * a boot spends its time (the decompressor's messages, the kernel's). */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_outside_ram(pid_t pid, unsigned long long ram)
{
	char path[64], line[512];
	unsigned long long lo, hi, size = 0;
	long kib, total = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			size = hi - lo;
		else if (sscanf(line, "Rss: %ld kB", &kib) == 1 && size < ram)
			total += kib;
	}
	fclose(f);
	return total;
}

int main(int argc, char **argv)
{
	unsigned long long ram;
	int p[2], st;
	char buf[65536];
	size_t len = 0;
	double t0, ready = -1;
	long rss = -1;
	pid_t pid;
	const char *marker = "READY";
	int lines = getenv("BOOTTIME_LINES") != NULL, at_start = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: boottime GUEST_RAM_BYTES CMD [ARGS...]\n");
		return 2;
	}
	ram = strtoull(argv[1], NULL, 0);
	if (getenv("BOOTTIME_MARKER"))
		marker = getenv("BOOTTIME_MARKER");
	if (pipe(p) < 0)
		return 1;
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			break;
		if (lines) {
			double t = now_ms() - t0;

			for (ssize_t i = 0; i < n; i++) {
				char c = buf[len + (size_t)i];

				if (c == '\r')
					continue;
				if (at_start)
					fprintf(stderr, "%+9.1f ", t);
				fputc(c, stderr);
				at_start = c == '\n';
			}
		}
		len += (size_t)n;
		buf[len] = 0;
		if (ready < 0 && strstr(buf, marker)) {
			ready = now_ms() - t0;
			rss = rss_outside_ram(pid, ram);
			if (getenv("BOOTTIME_STOP"))
				kill(pid, SIGTERM);
		}
		if (len > sizeof(buf) / 2) {	/* keep the tail: READY may straddle */
			memmove(buf, buf + len - 64, 64);	/* marker may straddle */
			len = 64;
		}
	}
	waitpid(pid, &st, 0);
	printf("ready_ms=%.1f total_ms=%.1f vmm_rss_kib=%ld status=%d\n", ready, now_ms() - t0,
	       rss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
