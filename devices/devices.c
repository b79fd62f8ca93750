/* devices: the device table, in init order (see devices.h). */
#include <errno.h>
#include <stdlib.h>
#include "../vmm/err.h"
#include "devices.h"
#include "platform.h"
#include "serial.h"

typedef struct device (*device_ctor)(void);

static const device_ctor table[] = {
	serial_device,		/* COM1: the console */
	i8042_device,		/* reset */
	rtc_device,		/* CMOS clock */
	pm_device,		/* ACPI power-off and reset */
	debugport_device,	/* micro guests only */
};

#define NDEV (int)(sizeof(table) / sizeof(table[0]))

int devices_init(struct devices *ds, struct vm *vm, const struct device_env *env)
{
	ds->list = calloc(NDEV, sizeof(*ds->list));
	ds->n = 0;
	ds->console = NULL;
	if (!ds->list)
		return err_set(-ENOMEM, "out of memory for devices");
	for (int i = 0; i < NDEV; i++) {
		struct device *d = &ds->list[i];
		int r;

		*d = table[i]();
		r = d->init(d, vm, env);
		ds->n = i + 1;
		if (r < 0) {
			err_prefix("device %s: ", d->name);
			devices_free(ds);
			return r;
		}
	}
	ds->console = ds->list[0].state;
	return 0;
}

void devices_free(struct devices *ds)
{
	for (int i = 0; i < ds->n; i++)
		if (ds->list[i].free)
			ds->list[i].free(&ds->list[i]);
	free(ds->list);
	ds->list = NULL;
	ds->n = 0;
}
