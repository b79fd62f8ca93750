/* test_stream: the state stream format: round trips, and every kind of bad
 * input (truncated anywhere, any flipped bit, bad magic, wrong version,
 * oversized section, reading past a section's end, a transport that breaks)
 * gives an error with a message, never a crash or a silent success. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../migration/ram.h"
#include "../../migration/tcp.h"
#include "../../migration/stream.h"
#include "suites.h"

/* Write a small stream with two sections into mt. */
static void write_sample(struct mem_transport *mt)
{
	struct stream s;
	uint8_t blob[300];

	for (int i = 0; i < 300; i++)
		blob[i] = (uint8_t)(i * 13);
	mem_transport_init(mt, NULL, 0);
	stream_init(&s, &mt->t);
	CU_ASSERT_EQUAL(stream_write_header(&s), 0);
	stream_begin(&s, 7, 0);
	stream_put_u8(&s, 0xab);
	stream_put_u16(&s, 0xbeef);
	stream_put_u32(&s, 0xdeadbeef);
	stream_put_u64(&s, 0x0123456789abcdefULL);
	CU_ASSERT_EQUAL(stream_end(&s), 0);
	stream_begin(&s, 9, SECTION_OPTIONAL);
	stream_put_bytes(&s, blob, sizeof(blob));
	CU_ASSERT_EQUAL(stream_end(&s), 0);
	stream_free(&s);
}

/* Read the sample back; returns 0 if it all checks out, else the error. */
static int read_sample(const uint8_t *data, size_t len, char *msg, size_t msglen)
{
	struct mem_transport mt;
	struct stream s;
	uint32_t type, flags, n;
	uint8_t blob[300];
	int r = 0;

	mem_transport_init(&mt, data, len);
	stream_init(&s, &mt.t);
	stream_read_header(&s);
	stream_next(&s, &type, &flags, &n);
	if (!s.err && (type != 7 || n != 15 || stream_get_u8(&s) != 0xab ||
		       stream_get_u16(&s) != 0xbeef || stream_get_u32(&s) != 0xdeadbeef ||
		       stream_get_u64(&s) != 0x0123456789abcdefULL || stream_left(&s) != 0))
		r = -1000;
	stream_next(&s, &type, &flags, &n);
	stream_get_bytes(&s, blob, sizeof(blob));
	if (!s.err && (type != 9 || flags != SECTION_OPTIONAL || blob[299] != (uint8_t)(299 * 13)))
		r = -1001;
	if (s.err) {
		r = s.err;
		snprintf(msg, msglen, "%s", s.msg);
	}
	stream_free(&s);
	mem_transport_free(&mt);
	return r;
}

static void test_round_trip(void)
{
	struct mem_transport mt;
	char msg[256] = "";

	write_sample(&mt);
	CU_ASSERT_EQUAL(read_sample(mt.data, mt.len, msg, sizeof(msg)), 0);
	mem_transport_free(&mt);
}

static void test_truncated_everywhere(void)
{
	struct mem_transport mt;
	char msg[256];

	write_sample(&mt);
	for (size_t cut = 0; cut < mt.len; cut++) {
		msg[0] = 0;
		CU_ASSERT_EQUAL(read_sample(mt.data, cut, msg, sizeof(msg)), -EPIPE);
		CU_ASSERT_PTR_NOT_NULL(strstr(msg, "truncated"));
	}
	mem_transport_free(&mt);
}

static void test_every_bit_flip(void)
{
	struct mem_transport mt;
	char msg[256];
	int undetected = 0;

	write_sample(&mt);
	for (size_t i = 0; i < mt.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			mt.data[i] ^= (uint8_t)(1 << bit);
			if (read_sample(mt.data, mt.len, msg, sizeof(msg)) == 0)
				undetected++;
			mt.data[i] ^= (uint8_t)(1 << bit);
		}
	}
	CU_ASSERT_EQUAL(undetected, 0);
	mem_transport_free(&mt);
}

