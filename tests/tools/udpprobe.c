/* udpprobe: guest-observed interruption, measured from outside the VM. Sends
 * a small UDP request (sequence number, send time) to a service in the guest
 * (guests/linux/udpecho.c) every interval and times the replies, until
 * SIGINT/SIGTERM or SECONDS; then waits 300 ms for stragglers and prints one
 * JSON object:
 *   sent, replies, lost        requests, distinct replies, requests never answered
 *   late                       replies slower than the late threshold (10 ms)
 *   max_gap_ms                 the longest time without any reply, between two
 *                              replies: what the guest's clients saw
 *   gap_start_s                when that gap began, from the probe's start
 *   rtt_p50_ms, rtt_max_ms     round trips of the replies
 *   silent_end_ms              from the last reply to the last request: more
 *                              than a few ms means the service never came back
 *   start_mono_s               the probe's start on CLOCK_MONOTONIC, to line
 *                              its times up with a VMM's (same host)
 *   gaps                       every gap of 50 ms or more (the first 32), as
 *                              [start_s from the probe's start, length ms]
 *   gap_sent, gap_answered     requests sent during the longest gap, and how
 *                              many of them were answered after it: answered
 *                              means the guest got them but answered late
 *                              (stalled); unanswered, that they went nowhere
 *                              (to the old host, or dropped on the way)
 * It measures QEMU's guest and ours the same way, whatever the strategy.
 *
 *   udpprobe ADDR:PORT [SECONDS] [INTERVAL_US]     (IPv4 literal) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LATE_NS		10000000ULL	/* a reply after 10 ms is late */
#define GAP_NS		50000000ULL	/* gaps listed one by one from here */
#define MAX_GAPS	32
#define DRAIN_NS	300000000ULL	/* wait for stragglers at the end */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	char host[64], *colon;
	double secs = argc > 2 ? atof(argv[2]) : 0;
	uint64_t interval = argc > 3 ? strtoull(argv[3], NULL, 10) * 1000 : 1000000;
	uint64_t t0, next, end = 0, cap = 1 << 20, seq = 0, replies = 0, late = 0;
	uint64_t last_reply = 0, max_gap = 0, gap_start = 0, last_send = 0;
	uint64_t gaps[MAX_GAPS][2];
	int ngaps = 0;
	uint64_t *rtt = malloc(cap * sizeof(uint64_t));
	uint64_t *sent_at = malloc(cap * sizeof(uint64_t)), gap_sent = 0, gap_answered = 0;
	uint8_t *got = calloc(cap, 1);
	int fd;

	if (argc < 2 || strlen(argv[1]) >= sizeof(host) || !(colon = strchr(argv[1], ':')) ||
	    interval == 0) {
		fprintf(stderr, "usage: udpprobe ADDR:PORT [SECONDS] [INTERVAL_US]\n");
		return 2;
	}
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = 0;
	to.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || !rtt || !got || !sent_at) {
		fprintf(stderr, "udpprobe: bad address '%s' (an IPv4 literal) or no memory\n",
			argv[1]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("udpprobe");
		return 1;
	}
	{
		sigset_t set;	/* a parent may have left them blocked */

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = next = now_ns();
	if (secs > 0)
		end = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t t = now_ns(), msg[2];
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t wait;
		struct timespec ts;

		if (stop && (!end || end > t))
			end = t;	/* asked to stop before SECONDS were up */
		if (end && t >= end + DRAIN_NS)
			break;
		if ((!end || t < end) && t >= next && seq < cap) {
			sent_at[seq] = t;
			msg[0] = seq++;
			msg[1] = last_send = t;
			if (send(fd, msg, sizeof(msg), 0) < 0 && errno != ECONNREFUSED &&
			    errno != EAGAIN)
				perror("udpprobe: send");
			next += interval;
			if (next < t)		/* fell behind (suspended): no burst */
				next = t + interval;
			continue;
		}
		/* Sleep until the next send (or the end of the drain). */
		wait = end && t >= end ? end + DRAIN_NS - t : next > t ? next - t : 0;
		ts.tv_sec = (time_t)(wait / 1000000000ULL);
		ts.tv_nsec = (long)(wait % 1000000000ULL);
		if (ppoll(&p, 1, &ts, NULL) <= 0)
			continue;
		while (recv(fd, msg, sizeof(msg), 0) == (ssize_t)sizeof(msg)) {
			uint64_t r = now_ns();

			if (msg[0] >= seq || got[msg[0]])
				continue;	/* not ours, or a duplicate */
			got[msg[0]] = 1;
			rtt[replies++] = r - msg[1];
			if (r - msg[1] > LATE_NS)
				late++;
			if (last_reply && r - last_reply > max_gap) {
				max_gap = r - last_reply;
				gap_start = last_reply - t0;
			}
			if (last_reply && r - last_reply >= GAP_NS && ngaps < MAX_GAPS) {
				gaps[ngaps][0] = last_reply - t0;
				gaps[ngaps++][1] = r - last_reply;
			}
			last_reply = r;
		}
	}
	for (uint64_t i = 0; max_gap && i < seq; i++)
		if (sent_at[i] > t0 + gap_start && sent_at[i] < t0 + gap_start + max_gap) {
			gap_sent++;
			gap_answered += got[i];
		}
	qsort(rtt, replies, sizeof(uint64_t), cmp_u64);
	printf("{\"sent\":%llu,\"replies\":%llu,\"lost\":%llu,\"late\":%llu,\"max_gap_ms\":%.3f,"
	       "\"gap_start_s\":%.3f,\"rtt_p50_ms\":%.3f,\"rtt_max_ms\":%.3f,"
	       "\"silent_end_ms\":%.3f,\"start_mono_s\":%.3f,\"gap_sent\":%llu,"
	       "\"gap_answered\":%llu,\"gaps\":[",
	       (unsigned long long)seq, (unsigned long long)replies,
	       (unsigned long long)(seq - replies), (unsigned long long)late, max_gap / 1e6,
	       gap_start / 1e9, replies ? rtt[replies / 2] / 1e6 : 0.0,
	       replies ? rtt[replies - 1] / 1e6 : 0.0,
	       (last_send > last_reply ? last_send - (last_reply ? last_reply : t0) : 0) / 1e6,
	       t0 / 1e9, (unsigned long long)gap_sent, (unsigned long long)gap_answered);
	for (int i = 0; i < ngaps; i++)
		printf("%s[%.3f,%.1f]", i ? "," : "", gaps[i][0] / 1e9, gaps[i][1] / 1e6);
	printf("]}\n");
	return replies ? 0 : 1;
}
