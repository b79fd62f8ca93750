#!/usr/bin/env bash
# Engine throughput, natively on this machine: the migration page path
# (tests/tools/pagecopy: page_writer -> checksummed PAGES sections -> TCP ->
# pages_load, every page checked at the end) against a plain TCP copy
# (tests/tools/tcpcopy), both between two network namespaces joined by a
# veth. No KVM: the page path does not need it, and this machine's /dev/kvm
# cannot run our guests, so this is the only native measurement of it (the
# lab's figure is under TCG emulation). Cases, each run all of them in a new
# random order, so that the host's changing state hits them all alike:
#   tcp-hot     tcpcopy: one hot 1 MiB buffer sent again and again (the link)
#   tcp-spread  tcpcopy: MIB MiB of distinct resident memory (the link + RAM)
#   tcp-mem     tcp-spread landing in MIB MiB of distinct resident memory on
#               the receiver too: memory to memory, the least a migration
#               must do (the receiver of the other two reads into one hot
#               1 MiB buffer)
#   pages-warm  pagecopy raw, receiver's memory resident before the clock;
#               pages copied into their section (a pre-copy round, VM running)
#   pages-stun  pages-warm with pages sent from RAM in place (the VM stunned:
#               stop-copy, the last round, post-copy's push)
#   pages-lz4   pages-warm with --compress lz4 on half-zero data
#   pages-idle  all zero pages never touched (an idle guest's RAM): found
#               from /proc/self/pagemap without reading them
#   pages-fresh pages-warm into untouched memory (what `vmm receive` does)
# Why "warm": this machine is itself a VM whose host takes back memory
# that has been free a while, and a transfer into such memory runs 2-4
# times slower whatever the code does (identical runs alternate slow and
# fast). pages-fresh shows that, with its spread; the warm cases compare
# the code. Prints median, min and max per case, the ratios of the medians,
# and the median of the ratios run by run (the fairer one: see paired()).
#
#   scripts/bench-engine.sh [BUILD_DIR] [RUNS] [MIB]     (make bench-engine)
set -euo pipefail
B=${1:-build} runs=${2:-5} mib=${3:-1024}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-engine: needs root (network namespaces)" >&2; exit 1; }
for t in tcpcopy pagecopy; do
	[ -x "$B/$t" ] || { echo "bench-engine: $B/$t is missing (make tools)" >&2; exit 1; }
done
A=vmmbenchA$$ Z=vmmbenchB$$ out=$(mktemp)
cleanup() {
	pkill -f "$B/(tcpcopy|pagecopy) recv 10.78.0.2" 2>/dev/null || true
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$Z" 2>/dev/null || true
	rm -f "$out" "$out.r"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$A"
ip netns add "$Z"
ip link add "vb$$a" type veth peer name "vb$$b"
ip link set "vb$$a" netns "$A"
ip link set "vb$$b" netns "$Z"
ip -n "$A" addr add 10.78.0.1/24 dev "vb$$a"
ip -n "$Z" addr add 10.78.0.2/24 dev "vb$$b"
for n in "$A" "$Z"; do ip -n "$n" link set lo up; done
ip -n "$A" link set "vb$$a" up
ip -n "$Z" link set "vb$$b" up
port=7700

# one CASE TOOL RECV-ARGS -- SEND-ARGS: one transfer; appends "CASE ms" to $out.
one() {
	local case=$1 tool=$2 line; shift 2
	local recv=() send=()
	while [ "$1" != -- ]; do recv+=("$1"); shift; done
	shift
	send=("$@")
	port=$((port + 1))
	ip netns exec "$Z" "$B/$tool" recv "10.78.0.2:$port" "${recv[@]}" > "$out.r" &
	local rpid=$!
	# the receiver is listening when its port shows up
	for _ in $(seq 100); do
		ip netns exec "$Z" ss -ltn 2>/dev/null | grep -q ":$port " && break
		sleep 0.05
	done
	if ! ip netns exec "$A" "$B/$tool" send "10.78.0.2:$port" "${send[@]}"; then
		kill "$rpid" 2>/dev/null || true
		wait "$rpid" 2>/dev/null || true
		echo "bench-engine: $case: the sender failed" >&2
		return 1
	fi
	if ! wait "$rpid"; then
		echo "bench-engine: $case: the receiver failed: $(cat "$out.r")" >&2
		return 1
	fi
	line=$(cat "$out.r")
	ms=$(tr ' ' '\n' <<< "$line" | grep '^ms=' | cut -d= -f2)
	echo "$case $ms $run" >> "$out"
	[ -t 2 ] && printf '\r  run %d/%d  %-12s %8.1f ms   ' "$run" "$runs" "$case" "$ms" >&2
	return 0
}

# case NAME: one transfer of that case.
case_run() {
	case $1 in
	tcp-hot)	one tcp-hot tcpcopy -- "$mib" ;;
	tcp-spread)	one tcp-spread tcpcopy -- "$mib" spread ;;
	tcp-mem)	one tcp-mem tcpcopy "$mib" -- "$mib" spread ;;
	pages-warm)	one pages-warm pagecopy "$mib" warm 100 -- "$mib" none 100 ;;
	pages-stun)	one pages-stun pagecopy "$mib" warm 100 -- "$mib" none 100 stunned ;;
	pages-lz4)	one pages-lz4 pagecopy "$mib" warm 50 -- "$mib" lz4 50 ;;
	pages-idle)	one pages-idle pagecopy "$mib" fresh 0 -- "$mib" none 0 ;;
	pages-fresh)	one pages-fresh pagecopy "$mib" fresh 100 -- "$mib" none 100 ;;
	esac
}
cases="tcp-hot tcp-spread tcp-mem pages-warm pages-stun pages-lz4 pages-idle pages-fresh"