static void test_header_errors(void)
{
	struct mem_transport mt;
	char msg[256], want[32];

	write_sample(&mt);
	mt.data[0] = 'X';
	CU_ASSERT_EQUAL(read_sample(mt.data, mt.len, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "not a vmm state stream"));
	mt.data[0] = 'V';
	mt.data[8] = STREAM_VERSION + 1;	/* a newer version */
	CU_ASSERT_EQUAL(read_sample(mt.data, mt.len, msg, sizeof(msg)), -EPROTO);
	snprintf(want, sizeof(want), "version %u", STREAM_VERSION + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
	mem_transport_free(&mt);
}

static void test_oversized_section(void)
{
	uint8_t data[16 + 16] = "VMMSTATE";
	uint32_t h[4] = { 3, 0, STREAM_MAX_SECTION + 1, 0 }, v = STREAM_VERSION;
	char msg[256];

	memcpy(data + 8, &v, 4);
	memcpy(data + 16, h, 16);
	/* Refused from the header alone: nothing is allocated for it. */
	CU_ASSERT_EQUAL(read_sample(data, sizeof(data), msg, sizeof(msg)), -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "claims"));
}

static void test_read_past_end(void)
{
	struct mem_transport mt;
	struct stream s;
	uint32_t type;

	write_sample(&mt);
	stream_init(&s, &mt.t);
	CU_ASSERT_EQUAL(stream_read_header(&s), 0);
	CU_ASSERT_EQUAL(stream_next(&s, &type, NULL, NULL), 0);
	stream_get_u64(&s);
	stream_get_u64(&s);		/* only 15 bytes in the section */
	CU_ASSERT_EQUAL(s.err, -EBADMSG);
	CU_ASSERT_EQUAL(stream_get_u32(&s), 0);	/* sticky: later reads give zeros */
	CU_ASSERT_PTR_NULL(stream_get_ptr(&s, 1));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.msg, "past its end"));
	stream_free(&s);
	mem_transport_free(&mt);
}

static void test_writer_errors(void)
{
	struct mem_transport mt;
	struct stream s;

	mem_transport_init(&mt, NULL, 0);
	mt.cut_at = 60;			/* the connection drops at byte 60 */
	stream_init(&s, &mt.t);
	stream_write_header(&s);
	stream_begin(&s, 1, 0);
	stream_put_u64(&s, 1);
	CU_ASSERT_EQUAL(stream_end(&s), 0);	/* header 16 + section 16+8 + sum 8 = 48 */
	stream_begin(&s, 2, 0);
	stream_put_u64(&s, 2);
	CU_ASSERT_EQUAL(stream_end(&s), -ECONNRESET);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.msg, "write failed"));
	stream_free(&s);
	mem_transport_free(&mt);

	mem_transport_init(&mt, NULL, 0);
	stream_init(&s, &mt.t);
	stream_put_u32(&s, 5);		/* outside a section */
	CU_ASSERT_EQUAL(s.err, -EINVAL);
	stream_free(&s);
	mem_transport_free(&mt);
}

static void test_ram_round_trip(void)
{
	struct mem a, b;
	struct mem_transport mt;
	struct stream s;
	struct ram_stats st = { 0 };
	uint32_t type;
	int sections = 0;

	CU_ASSERT_FATAL(mem_init(&a, 8 << 20) == 0);
	CU_ASSERT_FATAL(mem_init(&b, 8 << 20) == 0);
	/* Scattered non-zero pages, and a run longer than one section. */
	for (int i = 0; i < 2048; i += 7)
		memset(mem_hva(&a, (uint64_t)i * 4096, 4096), i % 251 + 1, 4096);
	for (int i = 1000; i < 1400; i++)
		*(uint64_t *)mem_hva(&a, (uint64_t)i * 4096 + 8, 8) = (uint64_t)i;
	mem_transport_init(&mt, NULL, 0);
	stream_init(&s, &mt.t);
	CU_ASSERT_EQUAL(ram_save(&s, &a, 5, &st), 0);
	CU_ASSERT_EQUAL(st.pages_sent + st.zero_pages, 2048);
	CU_ASSERT(st.zero_pages > 1000);		/* zero pages were skipped */
	stream_free(&s);
	mt.pos = 0;
	stream_init(&s, &mt.t);
	while (mt.pos < mt.len && stream_next(&s, &type, NULL, NULL) == 0) {
		CU_ASSERT_EQUAL(type, 5);
		CU_ASSERT_EQUAL(ram_load(&s, &b), 0);
		sections++;
	}
	CU_ASSERT_EQUAL(s.err, 0);
	CU_ASSERT(sections > 2);
	CU_ASSERT_EQUAL(memcmp(a.hva, b.hva, 8 << 20), 0);
	stream_free(&s);
	mem_transport_free(&mt);
	mem_free(&b);
	mem_free(&a);
}

