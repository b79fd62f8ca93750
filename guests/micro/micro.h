/* micro: the ABI between the VMM and the freestanding micro guests. The VMM
 * loads the flat binary at 1 MiB and enters it in 64-bit mode with the first
 * 8 GiB identity-mapped, rsp at 0x80000 and:
 *   rdi = end of low RAM (bytes from 0), rsi = bytes of RAM at 4 GiB,
 *   rdx = the --micro-arg value.
 * The guest may use RAM from 2 MiB. It talks through two ports. */
#ifndef GUESTS_MICRO_H
#define GUESTS_MICRO_H

#define MICRO_PORT_CONSOLE	0xe9	/* outb: one byte of output */
#define MICRO_PORT_EXIT		0xf4	/* outl: stop the VM, exit code = value & 0xff */
#define MICRO_DATA_START	0x200000ULL
#define MICRO_HIGH_BASE		0x100000000ULL

#endif
