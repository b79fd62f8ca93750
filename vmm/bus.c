/* bus: sorted range table with binary search (see bus.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bus.h"
#include "err.h"

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
}

void bus_free(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->n = b->cap = 0;
}

int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops, void *dev)
{
	int i;

	if (b->frozen)
		return err_set(-EPERM, "%s bus: cannot add a range after start", b->name);
	if (len == 0 || base + len < base)
		return err_set(-EINVAL, "%s bus: bad range 0x%llx+0x%llx", b->name,
			       (unsigned long long)base, (unsigned long long)len);
	for (i = 0; i < b->n; i++) {
		struct bus_range *r = &b->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return err_set(-EEXIST, "%s bus: 0x%llx+0x%llx overlaps 0x%llx+0x%llx",
				       b->name, (unsigned long long)base,
				       (unsigned long long)len, (unsigned long long)r->base,
				       (unsigned long long)r->len);
		if (r->base > base)
			break;
	}
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *nr = realloc(b->ranges, cap * sizeof(*nr));

		if (!nr)
			return err_set(-ENOMEM, "%s bus: out of memory", b->name);
		b->ranges = nr;
		b->cap = cap;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i], (b->n - i) * sizeof(*b->ranges));
	b->ranges[i] = (struct bus_range){ base, len, ops, dev };
	b->n++;
	return 0;
}

void bus_freeze(struct bus *b)
{
	b->frozen = 1;
}

int bus_access(struct bus *b, uint64_t addr, void *data, int size, int is_write)
{
	int lo = 0, hi = b->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		struct bus_range *r = &b->ranges[mid];

		if (addr < r->base) {
			hi = mid - 1;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			if (is_write) {
				if (r->ops->write)
					r->ops->write(r->dev, addr - r->base, data, size);
			} else if (r->ops->read) {
				r->ops->read(r->dev, addr - r->base, data, size);
			} else {
				memset(data, 0xff, size);
			}
			return 0;
		}
	}
	__atomic_fetch_add(&b->unhandled, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0xff, size);
	return -ENOENT;
}
