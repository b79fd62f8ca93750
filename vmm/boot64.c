/* boot64: long-mode entry state (see boot64.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include "boot64.h"
#include "err.h"
#include "layout.h"

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define CR4_OSFXSR 0x200ULL
#define CR4_OSXMMEXCPT 0x400ULL
#define EFER_SCE 0x1ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

/* flags: the 12 bits G D/B L AVL [limit 19:16] P DPL S TYPE, packed as 0xGLxx. */
uint64_t boot64_gdt_entry(uint32_t base, uint32_t limit, uint16_t flags)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

int boot64_write_tables(struct mem *m)
{
	uint64_t *gdt = mem_hva(m, LAYOUT_GDT, 5 * 8);
	uint64_t *pml4 = mem_hva(m, LAYOUT_PML4, 4096);
	uint64_t *pdpt = mem_hva(m, LAYOUT_PDPT, 4096);
	uint64_t *pd = mem_hva(m, LAYOUT_PD, LAYOUT_PD_PAGES * 4096);

	if (!gdt || !pml4 || !pdpt || !pd)
		return err_set(-EINVAL, "guest RAM too small for boot page tables");
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[LAYOUT_SEL_CODE / 8] = boot64_gdt_entry(0, 0xfffff, 0xa09b);	/* 64-bit code */
	gdt[LAYOUT_SEL_DATA / 8] = boot64_gdt_entry(0, 0xfffff, 0xc093);	/* flat data */
	gdt[LAYOUT_SEL_TSS / 8] = boot64_gdt_entry(0, 0x67, 0x008b);		/* busy TSS */

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (int i = 0; i < LAYOUT_PD_PAGES; i++) {
		pdpt[i] = (LAYOUT_PD + i * 4096ULL) | PTE_P | PTE_RW;
		for (int j = 0; j < 512; j++)
			pd[i * 512 + j] = ((uint64_t)(i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS;
	}
	return 0;
}

static void seg_from_gdt(struct kvm_segment *s, uint16_t sel, uint64_t desc)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24);
	s->limit = (uint32_t)((desc & 0xffff) | (((desc >> 48) & 0xf) << 16));
	s->type = (desc >> 40) & 0xf;
	s->s = (desc >> 44) & 1;
	s->dpl = (desc >> 45) & 3;
	s->present = (desc >> 47) & 1;
	s->avl = (desc >> 52) & 1;
	s->l = (desc >> 53) & 1;
	s->db = (desc >> 54) & 1;
	s->g = (desc >> 55) & 1;
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

int boot64_set_vcpu(int fd, const struct boot64_regs *r)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return err_set(-errno, "KVM_GET_SREGS: %s", strerror(errno));
	seg_from_gdt(&sregs.cs, LAYOUT_SEL_CODE, boot64_gdt_entry(0, 0xfffff, 0xa09b));
	seg_from_gdt(&sregs.ds, LAYOUT_SEL_DATA, boot64_gdt_entry(0, 0xfffff, 0xc093));
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	seg_from_gdt(&sregs.tr, LAYOUT_SEL_TSS, boot64_gdt_entry(0, 0x67, 0x008b));
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = LAYOUT_PML4;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA | EFER_SCE;
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return err_set(-errno, "KVM_SET_SREGS: %s", strerror(errno));

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return err_set(-errno, "KVM_SET_FPU: %s", strerror(errno));

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = r->rip;
	regs.rsp = r->rsp;
	regs.rdi = r->rdi;
	regs.rsi = r->rsi;
	regs.rdx = r->rdx;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return err_set(-errno, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}
