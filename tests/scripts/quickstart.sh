#!/usr/bin/env bash
# The README's first command, word for word, as on a fresh Debian 12: in a copy of the
# tree with no build directory, with every package that only `scripts/deps.sh --test`
# installs hidden from pkg-config (so CMake cannot find cmocka and the like).  Its output
# must be the report the README shows, with the exit status the README states.
# usage: tests/scripts/quickstart.sh   (from the repository root)
set -euo pipefail
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmd=$(awk '/^## Quick start/ {q = 1} q && /^    scripts\/deps.sh/ {sub(/^    /, ""); print; exit}' README.md)
[ -n "$cmd" ] || { echo "FAIL: no quick-start command (a line '    scripts/deps.sh ...') in README.md"; exit 1; }
awk '/^The first command prints/ {p = 1; next} p && /^```/ {if (inb) exit; inb = 1; next} inb {print}' \
	README.md >"$work/want"
want_rc=$(sed -n 's/^The first command prints.*(exit status \([0-9]\).*/\1/p' README.md | head -1)
[ -s "$work/want" ] && [ -n "$want_rc" ] ||
	{ echo "FAIL: README.md has no report block after 'The first command prints ... (exit status N'"; exit 1; }

# Packages only the test configuration installs: the words deps.sh adds with --test.
test_pkgs=$(sed -n 's/.*--test.*pkgs="\$pkgs \([^"]*\)".*/\1/p' scripts/deps.sh)
[ -n "$test_pkgs" ] || { echo "FAIL: cannot read the test-only packages from scripts/deps.sh"; exit 1; }
hidden=""
for p in $test_pkgs; do
	for pc in $(dpkg -L "$p" 2>/dev/null | grep '\.pc$' || true); do hidden="$hidden ${pc##*/}"; done
done
mkdir "$work/pc"
for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
	[ -d "$d" ] || continue
	for f in "$d"/*.pc; do
		[ -e "$f" ] || continue
		case " $hidden " in *" ${f##*/} "*) continue ;; esac
		ln -sf "$f" "$work/pc/"
	done
done
echo "quickstart: hidden from pkg-config:${hidden:- (none installed)}"

mkdir "$work/tree"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$work/tree") 2>/dev/null || true
cd "$work/tree"
rm -rf build
set +e
PKG_CONFIG_LIBDIR="$work/pc" bash -c "$cmd" >"$work/got" 2>"$work/err"
rc=$?
set -e
if [ "$rc" -ne "$want_rc" ]; then
	echo "FAIL: the quick start exited $rc, the README says $want_rc"
	tail -20 "$work/err"
	exit 1
fi
# the build's own lines come first; the report is what the command prints last
tail -n "$(wc -l <"$work/want")" "$work/got" >"$work/report"
if ! diff -u "$work/want" "$work/report" >"$work/diff"; then
	echo "FAIL: the quick start's report differs from the README's"
	head -40 "$work/diff"
	exit 1
fi
cat "$work/got" "$work/err" | grep -q 'tests not built' || [ -z "$hidden" ] ||
	{ echo "FAIL: the build did not say that it left out the tests"; exit 1; }
echo "quickstart: 1 passed, 0 failed"
