# Runs inside the lab (scripts/bench-migrate.sh): migration between two
# namespace hosts (hostA -> hostB over a veth), printing one RESULT line per
# run:  RESULT <case> <run> <json from vmm migrate --json or tools/qmp>
#   tcp                       plain TCP copy of 1 GiB from and into one hot
#                             1 MiB buffer (the link's ceiling)
#   tcp-mem                   the same from 1 GiB of memory into 1 GiB of
#                             memory, both resident before the clock
#   micro-idle-<strategy>     idle 1 GiB micro guest, 64 MiB of it written
#   micro-full-raw            1 GiB micro guest, ~1 GiB written, stop-copy,
#                             no compression: the engine's throughput
#   micro-dirty-<strategy>    the micro dirtier, 256 MiB, rewriting every page
#                             flat out: stop-copy, postcopy, and precopy and
#                             hybrid capped at 100 MiB/s, raw (LZ4 would
#                             shrink its pages 9x and let pre-copy converge)
#   linux-<link>-<wss>-<rate>-<strategy>-<vmm>  Debian guest, 512 MiB, the
#                             dirtier over <wss> MiB at <rate> MB/s (0 = flat
#                             out), the hosts' link shaped to <link> Mbit/s
#                             with tc tbf (0 = unshaped); ours (vmm) and
#                             QEMU's (qemu), same lab, same guest
# a CHECK line per Linux run (did the guest pass VERIFY on hostB?) and a
# PROBE line: udpprobe's view from namespace client of the guest's UDP echo
# service on the LAN (tap1), asked every 5 ms across the migration.
runs=${1:-3}
rates=${2:-"5 0"}
links=${3:-"0"}
wsss=${4:-"256"}
only=${5:-}	# an extended regular expression: run only the cases it matches
migopts=${6:-}	# extra `vmm migrate` options for our Linux cases (e.g. --compress none)
part=${7:-all}	# engine: the TCP ceiling and the micro cases; linux: the rest; all
# Outside the lab (the direct tier: bench-migrate.sh runs the engine part on
# this host's /dev/kvm) HOSTS_SH and MICRO say where hosts-lab.sh and the
# micro guests are; vmm and tcpcopy come from PATH.
hosts_sh=${HOSTS_SH:-/lab/hosts-lab.sh} micro=${MICRO:-/micro}
want() {
	case $part:$1 in
	engine:linux-*|linux:tcp*|linux:micro-*) return 1 ;;
	esac
	[ -z "$only" ] || echo "$1" | grep -qE "$only"
}
# By full path: the lab's busybox shell runs its own applets first, and
# busybox's ip and tc know neither -n nor tbf's options.
ip() { /usr/sbin/ip "$@"; }
tc() { /usr/sbin/tc "$@"; }
sh "$hosts_sh" down 2>/dev/null
sh "$hosts_sh" up >/dev/null
cd /tmp
port=7600
k=/guest/bzImage i=/guest/initrd

. "$(dirname "$hosts_sh")/wait-for.sh"	# wait_for FILE TEXT SECONDS

# The TCP baselines, one run each: the ceiling (one stream, one hot 1 MiB
# buffer each side) and memory to memory (1 GiB of distinct memory sent,
# received into 1 GiB of distinct memory, both resident before the clock:
# what a migration must at least do). Each run does them right before its
# full-GiB case, so that the ratio can be taken run by run.
tcp_case() {	# tcp_case CASE RUN [RECV-MIB SEND-MODE]
	want "$1" || return 0
	port=$((port + 1))
	ip netns exec hostB tcpcopy recv 10.9.0.2:$port $3 > /tmp/tcp.out &
	sleep 1
	ip netns exec hostA tcpcopy send 10.9.0.2:$port 1024 $4
	wait
	set -- "$1" "$2" $(cat /tmp/tcp.out)
	echo "RESULT $1 $2 {\"total_ms\":${5#ms=},\"bandwidth_mbps\":${6#mbit_s=}}"
}

