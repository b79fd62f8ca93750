/* test_stream: the state stream format: round trips, and every kind of bad
 * input (truncated anywhere, any flipped bit, bad magic, wrong version,
 * oversized section, reading past a section's end, a transport that breaks)
 * gives an error with a message, never a crash or a silent success. */
#include <errno.h>
#include <string.h>
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
	char msg[256];

	write_sample(&mt);
	mt.data[0] = 'X';
	CU_ASSERT_EQUAL(read_sample(mt.data, mt.len, msg, sizeof(msg)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "not a vmm state stream"));
	mt.data[0] = 'V';
	mt.data[8] = 2;		/* version 2 */
	CU_ASSERT_EQUAL(read_sample(mt.data, mt.len, msg, sizeof(msg)), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "version 2"));
	mem_transport_free(&mt);
}

static void test_oversized_section(void)
{
	uint8_t data[16 + 16] = "VMMSTATE\x01";
	uint32_t h[4] = { 3, 0, STREAM_MAX_SECTION + 1, 0 };
	char msg[256];

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
		{ 0 }
	};
	return add_suite("stream", t);
}
