/* device: the small interface every emulated device implements. A device
 * claims its ports or MMIO ranges in init() (before the VM starts) and is then
 * reached only through the bus and, for input, through its own entry points.
 * save/load join this interface with checkpointing. */
#ifndef DEVICES_DEVICE_H
#define DEVICES_DEVICE_H

struct vm;
struct loop;
struct disk_spec;
struct net_spec;

/* What the VMM hands a device at init. */
struct device_env {
	int console_out_fd;	/* where the UART writes guest output; -1: discard */
	int console_space_fd;	/* eventfd the UART signals when its receive FIFO has room */
	int micro;		/* a micro guest: add the debug port, no PCI */
	struct loop *loop;	/* the I/O loop, for queue notifications and taps */
	const struct disk_spec *disks;
	int ndisks;
	const struct net_spec *nets;
	int nnets;
};

struct stream;

struct device {
	const char *name;
	int (*init)(struct device *d, struct vm *vm, const struct device_env *env);
	void (*free)(struct device *d);
	/* save/load: the guest-visible model (registers, FIFOs, indices), never
	 * live resources. load validates everything it reads. Optional: a
	 * device without them has no state (it is rebuilt by init). */
	void (*save)(struct device *d, struct stream *s);
	int (*load)(struct device *d, struct stream *s);
	void *state;		/* owned by the device */
};

#endif