static void test_ram_hostile(void)
{
	struct mem m;
	struct mem_transport mt;
	struct stream s;
	uint32_t type;
	static uint8_t page[4096];

	CU_ASSERT_FATAL(mem_init(&m, 8 << 20) == 0);
	/* A section naming pages past the end of RAM, and one misaligned. */
	for (int k = 0; k < 3; k++) {
		uint64_t gpa = k == 0 ? (8 << 20) - 4096 : k == 1 ? 123 : 0;
		uint32_t n = k == 0 ? 2 : k == 1 ? 1 : RAM_RUN_PAGES + 1;

		mem_transport_init(&mt, NULL, 0);
		stream_init(&s, &mt.t);
		stream_begin(&s, 5, 0);
		stream_put_u64(&s, gpa);
		stream_put_u32(&s, n);
		for (uint32_t i = 0; i < n && i < 2; i++)
			stream_put_bytes(&s, page, sizeof(page));
		stream_end(&s);
		stream_free(&s);
		mt.pos = 0;
		stream_init(&s, &mt.t);
		CU_ASSERT_EQUAL(stream_next(&s, &type, NULL, NULL), 0);
		CU_ASSERT(ram_load(&s, &m) < 0);
		CU_ASSERT(strstr(s.msg, "RAM section") != NULL);
		stream_free(&s);
		mem_transport_free(&mt);
	}
	mem_free(&m);
}

static void test_tcp(void)
{
	int l, c, a;
	char buf[4];

	CU_ASSERT(tcp_listen("nonsense") < 0);
	CU_ASSERT(tcp_listen("127.0.0.1:99999") < 0);
	CU_ASSERT(tcp_connect("example.com:80", 100) < 0);	/* IPv4 literals only */
	CU_ASSERT(tcp_connect(":80", 100) < 0);
	l = tcp_listen("127.0.0.1:47311");
	CU_ASSERT_FATAL(l >= 0);
	c = tcp_connect("localhost:47311", 2000);
	CU_ASSERT_FATAL(c >= 0);
	a = tcp_accept(l, 2000);
	CU_ASSERT_FATAL(a >= 0);
	CU_ASSERT_EQUAL(write(c, "ping", 4), 4);
	CU_ASSERT_EQUAL(read(a, buf, 4), 4);
	CU_ASSERT_EQUAL(memcmp(buf, "ping", 4), 0);
	close(a);
	close(c);
	CU_ASSERT_EQUAL(tcp_accept(l, 100), -ETIMEDOUT);
	close(l);
	CU_ASSERT(tcp_connect("127.0.0.1:47311", 2000) < 0);	/* refused */
}

/* The timed read beside the stream: whole reads across several writes, a
 * timeout with nothing (or half) there, end of input. */
static void test_read_timed(void)
{
	int fds[2];
	char buf[8];

	CU_ASSERT_FATAL(pipe(fds) == 0);
	CU_ASSERT_EQUAL(write(fds[1], "abcd", 4), 4);
	CU_ASSERT_EQUAL(fd_read_timed(fds[0], buf, 4, 100), 0);
	CU_ASSERT(memcmp(buf, "abcd", 4) == 0);
	CU_ASSERT_EQUAL(fd_read_timed(fds[0], buf, 4, 50), -ETIMEDOUT);
	CU_ASSERT_EQUAL(write(fds[1], "xy", 2), 2);
	CU_ASSERT_EQUAL(fd_read_timed(fds[0], buf, 4, 50), -ETIMEDOUT);
	/* What a timed-out read took is gone: callers treat a timeout as a
	 * broken channel, never retry on it. */
	CU_ASSERT_EQUAL(write(fds[1], "zw", 2), 2);
	CU_ASSERT_EQUAL(fd_read_timed(fds[0], buf, 2, -1), 0);
	CU_ASSERT(memcmp(buf, "zw", 2) == 0);
	close(fds[1]);
	CU_ASSERT_EQUAL(fd_read_timed(fds[0], buf, 1, 100), -EPIPE);
	close(fds[0]);
}

