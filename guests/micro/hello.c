/* hello: the smallest useful guest: print a line and exit with the code given
 * in --micro-arg. Proves the long-mode entry, port output and exit path. */
#include "lib.h"

MICRO_ENTRY

void micro_main(uint64_t low_end, uint64_t high_len, uint64_t arg)
{
	put_str("hello from micro guest, ram=");
	put_u64((low_end + high_len) >> 20);
	put_str("MiB\n");
	micro_exit((uint32_t)arg);
}
