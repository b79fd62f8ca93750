/* suites: each unit-test file registers its suite through one function;
 * main.c lists them, in order. */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <CUnit/CUnit.h>

int suite_bus(void);
int suite_linux(void);
int suite_acpi(void);
int suite_opts(void);
int suite_serial(void);
int suite_misc(void);
int suite_virtq(void);
int suite_stream(void);
int suite_pages(void);

/* add_tests(name, tests): register a suite from a NULL-terminated table. */
struct unit_test { const char *name; void (*fn)(void); };
int add_suite(const char *name, const struct unit_test *tests);

#endif
