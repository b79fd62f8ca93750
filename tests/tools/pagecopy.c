/* pagecopy: the migration page path, measured natively, without KVM. This
 * machine's /dev/kvm cannot run our guests, so the engine's throughput is
 * otherwise only measured in the lab, where TCG emulates every byte the VMM
 * touches. The page path does not need KVM: the sender's page_writer encodes
 * guest RAM (an ordinary mapping made by mem_init, filled here with a pattern)
 * into checksummed PAGES sections exactly as `vmm migrate` does, over a TCP
 * connection made by migration/tcp.c; the receiver applies them with
 * pages_load into its own mem, exactly as `vmm receive` does, and then checks
 * every page. What it leaves out is what a real migration adds around the
 * copy: dirty-log reads, vCPU and device state. Compare with tcpcopy
 * between the same namespaces.
 *
 *   pagecopy recv ADDR:PORT MIB fresh|warm [FILL%[s]]
 *   pagecopy send ADDR:PORT MIB [none|lz4] [FILL%[s]] [live|stunned]
 *
 * "fresh" receives into untouched memory, as a destination VMM does;
 * "warm" makes the receiver's memory resident before the clock starts, to
 * show the page path alone (on this machine the kernel's zeroing of fresh
 * pages can cost more than the whole copy).
 * "live" (the default) sends as pre-copy rounds do while the guest runs: each
 * raw page copied into its section first, so that the checksum matches what
 * is sent; "stunned" as stop-copy and the last round do: raw pages go to
 * the socket from RAM in place.
 *
 * FILL% of the pages hold data (a pattern that does not compress), the rest
 * are zero; FILL%s (e.g. 100s) makes the data sparse like the guest
 * dirtier's (one word in eight set: LZ4 shrinks it about tenfold). The receiver prints
 * "PAGECOPY mib=N ms=T mbit_s=R pages=P zero=Z raw=W lz4=L" and exits 1 if a
 * page differs from what the sender wrote. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "../../migration/pages.h"
#include "../../migration/proto.h"
#include "../../migration/stream.h"
#include "../../migration/tcp.h"
#include "../../migration/transport.h"
#include "../../vmm/err.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Page i's data: zero unless it is among the FILL% that hold a pattern. */
static int page_holds_data(uint64_t i, int fill)
{
	return (int)(i % 100) < fill;
}

static int sparse;	/* data pages hold one word in eight (FILL%s) */

static void fill_page(uint64_t *p, uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t k = 0; k < MEM_PAGE_SIZE / 8; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[k] = sparse && k % 8 ? 0 : x;
	}
}

static int check_page(const uint64_t *p, uint64_t i, int fill)
{
	static uint64_t want[MEM_PAGE_SIZE / 8];

	if (!page_holds_data(i, fill)) {
		for (size_t k = 0; k < MEM_PAGE_SIZE / 8; k++)
			if (p[k])
				return -1;
		return 0;
	}
	fill_page(want, i);
	return memcmp(p, want, MEM_PAGE_SIZE) ? -1 : 0;
}

static int do_recv(const char *addr, uint64_t bytes, int warm, int fill)
{
	struct fd_transport ft;
	struct stream s;
	struct page_stats st = { 0 };
	struct mem m;
	struct pagemap pm;
	uint32_t type;
	double t0 = 0, ms;
	int lfd, fd;

	if (mem_init(&m, bytes) < 0 || (lfd = tcp_listen(addr)) < 0) {
		fprintf(stderr, "pagecopy: %s\n", err_msg());
		return 1;
	}
	if (warm && madvise(m.hva, bytes, MADV_POPULATE_WRITE) < 0)
		perror("pagecopy: madvise(MADV_POPULATE_WRITE)");
	if ((fd = tcp_accept(lfd, 60000)) < 0) {
		fprintf(stderr, "pagecopy: %s\n", err_msg());
		return 1;
	}
	fd_transport_init(&ft, fd);
	stream_init(&s, &ft.t);
	pagemap_open(&pm);
	if (stream_read_header(&s) == 0)
		t0 = now_ms();
	while (!s.err && stream_next(&s, &type, NULL, NULL) == 0 && type == SEC_PAGES)
		pages_load(&s, &m, &st, &pm);
	ms = now_ms() - t0;
	if (s.err || type != SEC_END) {
		fprintf(stderr, "pagecopy: receive failed: %s\n",
			s.err ? s.msg : "unexpected section");
		return 1;
	}
	printf("PAGECOPY mib=%llu ms=%.1f mbit_s=%.0f pages=%llu zero=%llu raw=%llu lz4=%llu\n",
	       (unsigned long long)(bytes >> 20), ms, (double)s.bytes * 8 / 1e3 / ms,
	       (unsigned long long)st.pages, (unsigned long long)st.zero_pages,
	       (unsigned long long)st.raw_pages, (unsigned long long)st.lz4_pages);
	for (uint64_t i = 0; i < bytes / MEM_PAGE_SIZE; i++)
		if (check_page((const uint64_t *)(m.hva + i * MEM_PAGE_SIZE), i, fill) < 0) {
			fprintf(stderr, "pagecopy: page %llu differs from what was sent\n",
				(unsigned long long)i);
			return 1;
		}
	return 0;
}

