/* rtc: a read-only MC146818 CMOS clock at ports 0x70/0x71 that reports the
 * host's UTC time in BCD, for guests that read the time from CMOS. Alarms and
 * periodic interrupts are not emulated; NVRAM bytes read as zero. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "../vmm/err.h"
#include "../vmm/layout.h"
#include "../vmm/vm.h"
#include "platform.h"
#include "../migration/stream.h"

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
};

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

uint8_t rtc_register(uint8_t index, time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd((tm.tm_year + 1900) / 100);
	case 0x0a: return 0x26;		/* 32.768 kHz base, no update in progress */
	case 0x0b: return 0x02;		/* 24-hour, BCD */
	case 0x0c: return 0x00;
	case 0x0d: return 0x80;		/* battery good */
	default: return 0x00;
	}
}

static void rtc_read(void *dev, uint64_t off, void *data, int size)
{
	struct rtc *r = dev;

	(void)size;
	pthread_mutex_lock(&r->lock);
	*(uint8_t *)data = off == 1 ? rtc_register(r->index, time(NULL)) : r->index;
	pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *dev, uint64_t off, const void *data, int size)
{
	struct rtc *r = dev;

	(void)size;
	pthread_mutex_lock(&r->lock);
	if (off == 0)
		r->index = *(const uint8_t *)data & 0x7f;	/* bit 7 masks NMI */
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_ops rtc_ops = { rtc_read, rtc_write };

static int rtc_init(struct device *d, struct vm *vm, const struct device_env *env)
{
	struct rtc *r = calloc(1, sizeof(*r));

	(void)env;
	if (!r)
		return err_set(-ENOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	d->state = r;
	return bus_add(&vm->pio, PORT_RTC, 2, &rtc_ops, r);
}

static void rtc_save(struct device *d, struct stream *s)
{
	stream_put_u8(s, ((struct rtc *)d->state)->index);
}

static int rtc_load(struct device *d, struct stream *s)
{
	((struct rtc *)d->state)->index = stream_get_u8(s) & 0x7f;
	return s->err;
}

static void rtc_free(struct device *d)
{
	free(d->state);
	d->state = NULL;
}

struct device rtc_device(void)
{
	return (struct device){ .name = "rtc", .init = rtc_init, .free = rtc_free,
				.save = rtc_save, .load = rtc_load };
}
