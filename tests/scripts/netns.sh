# Sourced by the tests that make their own traffic (live*.sh, ringfull.sh) and by
# bench/run.sh's live part: network namespaces made here, a veth pair between two
# of them, addresses from 198.18.0.0/15 and no default route, so nothing leaves
# them.  At exit every process inside them is killed (the namespaces are this
# script's own), they are deleted, and the work directory goes (KEEP=1 keeps it).
#
#   net_need TOOL...           exit 77 (skip) unless root and the tools are there
#   net_work NAME              W = a new directory /tmp/smaudit-NAME.XXXXXX (mode 755)
#   net_ns NS...               new namespaces, lo up (an old one of that name goes first)
#   net_quiet NS...            no IPv6 on links made after (no neighbour discovery or
#                              MLD): only the packets the test sends cross a veth
#   net_veth NSA IFA NSB IFB   a veth pair between two of them, both ends up
#   check WHAT CMD...          runs CMD: "ok - WHAT", or "FAIL - WHAT" counted in $fails
# A script may define on_exit: it runs first at exit, before the namespaces go.

fails=0
NET_NS=()
W=

skip() {
	echo "SKIP: $*"
	exit 77
}

check() {
	local what=$1
	shift
	if "$@"; then echo "ok   - $what"; else
		echo "FAIL - $what"
		fails=$((fails + 1))
	fi
}

net_cleanup() {
	declare -F on_exit >/dev/null && on_exit
	local n
	for n in "${NET_NS[@]}"; do ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true; done
	wait 2>/dev/null
	for n in "${NET_NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	if [ -n "$W" ]; then
		if [ -n "${KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi
	fi
}
trap net_cleanup EXIT

net_need() {
	[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (CI runs as root)"
	local t
	for t in ip "$@"; do
		command -v "$t" >/dev/null || skip "$t is not installed (scripts/deps.sh --test)"
	done
}

net_work() {
	W=$(mktemp -d "/tmp/smaudit-$1.XXXXXX")
	chmod 755 "$W"
}

net_ns() {
	local n
	for n in "$@"; do
		ip netns del "$n" 2>/dev/null || true
		ip netns add "$n" 2>/dev/null || skip "network namespaces are not permitted here (ip netns add failed)"
		NET_NS+=("$n")
		ip -n "$n" link set lo up
	done
}

net_quiet() {
	local n
	for n in "$@"; do
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
}

net_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		skip "veth pairs are not permitted here"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
