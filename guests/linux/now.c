/* now: print CLOCK_MONOTONIC in seconds with microseconds, for timing
 * transfers in guest scripts (busybox's date and /proc/uptime are too coarse). */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%lld.%06ld\n", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	return 0;
}
