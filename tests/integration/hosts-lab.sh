# hosts-lab.sh up|down: two test "hosts" inside the lab, network namespaces
# hostA (10.9.0.1/24) and hostB (10.9.0.2/24) joined by a veth pair, each
# with a tap0 (10.10.0.1/24) for a guest's virtio-net.
set -e
[ -x /usr/sbin/ip ] && ip() { /usr/sbin/ip "$@"; }
case "$1" in
up)
	ip netns add hostA
	ip netns add hostB
	ip -n hostA link set lo up
	ip -n hostB link set lo up
	ip -n hostA link add vethA type veth peer name vethB netns hostB
	ip -n hostA addr add 10.9.0.1/24 dev vethA
	ip -n hostB addr add 10.9.0.2/24 dev vethB
	ip -n hostA link set vethA up
	ip -n hostB link set vethB up
	# Each host has a tap0 for a guest NIC: 10.10.0.1/24 with the same MAC
	# on both, like the gateway a migrated VM finds on its new host.
	for h in hostA hostB; do
		ip -n $h tuntap add dev tap0 mode tap
		ip -n $h link set tap0 address 02:00:0a:0a:00:01
		ip -n $h addr add 10.10.0.1/24 dev tap0
		ip -n $h link set tap0 up
	done
	;;
down)
	ip netns del hostA 2>/dev/null || true
	ip netns del hostB 2>/dev/null || true
	;;
*)
	echo "usage: hosts-lab.sh up|down" >&2
	exit 2
	;;
esac
