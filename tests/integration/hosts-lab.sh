# hosts-lab.sh up|down: two test "hosts" inside the lab, network namespaces
# hostA (10.9.0.1/24) and hostB (10.9.0.2/24) joined by a veth pair.
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
