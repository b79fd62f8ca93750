/* device: the small interface every emulated device implements. A device
 * claims its ports or MMIO ranges in init() (before the VM starts) and is then
 * reached only through the bus and, for input, through its own entry points.
 * save/load join this interface with checkpointing. */
#ifndef DEVICES_DEVICE_H
#define DEVICES_DEVICE_H

struct vm;

/* What the VMM hands a device at init. */
struct device_env {
	int console_out_fd;	/* where the UART writes guest output; -1: discard */
	int console_space_fd;	/* eventfd the UART signals when its receive FIFO has room */
	int micro;		/* a micro guest: add the debug port */
};

struct device {
	const char *name;
	int (*init)(struct device *d, struct vm *vm, const struct device_env *env);
	void (*free)(struct device *d);
	void *state;		/* owned by the device */
};

#endif
