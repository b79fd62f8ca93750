# hosts-lab.sh up|down: two test "hosts" inside the lab, network namespaces
# hostA (10.9.0.1/24) and hostB (10.9.0.2/24) joined by a veth pair, each
# with a tap0 (10.10.0.1/24) for a guest's virtio-net; and a LAN the guest
# can move along: each host's tap1 (no address) is bridged (br1) through an
# uplink veth onto a switch (namespace lan, bridge br0), where namespace
# client (10.20.0.100/24) sits too. A guest on tap1 with 10.20.0.2/24 is
# reachable from client on whichever host it runs, once the switch has
# learnt where its MAC is (the destination VMM announces it).
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
	ip netns add lan
	ip netns add client
	ip -n lan link add br0 type bridge
	ip -n lan link set br0 up
	for h in hostA hostB client; do
		ip -n $h link add up0 type veth peer name $h netns lan
		ip -n lan link set $h master br0
		ip -n lan link set $h up
	done
	for h in hostA hostB; do
		ip -n $h link add br1 type bridge
		ip -n $h tuntap add dev tap1 mode tap
		ip -n $h link set tap1 master br1
		ip -n $h link set up0 master br1
		ip -n $h link set tap1 up
		ip -n $h link set up0 up
		ip -n $h link set br1 up
	done
	ip -n client link set lo up
	ip -n client addr add 10.20.0.100/24 dev up0
	ip -n client link set up0 up
	;;
down)
	for n in hostA hostB lan client; do ip netns del $n 2>/dev/null || true; done
	;;
*)
	echo "usage: hosts-lab.sh up|down" >&2
	exit 2
	;;
esac
