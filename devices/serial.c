/* serial: 16550A UART emulation. Enough of the chip for Linux's 8250 driver:
 * the probe (scratch, IER, loopback MSR test, FIFO detection), polled console
 * output, interrupt-driven output (THRE) and input (RDA) on IRQ 4. Transmit is
 * instant: the holding register is always empty again after a write. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "../vmm/err.h"
#include "../vmm/layout.h"
#include "../vmm/vm.h"
#include "serial.h"
#include "../migration/stream.h"

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

struct serial {
	pthread_mutex_t lock;	/* vCPU threads and the I/O thread */
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, msr_reg;
	int thri_pending;
	uint8_t fifo[SERIAL_FIFO];
	unsigned head, count;
	int want_space;		/* the I/O thread holds bytes that did not fit */
	int irq_level;
	int out_fd, space_fd;
	struct vm *vm;
	void (*irq_fn)(void *arg, int level);
	void *irq_arg;
};

static void vm_irq(void *arg, int level)
{
	vm_irq_line(arg, IRQ_COM1, level);
}

/* Recompute the interrupt line; caller holds the lock. */
static void update_irq(struct serial *s)
{
	int level = ((s->ier & IER_RDI) && s->count) || ((s->ier & IER_THRI) && s->thri_pending);

	if (level != s->irq_level) {
		s->irq_level = level;
		s->irq_fn(s->irq_arg, level);
	}
}

static uint8_t iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & 1) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void push(struct serial *s, uint8_t c)
{
	if (s->count < SERIAL_FIFO) {
		s->fifo[(s->head + s->count) % SERIAL_FIFO] = c;
		s->count++;
	}
}

static void transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		push(s, c);
		return;
	}
	if (s->out_fd >= 0) {
		ssize_t n;

		do
			n = write(s->out_fd, &c, 1);
		while (n < 0 && errno == EINTR);
	}
}

void serial_io_read(void *dev, uint64_t off, void *data, int size)
{
	struct serial *s = dev;
	uint8_t v = 0xff;

	memset(data, 0xff, size);
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->count) {
			v = s->fifo[s->head];
			s->head = (s->head + 1) % SERIAL_FIFO;
			s->count--;
			if (s->want_space && s->space_fd >= 0) {
				s->want_space = 0;
				eventfd_write(s->space_fd, 1);
			}
		} else {
			v = 0;
		}
		break;
	case IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case IIR_FCR:
		v = iir(s);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = 0;
		break;
	case LCR:
		v = s->lcr;
		break;
	case MCR:
		v = s->mcr;
		break;
	case LSR:
		v = LSR_THRE | LSR_TEMT | (s->count ? LSR_DR : 0);
		break;
	case MSR:
		if (s->mcr & MCR_LOOP)	/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			v = (uint8_t)(((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) |
				      ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4));
		else
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case SCR:
		v = s->scr;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	*(uint8_t *)data = v;
}

void serial_io_write(void *dev, uint64_t off, const void *data, int size)
{
	struct serial *s = dev;
	uint8_t v = *(const uint8_t *)data;

	(void)size;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			transmit(s, v);
			s->thri_pending = 1;	/* sent at once: holding register empty */
		}
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with an empty holding register interrupts at once. */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thri_pending = 1;
			s->ier = v & 0x0f;
		}
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & 0x02) {		/* clear the receive FIFO */
			s->head = s->count = 0;
			if (s->want_space && s->space_fd >= 0) {
				s->want_space = 0;
				eventfd_write(s->space_fd, 1);
			}
		}
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_rx(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->count < SERIAL_FIFO)
		push(s, buf[n++]);
	if (n < len)
		s->want_space = 1;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct serial *serial_new_detached(int out_fd, int space_fd, void (*irq_fn)(void *, int),
				   void *arg)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->space_fd = space_fd;
	s->irq_fn = irq_fn;
	s->irq_arg = arg;
	s->lcr = 0x03;
	s->mcr = 0x08;
	return s;
}

void serial_free(struct serial *s)
{
	if (s)
		pthread_mutex_destroy(&s->lock);
	free(s);
}

void serial_save(struct serial *s, struct stream *st)
{
	uint8_t regs[8] = { s->ier, s->lcr, s->mcr, s->scr, s->fcr, s->dll, s->dlm,
			    (uint8_t)s->thri_pending };

	pthread_mutex_lock(&s->lock);
	stream_put_bytes(st, regs, sizeof(regs));
	stream_put_u32(st, s->count);
	for (unsigned i = 0; i < s->count; i++)
		stream_put_u8(st, s->fifo[(s->head + i) % SERIAL_FIFO]);
	pthread_mutex_unlock(&s->lock);
}

int serial_load(struct serial *s, struct stream *st)
{
	uint8_t regs[8];
	uint32_t n;

	stream_get_bytes(st, regs, sizeof(regs));
	n = stream_get_u32(st);
	if (!st->err && n > SERIAL_FIFO)
		return stream_fail(st, -EINVAL, "serial: %u bytes in a %d-byte FIFO", n, SERIAL_FIFO);
	pthread_mutex_lock(&s->lock);
	s->ier = regs[0] & 0x0f;
	s->lcr = regs[1];
	s->mcr = regs[2] & 0x1f;
	s->scr = regs[3];
	s->fcr = regs[4];
	s->dll = regs[5];
	s->dlm = regs[6];
	s->thri_pending = regs[7] != 0;
	s->head = 0;
	s->count = 0;
	for (uint32_t i = 0; i < n && !st->err; i++)
		s->fifo[s->count++] = stream_get_u8(st);
	s->irq_level = 0;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return st->err;
}

static void serial_dev_save(struct device *d, struct stream *st)
{
	serial_save(d->state, st);
}

static int serial_dev_load(struct device *d, struct stream *st)
{
	return serial_load(d->state, st);
}

static const struct bus_ops serial_ops = { serial_io_read, serial_io_write };

static int serial_init(struct device *d, struct vm *vm, const struct device_env *env)
{
	struct serial *s = serial_new_detached(env->console_out_fd, env->console_space_fd,
					       vm_irq, vm);

	if (!s)
		return err_set(-ENOMEM, "out of memory");
	s->vm = vm;
	d->state = s;
	return bus_add(&vm->pio, PORT_COM1, 8, &serial_ops, s);
}

static void serial_dev_free(struct device *d)
{
	serial_free(d->state);
	d->state = NULL;
}

struct device serial_device(void)
{
	return (struct device){ .name = "serial", .init = serial_init, .free = serial_dev_free,
				.save = serial_dev_save, .load = serial_dev_load };
}
