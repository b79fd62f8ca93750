/* bus: routes a port or MMIO access to the device that owns the address.
 * Ranges are added while the VM is configured and the bus is then frozen, so
 * vCPU threads look addresses up without any lock (configure, then freeze). */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdint.h>

struct bus_ops {
	/* off is relative to the range base; size is 1, 2, 4 or 8 bytes. */
	void (*read)(void *dev, uint64_t off, void *data, int size);
	void (*write)(void *dev, uint64_t off, const void *data, int size);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *dev;
};

struct bus {
	const char *name;	/* "pio" or "mmio", for messages */
	struct bus_range *ranges;	/* sorted by base */
	int n, cap;
	int frozen;
	uint64_t unhandled;	/* accesses that hit no device */
};

void bus_init(struct bus *b, const char *name);
void bus_free(struct bus *b);

/* bus_add(b, base, len, ops, dev): claim [base, base+len). Returns -EEXIST on
 * overlap, -EPERM once frozen, -EINVAL for an empty range. Main thread. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops, void *dev);
void bus_freeze(struct bus *b);

/* bus_access(b, addr, data, size, is_write): dispatch; returns 0 if a device
 * took it, -ENOENT if none (reads then see all ones). vCPU threads. */
int bus_access(struct bus *b, uint64_t addr, void *data, int size, int is_write);

#endif
