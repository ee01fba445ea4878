#!/usr/bin/env bash
# smaudit site --from-ontap as a user runs it on what ONTAP printed (tests/ontap):
# what it reads, what it refuses (exit 2, FILE:LINE and the command to run instead),
# what it warns about (exit 0, site still written), and that every site it writes
# passes smaudit check.      usage: ontap.sh SMAUDIT      (run from the repository root)
set -u
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
T=tests/ontap
FIELDS='network interface show -fields address,role,service-policy,vserver'
. "$(dirname "$0")/check.sh"
CHECK_FIXED=1
roles() { grep '^role ' "$1"; } # a site without its comments (they name files and lines)
site_ok() { # name site: the generated site is one smaudit check accepts
	check "$1: smaudit check accepts the site" 0 "" "$bin" check -s "$2"
}

# the default view of network interface show has no role column: refused
check "default view refused" 2 \
	"$T/default-view.txt:3: the default view of 'network interface show' has no role column" \
	"$bin" site --from-ontap $T/default-view.txt
check "default view refusal names the command to run" 2 "run '$FIELDS'" \
	"$bin" site --from-ontap $T/default-view.txt
check "default view refused, nothing written" 2 "" \
	"$bin" site --from-ontap $T/default-view.txt -o "$work/refused.conf"
[ ! -e "$work/refused.conf" ] && pass=$((pass + 1)) ||
	{ echo "FAIL default view: a site was written"; fail=$((fail + 1)); }

# ... unless its command line names the role (-role intercluster, or -service-policy
# default-intercluster, as NetApp's docs show it for ONTAP 9.6 and later)
check "default view with -role intercluster" 0 "role ic-a 198.18.1.11 198.18.1.12" \
	"$bin" site --from-ontap $T/default-ic-a.txt $T/default-ic-b.txt
check "default view with -service-policy default-intercluster" 0 \
	"role ic-b 198.18.2.11 198.18.2.12" \
	"$bin" site --from-ontap $T/default-ic-a.txt $T/default-ic-b.txt
"$bin" site --from-ontap $T/default-ic-a.txt $T/default-ic-b.txt -o "$work/default.conf"
site_ok "default view" "$work/default.conf"
check "default view: each LIF named by its own line" 0 \
	"# $T/default-ic-a.txt:9: clusterA clusterA-02_ic1 (intercluster, role from the command on line 1)" \
	cat "$work/default.conf"
check "default view: the Mediator too" 0 "role mediator 198.18.3.5" cat "$work/default.conf"
grep -q "mgmt" <(roles "$work/default.conf") &&
	{ echo "FAIL default view: management roles guessed"; fail=$((fail + 1)); } || pass=$((pass + 1))

# a role a command line names is its own table's: a second default view whose command
# line is missing, or typed in a command directory ("clusterA::network interface> show
# -role node-mgmt"), never inherits it
check "default view without its command line refused" 2 \
	"$T/prompt-missing-a.txt:13: the default view of 'network interface show' has no role column" \
	"$bin" site --from-ontap $T/prompt-missing-a.txt $T/cluster-b.txt
check "a command typed in a command directory names its role" 0 \
	"role node-mgmt-a 198.18.1.21 198.18.1.22" \
	"$bin" site --from-ontap $T/prompt-inherit2-a.txt $T/cluster-b.txt
"$bin" site --from-ontap $T/prompt-inherit2-a.txt $T/cluster-b.txt -o "$work/dir.conf" 2>/dev/null
grep -qx 'role ic-a 198.18.1.11 198.18.1.12' "$work/dir.conf" && pass=$((pass + 1)) ||
	{ echo "FAIL a command typed in a command directory: its node-mgmt LIFs made intercluster: $(grep '^role ic-a' "$work/dir.conf")"; fail=$((fail + 1)); }
# -instance with the "(DEPRECATED)-Role:" label of newer releases
check "(DEPRECATED)-Role read: the custom-policy intercluster LIF" 0 "role ic-a 198.18.1.11 198.18.1.12" \
	"$bin" site --from-ontap $T/instance-deprecated-role-a.txt $T/cluster-b.txt
check "(DEPRECATED)-Role read: the cluster management LIF" 0 "role cluster-mgmt-a 198.18.1.20" \
	"$bin" site --from-ontap $T/instance-deprecated-role-a.txt $T/cluster-b.txt
