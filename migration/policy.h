/* policy: when pre-copy stops sending rounds. Kept apart from the engine
 * (migrate.c) because it is the part a user argues with, and because it is
 * pure: the unit tests feed it rounds without a VM.
 *
 * After each round the engine knows how many pages the round sent (the
 * dirty set it started from: all of RAM for the first), how many are dirty
 * now, and the downtime predicted from the measured bandwidth. Once that
 * prediction is under the target, one more round costs at most the
 * prediction and is worth it while the set still shrinks by a fifth per
 * round: a guest dirtying slowly then switches over with a few pages left
 * instead of whatever was dirty when the target was first met (after the
 * first round that can be hundreds of milliseconds of pages). */
#ifndef MIGRATION_POLICY_H
#define MIGRATION_POLICY_H

#include <stdint.h>

#define POLICY_FEW_PAGES 16	/* a dirty set this small: switch over at once */

/* precopy_converged(sent, dirty, predicted_ms, target_ms, round, max_iterations):
 * 1 if pre-copy should switch over now (round counts from 0). */
int precopy_converged(uint64_t sent, uint64_t dirty, double predicted_ms, double target_ms,
		      uint32_t round, uint32_t max_iterations);

/* precopy_stuck(sent, dirty): 1 if the round did not shrink the dirty set
 * by a tenth (two such rounds in a row call for throttling or post-copy). */
int precopy_stuck(uint64_t sent, uint64_t dirty);

#endif
