#!/usr/bin/env bash
# Site and rules mistakes that would change a verdict are errors (exit 2,
# FILE:LINE:COL); the rest are one warning line each.  docs/site-file.md.
# usage: config-errors.sh SMAUDIT    (run from the repository root)
set -u
bin=$1
RULES_OPT=--rules # the option naming a rules file
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# run NAME EXPECTED-EXIT command...: keeps stderr in $err
run() {
	local name=$1 want=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	err=$(cat "$work/err")
	if [ $rc -ne "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"
		head -5 "$work/err"
		fail=$((fail + 1))
		return 1
	fi
	return 0
}
# stderr_is NAME EXPECTED-TEXT: the whole of stderr
stderr_is() {
	if [ "$err" != "$2" ]; then
		printf 'FAIL %s: stderr is\n%s\nexpected\n%s\n' "$1" "$err" "$2"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
# stderr_has NAME LINE: one line of stderr is exactly LINE
stderr_has() {
	if ! grep -qxF -- "$2" "$work/err"; then
		printf 'FAIL %s: stderr lacks\n%s\nin\n%s\n' "$1" "$2" "$err"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
# every stderr line says "warning:" at most once
one_warning_word() {
	if grep -E 'warning:.*warning:' "$work/err"; then
		echo "FAIL $1: a line says 'warning:' twice"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

# site_case NAME SED-SCRIPT EXIT CAPTURE STDERR: audits CAPTURE with
# pcaps/site.conf edited by SED-SCRIPT into $site (set before the call)
site_case() {
	sed "$2" pcaps/site.conf >"$site"
	run "$1" "$3" "$bin" audit -q -s "$site" "$4" && stderr_is "$1" "$5"
}

# With the right site, the dead Mediator is a finding.
run "dead mediator is a finding" 1 "$bin" audit -q -s pcaps/site.conf pcaps/mediator-down.pcap &&
	pass=$((pass + 1))

site=$work/mapped.conf
site_case "IPv4-mapped IPv6 address" 's/^role ic-a           198.18.1.11 198.18.1.12/role ic-a ::ffff:198.18.1.11 198.18.1.12/' 2 pcaps/healthy.pcap \
	"smaudit: $site:2:11: '::ffff:198.18.1.11': an IPv4-mapped IPv6 address: write the IPv4 address (packets carry it as IPv4) (expected e.g. 10.10.1.11, fd00:20::11 or 10.99.0.0/24)"

# roles of no common address family pair nothing: an each-pair rule would have no entry
site=$work/families.conf
site_case "roles of different address families" 's/^role ic-a           198.18.1.11 198.18.1.12/role ic-a fd00:1::11 fd00:1::12/' 2 pcaps/healthy.pcap \
	"smaudit: $site:3:6: ic-a and ic-b have no address family in common (ic-a has only IPv6 addresses, ic-b only IPv4): rule tcp/3260 pairs none of them"
site=$work/families2.conf
site_case "a family the other role lacks" 's/^role ic-a           198.18.1.11 198.18.1.12/role ic-a 198.18.1.11 198.18.1.12 fd00:1::11/' 0 pcaps/healthy.pcap \
	"smaudit: warning: $site:2:6: ic-a has IPv6 addresses and ic-b none: the each-pair rule tcp/3260 checks none of them
smaudit: warning: $site:2:6: ic-a has IPv6 addresses and ic-b none: the each-pair rule tcp/11104 checks none of them
smaudit: warning: $site:2:6: ic-a has IPv6 addresses and ic-b none: the each-pair rule tcp/11105 checks none of them"

# a site file that names no role (empty, or a template whose lines are all commented
# out) is an error: with no address, no flow is checked and the run would say "no finding"
site=$work/empty.conf
printf '# site of cluster pair X: fill in\n#role ic-a 198.18.1.11\n' >"$site"
run "a site file of comments only" 2 "$bin" audit -q -s "$site" pcaps/healthy.pcap &&
	stderr_is "a site file of comments only" "smaudit: $site:1:1: no role defined: a site file names who is who, a line 'role NAME ADDR|CIDR...' a role (docs/site-file.md)"
run "check of an empty site file" 2 "$bin" check -s /dev/null &&
	stderr_is "check of an empty site file" "smaudit: /dev/null:1:1: no role defined: a site file names who is who, a line 'role NAME ADDR|CIDR...' a role (docs/site-file.md)"

# a prefix in a role an each-pair / each-member rule checks address by address: one
# member, which any address in it satisfies (a LIF never seen would go unnoticed)
site=$work/prefix-each.conf
site_case "a prefix checked as one address" 's|^role ic-a           198.18.1.11 198.18.1.12|role ic-a 198.18.1.8/29|; s|^role node-mgmt-a    198.18.1.21|role node-mgmt-a 198.18.1.21 198.18.1.24/30|' 1 pcaps/healthy.pcap \
	"smaudit: warning: $site:2:11: ic-a 198.18.1.8/29 is a prefix: the rule(s) tcp/3260, tcp/11104, tcp/11105, which check each address, take it as one address that any address in it satisfies; list the addresses one by one to check each
smaudit: warning: $site:6:30: node-mgmt-a 198.18.1.24/30 is a prefix: the rule(s) tcp/31784, tcp/3260, which check each address, take it as one address that any address in it satisfies; list the addresses one by one to check each"

site=$work/mediatr.conf
site_case "mediatr typo" 's/^role mediator /role mediatr  /' 2 pcaps/mediator-down.pcap \
	"smaudit: $site:8:6: role 'mediatr' is used by no rule; did you mean 'mediator'?"

site=$work/ic-bb.conf
site_case "ic-bb typo" 's/^role ic-b /role ic-bb/' 2 pcaps/healthy.pcap \
	"smaudit: $site:3:6: role 'ic-bb' is used by no rule; did you mean 'ic-b'?"

site=$work/the-mediator.conf
site_case "rule role inside a longer name" 's/^role mediator /role the-mediator /' 2 pcaps/mediator-down.pcap \
	"smaudit: $site:8:6: role 'the-mediator' is used by no rule; did you mean 'mediator'?"

site=$work/two-roles.conf
site_case "address in two roles" 's/^\(role ic-b .*\)$/\1 198.18.1.11/' 2 pcaps/healthy.pcap \
	"smaudit: $site:3:45: 198.18.1.11 (role ic-b) overlaps 198.18.1.11 of role ic-a at $site:2:21"

site=$work/prefixes.conf
site_case "overlapping prefixes" 's|^role admin .*|role admin          198.18.0.0/16|' 2 pcaps/healthy.pcap \
	"smaudit: $site:9:21: 198.18.0.0/16 (role admin) overlaps 198.18.1.11 of role ic-a at $site:2:21"

site=$work/empty-role.conf
site_case "role without address" 's/^role mediator .*/role mediator/' 2 pcaps/healthy.pcap \
	"smaudit: $site:8:14: role 'mediator' lists no address: expected IPv4/IPv6 addresses or CIDR prefixes after the name"

site=$work/repeat.conf
site_case "address twice in one role" 's/^\(role ic-a .*\)$/\1 198.18.1.11/' 0 pcaps/healthy.pcap \
	"smaudit: warning: $site:2:45: 198.18.1.11 (role ic-a) overlaps 198.18.1.11 of the same role at $site:2:21; listing it once is enough"

site=$work/backup.conf
site_case "unused role far from any" '$a role backup         198.18.9.9' 0 pcaps/healthy.pcap \
	"smaudit: warning: $site:10:6: role 'backup' is used by no rule of sm-as.rules; its addresses are checked only as unexpected traffic"
one_warning_word "unused role far from any"

rules=$work/my.rules
{ cat rules/sm-as.rules; echo 'optional tcp/8080  ic-a -> ic-a,backup any "backup agent"'; } >"$rules"
n=$(wc -l <"$rules")
run "rules role the site lacks" 0 "$bin" check -s pcaps/site.conf $RULES_OPT "$rules" &&
	stderr_has "rules role the site lacks" \
		"smaudit: warning: $rules:$n:33: role 'backup' is not defined in pcaps/site.conf; the rules that use it are n/a"
one_warning_word "rules role the site lacks"

# A generated site never puts one address in two roles (the second is a comment).
sed 's/198.18.1.21  node-mgmt/198.18.1.20  node-mgmt/' tests/ontap/cluster-a.txt >"$work/a.txt"
run "site --from-ontap, one address on two LIFs" 0 \
	"$bin" site --from-ontap "$work/a.txt" tests/ontap/cluster-b.txt -o "$work/gen.conf" &&
	run "the generated site passes check" 0 "$bin" check -s "$work/gen.conf" &&
	if grep -q '^# left out: 198.18.1.20 as cluster-mgmt-a .*already node-mgmt-a' "$work/gen.conf"; then
		pass=$((pass + 1))
	else
		echo "FAIL generated site: no comment on the address left out"
		fail=$((fail + 1))
	fi

# rules_case NAME TEXT EXIT STDERR: checks pcaps/site.conf against a rules file of TEXT
rules_case() {
	printf '%s' "$2" >"$work/case.rules"
	run "$1" "$3" "$bin" check -s pcaps/site.conf $RULES_OPT "$work/case.rules" &&
		stderr_is "$1" "$4"
}

# a second app= would silently replace the first: a false protocol mismatch
rules_case "app= twice on one line" 'expect tcp/3260 ic-a -> ic-b app=iscsi app=tls "x"
' 2 "smaudit: $work/case.rules:1:40: second app= 'app=tls': the rule already requires app=iscsi (column 30); a port carries one protocol"

# a rule line written twice would make every entry, and its finding, twice
rules_case "the same rule on two lines" 'monitor ic-a ic-b
expect tcp/11104 ic-a -> ic-b any "a"
expect tcp/11104 ic-a -> ic-b any "a"
' 2 "smaudit: $work/case.rules:3:18: tcp/11104 ic-a -> ic-b is already a rule at $work/case.rules:2:18: write each flow once (a repeat would count its entries and findings twice)"
rules_case "a <-> rule repeating a -> rule" 'expect tcp/443 ic-b -> ic-a "a"
optional tcp/443 ic-a <-> ic-b "b"
' 2 "smaudit: $work/case.rules:2:27: tcp/443 ic-b -> ic-a is already a rule at $work/case.rules:1:16: write each flow once (a repeat would count its entries and findings twice)"
rules_case "a role twice in one list" 'expect tcp/3260 ic-a,ic-a -> ic-b "x"
' 2 "smaudit: $work/case.rules:1:22: role 'ic-a' is listed twice in 'ic-a,ic-a'"

# a UTF-8 byte-order mark (Windows editors write one) is not part of the first word
printf '\357\273\277' >"$work/bom.conf"
cat pcaps/site.conf >>"$work/bom.conf"
printf '\357\273\277' >"$work/bom.rules"
cat rules/sm-as.rules >>"$work/bom.rules"
run "a site file starting with a byte-order mark" 0 "$bin" check -s "$work/bom.conf" &&
	stderr_is "a site file starting with a byte-order mark" ""
run "a rules file starting with a byte-order mark" 0 \
	"$bin" check -s pcaps/site.conf $RULES_OPT "$work/bom.rules" && pass=$((pass + 1))

# a role's addresses may go on several lines: the same flows as on one line
sed 's/^role ic-a .*/role ic-a 198.18.1.11\n# its second LIF\nrole ic-a 198.18.1.12/' pcaps/site.conf >"$work/cont.conf"
if run "a role continued on a second line" 0 "$bin" check -s "$work/cont.conf"; then
	"$bin" check -s pcaps/site.conf | sed 1d >"$work/one-line.out"
	sed 1d "$work/out" >"$work/two-lines.out"
	if cmp -s "$work/one-line.out" "$work/two-lines.out"; then
		pass=$((pass + 1))
	else
		echo "FAIL a role continued on a second line: check lists other flows"
		diff "$work/one-line.out" "$work/two-lines.out" | head -5
		fail=$((fail + 1))
	fi
fi
# hundreds of addresses on one line (a site without prefixes for its LIFs)
addrs() { for i in $(seq "$1" "$2"); do printf ' 198.19.%d.%d' $((i / 250)) $((i % 250 + 1)); done; }
{ grep -v '^role admin' pcaps/site.conf; echo "role admin$(addrs 0 899)"; } >"$work/many.conf"
run "a role of 900 addresses on one line" 0 "$bin" check -s "$work/many.conf" &&
	stderr_is "a role of 900 addresses on one line" ""
{ grep -v '^role admin' pcaps/site.conf; echo "role admin$(addrs 0 1099)"; } >"$work/toomany.conf"
col=$(($(grep '^role admin' "$work/toomany.conf" | cut -d" " -f1-1024 | wc -c) + 1))
run "too many words on one line" 2 "$bin" check -s "$work/toomany.conf" &&
	stderr_is "too many words on one line" "smaudit: $work/toomany.conf:9:$col: too many words on one line (at most 1024): continue on another line 'role NAME ADDRESS...' of the same role"

echo "config-errors: $pass passed, $fail failed"
[ $fail -eq 0 ]
