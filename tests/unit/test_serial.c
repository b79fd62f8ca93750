/* test_serial: the UART registers as Linux's 8250 driver uses them. */
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "../../devices/serial.h"
#include "suites.h"

static int irq;

static void irq_fn(void *arg, int level)
{
	(void)arg;
	irq = level;
}

static uint8_t rd(struct serial *s, int off)
{
	uint8_t v;

	serial_io_read(s, off, &v, 1);
	return v;
}

static void wr(struct serial *s, int off, uint8_t v)
{
	serial_io_write(s, off, &v, 1);
}

static void test_probe(void)
{
	struct serial *s = serial_new_detached(-1, -1, irq_fn, NULL);

	wr(s, 7, 0xa5);
	CU_ASSERT_EQUAL(rd(s, 7), 0xa5);		/* scratch */
	wr(s, 1, 0xff);
	CU_ASSERT_EQUAL(rd(s, 1), 0x0f);		/* IER keeps 4 bits */
	wr(s, 1, 0);
	wr(s, 4, 0x1a);					/* loopback, RTS, OUT2 */
	CU_ASSERT_EQUAL(rd(s, 6) & 0xf0, 0x90);		/* CTS + DCD */
	wr(s, 4, 0x08);
	CU_ASSERT_EQUAL(rd(s, 6) & 0xb0, 0xb0);		/* DCD DSR CTS when not looped */
	wr(s, 2, 0xe7);					/* enable FIFOs */
	CU_ASSERT_EQUAL(rd(s, 2) & 0xc0, 0xc0);		/* 16550A */
	wr(s, 3, 0x83);					/* DLAB */
	wr(s, 0, 0x01);
	wr(s, 1, 0x00);
	CU_ASSERT_EQUAL(rd(s, 0), 0x01);
	CU_ASSERT_EQUAL(rd(s, 1), 0x00);
	wr(s, 3, 0x03);
	CU_ASSERT_EQUAL(rd(s, 3), 0x03);
	serial_free(s);
}

static void test_tx(void)
{
	int p[2];
	char buf[8];
	struct serial *s;

	CU_ASSERT_FATAL(pipe(p) == 0);
	s = serial_new_detached(p[1], -1, irq_fn, NULL);
	irq = 0;
	CU_ASSERT_EQUAL(rd(s, 5) & 0x60, 0x60);		/* THRE and TEMT */
	wr(s, 0, 'h');
	wr(s, 0, 'i');
	CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), 2);
	CU_ASSERT_EQUAL(buf[0], 'h');
	CU_ASSERT_EQUAL(buf[1], 'i');
	/* Enabling the THRE interrupt with an empty holding register fires it. */
	wr(s, 1, 0x02);
	CU_ASSERT_EQUAL(irq, 1);
	CU_ASSERT_EQUAL(rd(s, 2) & 0x0f, 0x02);
	CU_ASSERT_EQUAL(irq, 0);			/* reading IIR acknowledged it */
	CU_ASSERT_EQUAL(rd(s, 2) & 0x0f, 0x01);
	wr(s, 0, '!');					/* sent at once: fires again */
	CU_ASSERT_EQUAL(irq, 1);
	serial_free(s);
	close(p[0]);
	close(p[1]);
}

static void test_rx(void)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	struct serial *s = serial_new_detached(-1, efd, irq_fn, NULL);
	uint8_t many[100];
	eventfd_t v;

	irq = 0;
	CU_ASSERT_EQUAL(serial_rx(s, (const uint8_t *)"abc", 3), 3);
	CU_ASSERT_EQUAL(irq, 0);			/* RDI not enabled yet */
	wr(s, 1, 0x01);
	CU_ASSERT_EQUAL(irq, 1);
	CU_ASSERT_EQUAL(rd(s, 2) & 0x0f, 0x04);		/* received data available */
	CU_ASSERT_EQUAL(rd(s, 5) & 0x01, 0x01);
	CU_ASSERT_EQUAL(rd(s, 0), 'a');
	CU_ASSERT_EQUAL(rd(s, 0), 'b');
	CU_ASSERT_EQUAL(rd(s, 0), 'c');
	CU_ASSERT_EQUAL(rd(s, 5) & 0x01, 0);
	CU_ASSERT_EQUAL(irq, 0);
	/* A full FIFO takes what fits and signals when there is room: no loss. */
	for (int i = 0; i < 100; i++)
		many[i] = (uint8_t)i;
	CU_ASSERT_EQUAL(serial_rx(s, many, 100), SERIAL_FIFO);
	CU_ASSERT_EQUAL(eventfd_read(efd, &v), -1);	/* nothing yet */
	CU_ASSERT_EQUAL(rd(s, 0), 0);
	CU_ASSERT_EQUAL(eventfd_read(efd, &v), 0);	/* room again */
	CU_ASSERT_EQUAL(serial_rx(s, many + SERIAL_FIFO, 100 - SERIAL_FIFO), 1);
	for (int i = 1; i <= SERIAL_FIFO; i++)
		CU_ASSERT_EQUAL(rd(s, 0), i);
	serial_free(s);
	close(efd);
}

static void test_loopback_data(void)
{
	int p[2];
	char c;
	struct serial *s;

	CU_ASSERT_FATAL(pipe(p) == 0);
	s = serial_new_detached(p[1], -1, irq_fn, NULL);
	wr(s, 4, 0x10);
	wr(s, 0, 'z');
	CU_ASSERT_EQUAL(rd(s, 5) & 1, 1);
	CU_ASSERT_EQUAL(rd(s, 0), 'z');
	close(p[1]);
	CU_ASSERT_EQUAL(read(p[0], &c, 1), 0);		/* nothing left the chip */
	serial_free(s);
	close(p[0]);
}

int suite_serial(void)
{
	static const struct unit_test t[] = {
		{ "8250 probe sequence", test_probe },
		{ "transmit and THRE interrupt", test_tx },
		{ "receive FIFO and back-pressure", test_rx },
		{ "loopback mode", test_loopback_data },
		{ 0 }
	};
	return add_suite("serial", t);
}
