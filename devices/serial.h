/* serial: an 8250/16550A UART on COM1, the guest's console. Guest output goes
 * straight to the console fd from the vCPU thread; input arrives from the I/O
 * thread through serial_rx(). */
#ifndef DEVICES_SERIAL_H
#define DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include "device.h"

#define SERIAL_FIFO 64

struct serial;

/* serial_device(): the table entry. */
struct device serial_device(void);

/* serial_rx(s, buf, len): queue input bytes; returns how many fit (the rest
 * must be offered again once console_space_fd fires). I/O thread. */
size_t serial_rx(struct serial *s, const uint8_t *buf, size_t len);

struct stream;
/* serial_save / serial_load: registers and the receive FIFO. Any thread,
 * with the VM paused. */
void serial_save(struct serial *s, struct stream *st);
int serial_load(struct serial *s, struct stream *st);

/* For unit tests: a UART not attached to a VM; irq changes go to irq_fn. */
struct serial *serial_new_detached(int out_fd, int space_fd,
				   void (*irq_fn)(void *arg, int level), void *arg);
void serial_free(struct serial *s);
void serial_io_read(void *s, uint64_t off, void *data, int size);
void serial_io_write(void *s, uint64_t off, const void *data, int size);

#endif
