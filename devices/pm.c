/* pm: the hardware-reduced ACPI registers the FADT points at: the sleep
 * control register (writing SLP_TYP=S5 with SLP_EN powers off) and the reset
 * register. This is how `poweroff` and `reboot` in the guest end the VMM. */
#include <errno.h>
#include <stdlib.h>
#include "../vmm/err.h"
#include "../vmm/layout.h"
#include "../vmm/vm.h"
#include "platform.h"

#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x1c

static void pm_read(void *dev, uint64_t off, void *data, int size)
{
	(void)dev;
	(void)off;
	for (int i = 0; i < size; i++)
		((uint8_t *)data)[i] = 0;
}

static void pm_write(void *dev, uint64_t off, const void *data, int size)
{
	struct vm *vm = dev;
	uint8_t v = *(const uint8_t *)data;

	(void)size;
	if (off == PORT_PM_SLEEP_CTL - PORT_PM_BASE && (v & SLP_EN) &&
	    ((v & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == PM_SLP_TYP_S5)
		vm_request_stop(vm, VM_STOP_POWEROFF, 0, "guest powered off");
	else if (off == PORT_PM_RESET - PORT_PM_BASE && v == PM_RESET_VALUE)
		vm_request_stop(vm, VM_STOP_RESET, 0, "guest rebooted");
}

static const struct bus_ops pm_ops = { pm_read, pm_write };

static int pm_init(struct device *d, struct vm *vm, const struct device_env *env)
{
	(void)env;
	d->state = NULL;
	return bus_add(&vm->pio, PORT_PM_BASE, PORT_PM_LEN, &pm_ops, vm);
}

struct device pm_device(void)
{
	return (struct device){ .name = "acpi-pm", .init = pm_init };
}
