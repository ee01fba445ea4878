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
#   net_wait_for FILE PATTERN  until PATTERN is in FILE, 20 s at most (false then)
#   net_replay NS IF CAPTURE   tcpreplay --topspeed of CAPTURE out of IF in NS (or,
#                              with NET_BLAST set, that program: bench/blast.c): its
#                              report in $W/replay.txt, the rate reached in NET_RATE
#                              (packets/s)
#   net_tcpdump_start NS IF [OPTION...]
#                              `tcpdump -w /dev/null` on IF in NS, once it listens
#                              (false if it does not); its messages in $W/tcpdump.err
#   net_tcpdump_stop           stops it (SIGINT); its own counts at exit in
#                              NET_TD_CAPTURED and NET_TD_DROPPED (by the kernel), "?"
#                              where it printed none
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

net_wait_for() {
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
	return 1
}

net_replay() {
	if [ -n "${NET_BLAST:-}" ]; then
		ip netns exec "$1" "$NET_BLAST" "$2" "$3" >"$W/replay.txt" 2>&1
	else
		ip netns exec "$1" tcpreplay -i "$2" --topspeed "$3" >"$W/replay.txt" 2>&1
	fi
	NET_RATE=$(grep -o '[0-9.]* pps' "$W/replay.txt" | head -1 | cut -d' ' -f1)
}

NET_TD_PID=
net_tcpdump_start() {
	local ns=$1 ifc=$2
	shift 2
	ip netns exec "$ns" tcpdump -n -q -Z root -i "$ifc" "$@" -w /dev/null 2>"$W/tcpdump.err" & # -Z root: it would give /dev/null to its own user
	NET_TD_PID=$!
	net_wait_for "$W/tcpdump.err" "listening on"
}

net_tcpdump_stop() {
	kill -INT "$NET_TD_PID"
	wait "$NET_TD_PID"
	NET_TD_CAPTURED=$(awk '/packets captured/ {print $1}' "$W/tcpdump.err")
	NET_TD_DROPPED=$(awk '/packets dropped by kernel/ {print $1}' "$W/tcpdump.err")
	NET_TD_CAPTURED=${NET_TD_CAPTURED:-?} NET_TD_DROPPED=${NET_TD_DROPPED:-?}
}
