/* i8042: the smallest keyboard controller that lets a guest reset the machine
 * (command 0xFE on port 0x64, Linux's reboot=k path) and survive a probe:
 * status, the command byte, and the self tests. No keyboard is attached. */
#include <stdlib.h>
#include <errno.h>
#include <pthread.h>
#include "../vmm/err.h"
#include "../vmm/layout.h"
#include "../vmm/vm.h"
#include "platform.h"
#include "../migration/stream.h"

#define STS_OBF 0x01
#define STS_SYS 0x04
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_SELFTEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_RESET 0xfe

struct i8042 {
	pthread_mutex_t lock;
	struct vm *vm;
	uint8_t ctr, out, pending_cmd;
	int has_out;
};

static void i8042_read(void *dev, uint64_t off, void *data, int size)
{
	struct i8042 *k = dev;
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&k->lock);
	if (off == PORT_I8042_CMD - PORT_I8042_DATA) {
		v = STS_SYS | (k->has_out ? STS_OBF : 0);
	} else {
		v = k->out;
		k->has_out = 0;
	}
	pthread_mutex_unlock(&k->lock);
	*(uint8_t *)data = v;
}

static void i8042_write(void *dev, uint64_t off, const void *data, int size)
{
	struct i8042 *k = dev;
	uint8_t v = *(const uint8_t *)data;

	(void)size;
	pthread_mutex_lock(&k->lock);
	if (off == PORT_I8042_CMD - PORT_I8042_DATA) {
		switch (v) {
		case CMD_READ_CTR:
			k->out = k->ctr;
			k->has_out = 1;
			break;
		case CMD_WRITE_CTR:
			k->pending_cmd = v;
			break;
		case CMD_SELFTEST:
			k->out = 0x55;
			k->has_out = 1;
			break;
		case CMD_KBD_TEST:
			k->out = 0x00;
			k->has_out = 1;
			break;
		case CMD_RESET:
			pthread_mutex_unlock(&k->lock);
			vm_request_stop(k->vm, VM_STOP_RESET, 0, "guest rebooted (i8042 reset)");
			return;
		}
	} else if (k->pending_cmd == CMD_WRITE_CTR) {
		k->ctr = v;
		k->pending_cmd = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_ops i8042_ops = { i8042_read, i8042_write };

static int i8042_init(struct device *d, struct vm *vm, const struct device_env *env)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	(void)env;
	if (!k)
		return err_set(-ENOMEM, "out of memory");
	pthread_mutex_init(&k->lock, NULL);
	k->vm = vm;
	d->state = k;
	/* Ports 0x60 and 0x64 as one range with a hole: 0x61 (speaker) and 0x62/63
	 * read as all ones through the same handler are harmless. */
	return bus_add(&vm->pio, PORT_I8042_DATA, 5, &i8042_ops, k);
}

static void i8042_save(struct device *d, struct stream *s)
{
	struct i8042 *k = d->state;
	uint8_t b[4] = { k->ctr, k->out, k->pending_cmd, (uint8_t)k->has_out };

	stream_put_bytes(s, b, sizeof(b));
}

static int i8042_load(struct device *d, struct stream *s)
{
	struct i8042 *k = d->state;
	uint8_t b[4];

	stream_get_bytes(s, b, sizeof(b));
	k->ctr = b[0];
	k->out = b[1];
	k->pending_cmd = b[2];
	k->has_out = b[3] != 0;
	return s->err;
}

static void i8042_free(struct device *d)
{
	free(d->state);
	d->state = NULL;
}

struct device i8042_device(void)
{
	return (struct device){ .name = "i8042", .init = i8042_init, .free = i8042_free,
				.save = i8042_save, .load = i8042_load };
}
