# Runs inside the lab (scripts/bench-boot.sh): boot the same guest N times
# with our VMM and with QEMU (pc and microvm), same kernel, initrd, memory and
# command line, and print one result line per boot.
runs=${1:-5}
mem_mib=256
ram=$((mem_mib * 1048576))
cmdline="console=ttyS0 panic=-1 quiet workload=poweroff"
k=/guest/bzImage i=/guest/initrd
cd /tmp
for n in $(seq 1 "$runs"); do
	echo "RESULT vmm $n $(boottime $ram vmm run -q --kernel $k --initrd $i --memory ${mem_mib}M --cmdline "$cmdline")"
	echo "RESULT qemu-pc $n $(boottime $ram qemu-system-x86_64 -L /qemu -enable-kvm -cpu host -M pc \
		-m $mem_mib -smp 1 -nodefaults -nographic -no-reboot -serial stdio \
		-kernel $k -initrd $i -append "$cmdline")"
	echo "RESULT qemu-microvm $n $(boottime $ram qemu-system-x86_64 -L /qemu -enable-kvm -cpu host \
		-M microvm -m $mem_mib -smp 1 -nodefaults -nographic -no-reboot -serial stdio \
		-kernel $k -initrd $i -append "$cmdline")"
done
