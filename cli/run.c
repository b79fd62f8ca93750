/* run: `vmm run`, boot a Linux bzImage or a micro guest and run it until it
 * powers off, reboots, exits, fails or the VMM is told to quit.
 *
 * Threads: this (main) thread configures the VM, then runs the I/O loop
 * (console input, signals, the VM's stop eventfd); one thread per vCPU. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "../devices/devices.h"
#include "../devices/serial.h"
#include "../vmm/acpi.h"
#include "../vmm/boot64.h"
#include "../vmm/console.h"
#include "../vmm/err.h"
#include "../vmm/linux.h"
#include "../vmm/loop.h"
#include "../vmm/micro.h"
#include "../vmm/vcpu_prio.h"
#include "../vmm/vm.h"
#include "../migration/snapshot.h"
#include "../migration/postcopy.h"
#include "../migration/tcp.h"
#include "api.h"
#include "cli.h"
#include "opts.h"

#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"
#define MAX_KERNEL (256u << 20)
#define MAX_INITRD (2048u << 20)
/* Post-copy: how much lower the vCPUs run than the threads paging them in
 * (vmm/vcpu_prio.h), by default. Measured in the lab (README). */
#define POSTCOPY_VCPU_NICE 2

static const char run_help[] =
	"usage: vmm run --kernel FILE [--initrd FILE] [--cmdline STR] [OPTIONS]\n"
	"       vmm run --micro FILE [--micro-arg N] [OPTIONS]\n"
	"       vmm run --restore SNAPSHOT [--api PATH] [--disk ...] [--net ...]\n"
	"\n"
	"Boot a Linux bzImage (entered in 64-bit mode, ACPI tables for SMP) or a\n"
	"freestanding micro guest, and run it until it powers off or exits.\n"
	"\n"
	"  -k, --kernel FILE     Linux bzImage\n"
	"  -i, --initrd FILE     initramfs for the kernel\n"
	"  -c, --cmdline STR     kernel command line (default: \"" DEFAULT_CMDLINE "\")\n"
	"  -M, --micro FILE      flat micro guest binary (guests/micro), instead of --kernel\n"
	"      --micro-arg N     value handed to the micro guest in rdx (default 0)\n"
	"  -m, --memory SIZE     guest RAM, e.g. 512M, 2G; a bare number is MiB (default 512M)\n"
	"  -p, --cpus N          vCPUs (default 1)\n"
	"  -d, --disk PATH[,readonly][,serial=ID]\n"
	"                        virtio-blk disk on a raw image; repeat for more (up to 8)\n"
	"  -n, --net tap=NAME[,mac=MAC]\n"
	"                        virtio-net card on a host tap device; repeat for more (up to 4)\n"
	"      --console SPEC    stdio (default), file:PATH or none\n"
	"      --api PATH        control socket (vmm ctl --api PATH ...), created 0600\n"
	"      --restore FILE    resume the VM saved in FILE (vmm ctl snapshot); its memory\n"
	"                        and vCPUs come from the file, disks and networks must be\n"
	"                        given again, the same number of each\n"
	"      --kvm PATH        KVM device (default /dev/kvm)\n"
	"  -q, --quiet           no informational messages on stderr\n"
	"  -h, --help            this help\n"
	"\n"
	"On a terminal the console is raw; Ctrl-A x quits the VMM.\n"
	"Exit status: 0 when the guest powers off or reboots, a micro guest's own\n"
	"exit code, 1 on errors, 2 on bad usage.\n";

