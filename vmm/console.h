/* console: the host side of the guest console. Puts a terminal on stdin into
 * raw mode (and always restores it), feeds typed bytes to the UART without
 * losing any when its FIFO is full, and watches for the escape Ctrl-A x that
 * quits the VMM, as QEMU does. Output is written by the UART itself. */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct loop;

struct console {
	int in_fd;		/* -1: no input */
	int out_fd;
	int space_fd;		/* eventfd: the UART has room again */
	int is_tty;
	struct termios saved;
	uint8_t pending[256];
	size_t pending_len, pending_off;
	int saw_escape;
	size_t (*rx)(void *dev, const uint8_t *buf, size_t len);	/* into the UART */
	void *dev;
	void (*quit)(void *arg);	/* Ctrl-A x */
	void *quit_arg;
};

/* console_open(c, spec): spec is "stdio" or "file:PATH" (output to PATH, no
 * input). Returns 0 or -errno with a message. */
int console_open(struct console *c, const char *spec);

/* console_attach(c, l): start feeding input through the loop. */
int console_attach(struct console *c, struct loop *l);

/* console_close(c): restore the terminal and close what was opened. Safe to
 * call twice. */
void console_close(struct console *c);

#endif