# a LIF whose role is not shown ('-') and whose policy does not say it: left out with a
# warning naming its line, never guessed from its name
check "role '-', a custom intercluster policy: warned" 0 \
	"smaudit: warning: $T/roledash-a.txt:5: LIF clusterA clusterA-01_ic1 (198.18.1.11) left out: its role is not shown" \
	"$bin" site --from-ontap $T/roledash-a.txt $T/cluster-b.txt
check "role '-', a management policy: warned, not guessed from the LIF's name" 0 \
	"$T/roledash-a.txt:8: LIF clusterA clusterA_mgmt (198.18.1.20) left out: its role is not shown, and a management service policy is that of cluster, node and SVM management LIFs alike" \
	"$bin" site --from-ontap $T/roledash-a.txt $T/cluster-b.txt
"$bin" site --from-ontap $T/roledash-a.txt $T/cluster-b.txt -o "$work/dash.conf" 2>/dev/null
grep -qE '^role (cluster|node)-mgmt-a' "$work/dash.conf" &&
	{ echo "FAIL role '-': management roles guessed"; fail=$((fail + 1)); } || pass=$((pass + 1))
# output that is not whole: fewer LIFs than ONTAP counted, a paste cut at the pager
check "fewer rows than 'N entries were displayed': warned" 0 \
	"smaudit: warning: $T/count-mismatch-b.txt:6: ONTAP says 6 LIF(s), smaudit read 2" \
	"$bin" site --from-ontap $T/cluster-a.txt $T/count-mismatch-b.txt
"$bin" site --from-ontap $T/cluster-a.txt $T/paged-b.txt >/dev/null 2>"$work/paged.err"
grep -q "pager" "$work/paged.err" && { echo "FAIL a pager prompt paged on (-instance) taken for a cut: $(cat "$work/paged.err")"; fail=$((fail + 1)); } ||
	pass=$((pass + 1))
check "a paste cut at the pager: warned" 0 \
	"smaudit: warning: $T/pager-quit-b.txt:14: the output stops at ONTAP's pager prompt" \
	"$bin" site --from-ontap $T/cluster-a.txt $T/pager-quit-b.txt
# one address in both clusters: an error naming both LIFs, not one of them dropped
check "one address, both clusters' intercluster LIF: refused" 2 \
	"both-clusters-one-file.txt:13: LIF clusterB clusterB-01_ic1: 10.0.0.11 is already a LIF of cluster clusterA ($T/both-clusters-one-file.txt:4:" \
	"$bin" site --from-ontap $T/both-clusters-one-file.txt

# intercluster LIFs in a custom IPspace belong to the IPspace's SVM (vserver ips_smas
# on both sides): the cluster is the prompt's ("clusterA::>"), not the vserver
"$bin" site --from-ontap $T/ipspace-ic-a.txt $T/ipspace-ic-b.txt -o "$work/ips.conf" 2>/dev/null
grep -qx 'role ic-a 198.18.1.11 198.18.1.12' "$work/ips.conf" && grep -qx 'role ic-b 198.18.2.11 198.18.2.12' "$work/ips.conf" &&
	pass=$((pass + 1)) || { echo "FAIL custom IPspace, default view: $(grep '^role' "$work/ips.conf" | tr '\n' ';')"; fail=$((fail + 1)); }
"$bin" site --from-ontap $T/ipspace-a.txt $T/ipspace-b.txt -o "$work/ips2.conf" 2>/dev/null
grep -qx 'role ic-a 198.18.1.11 198.18.1.12' "$work/ips2.conf" && grep -qx 'role node-mgmt-b 198.18.2.21' "$work/ips2.conf" &&
	pass=$((pass + 1)) || { echo "FAIL custom IPspace, -fields: $(grep '^role' "$work/ips2.conf" | tr '\n' ';')"; fail=$((fail + 1)); }
# a file saved with a UTF-8 byte order mark (Notepad) is read as without it
check "a UTF-8 BOM" 0 "role ic-b 198.18.2.11 198.18.2.12" "$bin" site --from-ontap $T/cluster-a.txt $T/bom-b.txt

# one cluster only: a warning naming the missing side; exit 0 and the site is written
check "one cluster: warning" 0 \
	"smaudit: warning: $T/cluster-a.txt: only cluster 'clusterA' has intercluster LIFs (role ic-a); give the output of the peer cluster too, or role ic-b stays undefined and every intercluster rule is n/a" \
	"$bin" site --from-ontap $T/cluster-a.txt -o "$work/one.conf"
