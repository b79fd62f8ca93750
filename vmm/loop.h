/* loop: the I/O thread's epoll loop. Handlers are called on the loop's thread
 * only; other threads reach the loop through an fd it watches (an eventfd),
 * never by calling into it. */
#ifndef VMM_LOOP_H
#define VMM_LOOP_H

#include <pthread.h>
#include <stdint.h>

#define LOOP_MAX 64

struct loop;
typedef void (*loop_fn)(struct loop *l, int fd, uint32_t events, void *arg);

typedef void (*loop_call_fn)(void *arg);

struct loop {
	int epfd;
	int running;
	struct { int fd; loop_fn fn; void *arg; } h[LOOP_MAX];
	/* Cross-thread calls (loop_call): one at a time, under call_lock. */
	int call_fd;			/* eventfd the loop watches */
	pthread_mutex_t call_lock;
	pthread_cond_t call_cond;
	loop_call_fn call_fn;
	void *call_arg;
	int call_done;
};

int loop_init(struct loop *l);
void loop_free(struct loop *l);

/* loop_add(l, fd, events, fn, arg) / loop_mod(l, fd, events) / loop_del(l, fd).
 * Loop thread (or before loop_run). Return 0 or -errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *arg);
int loop_mod(struct loop *l, int fd, uint32_t events);
int loop_del(struct loop *l, int fd);

/* loop_run(l): dispatch until a handler calls loop_quit(l). */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

/* loop_call(l, fn, arg): run fn(arg) on the loop's thread, between two
 * handlers, and wait for it to finish. For other threads (the migration
 * thread stuns the VM this way, so no device is mid-request). Returns 0, or
 * -ESHUTDOWN if the loop has stopped running. Not from the loop thread. */
int loop_call(struct loop *l, loop_call_fn fn, void *arg);

#endif
