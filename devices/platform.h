/* platform: the table entries of the legacy platform devices. */
#ifndef DEVICES_PLATFORM_H
#define DEVICES_PLATFORM_H

#include <stdint.h>
#include <time.h>
#include "device.h"

struct device i8042_device(void);
struct device rtc_device(void);
struct device pm_device(void);
struct device debugport_device(void);

/* rtc_register(index, now): the CMOS register value at time now; for tests. */
uint8_t rtc_register(uint8_t index, time_t now);

#endif