int run_parse(int argc, char **argv, struct run_opts *o)
{
	enum { OPT_MICRO_ARG = 256, OPT_CONSOLE, OPT_KVM, OPT_API, OPT_RESTORE, OPT_INCOMING,
	       OPT_PC_NICE };
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "micro", required_argument, NULL, 'M' },
		{ "micro-arg", required_argument, NULL, OPT_MICRO_ARG },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "kvm", required_argument, NULL, OPT_KVM },
		{ "api", required_argument, NULL, OPT_API },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "postcopy-vcpu-nice", required_argument, NULL, OPT_PC_NICE },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, r, pc_nice_given = 0;

	memset(o, 0, sizeof(*o));
	o->cmdline = DEFAULT_CMDLINE;
	o->console = "stdio";
	o->kvm_path = "/dev/kvm";
	o->mem_size = 512ULL << 20;
	o->cpus = 1;
	o->pc_nice = POSTCOPY_VCPU_NICE;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:c:M:m:p:d:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'M': o->micro = optarg; break;
		case OPT_CONSOLE: o->console = optarg; break;
		case OPT_KVM: o->kvm_path = optarg; break;
		case OPT_API: o->api = optarg; break;
		case OPT_RESTORE: o->restore = optarg; break;
		case OPT_INCOMING: o->incoming = optarg; o->restore = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'd':
			if (o->ndisks == RUN_MAX_DISKS)
				return err_set(-E2BIG, "at most %d --disk options", RUN_MAX_DISKS);
			r = disk_spec_parse(optarg, &o->disks[o->ndisks]);
			if (r < 0)
				return r;
			o->ndisks++;
			break;
		case 'n':
			if (o->nnets == RUN_MAX_NETS)
				return err_set(-E2BIG, "at most %d --net options", RUN_MAX_NETS);
			r = net_spec_parse(optarg, o->nnets, &o->nets[o->nnets]);
			if (r < 0)
				return r;
			o->nnets++;
			break;
		case 'h': o->help = 1; return 0;
		case 'm':
			o->mem_given = 1;
			r = opt_size(optarg, &o->mem_size);
			if (r < 0) {
				err_prefix("--memory: ");
				return r;
			}
			break;
		case 'p':
			o->cpus_given = 1;
			r = opt_long(optarg, 1, 254, &o->cpus);
			if (r < 0) {
				err_prefix("--cpus: ");
				return r;
			}
			break;
		case OPT_PC_NICE:
			pc_nice_given = 1;
			r = opt_long(optarg, 0, 19, &o->pc_nice);
			if (r < 0) {
				err_prefix("--postcopy-vcpu-nice: ");
				return r;
			}
			break;
		case OPT_MICRO_ARG:
			r = opt_long(optarg, 0, 0x7fffffffL, &o->micro_arg);
			if (r < 0) {
				err_prefix("--micro-arg: ");
				return r;
			}
			break;
		case ':':
			return err_set(-EINVAL, "option %s needs a value", argv[optind - 1]);
		default:
			return err_set(-EINVAL, "unknown option '%s' (try 'vmm run --help')",
				       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(-EINVAL, "unexpected argument '%s' (try 'vmm run --help')",
			       argv[optind]);
	if (pc_nice_given && !o->incoming)
		return err_set(-EINVAL, "--postcopy-vcpu-nice is for a migration destination "
			       "(vmm receive)");
	if (o->restore && (o->kernel || o->micro || o->initrd))
		return err_set(-EINVAL, "--restore resumes a saved VM: no --kernel, --micro or --initrd");
	if (o->restore && (o->mem_given || o->cpus_given))
		return err_set(-EINVAL, o->incoming ?
			       "a migrating VM brings its own memory and vCPUs: no --memory or --cpus" :
			       "--restore takes memory and vCPUs from the snapshot");
	if (o->restore)
		return 0;
	if (!o->kernel && !o->micro)
		return err_set(-EINVAL, "no guest: give --kernel FILE, --micro FILE or --restore FILE");
	if (o->kernel && o->micro)
		return err_set(-EINVAL, "--kernel and --micro exclude each other");
	if (o->initrd && !o->kernel)
		return err_set(-EINVAL, "--initrd needs --kernel");
	if (o->micro && (o->ndisks || o->nnets))
		return err_set(-EINVAL, "micro guests have no PCI: --disk and --net need --kernel");
	if (o->mem_size % 4096)
		return err_set(-EINVAL, "--memory must be a multiple of 4 KiB");
	return 0;
}

struct run_ctx {
	struct vm vm;
	struct loop loop;
	struct console con;
	struct devices devs;
	int sig_fd;
	struct api *api;
	struct api_target target;
	struct snap_reader *restore;	/* open snapshot when resuming one */
	struct pc_dst pc;		/* incoming post-copy */
	int postcopy;
};

