# Runs inside the lab (scripts/lab.sh scripts/postcopy-load-lab.sh [N]):
# N post-copy migrations (default 4) of the Linux guest with the dirtier
# flat out over 256 MiB, hostA -> hostB, printing for each our downtime and
# where it went (downtime_parts_ms) and the destination's line about the
# pages it faulted on while loading the state (which should be none: the
# source sends the pages KVM touches ahead). The first migration in a lab is
# always slower: compare the others.
ip() { /usr/sbin/ip "$@"; }
n=${1:-4}
sh /lab/hosts-lab.sh up >/dev/null
cd /tmp
. /lab/wait-for.sh	# wait_for FILE TEXT SECONDS
status=0
for i in $(seq 1 "$n"); do
	port=$((7700 + i))
	rm -f /tmp/a.log /tmp/b.log
	ip netns exec hostA vmm run --kernel /guest/bzImage --initrd /guest/initrd --memory 512M \
		--api /tmp/a.sock --net tap=tap1 --cmdline "console=ttyS0 panic=-1 quiet \
workload=dirtier dirty_mib=256 dirty_rate=0 verify_s=2 heartbeat_ms=1000 net_ip=10.20.0.2/24" \
		> /tmp/a.log 2>&1 &
	if ! wait_for /tmp/a.log "VERIFY OK" 240; then
		echo "run $i: the guest did not verify on hostA"; status=1
		vmm ctl --api /tmp/a.sock quit >/dev/null; wait; continue
	fi
	ip netns exec hostB vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock \
		--net tap=tap1 > /tmp/b.log 2>&1 &
	wait_for /tmp/b.log waiting 30
	echo "run $i: $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --strategy postcopy \
		--json | grep -o '"downtime_ms":[0-9.]*\|"downtime_parts_ms":{[^}]*}' | tr '\n' ' ')"
	wait_for /tmp/b.log "post-copy complete" 120 || { echo "run $i: post-copy did not complete"; status=1; }
	echo "run $i: $(grep 'faulted on while the state loaded' /tmp/b.log)"
	vmm ctl --api /tmp/b.sock quit >/dev/null
	wait
done
sh /lab/hosts-lab.sh down
exit $status
