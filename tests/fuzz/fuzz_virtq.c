/* fuzz_virtq: libFuzzer target for the virtqueue walker. The input becomes
 * the guest-controlled parts of a queue (the descriptor table and the avail
 * ring); the walker must never read or write outside guest RAM, never loop
 * and never crash, whatever the bytes. Run with `make fuzz`. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "../../devices/virtqueue.h"

#define QSZ 16
#define DESC 0x1000ULL
#define AVAIL 0x2000ULL
#define USED 0x3000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem m;
	static struct virtq_req req;
	struct virtq q = { .size = QSZ, .desc_gpa = DESC, .avail_gpa = AVAIL, .used_gpa = USED,
			   .enabled = 1 };
	size_t n;
	uint8_t scratch[256];

	if (!m.hva && mem_init(&m, MEM_MIN_SIZE) < 0)
		return 0;
	memset(mem_hva(&m, 0, 0x4000), 0, 0x4000);
	n = size < 16 * QSZ ? size : 16 * QSZ;
	memcpy(mem_hva(&m, DESC, n), data, n);
	data += n;
	size -= n;
	n = size < 4 + 2 * QSZ ? size : 4 + 2 * QSZ;
	memcpy(mem_hva(&m, AVAIL, n), data, n);
	if (virtq_check_layout(&q, &m) < 0)
		return 0;
	for (int i = 0; i < 2 * QSZ; i++) {
		int r = virtq_pop(&q, &m, &req);

		if (r <= 0)
			break;
		virtq_copy_from(&req, 0, scratch, sizeof(scratch));
		virtq_copy_to(&req, 3, scratch, sizeof(scratch));
		virtq_push(&q, &m, req.head, req.writable);
	}
	return 0;
}
