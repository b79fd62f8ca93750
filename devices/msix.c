/* msix: MSI-X capability, table, PBA, and delivery through irqfd (see msix.h). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "msix.h"
#include "pci.h"
#include "../migration/stream.h"

#define CTRL_ENABLE 0x8000
#define CTRL_FMASK 0x4000
#define VEC_MASKED 1

static uint16_t ctrl_reg(const struct msix *x)
{
	uint16_t c;

	memcpy(&c, x->pci->cfg + x->cap + 2, 2);
	return c;
}

int msix_init(struct msix *x, struct pci_dev *pci, struct irq_routes *routes, int vm_fd,
	      uint16_t nvec, int bar, uint32_t table_off, uint32_t pba_off)
{
	uint8_t cap[12] = { 0x11, 0 };
	uint16_t ctrl = (uint16_t)(nvec - 1);
	uint32_t t = table_off | (uint32_t)bar, p = pba_off | (uint32_t)bar;
	int r;

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS)
		return err_set(-EINVAL, "MSI-X: %u vectors", nvec);
	x->routes = routes;
	x->vm_fd = vm_fd;
	x->nvec = nvec;
	x->pci = pci;
	memcpy(cap + 2, &ctrl, 2);
	memcpy(cap + 4, &t, 4);
	memcpy(cap + 8, &p, 4);
	x->cap = pci_add_cap(pci, cap, sizeof(cap));
	if (!x->cap)
		return err_set(-ENOSPC, "MSI-X: no room in config space");
	pci->wmask[x->cap + 3] = (CTRL_ENABLE | CTRL_FMASK) >> 8;
	for (unsigned i = 0; i < nvec; i++) {
		x->v[i].ctrl = VEC_MASKED;
		x->v[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (x->v[i].fd < 0)
			return err_set(-errno, "eventfd: %s", strerror(errno));
		r = irq_alloc_msi(routes, &x->v[i].gsi);
		if (r == 0)
			r = irq_irqfd(vm_fd, x->v[i].fd, x->v[i].gsi, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

void msix_free(struct msix *x)
{
	for (unsigned i = 0; i < x->nvec; i++)
		if (x->v[i].fd > 0)
			close(x->v[i].fd);
	x->nvec = 0;
}

/* Fire vec if it may fire; caller holds the lock. */
static void deliver(struct msix *x, unsigned vec)
{
	uint16_t ctrl = ctrl_reg(x);

	if (!(ctrl & CTRL_ENABLE))
		return;
	if ((ctrl & CTRL_FMASK) || (x->v[vec].ctrl & VEC_MASKED)) {
		x->v[vec].pending = 1;
		return;
	}
	x->v[vec].pending = 0;
	eventfd_write(x->v[vec].fd, 1);
}

static void reroute(struct msix *x, unsigned vec)
{
	uint64_t addr = ((uint64_t)x->v[vec].addr_hi << 32) | x->v[vec].addr_lo;

	if (irq_set_msi(x->routes, x->v[vec].gsi, addr, x->v[vec].data) < 0)
		err_prefix("MSI-X vector %u: ", vec);
}

void msix_table_read(struct msix *x, uint64_t off, void *data, int size)
{
	unsigned vec = (unsigned)(off / 16), word = (unsigned)(off % 16) / 4;
	uint32_t v = 0xffffffff;

	pthread_mutex_lock(&x->lock);
	if (vec < x->nvec && size == 4 && !(off & 3)) {
		uint32_t *w[4] = { &x->v[vec].addr_lo, &x->v[vec].addr_hi, &x->v[vec].data,
				   &x->v[vec].ctrl };

		v = *w[word];
	}
	pthread_mutex_unlock(&x->lock);
	memcpy(data, &v, size < 4 ? size : 4);
	if (size == 8)
		memset((uint8_t *)data + 4, 0xff, 4);
}

void msix_table_write(struct msix *x, uint64_t off, const void *data, int size)
{
	unsigned vec = (unsigned)(off / 16), word = (unsigned)(off % 16) / 4;
	uint32_t v;

	if (vec >= x->nvec || size != 4 || (off & 3))
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&x->lock);
	switch (word) {
	case 0: x->v[vec].addr_lo = v; break;
	case 1: x->v[vec].addr_hi = v; break;
	case 2: x->v[vec].data = v; break;
	case 3:
		x->v[vec].ctrl = v & VEC_MASKED;
		/* Unmasking commits the message and delivers what was latched. */
		if (!(v & VEC_MASKED)) {
			reroute(x, vec);
			if (x->v[vec].pending)
				deliver(x, vec);
		}
		break;
	}
	pthread_mutex_unlock(&x->lock);
}

void msix_pba_read(struct msix *x, uint64_t off, void *data, int size)
{
	uint64_t bits = 0;

	pthread_mutex_lock(&x->lock);
	for (unsigned i = 0; i < x->nvec; i++)
		bits |= (uint64_t)x->v[i].pending << i;
	pthread_mutex_unlock(&x->lock);
	bits = off < 8 ? bits >> (8 * off) : 0;
	memcpy(data, &bits, size);
}

void msix_cfg_written(struct msix *x)
{
	pthread_mutex_lock(&x->lock);
	if ((ctrl_reg(x) & CTRL_ENABLE) && !(ctrl_reg(x) & CTRL_FMASK))
		for (unsigned i = 0; i < x->nvec; i++)
			if (x->v[i].pending && !(x->v[i].ctrl & VEC_MASKED))
				deliver(x, i);
	pthread_mutex_unlock(&x->lock);
}

int msix_notify(struct msix *x, uint16_t vec)
{
	if (vec == MSIX_NO_VECTOR || vec >= x->nvec)
		return -1;
	pthread_mutex_lock(&x->lock);
	deliver(x, vec);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

void msix_save(struct msix *x, struct stream *s)
{
	pthread_mutex_lock(&x->lock);
	stream_put_u16(s, x->nvec);
	for (unsigned i = 0; i < x->nvec; i++) {
		stream_put_u32(s, x->v[i].addr_lo);
		stream_put_u32(s, x->v[i].addr_hi);
		stream_put_u32(s, x->v[i].data);
		stream_put_u32(s, x->v[i].ctrl);
		stream_put_u8(s, (uint8_t)x->v[i].pending);
	}
	pthread_mutex_unlock(&x->lock);
}

int msix_load(struct msix *x, struct stream *s)
{
	uint16_t n = stream_get_u16(s);

	if (!s->err && n != x->nvec)
		return stream_fail(s, -EINVAL, "MSI-X: %u vectors saved, this device has %u", n,
				   x->nvec);
	pthread_mutex_lock(&x->lock);
	for (unsigned i = 0; i < x->nvec && !s->err; i++) {
		x->v[i].addr_lo = stream_get_u32(s);
		x->v[i].addr_hi = stream_get_u32(s);
		x->v[i].data = stream_get_u32(s);
		x->v[i].ctrl = stream_get_u32(s) & VEC_MASKED;
		x->v[i].pending = stream_get_u8(s) != 0;
		if (!s->err && !(x->v[i].ctrl & VEC_MASKED))
			reroute(x, i);
	}
	pthread_mutex_unlock(&x->lock);
	return s->err;
}
