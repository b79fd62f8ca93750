/* suites: the integration suites. cli needs no KVM; micro, state-micro and
 * migrate-micro need /dev/kvm of any kind (the direct tier); linux, devices,
 * state-linux and migrate-linux need hardware KVM (Intel/AMD), which this
 * project's machine has only inside the lab. The migrate suites also need
 * iproute2 and network namespaces. */
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
int suite_migrate_micro(void);
int suite_migrate_linux(void);

#endif
