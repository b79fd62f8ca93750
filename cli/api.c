/* api: control socket server (see api.h). */
#include <errno.h>
#include <poll.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "../devices/devices.h"
#include "../devices/virtio-pci.h"
#include "../migration/tcp.h"
#include "../vmm/err.h"
#include "../vmm/loop.h"
#include "../vmm/vcpu.h"
#include "../vmm/vm.h"
#include "api.h"
#include "apimig.h"

#define API_MAX_CLIENTS 8
#define API_LINE_MAX 65536

struct client {
	int fd;
	char buf[API_LINE_MAX];
	size_t len;
};

struct api {
	struct apimig *mig;
	int fd;
	char path[108];
	struct loop *loop;
	struct api_target *t;
	struct client c[API_MAX_CLIENTS];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

json_object *api_error(const char *cls, const char *fmt, ...)
{
	json_object *e = json_object_new_object(), *o = json_object_new_object();
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	return o;
}

json_object *api_ok(json_object *ret)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "return", ret ? ret : json_object_new_object());
	return o;
}

static const char *state_name(struct vm *vm)
{
	return vm_paused(vm) ? "paused" : "running";
}

static json_object *cmd_status(struct api *a, json_object *args)
{
	json_object *r = json_object_new_object();

	(void)args;
	json_object_object_add(r, "status", json_object_new_string(state_name(a->t->vm)));
	json_object_object_add(r, "vcpus", json_object_new_int(a->t->vm->ncpus));
	json_object_object_add(r, "memory_mib", json_object_new_int64((int64_t)(a->t->vm->mem.size >> 20)));
	json_object_object_add(r, "uptime_s", json_object_new_double(now_s() - a->t->start_s));
	json_object_object_add(r, "kvm", json_object_new_string(kvm_kind_name(a->t->vm->kvm->kind)));
	return api_ok(r);
}

static json_object *cmd_pause(struct api *a, json_object *args)
{
	(void)args;
	if (vm_paused(a->t->vm))
		return api_ok(NULL);
	if (vm_pause(a->t->vm, 0) < 0)
		return api_error("GenericError", "%s", err_msg());
	return api_ok(NULL);
}

/* Let the vCPUs run and the devices replay what they deferred meanwhile. */
static void resume_all(struct api *a)
{
	vm_resume(a->t->vm);
	devices_resume(a->t->ds);
}

static json_object *cmd_migrate(struct api *a, json_object *args)
{
	return apimig_start(a->mig, args);
}

static json_object *cmd_migrate_status(struct api *a, json_object *args)
{
	(void)args;
	return apimig_status(a->mig);
}

static json_object *cmd_migrate_cancel(struct api *a, json_object *args)
{
	(void)args;
	return apimig_cancel(a->mig);
}

static json_object *cmd_migrate_postcopy(struct api *a, json_object *args)
{
	(void)args;
	return apimig_postcopy(a->mig);
}

static json_object *cmd_migrate_resume(struct api *a, json_object *args)
{
	return apimig_resume(a->mig, args);
}

static json_object *cmd_resume(struct api *a, json_object *args)
{
	(void)args;
	if (apimig_holds_vm(a->mig))
		return api_error("GenericError", "refused: this VM was handed over in post-copy "
				 "and runs on the destination; resuming this stale copy would "
				 "run it twice. `vmm migrate --resume` finishes the move");
	resume_all(a);
	return api_ok(NULL);
}

/* args.force: true, 1, "true" or "yes". */
static int forced(json_object *args)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, "force", &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return !strcmp(json_object_get_string(v), "true") ||
		       !strcmp(json_object_get_string(v), "yes");
	return json_object_get_boolean(v);
}