: > "$out"
echo "Engine throughput, native, $mib MiB between two namespaces (veth), $runs runs per case"
# In a new random order each run: where a case comes in the run changes its
# time by up to a fifth here (what ran just before it), so a fixed order
# would favour some cases over others.
for run in $(seq 1 "$runs"); do
	for c in $(tr ' ' '\n' <<< "$cases" | shuf); do
		case_run "$c"
	done
done
[ -t 2 ] && printf '\r%60s\r' '' >&2

# median: numbers on stdin -> "median min max"
median() {
	sort -g | awk '{v[NR]=$1} END {
		print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2), v[1], v[NR] }'
}
# stats CASE: median, min and max of its ms, and the median as Mbit/s of
# page data (mib MiB)
stats() {
	grep "^$1 " "$out" | cut -d' ' -f2 | median | awk -v mib="$mib" '{
		printf "%.1f %.1f %.1f %.0f\n", $1, $2, $3, mib * 8 * 1048576 / 1e3 / $1 }'
}
printf '%-12s %28s %12s\n' case "ms median (min-max)" "Mbit/s"
declare -A rate
for c in tcp-hot tcp-spread tcp-mem pages-warm pages-stun pages-lz4 pages-idle pages-fresh; do
	read -r med min max mbit <<< "$(stats $c)"
	rate[$c]=$mbit
	printf '%-12s %28s %12s\n' "$c" "$med ($min-$max)" "$mbit"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "page path / plain TCP: running guest (warm) $(ratio "${rate[pages-warm]}" "${rate[tcp-hot]}") of tcp-hot," \
	"$(ratio "${rate[pages-warm]}" "${rate[tcp-spread]}") of tcp-spread;" \
	"stunned $(ratio "${rate[pages-stun]}" "${rate[tcp-hot]}") of tcp-hot," \
	"$(ratio "${rate[pages-stun]}" "${rate[tcp-spread]}") of tcp-spread;" \
	"against tcp-mem: running $(ratio "${rate[pages-warm]}" "${rate[tcp-mem]}")," \
	"stunned $(ratio "${rate[pages-stun]}" "${rate[tcp-mem]}")"
# paired CASE BASE: CASE's rate over BASE's run by run (each run against
# the baseline's run next to it), median and range: the machine's speed
# drifts over minutes, and a ratio within one run cancels most of that.
paired() {
	join <(grep "^$2 " "$out" | awk '{print $3, $2}' | sort) \
	     <(grep "^$1 " "$out" | awk '{print $3, $2}' | sort) |
	awk '{print $2 / $3}' | median | awk '{ printf "%.2f (%.2f-%.2f)", $1, $2, $3 }'
}
for base in tcp-spread tcp-mem; do
	echo "run by run, of $base: running guest $(paired pages-warm $base)," \
		"stunned $(paired pages-stun $base)"
done
echo "(the rates of pages-lz4 and pages-idle count all $mib MiB: half or all of them zero pages)"
