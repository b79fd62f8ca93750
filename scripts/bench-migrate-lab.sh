# Runs inside the lab (scripts/bench-migrate.sh): migration between two
# namespace hosts (hostA -> hostB over a veth), printing one RESULT line per
# run:  RESULT <case> <run> <json from vmm migrate --json or tools/qmp>
#   tcp                     plain TCP copy of 1 GiB (the ceiling)
#   micro-idle-<strategy>   idle 1 GiB micro guest, 64 MiB of it written
#   micro-full-raw          1 GiB micro guest, ~1 GiB written, stop-copy,
#                           no compression: the engine's throughput
#   linux-<rate>-<vmm>      Debian guest, 512 MiB, dirtier over 256 MiB at
#                           <rate> MB/s (0 = idle), pre-copy, ours and QEMU's
runs=${1:-3}
rates=${2:-"0 20 50"}
ip() { /usr/sbin/ip "$@"; }
sh /lab/hosts-lab.sh up >/dev/null
cd /tmp
port=7600
k=/guest/bzImage i=/guest/initrd

wait_for() {	# wait_for FILE TEXT SECONDS
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1)); [ $n -gt $(($3 * 10)) ] && return 1; sleep 0.1
	done
}

# 1. The ceiling: one TCP stream between the hosts.
for n in $(seq 1 "$runs"); do
	port=$((port + 1))
	ip netns exec hostB tcpcopy recv 10.9.0.2:$port > /tmp/tcp.out &
	sleep 0.3
	ip netns exec hostA tcpcopy send 10.9.0.2:$port 1024
	wait
	set -- $(cat /tmp/tcp.out)
	echo "RESULT tcp $n {\"total_ms\":${3#ms=},\"bandwidth_mbps\":${4#mbit_s=}}"
done

# our VMM: run_micro FILL_MIB STRATEGY CASE N [migrate options]
ours_micro() {
	fill=$1 strat=$2 case=$3 n=$4; shift 4
	port=$((port + 1))
	rm -f /tmp/a.log /tmp/b.log
	ip netns exec hostA vmm run --micro /micro/idle.bin --micro-arg "$fill" --memory 1G \
		--api /tmp/a.sock > /tmp/a.log 2>&1 &
	wait_for /tmp/a.log "IDLE READY" 60 || { echo "RESULT $case $n {\"error\":\"no READY\"}"; return; }
	ip netns exec hostB vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock > /tmp/b.log 2>&1 &
	wait_for /tmp/b.log waiting 30
	echo "RESULT $case $n $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --strategy "$strat" --json "$@")"
	wait_for /tmp/b.log "runs here" 30
	vmm ctl --api /tmp/b.sock quit >/dev/null
	wait
}

for n in $(seq 1 "$runs"); do
	ours_micro 64 precopy micro-idle-precopy "$n"
	ours_micro 64 stop-copy micro-idle-stop-copy "$n"
	ours_micro 1000 stop-copy micro-full-raw "$n" --compress none
done

cmdline() { # cmdline RATE
	if [ "$1" = 0 ]; then
		echo "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=256 dirty_rate=1 verify_s=2 heartbeat_ms=1000 dirty_secs=0"
	else
		echo "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=256 dirty_rate=$1 verify_s=2 heartbeat_ms=1000"
	fi
}

ours_linux() {	# ours_linux RATE N
	port=$((port + 1))
	rm -f /tmp/a.log /tmp/b.log
	ip netns exec hostA vmm run --kernel $k --initrd $i --memory 512M --api /tmp/a.sock \
		--cmdline "$(cmdline "$1")" > /tmp/a.log 2>&1 &
	wait_for /tmp/a.log "VERIFY OK" 240 || { echo "RESULT linux-$1-vmm $2 {\"error\":\"no VERIFY\"}"; return; }
	ip netns exec hostB vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock > /tmp/b.log 2>&1 &
	wait_for /tmp/b.log waiting 30
	echo "RESULT linux-$1-vmm $2 $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --json)"
	wait_for /tmp/b.log "runs here" 30
	# The guest must go on verifying on B.
	if wait_for /tmp/b.log "VERIFY OK" 60 && ! grep -q "VERIFY FAIL" /tmp/b.log; then
		echo "CHECK linux-$1-vmm $2 ok"
	else
		echo "CHECK linux-$1-vmm $2 FAILED"; tail -5 /tmp/b.log
	fi
	vmm ctl --api /tmp/b.sock quit >/dev/null
	wait
}

qemu_args() {	# the same machine on both sides
	echo "-L /qemu -enable-kvm -cpu host -M pc -m 512 -smp 1 -nodefaults -nographic -no-reboot"
}

qemu_linux() {	# qemu_linux RATE N
	port=$((port + 1))
	rm -f /tmp/qa.log /tmp/qb.log /tmp/qa.sock /tmp/qb.sock
	ip netns exec hostA qemu-system-x86_64 $(qemu_args) -serial file:/tmp/qa.log \
		-qmp unix:/tmp/qa.sock,server=on,wait=off -kernel $k -initrd $i \
		-append "$(cmdline "$1")" > /dev/null 2>&1 &
	wait_for /tmp/qa.log "VERIFY OK" 240 || { echo "RESULT linux-$1-qemu $2 {\"error\":\"no VERIFY\"}"; kill %1; wait; return; }
	ip netns exec hostB qemu-system-x86_64 $(qemu_args) -serial file:/tmp/qb.log \
		-qmp unix:/tmp/qb.sock,server=on,wait=off -kernel $k -initrd $i \
		-append "$(cmdline "$1")" -incoming tcp:10.9.0.2:$port > /dev/null 2>&1 &
	sleep 1
	echo "RESULT linux-$1-qemu $2 $(qmp /tmp/qa.sock migrate tcp:10.9.0.2:$port 300 90)"
	if wait_for /tmp/qb.log "VERIFY OK" 60 && ! grep -q "VERIFY FAIL" /tmp/qb.log; then
		echo "CHECK linux-$1-qemu $2 ok"
	else
		echo "CHECK linux-$1-qemu $2 no-verify-on-destination"
	fi
	qmp /tmp/qa.sock quit 2>/dev/null; qmp /tmp/qb.sock quit 2>/dev/null
	wait
}

for rate in $rates; do
	for n in $(seq 1 "$runs"); do
		ours_linux "$rate" "$n"
		qemu_linux "$rate" "$n"
	done
done
sh /lab/hosts-lab.sh down
