/* linux: the Linux x86 boot protocol for a bzImage entered in 64-bit mode:
 * check the setup header, copy the protected-mode kernel to 1 MiB, build the
 * zero page (boot_params) with the e820 map, the command line and the initrd.
 * Everything read from the image is bounds-checked: a bad file gets a message,
 * never a crash. */
#ifndef VMM_LINUX_H
#define VMM_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include "mem.h"

struct boot_e820_entry;

struct linux_boot {
	uint64_t entry;		/* 64-bit entry point (rip) */
	uint64_t boot_params;	/* gpa of the zero page (rsi) */
	uint64_t initrd_gpa, initrd_len;
	uint16_t version;	/* boot protocol version */
};

/* linux_check_image(img, len, version): is this a bzImage we can boot in
 * 64-bit mode? Returns 0 or -EINVAL with a message. */
int linux_check_image(const uint8_t *img, size_t len, uint16_t *version);

/* linux_build_e820(m, tab, max): the guest's memory map; returns the number
 * of entries written (at most max). Pure. */
int linux_build_e820(const struct mem *m, struct boot_e820_entry *tab, int max);

/* linux_load(m, kernel, klen, initrd, ilen, cmdline, rsdp_gpa, out): place
 * everything in guest RAM and fill out. initrd may be NULL. Returns 0 or -errno
 * with a message. Main thread, before the vCPUs run. */
int linux_load(struct mem *m, const uint8_t *kernel, size_t klen, const uint8_t *initrd,
	       size_t ilen, const char *cmdline, uint64_t rsdp_gpa, struct linux_boot *out);

#endif