static json_object *cmd_quit(struct api *a, json_object *args)
{
	/* A paused post-copy: this VMM holds pages the running guest on the
	 * destination has not got; quitting throws them away. */
	if (apimig_holds_vm(a->mig) && !forced(args))
		return api_error("GenericError", "refused: a paused post-copy migration needs pages "
				 "only this VMM holds; `vmm migrate --resume` finishes it (quit "
				 "force=true gives those pages up, and the guest on the "
				 "destination with them)");
	vm_request_stop(a->t->vm, VM_STOP_QUIT, 0, "quit by the control API");
	return api_ok(NULL);
}

static json_object *cmd_stats(struct api *a, json_object *args)
{
	json_object *r = json_object_new_object(), *ex = json_object_new_object();
	json_object *dev = json_object_new_array();
	struct vm *vm = a->t->vm;

	(void)args;
	for (unsigned k = 0; k < VCPU_EXIT_REASONS; k++) {
		uint64_t n = 0;

		for (int i = 0; i < vm->ncpus; i++)
			n += __atomic_load_n(&vm->vcpus[i].exits[k], __ATOMIC_RELAXED);
		if (n)
			json_object_object_add(ex, vcpu_exit_name(k), json_object_new_int64((int64_t)n));
	}
	json_object_object_add(r, "exits", ex);
	json_object_object_add(r, "unhandled_pio", json_object_new_int64((int64_t)vm->pio.unhandled));
	json_object_object_add(r, "unhandled_mmio", json_object_new_int64((int64_t)vm->mmio.unhandled));
	for (int i = 0; i < a->t->ds->nvirtio; i++) {
		struct virtio_pci *vp = a->t->ds->virtio[i].dev;
		json_object *d = json_object_new_object();

		json_object_object_add(d, "name", json_object_new_string(vp->ops->name));
		json_object_object_add(d, "notifies", json_object_new_int64((int64_t)vp->notifies));
		json_object_object_add(d, "interrupts", json_object_new_int64((int64_t)vp->interrupts));
		json_object_object_add(d, "status", json_object_new_int(vp->status));
		json_object_array_add(dev, d);
	}
	json_object_object_add(r, "devices", dev);
	return api_ok(r);
}

static int get_int(json_object *args, const char *key, int64_t *v)
{
	json_object *o;

	if (!args || !json_object_object_get_ex(args, key, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		*v = json_object_get_int64(o);
		return 1;
	}
	if (json_object_is_type(o, json_type_string)) {
		char *end;

		*v = strtoll(json_object_get_string(o), &end, 0);
		return *end == 0 ? 1 : -1;
	}
	return -1;
}

static json_object *cmd_inspect(struct api *a, json_object *args)
{
	struct vm *vm = a->t->vm;
	int64_t cpu, gpa, len;
	int was_paused = vm_paused(vm), hc = get_int(args, "vcpu", &cpu);

	if (hc < 0 || get_int(args, "gpa", &gpa) < 0 || get_int(args, "len", &len) < 0)
		return api_error("InvalidParameter", "vcpu, gpa and len must be integers");
	if (hc == 1) {
		struct kvm_regs *g;
		json_object *r;
		char hex[20];

		if (cpu < 0 || cpu >= vm->ncpus)
			return api_error("InvalidParameter", "no vCPU %lld (the VM has %d)", (long long)cpu,
				     vm->ncpus);
		/* Registers belong to the vCPU thread: it captures them as it parks. */
		if (vm_pause(vm, 1) < 0)
			return api_error("GenericError", "%s", err_msg());
		g = &vm->vcpus[cpu].state.regs;
		r = json_object_new_object();
#define REG(n, v) do { snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)(v)); \
		json_object_object_add(r, n, json_object_new_string(hex)); } while (0)
		REG("rip", g->rip); REG("rsp", g->rsp); REG("rflags", g->rflags);
		REG("rax", g->rax); REG("rbx", g->rbx); REG("rcx", g->rcx); REG("rdx", g->rdx);
		REG("rsi", g->rsi); REG("rdi", g->rdi); REG("rbp", g->rbp);
		REG("cr0", vm->vcpus[cpu].state.sregs.cr0); REG("cr3", vm->vcpus[cpu].state.sregs.cr3);
		REG("cr4", vm->vcpus[cpu].state.sregs.cr4); REG("efer", vm->vcpus[cpu].state.sregs.efer);
#undef REG
		if (!was_paused)
			resume_all(a);
		return api_ok(r);
	}
	if (get_int(args, "gpa", &gpa) == 1) {
		const uint8_t *p;
		char *hex;
		json_object *r;

		if (get_int(args, "len", &len) != 1)
			len = 64;
		if (len < 1 || len > 4096)
			return api_error("InvalidParameter", "len must be 1 to 4096");
		p = mem_hva(&vm->mem, (uint64_t)gpa, (uint64_t)len);
		if (gpa < 0 || !p)
			return api_error("InvalidParameter", "0x%llx+%lld is not guest RAM",
				     (unsigned long long)gpa, (long long)len);
		hex = malloc(2 * len + 1);
		if (!hex)
			return api_error("GenericError", "out of memory");
		for (int64_t i = 0; i < len; i++)
			sprintf(hex + 2 * i, "%02x", p[i]);
		r = json_object_new_object();
		json_object_object_add(r, "gpa", json_object_new_int64(gpa));
		json_object_object_add(r, "hex", json_object_new_string(hex));
		free(hex);
		return api_ok(r);
	}
	return api_error("InvalidParameter", "inspect needs vcpu=N or gpa=ADDR [len=N]");
}

