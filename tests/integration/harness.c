/* harness: child processes with a watchdog (see harness.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "harness.h"

#define OUT_MAX (16u << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int h_run(char *const argv[], const char *send_after, const char *send, int timeout_s,
	  struct proc_result *r)
{
	int out[2], in[2], st, sent = 0;
	size_t cap = 65536;
	double t0 = now_s();
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->out = malloc(cap);
	if (!r->out || pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		return -1;
	r->out[0] = 0;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	if (!send && !send_after) {
		close(in[1]);
		in[1] = -1;
	}
	for (;;) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };
		int left_ms = (int)((t0 + timeout_s - now_s()) * 1000);
		ssize_t n;

		if (left_ms <= 0) {
			r->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, left_ms > 200 ? 200 : left_ms) <= 0)
			continue;
		if (r->len + 4096 + 1 > cap && cap < OUT_MAX) {
			cap *= 2;
			r->out = realloc(r->out, cap);
		}
		n = read(out[0], r->out + r->len,
			 r->len + 4096 + 1 > cap ? 0 : 4096);
		if (n <= 0)
			break;
		r->len += (size_t)n;
		r->out[r->len] = 0;
		if (!sent && in[1] >= 0 && (!send_after || strstr(r->out, send_after))) {
			if (send && write(in[1], send, strlen(send)) < 0) {
				/* the child has gone; its status tells */
			}
			close(in[1]);
			in[1] = -1;
			sent = 1;
		}
	}
	close(out[0]);
	if (in[1] >= 0)
		close(in[1]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->secs = now_s() - t0;
	return 0;
}

void h_free(struct proc_result *r)
{
	free(r->out);
	r->out = NULL;
}

const char *h_vmm(void)
{
	const char *v = getenv("VMM");

	return v ? v : "build/vmm";
}

static const char *join(const char *env, const char *def, const char *file)
{
	static char buf[8][512];
	static int k;
	const char *dir = getenv(env);

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir ? dir : def, file);
	return buf[k];
}

const char *h_guest(const char *file)
{
	return join("GUEST_DIR", "build/guest", file);
}

const char *h_micro(const char *file)
{
	return join("MICRO_DIR", "build/micro", file);
}

int h_count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

long h_ready_field(const char *out, const char *key)
{
	const char *ready = strstr(out, "READY ");
	char pat[64];
	const char *p;

	if (!ready)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(ready, pat);
	if (!p || p > strchr(ready, '\n'))
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}

void h_dump(const char *what, const struct proc_result *r)
{
	size_t from = r->len > 6000 ? r->len - 6000 : 0;

	fprintf(stderr, "\n---- %s: status %d%s after %.1f s; output%s:\n%s\n---- end\n", what,
		r->status, r->timed_out ? " (watchdog)" : "", r->secs,
		from ? " (last 6000 bytes)" : "", r->out + from);
}

static int spawn(char *const argv[], struct proc *p, int with_input)
{
	int out[2], in[2] = { -1, -1 };

	memset(p, 0, sizeof(*p));
	p->in_fd = -1;
	p->r.out = malloc(65536);
	if (!p->r.out || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (with_input && pipe2(in, O_CLOEXEC) < 0)
		return -1;
	p->r.out[0] = 0;
	p->t0 = now_s();
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(with_input ? in[0] : null, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	p->out_fd = out[0];
	if (with_input) {
		close(in[0]);
		p->in_fd = in[1];
	}
	return 0;
}

int h_spawn(char *const argv[], struct proc *p)
{
	return spawn(argv, p, 0);
}

int h_spawn_input(char *const argv[], struct proc *p)
{
	signal(SIGPIPE, SIG_IGN);
	return spawn(argv, p, 1);
}

int h_send(struct proc *p, const char *text)
{
	return p->in_fd >= 0 && write(p->in_fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

/* Read what is there within wait_ms; returns 0 on EOF. */
static int pump(struct proc *p, int wait_ms)
{
	struct pollfd pf = { .fd = p->out_fd, .events = POLLIN };
	size_t cap = 65536;
	ssize_t n;

	if (p->out_fd < 0)
		return 0;
	if (poll(&pf, 1, wait_ms) <= 0)
		return 1;
	while (cap < p->r.len + 4097)
		cap *= 2;
	p->r.out = realloc(p->r.out, cap);
	n = read(p->out_fd, p->r.out + p->r.len, 4096);
	if (n <= 0) {
		close(p->out_fd);
		p->out_fd = -1;
		return 0;
	}
	p->r.len += (size_t)n;
	p->r.out[p->r.len] = 0;
	return 1;
}

long h_wait_for(struct proc *p, const char *marker, size_t after, int timeout_s)
{
	double end = now_s() + timeout_s;

	for (;;) {
		char *hit = after <= p->r.len ? strstr(p->r.out + after, marker) : NULL;

		if (hit)
			return (long)(hit - p->r.out + strlen(marker));
		if (now_s() > end || !pump(p, 200))
			return after <= p->r.len && strstr(p->r.out + after, marker) ?
				(long)(strstr(p->r.out + after, marker) - p->r.out + strlen(marker)) : -1;
	}
}

long h_expect(struct proc *p, const char *marker, size_t after, int timeout_s)
{
	long at = h_wait_for(p, marker, after, timeout_s);
	char what[160];

	if (at >= 0)
		return at;
	kill(p->pid, SIGKILL);
	h_finish(p, 10);
	snprintf(what, sizeof(what), "no \"%s\" within %d s (then killed if still running)",
		 marker, timeout_s);
	h_dump(what, &p->r);
	return -1;
}

void h_finish(struct proc *p, int timeout_s)
{
	double end = now_s() + timeout_s;
	int st;

	while (pump(p, 200) && now_s() < end)
		;
	if (now_s() >= end) {
		p->r.timed_out = 1;
		kill(p->pid, SIGKILL);
	}
	waitpid(p->pid, &st, 0);
	while (pump(p, 0))
		;
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
	p->r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	p->r.secs = now_s() - p->t0;
}

int h_need_kvm(const char *suite, int hardware)
{
	int have = access("/dev/kvm", R_OK | W_OK) == 0;

	if (have && (!hardware || access("/sys/module/kvm_pvm", F_OK) != 0))
		return 1;
	fprintf(stderr, "\n%s: needs %s, which this host lacks (%s); run it in the lab "
		"(scripts/run-tests.sh does this)\n", suite,
		hardware ? "/dev/kvm backed by Intel VT-x or AMD-V" : "/dev/kvm",
		have ? "its /dev/kvm is PVM" : "no /dev/kvm");
	CU_FAIL("KVM missing");
	return 0;
}

int h_sh(const char *cmd)
{
	struct proc_result r;
	int st;

	if (h_run((char *[]){ "/bin/sh", "-c", (char *)cmd, NULL }, NULL, NULL, 60, &r) < 0)
		return -1;
	st = r.status;
	if (st != 0)
		h_dump(cmd, &r);
	h_free(&r);
	return st;
}
