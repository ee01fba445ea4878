#!/usr/bin/env bash
# Colour in the text report: on a terminal (a pty made by script(1)) and only there;
# never with NO_COLOR set (any value, https://no-color.org), TERM=dumb, into a pipe or
# an -o file, nor in JSON; --color=always|never overrides; the words stay the golden
# report's.   usage: report-color.sh SMAUDIT      (run from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/smaudit-color.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/check.sh"
if ! command -v script >/dev/null; then
	echo "SKIP: no script(1) (util-linux) to make a terminal"
	exit 77
fi
S=pcaps/site.conf
esc=$'\033['
# on_tty CMD...: runs CMD with stdout on a pseudo-terminal; its output (CR removed) on stdout
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	script -qec "$cmd" /dev/null </dev/null | tr -d '\r'
	return "${PIPESTATUS[0]}"
}
has_color() { # name expected(yes|no) file
	if grep -qF "$esc" "$3"; then
		[ "$2" = yes ] && pass=$((pass + 1)) || { echo "FAIL $1: ANSI escapes in the output"; fail=$((fail + 1)); }
	else
		[ "$2" = no ] && pass=$((pass + 1)) || { echo "FAIL $1: no ANSI escape in the output"; fail=$((fail + 1)); }
	fi
}

on_tty env -u NO_COLOR TERM=xterm "$bin" audit -q -s $S pcaps/dropped.pcap >"$work/tty.txt"
rc=$?
[ $rc -eq 1 ] && pass=$((pass + 1)) || { echo "FAIL terminal: exit $rc, expected 1"; fail=$((fail + 1)); }
has_color "terminal" yes "$work/tty.txt"
# the failing verdict is red, the words are those of the golden report
grep -qF "${esc}1;31mno-answer${esc}0m tcp/11105" "$work/tty.txt" && pass=$((pass + 1)) ||
	{ echo "FAIL terminal: no-answer is not red"; fail=$((fail + 1)); }
# a --strict run whose only finding is an intermittent flow exits 1: its SUMMARY is red
"$bin" audit -q -s $S --strict --color always pcaps/outage.pcap >"$work/strict.txt"
grep -qF "${esc}1;31mSUMMARY${esc}0m" "$work/strict.txt" && pass=$((pass + 1)) ||
	{ echo "FAIL --strict, intermittent only: SUMMARY is not red"; fail=$((fail + 1)); }
sed 's/\x1b\[[0-9;]*m//g' "$work/tty.txt" >"$work/plain.txt"
diff -u tests/golden/dropped.txt "$work/plain.txt" >/dev/null && pass=$((pass + 1)) ||
	{ echo "FAIL terminal: without its colours the report differs from tests/golden/dropped.txt"; fail=$((fail + 1)); }

on_tty env NO_COLOR=1 TERM=xterm "$bin" audit -q -s $S pcaps/dropped.pcap >"$work/nc.txt"
has_color "NO_COLOR=1" no "$work/nc.txt"
on_tty env NO_COLOR= TERM=xterm "$bin" audit -q -s $S pcaps/dropped.pcap >"$work/nc0.txt"
has_color "NO_COLOR set empty" no "$work/nc0.txt"
on_tty env -u NO_COLOR TERM=dumb "$bin" audit -q -s $S pcaps/dropped.pcap >"$work/dumb.txt"
has_color "TERM=dumb" no "$work/dumb.txt"
env -u NO_COLOR TERM=xterm "$bin" audit -q -s $S pcaps/dropped.pcap | cat >"$work/pipe.txt"
has_color "pipe" no "$work/pipe.txt"
on_tty env -u NO_COLOR TERM=xterm "$bin" audit -q -s $S -o "$work/out.txt" pcaps/dropped.pcap >/dev/null
has_color "-o file from a terminal" no "$work/out.txt"
on_tty env -u NO_COLOR TERM=xterm "$bin" audit -q -s $S --format json pcaps/dropped.pcap >"$work/j.txt"
has_color "JSON on a terminal" no "$work/j.txt"
on_tty env -u NO_COLOR TERM=xterm "$bin" audit -q -s $S --color=never pcaps/dropped.pcap >"$work/never.txt"
has_color "--color=never on a terminal" no "$work/never.txt"
env NO_COLOR=1 "$bin" audit -q -s $S --color=always pcaps/dropped.pcap | cat >"$work/always.txt"
has_color "--color=always into a pipe" yes "$work/always.txt"
"$bin" audit -q -s $S -d "$work/a.db" pcaps/dropped.pcap >/dev/null
on_tty env -u NO_COLOR TERM=xterm "$bin" report -d "$work/a.db" >"$work/report.txt"
has_color "report on a terminal" yes "$work/report.txt"
check "--color: bad value" 2 "--color 'sometimes': expected auto, always or never" \
	"$bin" audit -q -s $S --color=sometimes pcaps/dropped.pcap
check "--color in report --help" 0 "--color WHEN" "$bin" report --help
echo "report_color: $pass passed, $fail failed"
[ $fail -eq 0 ]
