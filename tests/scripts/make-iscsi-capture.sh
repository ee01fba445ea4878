#!/usr/bin/env bash
# Makes pcaps/iscsi-real.pcap: iSCSI spoken by implementations nobody on the
# project wrote.  Debian's tgt (tgtd, user space) is the target, libiscsi-bin's
# tools are the initiator: a Login, an Inquiry, a ReadCapacity and a few Reads.
#
#   smis-a (initiator, node-mgmt-a 198.18.50.21) --veth-- smis-b (tgtd, mediator 198.18.50.5)
#
# 198.18.50.0/24 (198.18.0.0/15), IPv6 off, no default route: nothing leaves the
# namespaces.  tcpdump -U -w on smis-a's end sees every packet once.  The roles
# are in pcaps/iscsi-real.conf.  Not run in CI: pcaps/ keeps the result.
# usage: tests/scripts/make-iscsi-capture.sh [OUT.pcap]   (root; apt-get install
#        tgt libiscsi-bin tcpdump iproute2, or scripts/deps.sh --test)
set -eu
out=${1:-pcaps/iscsi-real.pcap}
A=smis-a B=smis-b
INI=198.18.50.21 TGT=198.18.50.5
IQN_T=iqn.2026-12.test:lun0 IQN_I=iqn.2026-12.test:smis-a
CTL=50 # tgtd's management channel (/var/run/tgtd/socket.50): not the default one
W=$(mktemp -d /tmp/smis.XXXXXX)
PIDS="" # background processes started here (each wrapped in timeout)
made=""
adm() { timeout 10 ip netns exec $B tgtadm -C $CTL --lld iscsi "$@"; }

cleanup() {
	local p
	# tgtd ignores SIGTERM: it is stopped through its management channel
	[ -z "$made" ] || adm --op delete --mode system >/dev/null 2>&1 || true
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	for n in $made; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in tgtd tgtadm iscsi-inq iscsi-readcapacity16 iscsi-test-cu tcpdump ip; do
	command -v $t >/dev/null || { echo "missing $t (apt-get install tgt libiscsi-bin tcpdump iproute2)"; exit 1; }
done
for n in $A $B; do
	if ip netns list | grep -qw "$n"; then
		echo "namespace $n exists already: not ours, left alone"
		exit 1
	fi
	ip netns add "$n"
	made="$made $n"
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$n" link set lo up
done
ip link add smis-va netns $A type veth peer name smis-vb netns $B
ip -n $A addr add $INI/24 dev smis-va
ip -n $B addr add $TGT/24 dev smis-vb
ip -n $A link set smis-va up
ip -n $B link set smis-vb up

truncate -s 4M "$W/lun.img"
timeout -k 3 120 ip netns exec $B tgtd -f -C $CTL >"$W/tgtd.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 50); do adm --op show --mode target >/dev/null 2>&1 && break; sleep 0.2; done
adm --op new --mode target --tid 1 -T $IQN_T
adm --op new --mode logicalunit --tid 1 --lun 1 -b "$W/lun.img"
adm --op bind --mode target --tid 1 -I ALL
for _ in $(seq 50); do ip netns exec $B ss -ltn | grep -q ':3260 ' && break; sleep 0.2; done

timeout -k 3 60 ip netns exec $A tcpdump -U -i smis-va -s 0 -w "$W/cap.pcap" tcp port 3260 2>"$W/tcpdump.log" &
PIDS="$PIDS $!"
for _ in $(seq 50); do grep -q listening "$W/tcpdump.log" && break; sleep 0.2; done

url=iscsi://$TGT/$IQN_T/1
ini() { timeout 20 ip netns exec $A "$@"; }
ini iscsi-inq -i $IQN_I "$url"
ini iscsi-readcapacity16 -i $IQN_I "$url"
# READ(10) of one block with several allocation lengths: a few small Data-In PDUs
ini iscsi-test-cu -i $IQN_I -s -t ALL.iSCSIResiduals.Read10Residuals "$url" || true
sleep 1
tcpdump_pid=${PIDS##* }
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
cp "$W/cap.pcap" "$out"
echo "wrote $out: $(stat -c %s "$out") bytes"
