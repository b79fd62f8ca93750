# Runs inside the lab (scripts/bench-io.sh): the iobench workload on our VMM and
# on QEMU (virtio-blk-pci on the same kind of raw image, virtio-net-pci on the
# same tap, vhost off), RUNS times each. One "RESULT who run name MiB/s" line
# per figure.
runs=${1:-3} io_mib=${2:-64} net_mib=${3:-64}
ip() { /usr/sbin/ip "$@"; }
sh /lab/net-lab.sh down; sh /lab/net-lab.sh up || exit 1
cmdline="console=ttyS0 panic=-1 quiet workload=iobench io_mib=$io_mib net_mib=$net_mib"
k=/guest/bzImage i=/guest/initrd
peer() {	# the peer's side of one run: sink on 5003, source on 5004
	ip netns exec peer sh -c 'sleep 600 | nc -l -p 5003 > /dev/null' &
	ip netns exec peer sh -c "dd if=/dev/zero bs=1M count=$net_mib 2>/dev/null | nc -l -p 5004" &
	sleep 0.3
}
for n in $(seq 1 "$runs"); do
	for who in vmm qemu; do
		rm -f /tmp/io.img; dd if=/dev/zero of=/tmp/io.img bs=1M count=$((io_mib * 2)) 2>/dev/null
		peer
		if [ $who = vmm ]; then
			ip netns exec vmhost vmm run -q --kernel $k --initrd $i --memory 512M \
				--disk /tmp/io.img --net tap=tap0 --cmdline "$cmdline" > /tmp/io.out 2>&1
		else
			ip netns exec vmhost qemu-system-x86_64 -L /qemu -enable-kvm -cpu host -M pc \
				-m 512 -smp 1 -nodefaults -nographic -no-reboot -serial stdio \
				-kernel $k -initrd $i -append "$cmdline" \
				-drive file=/tmp/io.img,format=raw,if=none,id=d0 \
				-device virtio-blk-pci,drive=d0 \
				-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
				-device virtio-net-pci,netdev=n0,romfile= > /tmp/io.out 2>&1
		fi
		tr -d '\r' < /tmp/io.out | awk -v w=$who -v n=$n '$1 == "IO" {print "RESULT", w, n, $2, $3}'
		pkill -f 'nc -l -p 500' 2>/dev/null; pkill -f 'sleep 600' 2>/dev/null
	done
done
sh /lab/net-lab.sh down
