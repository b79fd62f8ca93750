/* linux: bzImage loading and the zero page (see linux.h and the kernel's
 * Documentation/arch/x86/boot.rst). */
#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>
#include "err.h"
#include "layout.h"
#include "linux.h"

#define HDR_OFFSET	0x1f1
#define HDRS_MAGIC	0x53726448	/* "HdrS" */
#define MIN_VERSION	0x020c		/* 2.12: xloadflags, 64-bit entry */
#define E820_RAM	1
#define E820_RESERVED	2

int linux_check_image(const uint8_t *img, size_t len, uint16_t *version)
{
	struct setup_header h;
	size_t setup_len;

	if (len < 0x1000)
		return err_set(-EINVAL, "kernel image is %zu bytes: too small for a bzImage", len);
	memcpy(&h, img + HDR_OFFSET, sizeof(h));
	if (h.boot_flag != 0xaa55 || h.header != HDRS_MAGIC)
		return err_set(-EINVAL, "not a bzImage: no Linux boot header (HdrS) found");
	if (h.version < MIN_VERSION)
		return err_set(-EINVAL, "boot protocol %u.%02u is too old: 64-bit entry needs 2.12",
			       h.version >> 8, h.version & 0xff);
	if (!(h.xloadflags & XLF_KERNEL_64))
		return err_set(-EINVAL, "kernel has no 64-bit entry point (XLF_KERNEL_64 unset)");
	setup_len = ((size_t)(h.setup_sects ? h.setup_sects : 4) + 1) * 512;
	if (setup_len >= len)
		return err_set(-EINVAL, "bzImage is truncated: setup is %zu bytes of %zu",
			       setup_len, len);
	if (version)
		*version = h.version;
	return 0;
}

int linux_build_e820(const struct mem *m, struct boot_e820_entry *tab, int max)
{
	int n = 0;

#define ADD(a, s, t)                                                     \
	do {                                                             \
		if (n < max)                                             \
			tab[n++] = (struct boot_e820_entry){ (a), (s), (t) }; \
	} while (0)
	ADD(0, LAYOUT_EBDA, E820_RAM);
	ADD(LAYOUT_EBDA, 0xa0000 - LAYOUT_EBDA, E820_RESERVED);
	ADD(LAYOUT_ACPI, 0x100000 - LAYOUT_ACPI, E820_RESERVED);
	ADD(0x100000, mem_low_end(m) - 0x100000, E820_RAM);
	if (m->nslots > 1)
		ADD(m->slots[1].gpa, m->slots[1].len, E820_RAM);
#undef ADD
	return n;
}

int linux_load(struct mem *m, const uint8_t *kernel, size_t klen, const uint8_t *initrd,
	       size_t ilen, const char *cmdline, uint64_t rsdp_gpa, struct linux_boot *out)
{
	struct boot_params *bp;
	struct setup_header h;
	size_t setup_len, pm_len, hdr_len, cl_len = strlen(cmdline);
	uint64_t kernel_end, low_end = mem_low_end(m), initrd_max;
	uint8_t *dst;
	int r;

	r = linux_check_image(kernel, klen, &out->version);
	if (r < 0)
		return r;
	memcpy(&h, kernel + HDR_OFFSET, sizeof(h));
	setup_len = ((size_t)(h.setup_sects ? h.setup_sects : 4) + 1) * 512;
	pm_len = klen - setup_len;

	/* The decompressor works from max(load address, pref_address) upward for
	 * init_size bytes; all of it must be RAM. */
	kernel_end = (h.pref_address > LAYOUT_KERNEL ? h.pref_address : LAYOUT_KERNEL) +
		     (h.init_size > pm_len ? h.init_size : pm_len);
	if (kernel_end > low_end)
		return err_set(-ENOMEM, "guest memory too small: the kernel needs %llu MiB below "
			       "the PCI hole", (unsigned long long)(kernel_end >> 20) + 1);
	dst = mem_hva(m, LAYOUT_KERNEL, pm_len);
	if (!dst)
		return err_set(-ENOMEM, "guest memory too small for the kernel");
	memcpy(dst, kernel + setup_len, pm_len);

	if (cl_len + 1 > LAYOUT_CMDLINE_MAX || (h.cmdline_size && cl_len > h.cmdline_size))
		return err_set(-E2BIG, "command line is %zu bytes; this kernel takes at most %u",
			       cl_len, h.cmdline_size ? h.cmdline_size : LAYOUT_CMDLINE_MAX - 1);
	memcpy(mem_hva(m, LAYOUT_CMDLINE, cl_len + 1), cmdline, cl_len + 1);

	bp = mem_hva(m, LAYOUT_BOOT_PARAMS, sizeof(*bp));
	memset(bp, 0, sizeof(*bp));
	/* The header runs from 0x1f1 to 0x202 + the byte at 0x201 (jump offset). */
	hdr_len = 0x202 + kernel[0x201] - HDR_OFFSET;
	if (hdr_len > sizeof(bp->hdr))
		hdr_len = sizeof(bp->hdr);
	memcpy(&bp->hdr, kernel + HDR_OFFSET, hdr_len);
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.loadflags |= CAN_USE_HEAP | LOADED_HIGH | KEEP_SEGMENTS;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp->hdr.vid_mode = 0xffff;
	bp->acpi_rsdp_addr = rsdp_gpa;
	bp->e820_entries = linux_build_e820(m, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);

	out->initrd_gpa = out->initrd_len = 0;
	if (initrd && ilen) {
		uint64_t top = low_end, gpa;

		initrd_max = h.initrd_addr_max ? (uint64_t)h.initrd_addr_max + 1 : 0x38000000ULL;
		if (top > initrd_max)
			top = initrd_max;
		if (ilen > top || ((top - ilen) & ~0xfffULL) < kernel_end)
			return err_set(-ENOMEM, "initrd of %zu KiB does not fit in guest memory "
				       "above the kernel; give the guest more memory", ilen >> 10);
		gpa = (top - ilen) & ~0xfffULL;
		memcpy(mem_hva(m, gpa, ilen), initrd, ilen);
		bp->hdr.ramdisk_image = (uint32_t)gpa;
		bp->hdr.ramdisk_size = (uint32_t)ilen;
		out->initrd_gpa = gpa;
		out->initrd_len = ilen;
	}
	out->entry = LAYOUT_KERNEL + 0x200;
	out->boot_params = LAYOUT_BOOT_PARAMS;
	return 0;
}