/* One section of 600 little pieces, copied or (refs) left in place. */
static void write_pieces(struct stream *s, const uint8_t blob[600][100], int refs)
{
	stream_begin(s, 5, 0);
	stream_put_u32(s, 0);
	for (int i = 0; i < 600; i++) {
		stream_put_u16(s, (uint16_t)i);
		if (refs)
			stream_put_ref(s, blob[i], 100);
		else
			stream_put_bytes(s, blob[i], 100);
	}
	stream_patch_u32(s, 0, 600);
	stream_end(s);
}

/* Pieces in place (stream_put_ref: one writev, the checksum computed over
 * the pieces) give the very bytes of a copied section, also through a real
 * file descriptor and past the 510 pieces one writev can carry. */
static void test_pieces_in_place(void)
{
	static uint8_t blob[600][100];
	struct mem_transport a, b;
	struct fd_transport ft;
	struct stream s;
	uint32_t type, n;
	FILE *f = tmpfile();
	uint8_t *back;

	for (int i = 0; i < 600; i++)
		memset(blob[i], i * 7, sizeof(blob[i]));
	mem_transport_init(&a, NULL, 0);
	stream_init(&s, &a.t);
	write_pieces(&s, blob, 0);
	CU_ASSERT_EQUAL(s.err, 0);
	stream_free(&s);
	mem_transport_init(&b, NULL, 0);
	stream_init(&s, &b.t);
	write_pieces(&s, blob, 1);
	CU_ASSERT_EQUAL(s.err, 0);
	CU_ASSERT_EQUAL(s.bytes, a.len);
	stream_free(&s);
	CU_ASSERT_FATAL(a.len == b.len && a.len == 16 + 4 + 600 * 102 + 8);
	CU_ASSERT(memcmp(a.data, b.data, a.len) == 0);
	/* The same through a file: writev of pieces and the checksum. */
	CU_ASSERT_FATAL(f != NULL);
	fd_transport_init(&ft, fileno(f));
	stream_init(&s, &ft.t);
	write_pieces(&s, blob, 1);
	CU_ASSERT_EQUAL(s.err, 0);
	stream_free(&s);
	back = malloc(a.len + 1);
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT_EQUAL(pread(fileno(f), back, a.len + 1, 0), (ssize_t)a.len);
	CU_ASSERT(memcmp(back, a.data, a.len) == 0);
	/* And it reads back. */
	stream_init(&s, &b.t);
	CU_ASSERT_EQUAL(stream_next(&s, &type, NULL, &n), 0);
	CU_ASSERT(type == 5 && n == 4 + 600 * 102 && stream_get_u32(&s) == 600);
	stream_free(&s);
	free(back);
	fclose(f);
	mem_transport_free(&a);
	mem_transport_free(&b);
}

int suite_stream(void)
{
	static const struct unit_test t[] = {
		{ "round trip", test_round_trip },
		{ "truncated at every byte", test_truncated_everywhere },
		{ "every single-bit flip detected", test_every_bit_flip },
		{ "bad magic, wrong version", test_header_errors },
		{ "oversized section refused from its header", test_oversized_section },
		{ "read past a section's end is sticky", test_read_past_end },
		{ "writer: dropped connection, put outside a section", test_writer_errors },
		{ "RAM: round trip, zero pages skipped", test_ram_round_trip },
		{ "RAM: pages outside guest RAM, misaligned, too many", test_ram_hostile },
		{ "TCP: address parsing, connect, accept, timeout, refusal", test_tcp },
		{ "timed read: across writes, timeout, end of input", test_read_timed },
		{ "pieces in place: the bytes of a copied section", test_pieces_in_place },
		{ 0 }
	};
	return add_suite("stream", t);
}
