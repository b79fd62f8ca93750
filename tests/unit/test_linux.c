/* test_linux: bzImage header checks, zero page, e820 map, initrd placement,
 * and the guest-RAM layout that e820 describes. */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../../vmm/layout.h"
#include "../../vmm/linux.h"
#include "../../vmm/mem.h"
#include "suites.h"

#define IMG_LEN 0x3000

/* A minimal bzImage: 4 setup sectors + header, then a protected-mode part. */
static uint8_t *fake_bzimage(void)
{
	uint8_t *img = calloc(1, IMG_LEN);
	struct setup_header h;

	memset(&h, 0, sizeof(h));
	h.setup_sects = 4;
	h.boot_flag = 0xaa55;
	h.jump = 0x66eb;		/* jump byte 0x66: header ends at 0x268 */
	h.header = 0x53726448;
	h.version = 0x020f;
	h.xloadflags = XLF_KERNEL_64;
	h.pref_address = 0x1000000;
	h.init_size = 0x100000;
	h.cmdline_size = 2047;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 0x200000;
	memcpy(img + 0x1f1, &h, sizeof(h));
	for (int i = 5 * 512; i < IMG_LEN; i++)
		img[i] = (uint8_t)(i * 7);
	return img;
}

static void test_check_image(void)
{
	uint8_t *img = fake_bzimage();
	uint16_t ver = 0;
	struct setup_header *h = (struct setup_header *)(img + 0x1f1);

	CU_ASSERT_EQUAL(linux_check_image(img, IMG_LEN, &ver), 0);
	CU_ASSERT_EQUAL(ver, 0x020f);
	CU_ASSERT_EQUAL(linux_check_image(img, 0x800, NULL), -EINVAL);	/* too small */
	CU_ASSERT_EQUAL(linux_check_image(img, 5 * 512, NULL), -EINVAL);	/* no kernel */
	h->version = 0x0206;
	CU_ASSERT_EQUAL(linux_check_image(img, IMG_LEN, NULL), -EINVAL);
	h->version = 0x020f;
	h->xloadflags = 0;
	CU_ASSERT_EQUAL(linux_check_image(img, IMG_LEN, NULL), -EINVAL);
	h->xloadflags = XLF_KERNEL_64;
	h->header = 0x12345678;
	CU_ASSERT_EQUAL(linux_check_image(img, IMG_LEN, NULL), -EINVAL);
	h->header = 0x53726448;
	h->setup_sects = 200;		/* setup longer than the file */
	CU_ASSERT_EQUAL(linux_check_image(img, IMG_LEN, NULL), -EINVAL);
	free(img);
}