static void on_stop(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	loop_quit(l);
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct run_ctx *ctx = arg;
	struct signalfd_siginfo si;

	(void)l;
	(void)events;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		vm_request_stop(&ctx->vm, VM_STOP_SIGNAL, 128 + (int)si.ssi_signo,
				"stopped by signal %u", si.ssi_signo);
}

static void on_console_quit(void *arg)
{
	vm_request_stop(arg, VM_STOP_SIGNAL, 0, "quit from the console (Ctrl-A x)");
}

static size_t console_rx(void *dev, const uint8_t *buf, size_t len)
{
	return serial_rx(dev, buf, len);
}

/* Load the guest image into RAM and set the boot vCPU's registers. */
static int load_guest(struct vm *vm, const struct run_opts *o, const uint8_t *kernel,
		      size_t klen, const uint8_t *initrd, size_t ilen)
{
	struct boot64_regs regs;
	int r = boot64_write_tables(&vm->mem);

	if (r < 0)
		return r;
	if (o->micro) {
		r = micro_load(&vm->mem, kernel, klen, (uint64_t)o->micro_arg, &regs);
	} else {
		struct linux_boot lb;
		uint64_t rsdp;

		r = acpi_build(&vm->mem, vm->ncpus, &rsdp);
		if (r == 0)
			r = acpi_write_reset_stub(&vm->mem);
		if (r == 0)
			r = linux_load(&vm->mem, kernel, klen, initrd, ilen, o->cmdline, rsdp, &lb);
		memset(&regs, 0, sizeof(regs));
		regs.rip = lb.entry;
		regs.rsi = lb.boot_params;
	}
	if (r < 0)
		return r;
	return vm_set_boot_cpu(vm, &regs);
}

/* Incoming migration, after the whole stream loaded: say "OK", and run the
 * VM only on the source's "GO" (migration/migrate.h has the protocol). */
static int incoming_handshake(struct snap_reader *in)
{
	char go[2];
	int r;

	if (in->ft.t.ops->write_all(&in->ft.t, "OK", 2) < 0)
		return err_set(-EPIPE, "the source went away before the hand-over; the VM stays there");
	r = in->ft.t.ops->read_exact(&in->ft.t, go, 2);
	if (r < 0 || memcmp(go, "GO", 2))
		return err_set(r < 0 ? r : -EPROTO, "the source did not confirm the hand-over (%s); "
			       "the VM stays there", r < 0 ? strerror(-r) : "bad reply");
	log_info("migration received: %llu pages (%llu zero, %llu raw, %llu lz4), %.1f MiB",
		 (unsigned long long)in->pages.pages, (unsigned long long)in->pages.zero_pages,
		 (unsigned long long)in->pages.raw_pages, (unsigned long long)in->pages.lz4_pages,
		 in->s.bytes / 1048576.0);
	if (in->resident_pages)
		log_info("before the transfer, %.1f MiB of guest RAM were backed in %.0f ms, as "
			 "on the source", in->resident_pages * MEM_PAGE_SIZE / 1048576.0,
			 in->resident_ms);
	return 0;
}

/* Post-copy: take the urgent channel (the source opened it right after the
 * main connection) and register guest RAM with userfaultfd. */
