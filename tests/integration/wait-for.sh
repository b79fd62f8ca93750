# wait-for.sh: sourced by the lab scripts that drive VMMs in the background
# (scripts/bench-migrate-lab.sh, postcopy-load-lab.sh, profile-migrate-lab.sh).
# wait_for FILE TEXT SECONDS: succeeds once TEXT appears in FILE; fails after
# SECONDS, or at once when FILE shows a VMM error.
wait_for() {
	_w=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		grep -q '^vmm: error' "$1" 2>/dev/null && return 1
		_w=$((_w + 1)); [ $_w -gt $(($3 * 10)) ] && return 1; sleep 0.1
	done
}
