# Sourced by the tests that audit every example capture of pcaps/ made over in
# another shape (snaplen.sh, flood-verdicts.sh, vlan-split.sh) and compare its
# verdicts with those of the capture as taken.  Needs $bin (smaudit) and $work.
#
#   example_site CAPTURE         the site file a pcaps/ capture is audited with;
#                                nothing for one no site file names
#   judge OUT SITE ARGS... [-- VERDICTS.PY-OPTIONS]
#                                audits ARGS (captures and audit options) into
#                                $work/db with --format json; OUT: "exit N", then
#                                what tests/scripts/verdicts.py prints of the report

example_site() {
	case $(basename "$1" .pcap) in
	tls-split6) ;;
	ipv6) echo pcaps/site6.conf ;;
	iscsi-real) echo pcaps/iscsi-real.conf ;;
	*) echo pcaps/site.conf ;;
	esac
}

judge() {
	local out=$1 site=$2 args=() opts=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift && opts=("$@")
	rm -f "$work/db" "$work/db-wal" "$work/db-shm"
	"$bin" audit -q -s "$site" -d "$work/db" --format json "${args[@]}" >"$work/json" 2>"$work/err"
	echo "exit $?" >"$out"
	python3 tests/scripts/verdicts.py "$work/json" "${opts[@]}" >>"$out" ||
		echo "no JSON report: $(head -3 "$work/err")" >>"$out"
}
