# Runs inside the lab (scripts/profile-migrate.sh): one migration of the Linux
# dirtier under perf, then the CPU share per thread and per symbol.
strategy=$1; shift
ip() { /usr/sbin/ip "$@"; }
k=/guest/bzImage i=/guest/initrd
. /lab/wait-for.sh
waited() {	# waited FILE TEXT SECONDS: wait_for, and say what was missing
	wait_for "$@" && return 0
	echo "profile-migrate: no '$2' in $1 within $3 s:"; tail -5 "$1"; return 1
}
sh /lab/hosts-lab.sh up > /dev/null || { echo "profile-migrate: cannot set up the hosts"; exit 1; }
cl="console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=256 dirty_rate=0 verify_s=2 heartbeat_ms=1000"
ip netns exec hostA vmm run --kernel $k --initrd $i --memory 512M --api /tmp/a.sock \
	--cmdline "$cl" > /tmp/a.log 2>&1 &
waited /tmp/a.log "VERIFY OK" 120 || exit 1
ip netns exec hostB vmm receive --listen 10.9.0.2:4444 --api /tmp/b.sock > /tmp/b.log 2>&1 &
waited /tmp/b.log waiting 30 || exit 1
perf record -e cpu-clock -F 2000 -a -g -o /tmp/perf.data > /tmp/perf.log 2>&1 &
perf_pid=$!
sleep 1
echo "migration: $(vmm migrate --api /tmp/a.sock --to 10.9.0.2:4444 --strategy "$strategy" --json "$@")"
kill -INT $perf_pid
wait $perf_pid
report() { perf report -i /tmp/perf.data --stdio --no-children -g none "$@" 2>/dev/null |
	grep -v '^#' | grep -v '^$'; }
echo "CPU share by thread (all samples of the lab host, from 1 s before the migration to its end):"
report --sort comm | head -12
echo "top symbols by thread:"
report --sort comm,dso,sym | head -40
waited /tmp/b.log "VERIFY OK" 60 && echo "the guest verified its memory on B"
vmm ctl --api /tmp/b.sock quit > /dev/null
vmm ctl --api /tmp/a.sock quit > /dev/null 2>&1
wait
