/* apimig: migration commands of the control API (see apimig.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../devices/devices.h"
#include "../migration/migrate.h"
#include "../vmm/err.h"
#include "../vmm/loop.h"
#include "../vmm/vm.h"
#include "api.h"
#include "apimig.h"

#define REPORT_GRACE_S 5	/* wait this long for a client to read the result */

struct apimig {
	struct api_target *t;
	struct loop *loop;
	struct mig_host host;
	struct migration mig;
	int started;
	/* Set by the I/O thread when a client has read the final status; the
	 * migration thread waits on it before quitting the VMM. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int reported;
	int closing;
};

/* ---- hooks, called by the migration thread ---- */

struct stun_call {
	struct apimig *m;
	struct stream *s;
	int r;
	char msg[256];
};

static void do_stun(void *arg)
{
	struct stun_call *c = arg;
	struct vm *vm = c->m->t->vm;

	c->r = vm_pause(vm, 1);
	if (c->r == 0)
		c->r = snapshot_put_state(c->s, vm, c->m->t->ds);
	if (c->r < 0)
		snprintf(c->msg, sizeof(c->msg), "%s", c->s->err ? c->s->msg : err_msg());
}

static void do_resume(void *arg)
{
	struct apimig *m = arg;

	vm_resume(m->t->vm);
	devices_resume(m->t->ds);
}

static int host_stun(struct mig_host *h, struct stream *s)
{
	struct stun_call c = { .m = h->arg, .s = s };
	int r = loop_call(c.m->loop, do_stun, &c);

	if (r < 0)
		return err_set(r, "the VMM is shutting down");
	if (c.r < 0) {
		/* A failed capture may have left vCPUs parked. */
		loop_call(c.m->loop, do_resume, c.m);
		return err_set(c.r, "%s", c.msg);
	}
	return 0;
}

static void host_resume(struct mig_host *h)
{
	struct apimig *m = h->arg;

	loop_call(m->loop, do_resume, m);
}

static void host_handed_over(struct mig_host *h)
{
	struct apimig *m = h->arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += REPORT_GRACE_S;
	pthread_mutex_lock(&m->lock);
	while (!m->reported && !m->closing &&
	       pthread_cond_timedwait(&m->cond, &m->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&m->lock);
	vm_request_stop(m->t->vm, VM_STOP_QUIT, 0, "migrated to %s", m->mig.p.to);
}

/* ---- commands, on the I/O thread ---- */

struct apimig *apimig_new(struct api_target *t, struct loop *l)
{
	struct apimig *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->t = t;
	m->loop = l;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->host = (struct mig_host){ .vm = t->vm, .cfg = t->cfg, .arg = m, .stun = host_stun,
				     .resume = host_resume, .handed_over = host_handed_over };
	return m;
}

void apimig_free(struct apimig *m)
{
	if (!m)
		return;
	if (m->started) {
		mig_cancel(&m->mig);
		pthread_mutex_lock(&m->lock);
		m->closing = 1;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
	}
	mig_free(&m->mig);
	free(m);
}

static int get_str(json_object *args, const char *key, const char **out)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 1;
}

static int get_num(json_object *args, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_int64(v);
	return *out >= lo && *out <= hi ? 1 : -1;
}

json_object *apimig_start(struct apimig *m, json_object *args)
{
	struct mig_params p;
	const char *s;
	int64_t v;
	int r;

	if (m->started && mig_running(&m->mig))
		return api_error("GenericError", "a migration is already running");
	if (apimig_holds_vm(m))
		return api_error("GenericError", "a post-copy migration to %s is paused and the VM "
				 "runs there: `vmm migrate --resume` finishes it", m->mig.p.to);
	if (vm_paused(m->t->vm))
		return api_error("GenericError", "the VM is paused; resume it before migrating");
	mig_params_default(&p);
	if (get_str(args, "to", &s) != 1 || strlen(s) >= sizeof(p.to))
		return api_error("InvalidParameter", "migrate needs to=ADDR:PORT");
	strcpy(p.to, s);
	if ((r = get_str(args, "strategy", &s)) < 0 ||
	    (r == 1 && mig_parse_strategy(s, &p.strategy) < 0))
		return api_error("InvalidParameter", "%s", r < 0 ? "strategy must be a string" :
				 err_msg());
	if ((r = get_str(args, "compress", &s)) < 0 ||
	    (r == 1 && mig_parse_compress(s, &p.compress) < 0))
		return api_error("InvalidParameter", "%s", r < 0 ? "compress must be a string" :
				 err_msg());
	if ((r = get_num(args, "downtime_ms", 1, 600000, &v)) < 0)
		return api_error("InvalidParameter", "downtime_ms must be 1 to 600000");
	if (r)
		p.downtime_ms = (uint32_t)v;
	if ((r = get_num(args, "max_bandwidth", 0, INT64_MAX, &v)) < 0)
		return api_error("InvalidParameter", "max_bandwidth must be bytes per second, >= 0");
	if (r)
		p.max_bw = (uint64_t)v;
	if ((r = get_num(args, "max_iterations", 1, 10000, &v)) < 0)
		return api_error("InvalidParameter", "max_iterations must be 1 to 10000");
	if (r)
		p.max_iterations = (uint32_t)v;
	if ((r = get_num(args, "auto_converge", 0, 1, &v)) < 0)
		return api_error("InvalidParameter", "auto_converge must be true or false");
	if (r)
		p.auto_converge = (int)v;
	if (m->started)
		mig_join(&m->mig);
	m->started = 0;
	m->reported = 0;
	if (mig_start(&m->mig, &p, &m->host) < 0)
		return api_error("GenericError", "%s", err_msg());
	m->started = 1;
	return api_ok(NULL);
}

json_object *apimig_status(struct apimig *m)
{
	json_object *r = json_object_new_object(), *o;
	struct mig_status st;

	if (!m->started) {
		json_object_object_add(r, "state", json_object_new_string("none"));
		return api_ok(r);
	}
	mig_status(&m->mig, &st);
#define ADD_INT(k, v) json_object_object_add(r, k, json_object_new_int64((int64_t)(v)))
#define ADD_DBL(k, v) json_object_object_add(r, k, json_object_new_double(v))
	json_object_object_add(r, "state", json_object_new_string(mig_state_name(st.state)));
	json_object_object_add(r, "strategy",
			       json_object_new_string(mig_strategy_name(st.strategy)));
	if (st.msg[0])
		json_object_object_add(r, "message", json_object_new_string(st.msg));
	ADD_DBL("total_ms", st.total_ms);
	ADD_DBL("downtime_ms", st.downtime_ms);
	ADD_DBL("setup_ms", st.setup_ms);
	if (st.drain_ms > 0)
		ADD_DBL("drain_ms", st.drain_ms);
	ADD_INT("bytes_sent", st.bytes_sent);
	ADD_INT("pages_sent", st.pages_sent);
	ADD_INT("zero_pages", st.zero_pages);
	ADD_INT("lz4_pages", st.lz4_pages);
	ADD_INT("raw_pages", st.raw_pages);
	ADD_INT("ram_pages", st.ram_pages);
	ADD_INT("remaining_pages", st.remaining);
	ADD_INT("dirty_pages", st.dirty_pages);
	ADD_INT("iterations", st.iteration);
	ADD_DBL("dirty_rate_mbps", st.dirty_rate_mbps);
	ADD_DBL("bandwidth_mbps", st.total_ms > 0 && st.state == MIG_COMPLETED ?
		st.bytes_sent * 8 / 1e3 / st.total_ms : st.bandwidth_mbps);
	ADD_DBL("expected_downtime_ms", st.expected_downtime_ms);
	if (st.downtime_ms > 0) {
		json_object *sw = json_object_new_object();

		json_object_object_add(sw, "capture", json_object_new_double(st.sw_capture_ms));
		json_object_object_add(sw, "send", json_object_new_double(st.sw_send_ms));
		json_object_object_add(sw, "load", json_object_new_double(st.sw_load_ms));
		json_object_object_add(sw, "run", json_object_new_double(st.sw_run_ms));
		json_object_object_add(r, "downtime_parts_ms", sw);
	}
	ADD_INT("throttle_pct", st.throttle_pct);
	ADD_DBL("t0_mono_ms", st.t0_mono_ms);
	if (st.stun_at_ms > 0)
		ADD_DBL("stun_at_ms", st.stun_at_ms);
	if (st.nrounds) {
		json_object *rs = json_object_new_array();

		for (uint32_t i = 0; i < st.nrounds; i++) {
			json_object *o = json_object_new_object();
			const struct mig_round *rd = &st.rounds[i];

			json_object_object_add(o, "start_ms", json_object_new_double(rd->start_ms));
			json_object_object_add(o, "ms", json_object_new_double(rd->ms));
			json_object_object_add(o, "pages", json_object_new_int64((int64_t)rd->pages));
			json_object_object_add(o, "dirty", json_object_new_int64((int64_t)rd->dirty));
			json_object_object_add(o, "throttle_pct",
					       json_object_new_int(rd->throttle_pct));
			json_object_array_add(rs, o);
		}
		json_object_object_add(r, "rounds", rs);
	}
	ADD_INT("compress_switches", st.compress_switches);
	o = json_object_new_boolean(st.converged);
	json_object_object_add(r, "converged", o);
	if (st.strategy == MIG_POSTCOPY || st.strategy == MIG_HYBRID) {
		json_object *lat = json_object_new_object();

		json_object_object_add(r, "postcopy", json_object_new_boolean(st.postcopy));
		ADD_INT("faults", st.faults);
		json_object_object_add(lat, "p50", json_object_new_double(st.fault_p50_us));
		json_object_object_add(lat, "p99", json_object_new_double(st.fault_p99_us));
		json_object_object_add(lat, "max", json_object_new_double(st.fault_max_us));
		json_object_object_add(r, "fault_latency_us", lat);
		ADD_INT("pages_demanded", st.pages_demanded);
		ADD_INT("pages_prefetched", st.pages_prefetched);
		ADD_INT("pages_pushed", st.pages_pushed);
		ADD_INT("duplicates", st.duplicates);
		ADD_DBL("postcopy_ms", st.postcopy_ms);
		ADD_INT("resumes", st.resumes);
	}
#undef ADD_INT
#undef ADD_DBL
	if (st.state >= MIG_COMPLETED) {
		pthread_mutex_lock(&m->lock);
		m->reported = 1;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
	}
	return api_ok(r);
}

/* A command on the running migration: fn(mig) or the error it left. */
static json_object *on_running(struct apimig *m, int (*fn)(struct migration *))
{
	if (!m->started || !mig_running(&m->mig))
		return api_error("GenericError", "no migration is running");
	if (fn(&m->mig) < 0)
		return api_error("GenericError", "%s", err_msg());
	return api_ok(NULL);
}

json_object *apimig_postcopy(struct apimig *m)
{
	return on_running(m, mig_postcopy_now);
}

json_object *apimig_cancel(struct apimig *m)
{
	return on_running(m, mig_cancel);
}

json_object *apimig_resume(struct apimig *m, json_object *args)
{
	const char *to = NULL;

	if (get_str(args, "to", &to) < 0)
		return api_error("InvalidParameter", "to must be a string ADDR:PORT");
	if (!m->started)
		return api_error("GenericError", "nothing to resume: no migration");
	m->reported = 0;
	if (mig_resume(&m->mig, to) < 0)
		return api_error("GenericError", "%s", err_msg());
	return api_ok(NULL);
}

int apimig_holds_vm(struct apimig *m)
{
	struct mig_status st;

	if (!m->started)
		return 0;
	mig_status(&m->mig, &st);
	return st.state == MIG_POSTCOPY_PAUSED;
}
