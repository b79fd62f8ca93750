/* dirtier: the Linux guest's memory dirtier and verifier. It keeps a working
 * set of N MiB in which every 4 KiB page holds its index and the generation
 * that last wrote it (in a header and spread over the page), rewrites pages at
 * a chosen rate (or flat out), prints a heartbeat on a steady beat and, every
 * few seconds, checks every page: "VERIFY OK gen=G" or "VERIFY FAIL <page>".
 * A migration that loses or corrupts a page is caught by the guest itself. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define WORDS (PAGE / 8)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t pattern(uint64_t page, uint64_t gen, uint64_t word)
{
	return (page * 0x9e3779b97f4a7c15ull) ^ (gen << 32) ^ word;
}

static void write_page(uint64_t *p, uint64_t page, uint64_t gen)
{
	p[0] = page;
	p[1] = gen;
	for (uint64_t w = 2; w < WORDS; w += 8)	/* every 64th byte: cheap, covers the page */
		p[w] = pattern(page, gen, w);
}

/* Page i must hold generation want (or, with cursor c, want for i < c and
 * want - 1 for i >= c while a sweep is half done). Returns -1 or the bad page. */
static long verify(uint64_t *base, uint64_t npages, uint64_t gen, uint64_t cursor)
{
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t *p = base + i * WORDS;
		uint64_t want = i < cursor ? gen : gen - 1;

		if (p[0] != i || p[1] != want)
			return (long)i;
		for (uint64_t w = 2; w < WORDS; w += 8)
			if (p[w] != pattern(i, want, w))
				return (long)i;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", required_argument, NULL, 'm' }, { "rate", required_argument, NULL, 'r' },
		{ "heartbeat-ms", required_argument, NULL, 'b' },
		{ "verify-s", required_argument, NULL, 'v' }, { "secs", required_argument, NULL, 's' },
		{ 0 }
	};
	uint64_t mib = 64, rate_mbps = 0, hb_ms = 1000, verify_s = 5, secs = 0;
	uint64_t npages, gen = 1, cursor = 0, hb = 0, written = 0, t0, next_hb, next_verify;
	uint64_t *base;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'r': rate_mbps = strtoull(optarg, NULL, 0); break;
		case 'b': hb_ms = strtoull(optarg, NULL, 0); break;
		case 'v': verify_s = strtoull(optarg, NULL, 0); break;
		case 's': secs = strtoull(optarg, NULL, 0); break;
		default: fprintf(stderr, "dirtier: bad option\n"); return 2;
		}
	}
	if (mib == 0 || hb_ms == 0) {
		fprintf(stderr, "dirtier: --mib and --heartbeat-ms must be positive\n");
		return 2;
	}
	npages = mib * 256;
	base = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (base == MAP_FAILED) {
		perror("dirtier: mmap");
		return 1;
	}
	/* Generation 0 everywhere, then sweeps write generation 1, 2, ... */
	for (uint64_t i = 0; i < npages; i++)
		write_page(base + i * WORDS, i, 0);
	printf("DIRTIER START mib=%llu rate_mbps=%llu\n", (unsigned long long)mib,
	       (unsigned long long)rate_mbps);
	fflush(stdout);
	t0 = now_ns();
	next_hb = t0 + hb_ms * 1000000ull;
	next_verify = t0 + verify_s * 1000000000ull;
	for (;;) {
		uint64_t t = now_ns();

		/* Rate limit: by now we may have written rate * elapsed bytes. */
		if (rate_mbps == 0 || written * PAGE < rate_mbps * (t - t0) / 1000) {
			for (int k = 0; k < 16; k++) {
				write_page(base + cursor * WORDS, cursor, gen);
				written++;
				if (++cursor == npages) {
					cursor = 0;
					gen++;
				}
			}
		} else {
			usleep(200);
		}
		if (t >= next_hb) {
			printf("HB %llu gen=%llu mib_dirtied=%llu\n", (unsigned long long)++hb,
			       (unsigned long long)gen, (unsigned long long)(written * PAGE >> 20));
			fflush(stdout);
			next_hb += hb_ms * 1000000ull;
			if (next_hb < t)
				next_hb = t + hb_ms * 1000000ull;
		}
		if (verify_s && t >= next_verify) {
			long bad = verify(base, npages, gen, cursor);

			if (bad >= 0) {
				printf("VERIFY FAIL %ld\n", bad);
				fflush(stdout);
				return 1;
			}
			printf("VERIFY OK gen=%llu\n", (unsigned long long)gen);
			fflush(stdout);
			next_verify = now_ns() + verify_s * 1000000000ull;
		}
		if (secs && t - t0 >= secs * 1000000000ull)
			return 0;
	}
}