# Our side of every case, micro or Linux: ours_start boots the guest on A
# and a receiver on B, ours_move migrates it and waits until B runs it (and
# post-copy, if any, completed), ours_stop quits B. /tmp/b.after collects
# what B's console printed after the hand-over.
ours_start() {	# ours_start CASE RUN READY SECS RECV-ARGS [vmm run args]: 1 if A never printed READY
	case=$1 run=$2 ready=$3 secs=$4 recvargs=$5; shift 5
	port=$((port + 1))
	rm -f /tmp/a.log /tmp/b.log
	ip netns exec hostA vmm run "$@" --api /tmp/a.sock > /tmp/a.log 2>&1 &
	if ! wait_for /tmp/a.log "$ready" "$secs"; then
		echo "RESULT $case $run {\"error\":\"no $ready\"}"
		vmm ctl --api /tmp/a.sock quit >/dev/null 2>&1; wait
		return 1
	fi
	ip netns exec hostB vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock $recvargs \
		> /tmp/b.log 2>&1 &
	wait_for /tmp/b.log waiting 30
}

ours_move() {	# ours_move STRATEGY [migrate options]: after ours_start
	strat=$1; shift
	echo "RESULT $case $run $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --strategy "$strat" --json "$@")"
	wait_for /tmp/b.log "runs here" 30
	grep -q "post-copy: the VM will run" /tmp/b.log && wait_for /tmp/b.log "post-copy complete" 120
	: > /tmp/b.after; tail -n 0 -f /tmp/b.log > /tmp/b.after & tailpid=$!
}

ours_stop() {	# also A, which still runs the guest if the migration failed
	kill $tailpid
	vmm ctl --api /tmp/b.sock quit >/dev/null 2>&1
	vmm ctl --api /tmp/a.sock quit >/dev/null 2>&1
	wait
}

# ours_micro GUEST MEM ARG STRATEGY CASE N [migrate options]: the micro
# guest GUEST (idle: ARG MiB filled; dirtier: ARG passes, 0 = for ever)
# moved from A to B. The dirtier checks every page on every pass: a CHECK
# line says whether it passed again on B.
ours_micro() {
	guest=$1 mem=$2 arg=$3 strat=$4; shift 4
	want "$1" || return 0
	ready="IDLE READY"
	[ "$guest" = dirtier ] && ready="PASS 1"
	ours_start "$1" "$2" "$ready" 120 "" --micro "$micro/$guest.bin" --micro-arg "$arg" \
		--memory "$mem" || return 0
	shift 2
	ours_move "$strat" "$@"
	if [ "$guest" = dirtier ]; then
		# a pass that ends on B after the hand-over (and after post-copy
		# completed): every page it visited there held what it wrote
		if wait_for /tmp/b.after "PASS" 60 && sleep 0.5 && ! grep -q FAIL /tmp/b.log; then
			echo "CHECK $case $run ok"
		else
			echo "CHECK $case $run FAILED"; tail -3 /tmp/b.log
		fi
	fi
	ours_stop
}

for n in $(seq 1 "$runs"); do
	tcp_case tcp "$n"
	tcp_case tcp-mem "$n" 1024 spread
	ours_micro idle 1G 1000 stop-copy micro-full-raw "$n" --compress none
	ours_micro idle 1G 64 precopy micro-idle-precopy "$n"
	ours_micro idle 1G 64 stop-copy micro-idle-stop-copy "$n"
	ours_micro idle 1G 64 postcopy micro-idle-postcopy "$n"
	# The dirtier rewriting its 256 MiB flat out: sent once (stop-copy),
	# paged in (post-copy), and on a link capped below its dirty rate,
	# where pre-copy cannot converge and hybrid must finish.
	ours_micro dirtier 256M 0 stop-copy micro-dirty-stop-copy "$n"
	ours_micro dirtier 256M 0 postcopy micro-dirty-postcopy "$n"
	ours_micro dirtier 256M 0 precopy micro-dirty-precopy-capped "$n" \
		--max-bandwidth 100M --max-iterations 5 --auto-converge off --compress none
	ours_micro dirtier 256M 0 hybrid micro-dirty-hybrid-capped "$n" \
		--max-bandwidth 100M --max-iterations 5 --auto-converge off --compress none
done

cmdline() { # cmdline RATE WSS
	echo "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=$2 dirty_rate=$1 verify_s=2 heartbeat_ms=1000 net_ip=10.20.0.2/24 net_echo=7"
}

probe_start() {
	# Every 5 ms: every 1 ms overloads the emulated guest (round trips of
	# hundreds of ms); on hardware, PROBE_US=1000.
	ip netns exec client udpprobe 10.20.0.2:7 900 "${PROBE_US:-5000}" > /tmp/probe.out 2>&1 &
	probepid=$!
	sleep 2
}

