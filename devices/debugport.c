/* debugport: the two ports a micro guest talks through (guests/micro/micro.h):
 * 0xE9 prints a byte on the console, 0xF4 ends the VM with the written value
 * as the VMM's exit code. Only added for micro guests. */
#include <errno.h>
#include <unistd.h>
#include "../guests/micro/micro.h"
#include "../vmm/err.h"
#include "../vmm/vm.h"
#include "platform.h"

struct debugport {
	struct vm *vm;
	int out_fd;
};

static struct debugport dbg;	/* one per process: only one VM per process */

static void debug_write(void *dev, uint64_t off, const void *data, int size)
{
	struct debugport *d = dev;

	if (off == 0) {
		if (d->out_fd >= 0 && write(d->out_fd, data, 1) < 0) {
			/* console gone: guest output is dropped, the guest runs on */
		}
	} else if (off == MICRO_PORT_EXIT - MICRO_PORT_CONSOLE) {
		uint32_t code = 0;

		for (int i = 0; i < size && i < 4; i++)
			code |= (uint32_t)((const uint8_t *)data)[i] << (8 * i);
		vm_request_stop(d->vm, VM_STOP_GUEST_EXIT, (int)(code & 0xff),
				"micro guest exited with code %u", code);
	}
}

static const struct bus_ops debug_ops = { NULL, debug_write };

static int debug_init(struct device *d, struct vm *vm, const struct device_env *env)
{
	if (!env->micro)
		return 0;
	dbg.vm = vm;
	dbg.out_fd = env->console_out_fd;
	d->state = &dbg;
	return bus_add(&vm->pio, MICRO_PORT_CONSOLE, MICRO_PORT_EXIT - MICRO_PORT_CONSOLE + 4,
		       &debug_ops, &dbg);
}

struct device debugport_device(void)
{
	return (struct device){ .name = "debugport", .init = debug_init };
}
