/* suites: the integration suites. cli needs no KVM; micro needs /dev/kvm of
 * any kind (the direct tier); linux needs hardware KVM (Intel/AMD), which
 * this project's machine has only inside the lab. */
#ifndef TESTS_INTEGRATION_SUITES_H
#define TESTS_INTEGRATION_SUITES_H

#include <CUnit/CUnit.h>

struct itest { const char *name; void (*fn)(void); };
int add_isuite(const char *name, const struct itest *tests);

int suite_cli(void);
int suite_micro(void);
int suite_linux(void);
int suite_devices(void);
int suite_state_micro(void);
int suite_state_linux(void);
int suite_migrate(void);

#endif
