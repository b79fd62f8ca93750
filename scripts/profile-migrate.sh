#!/usr/bin/env bash
# Where the lab host's one CPU goes during a migration: migrates the Linux
# dirtier (512 MiB, flat out over 256 MiB) once between the two namespace
# hosts inside the lab while perf samples every CPU (cpu-clock, call
# graphs), and prints the CPU share of each thread (vcpu0, migrate,
# pc-bulk, ...) and the top symbols per thread. For finding what a strategy
# spends per page under the lab's emulation; the figures are shares, not
# times. Needs perf on this host (package linux-perf).
#
#   scripts/profile-migrate.sh [BUILD_DIR] [STRATEGY] [VMM MIGRATE OPTIONS...]
#   e.g. scripts/profile-migrate.sh build postcopy --compress none
set -euo pipefail
B=${1:-build} strategy=${2:-postcopy}
shift $(($# < 2 ? $# : 2))
cd "$(dirname "$0")/.."
case "$strategy" in
stop-copy|precopy|postcopy|hybrid) ;;
*) echo "profile-migrate: unknown strategy '$strategy' (stop-copy, precopy, postcopy, hybrid)" >&2
   exit 2 ;;
esac
exec scripts/lab.sh --build "$B" --with-perf --timeout 900 scripts/profile-migrate-lab.sh \
	"$strategy" "$@"
