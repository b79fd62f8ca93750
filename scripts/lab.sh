#!/usr/bin/env bash
# The lab: a Linux host with real KVM (kvm_amd) for the tests that need one,
# made from QEMU TCG with an emulated AMD CPU with SVM. Builds an initramfs with
# busybox, the KVM modules, the static VMM, the test guests, the integration
# test binary and SCRIPT, boots it, and returns SCRIPT's output and exit status.
# A watchdog ends a lab that hangs with a clear message (exit 124).
#
#   scripts/lab.sh [--timeout SECONDS] [--build DIR] [--mem MiB] [--with-qemu]
#                  [--with-perf] SCRIPT [ARGS...]
#
# --with-qemu also puts qemu-system-x86_64 (with its libraries, firmware under
# /qemu) into the lab, as the peer we measure against; --with-perf puts this
# host's perf there (package linux-perf), for profiles of the lab host.
# SCRIPT runs as /lab/script inside the lab with ARGS; the lab's files:
#   /bin/vmm  /guest/bzImage  /guest/initrd  /micro/*.bin  /bin/integration-tests
set -euo pipefail

timeout_s=600 B=build mem=3072 with_qemu=0 with_perf=0
while [ $# -gt 0 ]; do
	case "$1" in
	--with-qemu) with_qemu=1; shift ;;
	--with-perf) with_perf=1; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--build) B=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: scripts/lab.sh [--timeout S] SCRIPT [ARGS...]" >&2; exit 2; }
script=$1; shift
[ -f "$script" ] || { echo "lab: no script $script" >&2; exit 2; }
kver=$(cat "$B/guest/kernel-version" 2>/dev/null) || {
	echo "lab: no guest kernel in $B/guest: run 'make guest' first" >&2; exit 2; }
kdir=$B/cache/kernel
command -v qemu-system-x86_64 >/dev/null || {
	echo "lab: qemu-system-x86_64 is missing: run scripts/setup.sh" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lab.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lab,guest,micro,lib/modules,run,var}
cp /bin/busybox "$root/bin/"
for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko \
	 drivers/net/tun.ko drivers/net/veth.ko net/llc/llc.ko net/802/stp.ko net/bridge/bridge.ko \
	 net/sched/sch_tbf.ko; do
	[ -f "$kdir/lib/modules/$kver/kernel/$m" ] && cp "$kdir/lib/modules/$kver/kernel/$m" "$root/lib/modules/"
done
cp "$B/vmm.static" "$root/bin/vmm"
cp "$B/guest/bzImage" "$B/guest/initrd" "$root/guest/"
cp "$B"/micro/*.bin "$root/micro/" 2>/dev/null || true
[ -f "$B/integration-tests" ] && cp "$B/integration-tests" "$root/bin/"
for t in boottime tcpcopy pagecopy qmp udpprobe; do [ -f "$B/$t" ] && cp "$B/$t" "$root/bin/"; done
# copy_dynamic BINARY NAME: a dynamically linked program and its libraries.
copy_dynamic() {
	cp "$1" "$root/bin/$2"
	for lib in $(ldd "$1" | awk '/=>/ {print $3} /^\t\/lib64/ {print $1}'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
# iproute2's ip (busybox's cannot handle network namespaces), first in PATH.
mkdir -p "$root/usr/sbin"
copy_dynamic "$(command -v ip)" ../usr/sbin/ip
# bridge, to read the LAN switch's forwarding table (docs/results/gap-timeline).
command -v bridge > /dev/null && copy_dynamic "$(command -v bridge)" ../usr/sbin/bridge
# tc, to shape the link between the hosts (tbf) in the benchmarks.
command -v tc > /dev/null && copy_dynamic "$(command -v tc)" ../usr/sbin/tc
# The sanitizer build of the VMM, when there is one, as /bin/vmm-asan.
[ -x build/asan/vmm ] && copy_dynamic build/asan/vmm vmm-asan
if [ "$with_perf" = 1 ]; then
	command -v perf > /dev/null || {
		echo "lab: --with-perf needs perf on this host (apt-get install linux-perf)" >&2; exit 2; }
	copy_dynamic "$(command -v perf)" perf
fi
if [ "$with_qemu" = 1 ]; then
	mkdir -p "$root/qemu"
	copy_dynamic /usr/bin/qemu-system-x86_64 qemu-system-x86_64
	for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin \
		 /usr/share/qemu/linuxboot.bin /usr/share/qemu/kvmvapic.bin /usr/share/qemu/pvh.bin \
		 /usr/share/qemu/qboot.rom; do
		cp -L "$f" "$root/qemu/"
	done
	cp -L /usr/share/qemu/qboot.rom "$root/qemu/bios-microvm.bin"
fi
cp "$script" "$root/lab/script"
cp tests/integration/*.sh "$root/lab/"	# helpers the tests call
chmod +x "$root/lab/script"
printf '%q ' "$@" > "$root/lab/args"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin HOME=/tmp
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /tmp; mount -t tmpfs tmpfs /run
mkdir -p /dev/pts; mount -t devpts -o ptmxmode=0666 devpts /dev/pts
ip link set lo up
for m in irqbypass kvm kvm-amd tun veth llc stp bridge sch_tbf; do
	[ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
dmesg -n 1	# the lab kernel's own messages would interleave with the tests' output
if [ -c /dev/kvm ]; then echo "LAB-KVM ok"; else echo "LAB-KVM missing"; fi
cd /lab
eval "set -- $(cat /lab/args)"
sh /lab/script "$@"
echo "LAB-EXIT $?"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/lab.cpio"

out=$work/out
set +e
timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -M q35 -cpu EPYC,+svm -smp 1 \
	-m "$mem" -nographic -no-reboot -monitor none -serial stdio \
	-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$work/lab.cpio" \
	-append "console=ttyS0 quiet panic=-1" < /dev/null 2>&1 | tee "$out" |
	grep -av -e '^LAB-EXIT' -e 'SeaBIOS' -e 'iPXE' -e 'Booting from' -e '^$'
qrc=${PIPESTATUS[0]}
set -e
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "lab: watchdog: no result after ${timeout_s}s (the lab host froze or a test hung)" >&2
	exit 124
fi
rc=$(tr -d '\r' < "$out" | awk '/^LAB-EXIT / {print $2}' | tail -n1)
if [ -z "$rc" ]; then
	echo "lab: the lab host stopped without a result (qemu exit $qrc)" >&2
	exit 125
fi
exit "$rc"
