/* main: the integration-test runner. `integration-tests [SUITE...]` runs the
 * named suites (cli, micro, linux, devices, state-*, migrate-*), all by default;
 * ITEST_ONLY=TEXT keeps only the tests whose names contain TEXT, ITEST_SKIP=TEXT
 * leaves those out, ITEST_EXACT=NAME keeps the one test of that name. A suite
 * whose requirement is missing fails with a message saying so; it is never
 * skipped silently. After the run, one line per failed test:
 *   ITEST-FAILED <tab> $VMM <tab> suite <tab> test name
 * which scripts/run-tests.sh reads to retry a lab test once. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

/* Which command-line suite name registered each CUnit suite. */
static const char *adding;
static struct { CU_pSuite s; const char *key; } keys[16];
static int nkeys;

static const char *suite_key(CU_pSuite s)
{
	for (int i = 0; i < nkeys; i++)
		if (keys[i].s == s)
			return keys[i].key;
	return "?";
}

int add_isuite(const char *name, const struct itest *tests)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);
	const char *only = getenv("ITEST_ONLY");	/* a substring of test names */
	const char *skip = getenv("ITEST_SKIP");	/* and one to leave out */
	const char *exact = getenv("ITEST_EXACT");	/* one test, by its name */

	if (!s)
		return -1;
	if (nkeys < 16) {
		keys[nkeys].s = s;
		keys[nkeys++].key = adding;
	}
	for (; tests->name; tests++) {
		if ((only && !strstr(tests->name, only)) || (skip && strstr(tests->name, skip)) ||
		    (exact && strcmp(tests->name, exact)))
			continue;
		if (!CU_add_test(s, tests->name, tests->fn))
			return -1;
	}
	return 0;
}

/* One line per failed test (a test with several failed asserts once). */
static void print_failed(void)
{
	CU_pTest seen[64];
	int n = 0;

	for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext) {
		int dup = 0;

		for (int i = 0; i < n; i++)
			dup |= seen[i] == f->pTest;
		if (dup || !f->pTest || !f->pSuite)
			continue;
		if (n < 64)
			seen[n++] = f->pTest;
		printf("ITEST-FAILED\t%s\t%s\t%s\n", getenv("VMM") ? getenv("VMM") : "vmm",
		       suite_key(f->pSuite), f->pTest->pName);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*add)(void); } all[] = {
		{ "cli", suite_cli }, { "micro", suite_micro }, { "linux", suite_linux },
		{ "devices", suite_devices },
		{ "state-micro", suite_state_micro }, { "state-linux", suite_state_linux },
		{ "migrate-micro", suite_migrate_micro }, { "migrate-linux", suite_migrate_linux },
	};
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int want = argc < 2;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], all[i].name);
		adding = all[i].name;
		if (want && all[i].add() < 0)
			return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	print_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
