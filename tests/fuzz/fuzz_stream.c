/* fuzz_stream: libFuzzer target for the state stream reader: any bytes, read
 * as a stream of sections with arbitrary get calls, must give a clean error
 * or clean data, never a crash, a hang or an unbounded allocation. */
#include <stddef.h>
#include <stdint.h>
#include "../../migration/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_transport mt;
	struct stream s;
	uint32_t type, flags, len;

	mem_transport_init(&mt, data, size);
	stream_init(&s, &mt.t);
	if (stream_read_header(&s) == 0) {
		for (int i = 0; i < 64 && stream_next(&s, &type, &flags, &len) == 0; i++) {
			/* Read fields in a pattern chosen by the section type. */
			for (uint32_t k = 0; k < (type & 15) + 1; k++) {
				switch ((type >> (2 * (k & 7))) & 3) {
				case 0: stream_get_u8(&s); break;
				case 1: stream_get_u32(&s); break;
				case 2: stream_get_u64(&s); break;
				case 3: stream_get_ptr(&s, flags & 0xfff); break;
				}
			}
			s.err = 0;	/* keep going: exercise later sections too */
		}
	}
	stream_free(&s);
	mem_transport_free(&mt);
	return 0;
}
