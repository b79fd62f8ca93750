/* lib: the few helpers micro guests share: port output, printing, exit. */
#ifndef GUESTS_MICRO_LIB_H
#define GUESTS_MICRO_LIB_H

#include <stdint.h>
#include "micro.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void put_str(const char *s)
{
	while (*s)
		outb(MICRO_PORT_CONSOLE, (uint8_t)*s++);
}

static inline void put_u64(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_str(buf + i);
}

static inline __attribute__((noreturn)) void micro_exit(uint32_t code)
{
	for (;;)
		outl(MICRO_PORT_EXIT, code);
}

/* Every micro guest defines this; start.S-free: the linker script puts
 * .text.entry first, at the load address. */
void micro_main(uint64_t low_end, uint64_t high_len, uint64_t arg);

#define MICRO_ENTRY                                                               \
	__attribute__((section(".text.entry"), naked, noreturn)) void _start(void) \
	{                                                                         \
		__asm__ volatile("call micro_main\n1: hlt\njmp 1b");               \
	}

#endif
