/* main: the vmm binary's entry and its subcommand table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "boot a Linux kernel or a micro guest, or restore a snapshot" },
	{ "ctl", cmd_ctl, "send a command to a running VMM's control socket" },
	{ "receive", cmd_receive, "wait for one migrating VM and run it" },
	{ "migrate", cmd_migrate, "move a running VM to a VMM waiting in receive" },
};

#define NCMD (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: vmm COMMAND [OPTIONS]\n\n"
		   "A small virtual machine monitor on Linux KVM.\n\ncommands:\n");
	for (size_t i = 0; i < NCMD; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'vmm COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCMD; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vmm: error: unknown command '%s' (try 'vmm --help')\n", argv[1]);
	return 2;
}