static void test_load(void)
{
	struct mem m;
	struct linux_boot lb;
	uint8_t *img = fake_bzimage(), initrd[10000];
	struct boot_params *bp;

	memset(initrd, 0xab, sizeof(initrd));
	CU_ASSERT_FATAL(mem_init(&m, 64 << 20) == 0);
	CU_ASSERT_EQUAL(linux_load(&m, img, IMG_LEN, initrd, sizeof(initrd), "console=ttyS0 x=1",
				   0xe0000, &lb), 0);
	CU_ASSERT_EQUAL(lb.entry, LAYOUT_KERNEL + 0x200);
	CU_ASSERT_EQUAL(lb.boot_params, LAYOUT_BOOT_PARAMS);
	bp = mem_hva(&m, LAYOUT_BOOT_PARAMS, sizeof(*bp));
	CU_ASSERT_EQUAL(bp->hdr.type_of_loader, 0xff);
	CU_ASSERT_EQUAL(bp->hdr.header, 0x53726448);
	CU_ASSERT_EQUAL(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	CU_ASSERT_STRING_EQUAL((char *)mem_hva(&m, LAYOUT_CMDLINE, 1), "console=ttyS0 x=1");
	CU_ASSERT_EQUAL(bp->acpi_rsdp_addr, 0xe0000);
	CU_ASSERT(bp->hdr.loadflags & CAN_USE_HEAP);
	/* The protected-mode part lands at 1 MiB. */
	CU_ASSERT_EQUAL(memcmp(mem_hva(&m, LAYOUT_KERNEL, IMG_LEN - 5 * 512), img + 5 * 512,
			       IMG_LEN - 5 * 512), 0);
	/* The initrd: page aligned, above the kernel's decompression area, in RAM. */
	CU_ASSERT_EQUAL(bp->hdr.ramdisk_size, sizeof(initrd));
	CU_ASSERT_EQUAL(bp->hdr.ramdisk_image % 4096, 0);
	CU_ASSERT(bp->hdr.ramdisk_image >= 0x1000000 + 0x100000);
	CU_ASSERT(bp->hdr.ramdisk_image + sizeof(initrd) <= (64u << 20));
	CU_ASSERT_EQUAL(memcmp(mem_hva(&m, bp->hdr.ramdisk_image, sizeof(initrd)), initrd,
			       sizeof(initrd)), 0);
	/* e820: low RAM, the EBDA hole, the BIOS area, then RAM from 1 MiB. */
	CU_ASSERT_EQUAL(bp->e820_entries, 4);
	CU_ASSERT_EQUAL(bp->e820_table[0].addr, 0);
	CU_ASSERT_EQUAL(bp->e820_table[0].size, LAYOUT_EBDA);
	CU_ASSERT_EQUAL(bp->e820_table[0].type, 1);
	CU_ASSERT_EQUAL(bp->e820_table[1].type, 2);
	CU_ASSERT_EQUAL(bp->e820_table[2].addr, LAYOUT_ACPI);
	CU_ASSERT_EQUAL(bp->e820_table[2].type, 2);
	CU_ASSERT_EQUAL(bp->e820_table[3].addr, 0x100000);
	CU_ASSERT_EQUAL(bp->e820_table[3].size, (64u << 20) - 0x100000);
	CU_ASSERT_EQUAL(bp->e820_table[3].type, 1);
	mem_free(&m);
	free(img);
}

static void test_load_errors(void)
{
	struct mem m;
	struct linux_boot lb;
	uint8_t *img = fake_bzimage();
	struct setup_header *h = (struct setup_header *)(img + 0x1f1);
	char longline[3000];
	static uint8_t big_initrd[40 << 20];

	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	CU_ASSERT_FATAL(mem_init(&m, 32 << 20) == 0);
	CU_ASSERT_EQUAL(linux_load(&m, img, IMG_LEN, NULL, 0, longline, 0, &lb), -E2BIG);
	CU_ASSERT_EQUAL(linux_load(&m, img, IMG_LEN, big_initrd, sizeof(big_initrd), "", 0, &lb),
			-ENOMEM);
	h->init_size = 64 << 20;	/* the kernel needs more than the guest has */
	CU_ASSERT_EQUAL(linux_load(&m, img, IMG_LEN, NULL, 0, "", 0, &lb), -ENOMEM);
	mem_free(&m);
	free(img);
}

static void test_high_memory(void)
{
	struct mem m;
	struct boot_e820_entry tab[8];
	int n;

	/* 3.5 GiB: 3 GiB below the PCI hole, 0.5 GiB from 4 GiB. */
	CU_ASSERT_FATAL(mem_init(&m, 3584ULL << 20) == 0);
	CU_ASSERT_EQUAL(m.nslots, 2);
	CU_ASSERT_EQUAL(mem_low_end(&m), MEM_LOW_MAX);
	n = linux_build_e820(&m, tab, 8);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(tab[3].addr + tab[3].size, MEM_LOW_MAX);
	CU_ASSERT_EQUAL(tab[4].addr, MEM_HIGH_BASE);
	CU_ASSERT_EQUAL(tab[4].size, 512ULL << 20);
	CU_ASSERT_EQUAL(tab[4].type, 1);
	/* The hole is not RAM to the VMM either. */
	CU_ASSERT_PTR_NULL(mem_hva(&m, MEM_LOW_MAX, 1));
	CU_ASSERT_PTR_NULL(mem_hva(&m, MEM_LOW_MAX - 4, 8));
	CU_ASSERT_PTR_NOT_NULL(mem_hva(&m, MEM_HIGH_BASE, 4096));
	CU_ASSERT_PTR_NULL(mem_hva(&m, MEM_HIGH_BASE + (512ULL << 20) - 4, 8));
	CU_ASSERT_PTR_NULL(mem_hva(&m, ~0ULL - 10, 100));
	mem_free(&m);
}

int suite_linux(void)
{
	static const struct unit_test t[] = {
		{ "bzImage header checks", test_check_image },
		{ "zero page, cmdline, initrd, e820", test_load },
		{ "load errors", test_load_errors },
		{ "memory above the PCI hole", test_high_memory },
		{ 0 }
	};
	return add_suite("linux boot", t);
}
