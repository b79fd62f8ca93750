# Runs inside the lab for `make demo`: a micro guest on the direct tier, then
# the Debian guest with 2 vCPUs running the self-checking dirtier, then
# poweroff. Each step says what it shows.
step() { echo; echo "### $*"; }
cd /tmp
step "micro guest: 64-bit entry, port I/O, exit code (expect 'hello' and status 7)"
vmm run --micro /micro/hello.bin --micro-arg 7 --memory 16M
echo "status: $?"
step "micro dirtier: 3 self-checked passes over 62 MiB"
vmm run -q --micro /micro/dirtier.bin --micro-arg 3 --memory 64M | tail -2
step "Debian cloud kernel, 2 vCPUs, 512 MiB, dirtier on 64 MiB for 6 s, then poweroff"
start=$(date +%s)
{
	vmm run --kernel /guest/bzImage --initrd /guest/initrd --cpus 2 --memory 512M \
		--cmdline "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=64 dirty_secs=6 verify_s=2"
	echo "status: $? (the VMM exits 0 when the guest powers off)"
} 2>&1 | grep -a -E 'READY|VERIFY|HB [0-9]*[05] |DIRTIER|vmm:|status:'
echo "$(( $(date +%s) - start )) s in the lab"

step "live migration: the dirtier guest moves A -> B -> A -> B -> A, one strategy each time"
sh /lab/hosts-lab.sh up
ip() { /usr/sbin/ip "$@"; }
ip netns exec hostA vmm run --kernel /guest/bzImage --initrd /guest/initrd --cpus 2 --memory 256M \
	--api /tmp/m0.sock --cmdline "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=32 verify_s=2" \
	> /tmp/m0.out 2>&1 &
i=0; while ! grep -q 'VERIFY OK' /tmp/m0.out 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done
echo "on host A: $(grep -a -m1 READY /tmp/m0.out)"
printf '%-10s %-8s %12s %10s %10s  %s\n' strategy "to" "downtime ms" "total ms" "MiB sent" "guest after the move"
n=0
for strategy in stop-copy precopy postcopy hybrid; do
	n=$((n + 1))
	if [ $((n % 2)) = 1 ]; then host=hostB addr=10.9.0.2; else host=hostA addr=10.9.0.1; fi
	ip netns exec $host vmm receive --listen $addr:$((7000 + n)) --api /tmp/m$n.sock > /tmp/m$n.out 2>&1 &
	i=0; while ! grep -q waiting /tmp/m$n.out 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	j=$(vmm migrate --api /tmp/m$((n - 1)).sock --to $addr:$((7000 + n)) --strategy $strategy --json)
	i=0; while ! grep -q 'VERIFY' /tmp/m$n.out 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done
	num() { echo "$j" | grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }
	printf '%-10s %-8s %12.1f %10.0f %10.1f  %s\n' $strategy $host "$(num downtime_ms)" "$(num total_ms)" \
		"$(awk -v b="$(num bytes_sent)" 'BEGIN {print b / 1048576}')" \
		"$(grep -a -m1 -o 'VERIFY [A-Z]*' /tmp/m$n.out)"
done
vmm ctl --api /tmp/m$n.sock quit > /dev/null
wait
sh /lab/hosts-lab.sh down
