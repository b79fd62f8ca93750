/* fuzz_snapshot: libFuzzer target for the snapshot loader's decoders: the
 * configuration, vCPU and VM state sections, RAM runs and migration page
 * batches (zero, raw, LZ4), fed any bytes.
 * Loading into KVM needs a VM; everything before it (parsing and every check
 * of what was parsed) runs here. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "../../migration/pages.h"
#include "../../migration/proto.h"
#include "../../migration/ram.h"
#include "../../migration/snapshot.h"
#include "../../vmm/cpustate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem m;
	static struct vcpu_state st;
	struct vm_state vs;
	struct mem_transport mt;
	struct snap_config cfg;
	struct stream s;
	struct page_stats ps = { 0 };
	uint32_t type, flags;
	int id;

	if (!m.hva && mem_init(&m, MEM_MIN_SIZE) < 0)
		return 0;
	mem_transport_init(&mt, data, size);
	stream_init(&s, &mt.t);
	if (snapshot_read_config(&s, &cfg) == 0) {
		for (int i = 0; i < 32 && stream_next(&s, &type, &flags, NULL) == 0; i++) {
			if (type == SEC_VCPU)
				vcpu_state_get(&s, &id, &st);
			else if (type == SEC_VM)
				vm_state_get(&s, &vs);
			else if (type == SEC_RAM)
				ram_load(&s, &m);
			else if (type == SEC_PAGES)
				pages_load(&s, &m, &ps, NULL);
			else if (type == SEC_END)
				break;
			s.err = 0;
		}
	}
	stream_free(&s);
	mem_transport_free(&mt);
	return 0;
}
