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

step "live migration, stop-and-copy: the dirtier guest moves from host A to host B"
sh /lab/hosts-lab.sh up
ip() { /usr/sbin/ip "$@"; }
ip netns exec hostB vmm receive --listen 10.9.0.2:7001 --api /tmp/b.sock > /tmp/b.out 2>&1 &
ip netns exec hostA vmm run --kernel /guest/bzImage --initrd /guest/initrd --cpus 2 --memory 256M \
	--api /tmp/a.sock --cmdline "console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=32 verify_s=2" \
	> /tmp/a.out 2>&1 &
i=0; while ! grep -q 'VERIFY OK' /tmp/a.out 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done
echo "on host A: $(grep -a -m1 READY /tmp/a.out)"
vmm migrate --api /tmp/a.sock --to 10.9.0.2:7001
sleep 6
echo "host A: $(tail -n1 /tmp/a.out)"
echo "host B: $(grep -a -E 'runs here|VERIFY' /tmp/b.out | tail -n2 | tr '\n' ' ')"
vmm ctl --api /tmp/b.sock quit > /dev/null
wait
sh /lab/hosts-lab.sh down
