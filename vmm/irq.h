/* irq: KVM interrupt routing for message-signalled interrupts. The routing
 * table always keeps the default PIC/IOAPIC routes of GSIs 0-23 and adds one
 * MSI route per allocated GSI; a device raises an MSI by writing the GSI's
 * irqfd, so no vCPU exits to user space to deliver it. ioeventfds let a
 * guest's queue notification wake the I/O thread without stopping the vCPU
 * in user space. */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <pthread.h>
#include <stdint.h>

#define IRQ_MAX_ROUTES 512

struct irq_routes {
	pthread_mutex_t lock;	/* vCPU threads program MSI-X tables concurrently */
	int vm_fd;
	unsigned next_gsi;
	unsigned nmsi;
	struct { unsigned gsi; uint64_t addr; uint32_t data; } msi[IRQ_MAX_ROUTES];
};

/* irq_init(r, vm_fd): default routes only. Main thread. */
int irq_init(struct irq_routes *r, int vm_fd);

/* irq_alloc_msi(r, gsi): reserve a GSI for an MSI route (initially pointing
 * nowhere useful). Returns 0 or -ENOSPC. */
int irq_alloc_msi(struct irq_routes *r, unsigned *gsi);

/* irq_set_msi(r, gsi, addr, data): point gsi at this MSI message and commit
 * the table with KVM_SET_GSI_ROUTING. Any thread. */
int irq_set_msi(struct irq_routes *r, unsigned gsi, uint64_t addr, uint32_t data);

/* irq_irqfd(vm_fd, fd, gsi, on): attach or detach an eventfd to a GSI. */
int irq_irqfd(int vm_fd, int fd, unsigned gsi, int on);

/* irq_ioeventfd(vm_fd, fd, addr, len, on): an MMIO write of len bytes at addr
 * signals fd instead of exiting to user space. */
int irq_ioeventfd(int vm_fd, int fd, uint64_t addr, unsigned len, int on);

#endif
