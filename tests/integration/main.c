/* main: the integration-test runner. `integration-tests [SUITE...]` runs the
 * named suites (cli, micro, linux, devices, state-*, migrate), all by default;
 * ITEST_ONLY=TEXT keeps only the tests whose names contain TEXT, ITEST_SKIP=TEXT
 * leaves those out. A suite whose requirement
 * is missing fails with a message saying so; it is never skipped silently. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

int add_isuite(const char *name, const struct itest *tests)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);
	const char *only = getenv("ITEST_ONLY");	/* a substring of test names */
	const char *skip = getenv("ITEST_SKIP");	/* and one to leave out */

	if (!s)
		return -1;
	for (; tests->name; tests++) {
		if ((only && !strstr(tests->name, only)) || (skip && strstr(tests->name, skip)))
			continue;
		if (!CU_add_test(s, tests->name, tests->fn))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*add)(void); } all[] = {
		{ "cli", suite_cli }, { "micro", suite_micro }, { "linux", suite_linux },
		{ "devices", suite_devices },
		{ "state-micro", suite_state_micro }, { "state-linux", suite_state_linux },
		{ "migrate", suite_migrate },
	};
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int want = argc < 2;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], all[i].name);
		if (want && all[i].add() < 0)
			return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
