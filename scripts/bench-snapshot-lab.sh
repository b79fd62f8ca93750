# Runs inside the lab (scripts/bench-snapshot.sh). Prints RESULT lines:
#   RESULT who guest save_ms restore_ms file_mib pages zero_pages
cd /tmp
ctl() { vmm ctl --api /tmp/bench.sock "$@"; }
field() { awk -v k="$1:" '$1 == k {print $2}'; }

# Ours, micro guest, 1 GiB, every page written once by the dirtier.
vmm run -q --micro /micro/dirtier.bin --memory 1G --api /tmp/bench.sock > /tmp/m.out 2>&1 &
i=0; while ! grep -q 'PASS 1' /tmp/m.out && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done
ctl snapshot path=/tmp/m.snap > /tmp/snap.out; ctl quit > /dev/null; wait
restore=$(BOOTTIME_MARKER=restored BOOTTIME_STOP=1 boottime 1073741824 vmm run --restore /tmp/m.snap |
	sed 's/.*ready_ms=\([0-9.]*\).*/\1/')
echo "RESULT vmm micro-1G $(field stunned_ms < /tmp/snap.out) $restore $(( $(wc -c < /tmp/m.snap) >> 20 )) $(field pages < /tmp/snap.out) $(field zero_pages < /tmp/snap.out)"
rm -f /tmp/m.snap

# Linux, 512 MiB, dirtier over 256 MiB: ours, then QEMU's migrate to a file.
cmdline="console=ttyS0 panic=-1 quiet workload=dirtier dirty_mib=256 dirty_rate=0 verify_s=0"
kernel=/guest/bzImage initrd=/guest/initrd
vmm run -q --kernel $kernel --initrd $initrd --memory 512M --api /tmp/bench.sock --cmdline "$cmdline" > /tmp/l.out 2>&1 &
i=0; while ! grep -q 'HB 2 ' /tmp/l.out && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done
ctl snapshot path=/tmp/l.snap > /tmp/snap.out; ctl quit > /dev/null; wait
restore=$(BOOTTIME_MARKER=restored BOOTTIME_STOP=1 boottime 536870912 vmm run --restore /tmp/l.snap |
	sed 's/.*ready_ms=\([0-9.]*\).*/\1/')
echo "RESULT vmm linux-512M $(field stunned_ms < /tmp/snap.out) $restore $(( $(wc -c < /tmp/l.snap) >> 20 )) $(field pages < /tmp/snap.out) $(field zero_pages < /tmp/snap.out)"
rm -f /tmp/l.snap

qemu-system-x86_64 -L /qemu -enable-kvm -cpu host -M pc -m 512 -smp 1 -nodefaults -nographic \
	-no-reboot -serial file:/tmp/q.out -monitor tcp:127.0.0.1:4444,server,nowait \
	-kernel $kernel -initrd $initrd -append "$cmdline" > /dev/null 2>&1 &
i=0; while ! grep -q 'HB 2 ' /tmp/q.out 2>/dev/null && [ $i -lt 600 ]; do sleep 0.2; i=$((i+1)); done
(echo stop; echo 'migrate "exec:cat > /tmp/q.snap"'; sleep 1) | nc 127.0.0.1 4444 > /dev/null
i=0; while [ $i -lt 600 ]; do
	(echo 'info migrate'; sleep 0.3) | nc 127.0.0.1 4444 > /tmp/qm.out
	grep -q 'Migration status: completed' /tmp/qm.out && break
	i=$((i+1))
done
qtotal=$(tr -d '\r' < /tmp/qm.out | awk '/^total time:/ {print $3}')
(echo quit; sleep 0.3) | nc 127.0.0.1 4444 > /dev/null; wait
echo "RESULT qemu linux-512M $qtotal - $(( $(wc -c < /tmp/q.snap) >> 20 )) - -"
rm -f /tmp/q.snap