static json_object *cmd_snapshot(struct api *a, json_object *args)
{
	struct vm *vm = a->t->vm;
	struct snap_stats st;
	json_object *p, *r;
	int was_paused = vm_paused(vm), ret;
	double t0 = now_s(), stunned;

	if (!args || !json_object_object_get_ex(args, "path", &p) ||
	    !json_object_is_type(p, json_type_string))
		return api_error("InvalidParameter", "snapshot needs path");
	if (vm_pause(vm, 1) < 0)
		return api_error("GenericError", "%s", err_msg());
	ret = snapshot_save(json_object_get_string(p), vm, a->t->ds, &a->t->cfg, &st);
	if (!was_paused)
		resume_all(a);
	stunned = (now_s() - t0) * 1e3;
	if (ret < 0)
		return api_error("GenericError", "%s", err_msg());
	r = json_object_new_object();
	json_object_object_add(r, "path", json_object_new_string(json_object_get_string(p)));
	json_object_object_add(r, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(r, "pages", json_object_new_int64((int64_t)st.ram.pages_sent));
	json_object_object_add(r, "zero_pages", json_object_new_int64((int64_t)st.ram.zero_pages));
	json_object_object_add(r, "write_ms", json_object_new_double(st.write_ms));
	json_object_object_add(r, "stunned_ms", json_object_new_double(stunned));
	return api_ok(r);
}

/* Stop-and-copy: stun, send everything, and let go of the VM only once the
 * destination has said it loaded it all. Any failure before that resumes the
 * VM here. */
static const struct {
	const char *name;
	json_object *(*fn)(struct api *a, json_object *args);
} commands[] = {
	{ "migrate", cmd_migrate }, { "migrate-status", cmd_migrate_status },
	{ "migrate-cancel", cmd_migrate_cancel }, { "migrate-postcopy", cmd_migrate_postcopy },
	{ "migrate-resume", cmd_migrate_resume },
	{ "status", cmd_status }, { "pause", cmd_pause }, { "resume", cmd_resume },
	{ "quit", cmd_quit }, { "stats", cmd_stats }, { "inspect", cmd_inspect },
	{ "snapshot", cmd_snapshot },
};

static json_object *dispatch(struct api *a, const char *line)
{
	json_object *req = json_tokener_parse(line), *ex, *args = NULL, *reply = NULL;

	if (!req || !json_object_is_type(req, json_type_object)) {
		reply = api_error("ParseError", "not a JSON object");
	} else if (!json_object_object_get_ex(req, "execute", &ex) ||
		   !json_object_is_type(ex, json_type_string)) {
		reply = api_error("InvalidRequest", "no \"execute\" string");
	} else {
		json_object_object_get_ex(req, "arguments", &args);
		if (args && !json_object_is_type(args, json_type_object))
			reply = api_error("InvalidRequest", "\"arguments\" must be an object");
		for (size_t i = 0; !reply && i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(json_object_get_string(ex), commands[i].name))
				reply = commands[i].fn(a, args);
		if (!reply)
			reply = api_error("CommandNotFound", "unknown command '%s'",
				      json_object_get_string(ex));
	}
	json_object_put(req);
	return reply;
}

static void drop(struct api *a, struct client *c)
{
	loop_del(a->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void reply_line(struct client *c, json_object *reply)
{
	const char *txt = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(txt);

	/* Replies are small; a client that does not read them loses them. */
	if (write(c->fd, txt, n) < 0 || write(c->fd, "\n", 1) < 0) {
		/* the client went away: noticed on its next read */
	}
	json_object_put(reply);
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct api *a = arg;
	struct client *c = NULL;
	ssize_t n;
	char *nl;

	(void)l;
	(void)events;
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		if (a->c[i].fd == fd)
			c = &a->c[i];
	if (!c)
		return;
	n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		drop(a, c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	while ((nl = strchr(c->buf, '\n'))) {
		*nl = 0;
		if (nl > c->buf)
			reply_line(c, dispatch(a, c->buf));
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->buf) - 1) {
		reply_line(c, api_error("InvalidRequest", "request longer than %d bytes", API_LINE_MAX));
		drop(a, c);
	}
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct api *a = arg;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	(void)events;
	if (cfd < 0)
		return;
	for (int i = 0; i < API_MAX_CLIENTS; i++) {
		if (a->c[i].fd >= 0)
			continue;
		if (loop_add(l, cfd, EPOLLIN, on_client, a) < 0)
			break;
		a->c[i].fd = cfd;
		a->c[i].len = 0;
		return;
	}
	close(cfd);	/* too many clients */
}

int api_open(const char *path, struct loop *l, struct api_target *t, struct api **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct api *a;
	mode_t old;
	int probe, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(-ENAMETOOLONG, "--api %s: path too long", path);
	strcpy(sa.sun_path, path);
	/* A live VMM answers on the path: refuse. A dead one left a stale file. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		return err_set(-EADDRINUSE, "--api %s: another VMM is listening there", path);
	}
	if (probe >= 0)
		close(probe);
	if (errno == ECONNREFUSED)
		unlink(path);
	a = calloc(1, sizeof(*a));
	if (!a)
		return err_set(-ENOMEM, "out of memory");
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		a->c[i].fd = -1;
	a->loop = l;
	a->t = t;
	a->mig = apimig_new(t, l);
	if (!a->mig) {
		free(a);
		return err_set(-ENOMEM, "out of memory");
	}
	strcpy(a->path, path);
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->fd < 0) {
		apimig_free(a->mig);
		free(a);
		return err_set(-errno, "socket: %s", strerror(errno));
	}
	old = umask(0177);	/* the socket file is created 0600 */
	r = bind(a->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(a->fd, 4) < 0) {
		r = err_set(-errno, "--api %s: %s", path, strerror(errno));
		close(a->fd);
		apimig_free(a->mig);
		free(a);
		return r;
	}
	r = loop_add(l, a->fd, EPOLLIN, on_accept, a);
	if (r < 0) {
		api_close(a);
		return r;
	}
	*out = a;
	return 0;
}

void api_close(struct api *a)
{
	if (!a)
		return;
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		if (a->c[i].fd >= 0)
			drop(a, &a->c[i]);
	loop_del(a->loop, a->fd);
	close(a->fd);
	unlink(a->path);
	apimig_free(a->mig);
	free(a);
}
