/* irq: GSI routing table, irqfd and ioeventfd (see irq.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "err.h"
#include "irq.h"

#define IOAPIC_PINS 24
#define PIC_PINS 16

int irq_init(struct irq_routes *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->next_gsi = IOAPIC_PINS;
	return 0;
}

/* Caller holds the lock. */
static int commit(struct irq_routes *r)
{
	unsigned n = IOAPIC_PINS + PIC_PINS + r->nmsi, k = 0;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	int ret;

	if (!t)
		return err_set(-ENOMEM, "out of memory for IRQ routes");
	/* The defaults KVM starts with: GSI i to IOAPIC pin i, and 0-15 to the PICs. */
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		t->entries[k].gsi = i;
		t->entries[k].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[k].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		t->entries[k++].u.irqchip.pin = i;
		if (i < PIC_PINS) {
			t->entries[k].gsi = i;
			t->entries[k].type = KVM_IRQ_ROUTING_IRQCHIP;
			t->entries[k].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
								  KVM_IRQCHIP_PIC_SLAVE;
			t->entries[k++].u.irqchip.pin = i % 8;
		}
	}
	for (unsigned i = 0; i < r->nmsi; i++) {
		t->entries[k].gsi = r->msi[i].gsi;
		t->entries[k].type = KVM_IRQ_ROUTING_MSI;
		t->entries[k].u.msi.address_lo = (uint32_t)r->msi[i].addr;
		t->entries[k].u.msi.address_hi = (uint32_t)(r->msi[i].addr >> 32);
		t->entries[k++].u.msi.data = r->msi[i].data;
	}
	t->nr = k;
	ret = ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t);
	free(t);
	if (ret < 0)
		return err_set(-errno, "KVM_SET_GSI_ROUTING: %s", strerror(errno));
	return 0;
}

int irq_alloc_msi(struct irq_routes *r, unsigned *gsi)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (r->nmsi == IRQ_MAX_ROUTES) {
		ret = err_set(-ENOSPC, "no free interrupt routes");
	} else {
		r->msi[r->nmsi].gsi = r->next_gsi;
		/* A harmless message until the guest programs its own. */
		r->msi[r->nmsi].addr = 0xfee00000;
		r->msi[r->nmsi].data = 0;
		*gsi = r->next_gsi++;
		r->nmsi++;
		ret = commit(r);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_set_msi(struct irq_routes *r, unsigned gsi, uint64_t addr, uint32_t data)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nmsi; i++) {
		if (r->msi[i].gsi != gsi)
			continue;
		if (r->msi[i].addr == addr && r->msi[i].data == data) {
			ret = 0;	/* unchanged: no ioctl */
			break;
		}
		r->msi[i].addr = addr;
		r->msi[i].data = data;
		ret = commit(r);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_irqfd(int vm_fd, int fd, unsigned gsi, int on)
{
	struct kvm_irqfd f = { .fd = (uint32_t)fd, .gsi = gsi,
			       .flags = on ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	if (ioctl(vm_fd, KVM_IRQFD, &f) < 0)
		return err_set(-errno, "KVM_IRQFD gsi %u: %s", gsi, strerror(errno));
	return 0;
}

int irq_ioeventfd(int vm_fd, int fd, uint64_t addr, unsigned len, int on)
{
	struct kvm_ioeventfd e = { .addr = addr, .len = len, .fd = fd,
				   .flags = on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };

	if (ioctl(vm_fd, KVM_IOEVENTFD, &e) < 0)
		return err_set(-errno, "KVM_IOEVENTFD at 0x%llx: %s", (unsigned long long)addr,
			       strerror(errno));
	return 0;
}