static int do_send(const char *addr, uint64_t bytes, enum compress_mode mode, int fill,
		   int stunned)
{
	struct fd_transport ft;
	struct page_writer w;
	struct stream s;
	struct mem m;
	int fd;

	if (mem_init(&m, bytes) < 0) {
		fprintf(stderr, "pagecopy: %s\n", err_msg());
		return 1;
	}
	for (uint64_t i = 0; i < bytes / MEM_PAGE_SIZE; i++)
		if (page_holds_data(i, fill))
			fill_page((uint64_t *)(m.hva + i * MEM_PAGE_SIZE), i);
	fd = tcp_connect(addr, 10000);
	if (fd < 0) {
		fprintf(stderr, "pagecopy: %s\n", err_msg());
		return 1;
	}
	fd_transport_init(&ft, fd);
	stream_init(&s, &ft.t);
	if (page_writer_init(&w, &s, &m, mode, 0) < 0) {
		fprintf(stderr, "pagecopy: out of memory\n");
		return 1;
	}
	w.stable = stunned;
	stream_write_header(&s);
	for (uint64_t i = 0; i < bytes / MEM_PAGE_SIZE && !s.err; i++)
		page_write(&w, i);
	page_flush(&w);
	stream_begin(&s, SEC_END, 0);
	stream_end(&s);
	if (s.err) {
		fprintf(stderr, "pagecopy: send failed: %s\n", s.msg);
		return 1;
	}
	if (mode == COMPRESS_LZ4)
		fprintf(stderr, "pagecopy: compression switched %u times\n",
			w.st.compress_switches);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t bytes = argc >= 4 ? strtoull(argv[3], NULL, 10) << 20 : 0;
	int fill = argc >= 6 ? atoi(argv[5]) : 100;

	sparse = argc >= 6 && strchr(argv[5], 's');

	if (argc < 4 || fill < 0 || fill > 100 || bytes < MEM_MIN_SIZE)
		goto usage;
	if (!strcmp(argv[1], "recv") && argc >= 5 &&
	    (!strcmp(argv[4], "fresh") || !strcmp(argv[4], "warm")))
		return do_recv(argv[2], bytes, !strcmp(argv[4], "warm"), fill);
	if (!strcmp(argv[1], "send")) {
		enum compress_mode mode = COMPRESS_NONE;

		if (argc >= 5 && !strcmp(argv[4], "lz4"))
			mode = COMPRESS_LZ4;
		else if (argc >= 5 && strcmp(argv[4], "none"))
			goto usage;
		if (argc >= 7 && strcmp(argv[6], "live") && strcmp(argv[6], "stunned"))
			goto usage;
		return do_send(argv[2], bytes, mode, fill, argc >= 7 && !strcmp(argv[6], "stunned"));
	}
usage:
	fprintf(stderr, "usage: pagecopy recv ADDR:PORT MIB fresh|warm [FILL%%[s]] | "
		"pagecopy send ADDR:PORT MIB [none|lz4] [FILL%%[s]] [live|stunned]\n");
	return 2;
}