check "one cluster: site written" 0 "role ic-a 198.18.1.11 198.18.1.12" cat "$work/one.conf"
site_ok "one cluster" "$work/one.conf"
check "two clusters: no warning" 0 "" "$bin" site --from-ontap $T/cluster-a.txt $T/cluster-b.txt
grep -q "warning" <<<"$out" && { echo "FAIL two clusters warned: $out"; fail=$((fail + 1)); } || pass=$((pass + 1))

# rows ONTAP wrapped onto indented lines read like the unwrapped ones
"$bin" site --from-ontap $T/cluster-a.txt $T/wrapped-b.txt -o "$work/wrapped.conf" 2>"$work/wrapped.err"
"$bin" site --from-ontap $T/cluster-a.txt $T/unwrapped-b.txt -o "$work/unwrapped.conf"
if [ -s "$work/wrapped.conf" ] && diff <(roles "$work/wrapped.conf") <(roles "$work/unwrapped.conf"); then
	pass=$((pass + 1))
else
	echo "FAIL wrapped rows give another site than unwrapped ones"; fail=$((fail + 1))
fi
[ ! -s "$work/wrapped.err" ] && pass=$((pass + 1)) ||
	{ echo "FAIL wrapped rows: $(cat "$work/wrapped.err")"; fail=$((fail + 1)); }
check "wrapped rows: both LIFs of cluster b" 0 "role ic-b 198.18.2.11 198.18.2.12" cat "$work/wrapped.conf"
site_ok "wrapped rows" "$work/wrapped.conf"
check "wrapped rows: site audits like pcaps/site.conf" 0 "SUMMARY: 32 expected, 32 ok, 0 missing" \
	"$bin" audit -q -s "$work/wrapped.conf" pcaps/healthy.pcap

# lines that are not read are named, never dropped silently
check "other command's output: warned with its lines" 0 \
	"$T/extra-output-b.txt:3: lines 3-6 not read ('clusterB::> cluster peer show')" \
	"$bin" site --from-ontap $T/cluster-a.txt $T/extra-output-b.txt
check "stray text: warned with its line" 0 "$T/extra-output-b.txt:15: line 15 not read" \
	"$bin" site --from-ontap $T/cluster-a.txt $T/extra-output-b.txt
check "a row cut short is an error" 2 "$work/short.txt:6: this row has 3 of the 5 columns" \
	sh -c "sed '5a clusterB clusterB-03_ic1 198.18.2.13' $T/unwrapped-b.txt >$work/short.txt &&
		exec \"\$0\" site --from-ontap $work/short.txt" "$bin"
check "a bad address is an error" 2 "$work/badaddr.txt:6: LIF clusterB clusterB-03_ic1: '198.18.2.999' is not an IP address" \
	sh -c "sed '5a clusterB clusterB-03_ic1 198.18.2.999 intercluster default-intercluster' \
		$T/unwrapped-b.txt >$work/badaddr.txt && exec \"\$0\" site --from-ontap $work/badaddr.txt" "$bin"
check "an indented line after a complete row is an error" 2 "$work/indent.txt:6: " \
	sh -c "sed '5a \        e0e' $T/unwrapped-b.txt >$work/indent.txt &&
		exec \"\$0\" site --from-ontap $work/indent.txt" "$bin"
check "a table without role or service-policy is refused" 2 "run '$FIELDS'" \
	sh -c "printf 'vserver  lif  address\n-------- ---- -----------\nclusterB ic1  198.18.2.11\n' >$work/norole.txt &&
		exec \"\$0\" site --from-ontap $work/norole.txt" "$bin"

# the ONTAP Cloud Mediator shows 0.0.0.0: no mediator role, and the user is told why
printf '%s\n' 'clusterB::> snapmirror mediator show' \
	'Mediator Address Peer Cluster     Connection Status Quorum Status Type' \
	'---------------- ---------------- ----------------- ------------- -------' \
	'0.0.0.0          clusterA         connected         true          cloud' >"$work/cloud.txt"
check "Cloud Mediator: warned" 0 "$work/cloud.txt:4: the ONTAP Cloud Mediator (0.0.0.0): no role mediator" \
	"$bin" site --from-ontap $T/cluster-a.txt $T/cluster-b.txt "$work/cloud.txt" -o "$work/cloud.conf"
check "Cloud Mediator: only the Mediator of cluster-a.txt" 0 "" \
	grep -x "role mediator 198.18.3.5" "$work/cloud.conf"
check "a table wider than any ONTAP output is refused" 2 "too-many-columns.txt:3: a table of 30 columns" "$bin" site --from-ontap $T/too-many-columns.txt
echo "ontap: $pass passed, $fail failed"
[ $fail -eq 0 ]
