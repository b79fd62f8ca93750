# where does the pre-copy gap come from? the LAN switch's forwarding table polled beside the probe.
# Run: scripts/lab.sh --timeout 900 docs/results/gap-timeline/fdb-poll-lab.sh
ip() { /usr/sbin/ip "$@"; }
sh /lab/hosts-lab.sh up >/dev/null
cd /tmp
port=7600
k=/guest/bzImage i=/guest/initrd
wait_for() { _w=0; while ! grep -q "$2" "$1" 2>/dev/null; do _w=$((_w + 1)); [ $_w -gt $(($3 * 10)) ] && return 1; sleep 0.1; done; }
cmdline="console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=256 dirty_rate=0 verify_s=2 heartbeat_ms=1000 net_ip=10.20.0.2/24 net_echo=7"
for n in 1 2 3; do
	port=$((port + 1))
	rm -f /tmp/a.log /tmp/b.log
	ip netns exec hostA vmm run --kernel $k --initrd $i --memory 512M --api /tmp/a.sock --net tap=tap1 --cmdline "$cmdline" > /tmp/a.log 2>&1 &
	wait_for /tmp/a.log "VERIFY OK" 240 || { echo "no VERIFY"; continue; }
	ip netns exec hostB vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock --net tap=tap1 > /tmp/b.log 2>&1 &
	wait_for /tmp/b.log waiting 30
	ip netns exec client udpprobe 10.20.0.2:7 900 5000 > /tmp/probe.out 2>&1 &
	probepid=$!
	( while :; do echo "FDB $(cut -d' ' -f1 /proc/uptime) $(bridge -n lan fdb show br br0 2>/dev/null | grep -i 52:54:00:00:00:01 | cut -d' ' -f3)"; sleep 0.01; done ) > /tmp/fdb.log &
	fdbpid=$!
	sleep 2
	echo "RESULT $n $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --strategy precopy --json)"
	wait_for /tmp/b.log "runs here" 30
	sleep 3
	kill $fdbpid
	killall -INT udpprobe; wait $probepid 2>/dev/null
	echo "PROBE $n $(head -1 /tmp/probe.out)"
	uniq -f2 /tmp/fdb.log | head -20
	grep -i "announce\|runs here\|resum" /tmp/b.log | head -5
	vmm ctl --api /tmp/b.sock quit >/dev/null
	wait
done
sh /lab/hosts-lab.sh down
