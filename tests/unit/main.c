/* main: the unit-test runner; no /dev/kvm needed, runs in seconds. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>
#include "../../vmm/err.h"
#include "suites.h"

int add_suite(const char *name, const struct unit_test *tests)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);

	if (!s)
		return -1;
	for (; tests->name; tests++)
		if (!CU_add_test(s, tests->name, tests->fn))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int (*suites[])(void) = { suite_bus, suite_linux, suite_acpi, suite_opts, suite_serial,
				  suite_misc, suite_virtq, suite_stream, suite_pages };
	unsigned failed;

	(void)argc;
	(void)argv;
	log_quiet = 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i]() < 0) {
			fprintf(stderr, "cannot register suite %zu\n", i);
			return 2;
		}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
