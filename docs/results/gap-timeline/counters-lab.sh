# the taps' and uplinks' packet counters on both hosts around a pre-copy migration, beside the probe.
# Run: scripts/lab.sh --timeout 900 docs/results/gap-timeline/counters-lab.sh
ip() { /usr/sbin/ip "$@"; }
sh /lab/hosts-lab.sh up >/dev/null
cd /tmp
port=7600
k=/guest/bzImage i=/guest/initrd
wait_for() { _w=0; while ! grep -q "$2" "$1" 2>/dev/null; do _w=$((_w + 1)); [ $_w -gt $(($3 * 10)) ] && return 1; sleep 0.1; done; }
cmdline="console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=256 dirty_rate=0 verify_s=2 heartbeat_ms=1000 net_ip=10.20.0.2/24 net_echo=7"
stats() { for h in hostA hostB; do for d in tap1 up0; do echo "CNT $1 $h $d $(ip -n $h -s link show $d | tr -s ' \n' ' ' | sed 's/.*RX: bytes packets errors dropped[^0-9]*//')"; done; done; }
for n in 1 2; do
	port=$((port + 1))
	rm -f /tmp/a.log /tmp/b.log
	ip netns exec hostA vmm run --kernel $k --initrd $i --memory 512M --api /tmp/a.sock --net tap=tap1 --cmdline "$cmdline" > /tmp/a.log 2>&1 &
	wait_for /tmp/a.log "VERIFY OK" 240 || { echo "no VERIFY"; continue; }
	ip netns exec hostB vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock --net tap=tap1 > /tmp/b.log 2>&1 &
	wait_for /tmp/b.log waiting 30
	ip netns exec client udpprobe 10.20.0.2:7 900 5000 > /tmp/probe.out 2>&1 &
	probepid=$!
	sleep 2
	stats before
	echo "RESULT $n $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --strategy precopy --json)"
	wait_for /tmp/b.log "runs here" 30
	sleep 3
	killall -INT udpprobe; wait $probepid 2>/dev/null
	stats after
	echo "PROBE $n $(head -1 /tmp/probe.out)"
	vmm ctl --api /tmp/b.sock quit >/dev/null
	wait
done
sh /lab/hosts-lab.sh down
