/* console: terminal handling and back-pressured input (see console.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "console.h"
#include "err.h"
#include "loop.h"

#define ESCAPE_CHAR 0x01	/* Ctrl-A */

int console_open(struct console *c, const char *spec)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = c->out_fd = c->space_fd = -1;
	if (strcmp(spec, "stdio") == 0) {
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
	} else if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
		c->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0)
			return err_set(-errno, "console file %s: %s", spec + 5, strerror(errno));
	} else if (strcmp(spec, "none") == 0) {
		return 0;
	} else {
		return err_set(-EINVAL, "--console %s: expected stdio, file:PATH or none", spec);
	}
	c->space_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->space_fd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	if (c->in_fd >= 0 && isatty(c->in_fd) && tcgetattr(c->in_fd, &c->saved) == 0) {
		struct termios raw = c->saved;

		raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
		raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
		raw.c_cflag &= ~(CSIZE | PARENB);
		raw.c_cflag |= CS8;
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(c->in_fd, TCSANOW, &raw) == 0)
			c->is_tty = 1;
	}
	return 0;
}

void console_close(struct console *c)
{
	if (c->is_tty) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
		c->is_tty = 0;
	}
	if (c->out_fd > STDERR_FILENO)
		close(c->out_fd);
	if (c->space_fd >= 0)
		close(c->space_fd);
	c->out_fd = c->space_fd = -1;
}

/* Offer pending bytes to the UART; returns 1 when all were taken. */
static int flush_pending(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t n = c->rx(c->dev, c->pending + c->pending_off,
				 c->pending_len - c->pending_off);

		if (n == 0)
			return 0;
		c->pending_off += n;
	}
	c->pending_off = c->pending_len = 0;
	return 1;
}

/* Strip the Ctrl-A escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A. */
static size_t filter_escape(struct console *c, uint8_t *buf, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (c->saw_escape) {
			c->saw_escape = 0;
			if (buf[i] == 'x') {
				if (c->quit)
					c->quit(c->quit_arg);
				return out;
			}
			buf[out++] = buf[i];
		} else if (buf[i] == ESCAPE_CHAR && c->is_tty) {
			c->saw_escape = 1;
		} else {
			buf[out++] = buf[i];
		}
	}
	return out;
}

static void on_space(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct console *c = arg;
	eventfd_t v;

	(void)events;
	eventfd_read(fd, &v);
	if (flush_pending(c))
		loop_mod(l, c->in_fd, EPOLLIN);
}

static void on_input(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct console *c = arg;
	ssize_t n;

	(void)events;
	n = read(fd, c->pending, sizeof(c->pending));
	if (n <= 0) {
		/* EOF or error on stdin: stop reading, the guest keeps running. */
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			loop_del(l, fd);
		return;
	}
	c->pending_off = 0;
	c->pending_len = filter_escape(c, c->pending, (size_t)n);
	if (!flush_pending(c))
		loop_mod(l, fd, 0);	/* hold further input until the UART has room */
}

int console_attach(struct console *c, struct loop *l)
{
	int r;

	if (c->in_fd < 0)
		return 0;
	r = loop_add(l, c->space_fd, EPOLLIN, on_space, c);
	if (r == 0)
		r = loop_add(l, c->in_fd, EPOLLIN, on_input, c);
	if (r == -EPERM) {
		/* stdin is a regular file or /dev/null: epoll refuses it. No input. */
		return 0;
	}
	return r;
}
