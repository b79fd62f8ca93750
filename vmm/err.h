/* err: one error message per thread, so that a failing function can say what
 * and why while returning a plain -errno; the caller up in cli/ prints it once.
 * This keeps library code free of printing and of exit(). */
#ifndef VMM_ERR_H
#define VMM_ERR_H

/* err_set(err, fmt, ...): record a message for the calling thread and return
 * err (a negative errno) so that callers can write `return err_set(...)`.
 * Any thread. */
int err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* err_msg(): the calling thread's last message, or "unknown error". */
const char *err_msg(void);

/* err_prefix(fmt, ...): put context in front of the current message
 * ("loading kernel: " + "file too small"). Returns nothing. */
void err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_info / log_warn: one line on stderr with the "vmm: " prefix. Any thread. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_quiet: when set, log_info prints nothing (tests, --quiet). */
extern int log_quiet;

#endif
