# Sourced by the command-line tests.  check NAME EXIT PATTERN COMMAND... runs COMMAND and
# wants exit status EXIT and PATTERN in its output (stdout and stderr): an extended regex,
# or a fixed string when CHECK_FIXED=1.  Counts into $pass and $fail.
pass=0 fail=0
check() {
	local name=$1 want=$2 pat=$3 mode=-E
	shift 3
	[ "${CHECK_FIXED:-}" = 1 ] && mode=-F
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; echo "$out" | head -8; fail=$((fail + 1))
	elif [ -n "$pat" ] && ! grep -q $mode -- "$pat" <<<"$out"; then
		echo "FAIL $name: output lacks /$pat/"; echo "$out" | head -8; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
