/* policy: when pre-copy stops sending rounds (see policy.h). */
#include "policy.h"

int precopy_converged(uint64_t sent, uint64_t dirty, double predicted_ms, double target_ms,
		      uint32_t round, uint32_t max_iterations)
{
	if (predicted_ms > target_ms)
		return 0;
	/* Under the target: another round while it still pays. */
	return !(dirty > POLICY_FEW_PAGES && dirty * 5 < sent * 4 && round + 1 < max_iterations);
}

int precopy_stuck(uint64_t sent, uint64_t dirty)
{
	return dirty * 10 > sent * 9;
}