static int postcopy_prepare(struct snap_reader *in, void *arg)
{
	struct run_ctx *ctx = arg;
	struct timespec t0, t1;
	char hello[8];
	int fd = in->listen_fd >= 0 ? tcp_accept(in->listen_fd, 10000) : -ENOTCONN, r;

	if (fd < 0)
		return err_set(fd, "post-copy: no urgent channel from the source: %s", err_msg());
	tcp_set_timeouts(fd, 15000, 0);
	if (read(fd, hello, 8) != 8 || memcmp(hello, PC_URGENT_HELLO, 8)) {
		close(fd);
		return err_set(-EPROTO, "post-copy: the second connection is not an urgent channel");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pc_dst_prepare(&ctx->pc, &ctx->vm.mem, fd, in->fd, &in->s, in->listen_fd);
	if (r < 0)
		return r;	/* pc_dst_prepare closed what it took */
	ctx->postcopy = 1;
	r = pc_dst_start_faults(&ctx->pc);
	if (r < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("post-copy: the VM will run before its memory is here; pages come on demand "
		 "(userfaultfd set up in %.1f ms)", (t1.tv_sec - t0.tv_sec) * 1e3 +
		 (t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}

/* Every page is here (the fault thread calls this): the vCPUs' priority back. */
static void postcopy_done(void *vm)
{
	vcpu_prio_restore(vm);
}

/* The vCPUs run: tell the source when, on CLOCK_MONOTONIC, for downtime. */
static void incoming_running(struct snap_reader *in)
{
	struct timespec ts;
	char rn[10] = "RN";
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	memcpy(rn + 2, &ns, 8);
	if (write(in->fd, rn, sizeof(rn)) != sizeof(rn))
		log_warn("could not tell the source that the VM runs here");
	log_info("migration complete; the VM runs here");
}

/* run_vm takes the image buffers and frees them once they are in guest RAM:
 * keeping a 14 MiB bzImage around would triple the VMM's own memory. */
static int run_vm(const struct run_opts *o, struct kvm *kvm, uint8_t *kernel, size_t klen,
		  uint8_t *initrd, size_t ilen, struct snap_reader *restore, int micro)
{
	struct run_ctx *ctx = calloc(1, sizeof(*ctx));
	struct device_env env;
	sigset_t sigs;
	int r, status = 1;

	if (!ctx)
		die("out of memory");
	ctx->sig_fd = -1;
	ctx->restore = restore;
	r = vm_create(&ctx->vm, kvm, o->mem_size, (int)o->cpus);
	if (r < 0)
		goto out;
	r = restore ? 0 : load_guest(&ctx->vm, o, kernel, klen, initrd, ilen);
	free(kernel);
	free(initrd);
	kernel = initrd = NULL;
	if (r < 0)
		goto destroy;
	r = console_open(&ctx->con, o->console);
	if (r < 0)
		goto destroy;
	r = loop_init(&ctx->loop);
	if (r < 0)
		goto console;
	env = (struct device_env){ .console_out_fd = ctx->con.out_fd,
				   .console_space_fd = ctx->con.space_fd,
				   .micro = micro,
				   .loop = &ctx->loop,
				   .disks = o->disks, .ndisks = o->ndisks,
				   .nets = o->nets, .nnets = o->nnets };
	r = devices_init(&ctx->devs, &ctx->vm, &env);
	if (r < 0)
		goto loop_only;
	if (restore) {
		restore->on_postcopy = postcopy_prepare;
		restore->on_postcopy_arg = ctx;
		r = snapshot_load(restore, &ctx->vm, &ctx->devs);
		if (r < 0)
			goto loop;
		if (ctx->postcopy) {
			char at[80] = "";
			uint64_t n;

			/* Each is a round trip inside the downtime; the source
			 * sends the pages KVM touches ahead, so 0 is the rule. */
			pthread_mutex_lock(&ctx->pc.lock);
			n = ctx->pc.load_faults;
			for (uint64_t i = 0, o = 0; i < n && i < 4 && o < sizeof(at); i++)
				o += (uint64_t)snprintf(at + o, sizeof(at) - o, "%s0x%llx",
							i ? " " : " at ",
							(unsigned long long)ctx->pc.load_gpa[i]);
			pthread_mutex_unlock(&ctx->pc.lock);
			log_info("post-copy: %llu pages faulted on while the state loaded%s",
				 (unsigned long long)n, at);
		}
		if (o->incoming) {
			r = incoming_handshake(restore);
			if (r < 0)
				goto loop;
		} else {
			log_info("restored %s", o->restore);
		}
	}
	ctx->target = (struct api_target){ .vm = &ctx->vm, .ds = &ctx->devs,
		.cfg = { .mem_size = o->mem_size, .ncpus = (uint32_t)o->cpus, .micro = (uint32_t)micro,
			 .ndisks = (uint32_t)o->ndisks, .nnets = (uint32_t)o->nnets } };
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ctx->target.start_s = ts.tv_sec + ts.tv_nsec / 1e9;
	}
	if (o->api) {
		r = api_open(o->api, &ctx->loop, &ctx->target, &ctx->api);
		if (r < 0)
			goto loop;
	}
	ctx->con.rx = console_rx;
	ctx->con.dev = ctx->devs.console;
	ctx->con.quit = on_console_quit;
	ctx->con.quit_arg = &ctx->vm;

	/* Signals reach the loop through a signalfd; vCPU threads block them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	ctx->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ctx->sig_fd >= 0)
		r = loop_add(&ctx->loop, ctx->sig_fd, EPOLLIN, on_signal, ctx);
	if (r == 0)
		r = loop_add(&ctx->loop, ctx->vm.stop_fd, EPOLLIN, on_stop, ctx);
	if (r == 0)
		r = console_attach(&ctx->con, &ctx->loop);
	if (r == 0)
		r = vm_start(&ctx->vm);
	if (r < 0)
		goto loop;
	if (o->incoming)
		incoming_running(restore);
	if (restore)
		devices_arrived(&ctx->devs);
	if (ctx->postcopy) {
		/* The guest waits for its pages: they come first (vcpu_prio.h). */
		if (vcpu_prio_lower(&ctx->vm, (int)o->pc_nice)) {
			ctx->pc.on_complete = postcopy_done;
			ctx->pc.on_complete_arg = &ctx->vm;
			log_info("post-copy: vCPUs run at nice +%ld until the last page is here",
				 o->pc_nice);
		} else if (o->pc_nice) {
			log_info("post-copy: vCPUs keep their priority (lowering it needs the right "
				 "to raise it again: CAP_SYS_NICE or RLIMIT_NICE)");
		}
		r = pc_dst_start_bulk(&ctx->pc);
		if (r == 0)
			r = pc_dst_start_recovery(&ctx->pc);
		if (r < 0)
			vm_request_stop(&ctx->vm, VM_STOP_ERROR, 1, "%s", err_msg());
	}
	r = loop_run(&ctx->loop);
	if (r < 0)
		vm_request_stop(&ctx->vm, VM_STOP_ERROR, 1, "%s", err_msg());
	/* Before joining: a vCPU may wait in a fault only post-copy serves. */
	if (ctx->postcopy)
		pc_dst_finish(&ctx->pc);
	ctx->postcopy = 0;
	vm_join(&ctx->vm);
	status = vm_exit_status(&ctx->vm);
	console_close(&ctx->con);
	if (ctx->vm.stop_reason == VM_STOP_ERROR)
		fprintf(stderr, "vmm: error: %s\n", ctx->vm.stop_msg);
	else
		log_info("%s", ctx->vm.stop_msg);
	r = 0;
loop:
	if (ctx->postcopy)
		pc_dst_finish(&ctx->pc);
	api_close(ctx->api);
	if (ctx->sig_fd >= 0)
		close(ctx->sig_fd);
	devices_free(&ctx->devs);
loop_only:
	loop_free(&ctx->loop);
console:
	console_close(&ctx->con);
destroy:
	vm_destroy(&ctx->vm);
out:
	free(kernel);
	free(initrd);
	free(ctx);
	if (r < 0)
		die("%s", err_msg());
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct kvm kvm;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	struct snap_reader reader;
	int status, micro;

	if (run_parse(argc, argv, &o) < 0) {
		fprintf(stderr, "vmm: error: %s\n", err_msg());
		return 2;
	}
	if (o.help) {
		fputs(run_help, stdout);
		return 0;
	}
	micro = o.micro != NULL;
	log_quiet = o.quiet;
	if (o.restore) {
		struct snap_config cfg;

		if (o.incoming) {
			int lfd = tcp_listen(o.incoming), fd;

			if (lfd < 0)
				die("%s", err_msg());
			log_info("waiting for a migrating VM on %s", o.incoming);
			fd = tcp_accept(lfd, 3600 * 1000);
			/* A source that sends nothing for a minute is gone. */
			if (fd >= 0)
				tcp_set_timeouts(fd, 15000, 60000);
			if (fd < 0 || snapshot_open_fd(&reader, fd, "incoming migration", &cfg) < 0)
				die("%s", err_msg());
			reader.listen_fd = lfd;	/* post-copy's urgent channel comes here */
			reader.incoming = 1;
		} else if (snapshot_open(&reader, o.restore, &cfg) < 0) {
			die("%s", err_msg());
		}
		if ((int)cfg.ndisks != o.ndisks || (int)cfg.nnets != o.nnets)
			die("%s was saved with %u disk(s) and %u network(s); give the same --disk "
			    "and --net options", o.restore, cfg.ndisks, cfg.nnets);
		o.mem_size = cfg.mem_size;
		o.cpus = cfg.ncpus;
		micro = (int)cfg.micro;
	}
	if (mem_check_size(o.mem_size) < 0)
		die("--memory: %s", err_msg());
	/* Read and check the images before touching KVM: a bad file is the
	 * user's first problem to hear about. */
	if (!o.restore && opt_read_file(o.kernel ? o.kernel : o.micro,
					o.kernel ? MAX_KERNEL : 1u << 20, &kernel, &klen) < 0)
		die("%s", err_msg());
	if (o.kernel && linux_check_image(kernel, klen, NULL) < 0)
		die("%s: %s", o.kernel, err_msg());
	if (o.initrd && opt_read_file(o.initrd, MAX_INITRD, &initrd, &ilen) < 0)
		die("%s", err_msg());
	if (kvm_open(&kvm, o.kvm_path) < 0)
		die("%s", err_msg());
	if (kvm.kind == KVM_KIND_PVM && (o.kernel || (o.restore && !micro)))
		die("%s is PVM (kvm_pvm), which runs only PVM-aware guest kernels; an "
		    "unmodified Linux kernel would die with a KVM internal error. Run micro "
		    "guests here (--micro), or Linux on a host with Intel VT-x or AMD-V.",
		    o.kvm_path);
	log_info("KVM: %s, %ld vCPU(s), %llu MiB", kvm_kind_name(kvm.kind), o.cpus,
		 (unsigned long long)(o.mem_size >> 20));
	status = run_vm(&o, &kvm, kernel, klen, initrd, ilen, o.restore ? &reader : NULL, micro);
	if (o.restore)
		snapshot_close(&reader);
	kvm_close(&kvm);
	for (int i = 0; i < o.ndisks; i++)
		free((char *)o.disks[i].path);
	return status;
}

/* `vmm receive --listen ADDR:PORT [run options]`: run with --incoming. */
int cmd_receive(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 2, sizeof(char *));
	int n = 0, have = 0;

	if (!args)
		die("out of memory");
	args[n++] = "run";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: vmm receive --listen ADDR:PORT [--api PATH] [--disk ...] [--net ...]\n"
			       "                    [--postcopy-vcpu-nice N]\n"
			       "\nWait for one VM migrating in from `vmm migrate` and run it. Memory\n"
			       "and vCPUs come from the source; give the same number of --disk and\n"
			       "--net options as the source has. ADDR is an IPv4 address.\n"
			       "\n  --postcopy-vcpu-nice N  in a post-copy, run the vCPUs N nice levels\n"
			       "                         below the threads that bring their pages in,\n"
			       "                         until the last page is here (0-19, default %d;\n"
			       "                         0 = off); it only matters on a busy host\n",
			       POSTCOPY_VCPU_NICE);
			free(args);
			return 0;
		}
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			args[n++] = "--incoming";
			args[n++] = argv[++i];
			have = 1;
		} else {
			args[n++] = argv[i];
		}
	}
	if (!have) {
		free(args);
		fprintf(stderr, "vmm: error: receive needs --listen ADDR:PORT\n");
		return 2;
	}
	n = cmd_run(n, args);
	free(args);
	return n;
}

/* `vmm migrate --api PATH --to ADDR:PORT [--strategy stop-copy] [--json]`: the
 * control API's migrate command, through the ctl client. */