probe_end() {	# probe_end CASE RUN: a little after the guest checked, stop and report
	sleep 1
	killall -INT udpprobe	# not $probepid: `ip netns exec` may have forked
	wait $probepid 2>/dev/null
	echo "PROBE $1 $2 $(head -1 /tmp/probe.out)"
}

shape() {	# shape MBIT: the link between the hosts, both ways (0: unshaped)
	for h in A B; do
		tc -n host$h qdisc del dev veth$h root 2>/dev/null
		[ "$1" = 0 ] && continue
		if ! tc -n host$h qdisc add dev veth$h root tbf rate "${1}mbit" \
			burst 256kb latency 100ms; then
			# A RESULT line, so that the summary shows it; no cell runs unshaped
			# under a shaped name.
			echo "RESULT shape-$1 1 {\"error\":\"tc could not shape veth$h to $1 Mbit/s\"}"
			return 1
		fi
	done
}

check() {	# check LOG CASE RUN: the guest verifies on B after the move
	if wait_for "$1" "VERIFY OK" 90 && ! grep -q "VERIFY FAIL" "$1"; then
		echo "CHECK $2 $3 ok"
	else
		echo "CHECK $2 $3 FAILED"; tail -3 "$1"
	fi
}

ours_linux() {	# ours_linux RATE STRATEGY RUN
	c=linux-$pre-$1-$2-vmm
	want "$c" || return 0
	ours_start "$c" "$3" "VERIFY OK" 240 "--net tap=tap1" \
		--kernel $k --initrd $i --memory 512M --net tap=tap1 \
		--cmdline "$(cmdline "$1" "$wss")" || return 0
	probe_start
	ours_move "$2" $migopts
	check /tmp/b.after "$case" "$run"
	probe_end "$case" "$run"
	ours_stop
}

qemu_args() {	# the same machine on both sides, its NIC on the host's tap1
	echo "-L /qemu -enable-kvm -cpu host -M pc -m 512 -smp 1 -nodefaults -nographic -no-reboot" \
	     "-netdev tap,id=n0,ifname=tap1,script=no,downscript=no" \
	     "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,romfile="
}

qemu_linux() {	# qemu_linux RATE STRATEGY RUN
	case=linux-$pre-$1-$2-qemu
	want "$case" || return 0
	port=$((port + 1))
	caps="" after=""
	[ "$2" = postcopy ] && caps=postcopy-ram after=0
	rm -f /tmp/qa.log /tmp/qb.log /tmp/qa.sock /tmp/qb.sock
	ip netns exec hostA qemu-system-x86_64 $(qemu_args) -serial file:/tmp/qa.log \
		-qmp unix:/tmp/qa.sock,server=on,wait=off -kernel $k -initrd $i \
		-append "$(cmdline "$1" "$wss")" > /dev/null 2>&1 &
	wait_for /tmp/qa.log "VERIFY OK" 240 || { echo "RESULT $case $3 {\"error\":\"no VERIFY\"}"; qmp /tmp/qa.sock quit; wait; return; }
	ip netns exec hostB qemu-system-x86_64 $(qemu_args) -serial file:/tmp/qb.log \
		-qmp unix:/tmp/qb.sock,server=on,wait=off -kernel $k -initrd $i \
		-append "$(cmdline "$1" "$wss")" -incoming defer > /dev/null 2>&1 &
	_w=0; while [ ! -S /tmp/qb.sock ] && [ $_w -lt 300 ]; do sleep 0.1; _w=$((_w + 1)); done
	sleep 0.5
	ip netns exec hostB qmp /tmp/qb.sock incoming tcp:10.9.0.2:$port $caps
	sleep 0.5
	# QEMU's defaults otherwise (max-bandwidth, no auto-converge).
	probe_start
	echo "RESULT $case $3 $(qmp /tmp/qa.sock migrate tcp:10.9.0.2:$port 300 60 "$caps" $after)"
	check /tmp/qb.log "$case" "$3"
	probe_end "$case" "$3"
	qmp /tmp/qa.sock quit 2>/dev/null; qmp /tmp/qb.sock quit 2>/dev/null
	wait
}

[ "$part" = engine ] && links=""
for link in $links; do
	shape "$link" || continue
	for wss in $wsss; do
		pre=$link-$wss
		for rate in $rates; do
			for n in $(seq 1 "$runs"); do
				for s in precopy postcopy hybrid; do
					ours_linux "$rate" $s "$n"
				done
				for s in precopy postcopy; do
					qemu_linux "$rate" $s "$n"
				done
			done
		done
	done
done
shape 0
sh "$hosts_sh" down
