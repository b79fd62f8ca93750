# net-lab.sh up|down: the test network inside the lab. Namespace "vmhost"
# (where the VMM runs) holds tap0 bridged to veth0; its other end, veth1, is
# in namespace "peer" with 10.0.0.1/24. The guest takes 10.0.0.2/24.
set -e
# busybox sh runs its own applets before PATH: name iproute2's ip explicitly.
[ -x /usr/sbin/ip ] && ip() { /usr/sbin/ip "$@"; }
case "$1" in
up)
	ip netns add vmhost
	ip netns add peer
	ip -n vmhost link set lo up
	ip -n peer link set lo up
	ip -n vmhost tuntap add dev tap0 mode tap
	ip -n vmhost link add br0 type bridge
	ip -n vmhost link add veth0 type veth peer name veth1 netns peer
	ip -n vmhost link set tap0 master br0
	ip -n vmhost link set veth0 master br0
	for l in br0 tap0 veth0; do ip -n vmhost link set "$l" up; done
	ip -n peer addr add 10.0.0.1/24 dev veth1
	ip -n peer link set veth1 up
	;;
down)
	ip netns del vmhost 2>/dev/null || true
	ip netns del peer 2>/dev/null || true
	;;
*)
	echo "usage: net-lab.sh up|down" >&2
	exit 2
	;;
esac
