/* harness: run the real vmm binary as a child process with a watchdog, feed
 * its console, and collect what it printed and how it ended. Integration
 * tests assert on that, like a user at a terminal would. */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stddef.h>

struct proc_result {
	int status;		/* exit code, or 128 + signal */
	int timed_out;		/* the watchdog killed it */
	char *out;		/* stdout and stderr, interleaved, NUL-terminated */
	size_t len;
	double secs;
};

/* h_run(argv, send_after, send, timeout_s, r): run argv; once the output
 * contains send_after (or at once if it is NULL), write send to its stdin
 * (if send is not NULL), then close stdin. Returns 0 or -1 if it could not
 * start. */
int h_run(char *const argv[], const char *send_after, const char *send, int timeout_s,
	  struct proc_result *r);
void h_free(struct proc_result *r);

/* A child running in the background: its output is collected as the test
 * waits for markers in it. */
struct proc {
	int pid;
	int out_fd;
	int in_fd;		/* the child's stdin, with h_spawn_tty-less input */
	struct proc_result r;
	double t0;
};

/* h_spawn(argv, p): start it, stdin from /dev/null. h_spawn_input: stdin
 * from a pipe that h_send() writes to. Return 0 or -1. */
int h_spawn(char *const argv[], struct proc *p);
int h_spawn_input(char *const argv[], struct proc *p);
int h_send(struct proc *p, const char *text);

/* h_wait_for(p, marker, after, timeout_s): wait until marker appears in the
 * output at or past byte offset after; returns the offset just past it, or
 * -1 on timeout or exit. */
long h_wait_for(struct proc *p, const char *marker, size_t after, int timeout_s);

/* h_expect(p, marker, after, timeout_s): h_wait_for for a marker the test
 * cannot go on without (use it in CU_ASSERT_FATAL). When the marker does not
 * come it kills the process, so that an abandoned VM does not load the
 * tests after it, and prints its output with the marker it missed. */
long h_expect(struct proc *p, const char *marker, size_t after, int timeout_s);

/* h_finish(p, timeout_s): wait for exit (SIGKILL after timeout_s); fills p->r. */
void h_finish(struct proc *p, int timeout_s);

/* Paths, overridable from the environment: VMM (the binary), GUEST_DIR
 * (bzImage, initrd), MICRO_DIR (*.bin). */
const char *h_vmm(void);
const char *h_guest(const char *file);	/* static buffer per call site: copy it */
const char *h_micro(const char *file);

/* h_count_lines(s): newlines in s. h_field(out, key): the number after
 * "key=" on the READY line, or -1. */
int h_count_lines(const char *s);
long h_ready_field(const char *out, const char *key);

/* h_sh(cmd): run a shell command (60 s watchdog); its exit status, with its
 * output printed if it failed. */
int h_sh(const char *cmd);

/* h_need_kvm(suite, hardware): is /dev/kvm here (and, with hardware, backed
 * by VT-x/AMD-V rather than PVM)? If not, say so and fail the current test. */
int h_need_kvm(const char *suite, int hardware);

/* h_dump(r): print the output on failure, so the log explains it. */
void h_dump(const char *what, const struct proc_result *r);

#endif
