#!/usr/bin/env bash
# What a site gets from `cmake --install` and from the Debian package: a plain build of
# the tree installed to a prefix, and `cpack -G DEB` installed by dpkg into a throwaway
# root (and simulated by apt on this host). In
# both the installed smaudit runs the README's quick-start audit (its report, exit 1),
# and the package declares its libraries. smaudit(1) renders without a warning and
# names every option `smaudit COMMAND --help` lists; the bash completion completes the
# commands and each command's options (and zsh's lists them, where zsh is installed).
# usage: tests/scripts/install.sh   (from the repository root; skipped without dpkg-deb)
set -u
root=$(pwd)
for tool in dpkg-deb cpack groff man; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not installed (scripts/deps.sh --test)"; exit 77; }
done
work=$(mktemp -d /tmp/smaudit-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# a build of its own: no sanitizer runtime in the package, nothing of the test build
cmake -S "$root" -B "$work/build" -DSMAUDIT_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >"$work/log" 2>&1 &&
	cmake --build "$work/build" -j2 >>"$work/log" 2>&1 ||
	{ tail -20 "$work/log"; echo "FAIL: the plain build"; exit 1; }

# The README's quick-start report (as tests/scripts/quickstart.sh reads it).
awk '/^The first command prints/ {p = 1; next} p && /^```/ {if (inb) exit; inb = 1; next} inb {print}' \
	README.md >"$work/want"
[ -s "$work/want" ] || { echo "FAIL: no report block in README.md"; exit 1; }

# quickstart NAME PREFIX: the installed binary with the installed site file on the
# bundled capture gives the README's report and exit status 1.
quickstart() {
	local name=$1 p=$2
	"$p/bin/smaudit" audit -q -s "$p/share/smaudit/examples/site.conf" pcaps/mediator-down.pcap \
		>"$work/got" 2>"$work/err"
	local rc=$?
	if [ $rc -ne 1 ]; then
		bad "$name: quick-start audit exited $rc, expected 1"; head -5 "$work/err"
	elif ! diff -u "$work/want" "$work/got" >"$work/diff"; then
		bad "$name: quick-start report differs from the README's"; head -20 "$work/diff"
	else
		ok
	fi
	# the installed example capture gives the same verdicts
	"$p/bin/smaudit" audit -q -s "$p/share/smaudit/examples/site.conf" \
		"$p/share/smaudit/examples/mediator-down.pcap" >"$work/got2" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && diff <(grep -v '^  source' "$work/want") <(grep -v '^  source' "$work/got2") >/dev/null; then
		ok
	else
		bad "$name: the installed example capture (exit $rc) does not give the README's report"
	fi
}

# installed NAME PREFIX ZSHDIR: the files a user needs are there (zsh's completion where
# Debian's zsh looks: vendor-completions for /usr, site-functions elsewhere).
installed() {
	local name=$1 p=$2 f
	for f in bin/smaudit share/man/man1/smaudit.1 share/bash-completion/completions/smaudit \
		share/zsh/$3/_smaudit share/smaudit/rules/sm-as.rules \
		share/smaudit/examples/site.conf share/smaudit/examples/site6.conf \
		share/smaudit/examples/mediator-down.pcap share/doc/smaudit/README.md \
		share/doc/smaudit/verdicts.md share/doc/smaudit/json.md share/doc/smaudit/schema.md \
		share/doc/smaudit/exit-status.md share/doc/smaudit/site-file.md; do
		[ -s "$p/$f" ] && ok || bad "$name: $f not installed"
	done
	cmp -s rules/sm-as.rules "$p/share/smaudit/rules/sm-as.rules" && ok ||
		bad "$name: the installed rules differ from rules/sm-as.rules"
	"$p/bin/smaudit" check -s "$p/share/smaudit/examples/site.conf" \
		--rules "$p/share/smaudit/rules/sm-as.rules" >/dev/null 2>&1 && ok ||
		bad "$name: smaudit check on the installed site and rules"
}

# 1. cmake --install to a prefix
prefix=$work/prefix
if cmake --install "$work/build" --prefix "$prefix" >"$work/log" 2>&1; then
	ok
	installed "cmake --install" "$prefix" site-functions
	quickstart "cmake --install" "$prefix"
else
	bad "cmake --install"; tail -5 "$work/log"
fi

# 2. the Debian package, unpacked into a throwaway root
(cd "$work/build" && cpack -G DEB) >"$work/log" 2>&1 || { tail -20 "$work/log"; bad "cpack -G DEB"; }
deb=$(ls "$work/build"/smaudit_*.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	bad "no smaudit_*.deb written"
else
	echo "install: built ${deb##*/} ($(stat -c %s "$deb") bytes)"
	depends=$(dpkg-deb -f "$deb" Depends)
	echo "install: Depends: $depends"
	for lib in libc6 libpcap0.8 'libnids1\.2[0-9]*' libsqlite3-0; do
		grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" && ok || bad "package: Depends lacks $lib ($depends)"
	done
	# the libraries the binary needs at run time are exactly those packages' (and libc's)
	for so in $(objdump -p "$work/build/smaudit" | awk '/NEEDED/ {print $2}'); do
		pkg=$(dpkg -S "*/$so" 2>/dev/null | head -1 | cut -d: -f1)
		case $pkg in
		libc6 | "") ;;
		*) grep -q "$pkg" <<<"$depends" && ok || bad "package: $so comes from $pkg, not in Depends" ;;
		esac
	done
	[ "$(dpkg-deb -f "$deb" Package)" = smaudit ] && ok || bad "package name"
	# dpkg installs it into an empty root of its own (the libraries are the host's:
	# --force-depends), and lists its files
	mkdir -p "$work/root/var/lib/dpkg/info" "$work/root/var/lib/dpkg/updates"
	touch "$work/root/var/lib/dpkg/status"
	if dpkg --root="$work/root" --log=/dev/null --force-depends --force-not-root \
		--force-script-chrootless -i "$deb" >"$work/log" 2>&1 &&
		dpkg --root="$work/root" -L smaudit | grep -qx /usr/bin/smaudit; then
		ok
	else
		bad "dpkg --root -i"; tail -5 "$work/log"
	fi
	# apt on this host finds every dependency (a misnamed one would be unmet)
	if command -v apt-get >/dev/null; then
		timeout 120 apt-get install --simulate --no-install-recommends -q "$deb" >"$work/apt" 2>&1 &&
			grep -q '^Inst smaudit ' "$work/apt" && ok ||
			{ bad "apt-get install --simulate ${deb##*/}"; tail -5 "$work/apt"; }
	fi
	installed "package" "$work/root/usr" vendor-completions
	quickstart "package" "$work/root/usr"
fi
p=$work/root/usr
[ -x "$p/bin/smaudit" ] || p=$prefix
bin=$p/bin/smaudit
PATH=$p/bin:$PATH
export PATH

# Long options of COMMAND as its --help lists them, sorted.
help_options() {
	"$bin" "$1" --help | sed -n '/^options:/,/^examples:/p' |
		grep -oE '^ +(-[A-Za-z], +)?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u
}
commands=$("$bin" --complete)
# the formats COMMAND --help lists for --format, one a line, sorted (none: no --format)
help_formats() {
	"$bin" "$1" --help | sed -n 's/^ *--format FMT  *//p' | sed 's/ ([^)]*)//g; s/,/ /g; s/ or / /g' | tr ' ' '\n' | grep . | sort
}
all_formats=$(for c in $commands; do help_formats "$c"; done | sort -u)
[ -n "$all_formats" ] && ok || bad "no command's --help lists a format"
overview=$("$bin" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
[ -n "$commands" ] && [ "$commands" = "$overview" ] && ok ||
	bad "smaudit --complete lists '$(echo $commands)', smaudit --help '$(echo $overview)'"

# 3. the man page: man finds it in the installed tree, groff lints it clean, and each
# command's section names every option of its --help
MANPATH=$p/share/man MANWIDTH=1000 man -P cat smaudit 2>"$work/man.err" | sed 's/.\x08//g; s/\xe2\x88\x92/-/g; s/\xe2\x80\x90/-/g' >"$work/man.txt"
grep -q '^NAME' "$work/man.txt" && grep -q 'smaudit audit' "$work/man.txt" && grep -q 'COMMAND -h | --help' "$work/man.txt" &&
	[ ! -s "$work/man.err" ] && ok ||
	{ bad "man smaudit does not render"; head -5 "$work/man.err"; }
groff -mandoc -ww -z -Tutf8 "$p/share/man/man1/smaudit.1" >"$work/lint" 2>&1
[ ! -s "$work/lint" ] && ok || { bad "groff -ww warns on smaudit.1"; head -5 "$work/lint"; }
man -l "$p/share/man/man1/smaudit.1" >/dev/null 2>&1 && ok || bad "man -l smaudit.1"
for c in $commands; do
	awk -v c="$c" '$0 == "   " c {p = 1; next} p && (/^   [a-z]+$/ || /^[A-Z]/) {exit} p' "$work/man.txt" >"$work/sec"
	[ -s "$work/sec" ] || { bad "man page: no section for '$c'"; continue; }
	for o in $(help_options "$c" | grep -vx -- --help); do # -h, --help: once, in DESCRIPTION
		grep -q -- "$o\b" "$work/sec" && ok || bad "man page: section '$c' does not name $o"
	done
	# its --format paragraph names exactly the formats of its --help (or none: "As for audit")
	said=$(awk '/--format fmt/ {p = 1; next} p && /^ *$/ {exit} p' "$work/sec" | tr -c 'a-z\n' '\n' | grep -xF "$all_formats" | sort -u)
	[ -z "$said" ] || [ "$said" = "$(help_formats "$c")" ] && ok ||
		bad "man page: section '$c' gives --format $(echo $said), its --help $(echo $(help_formats "$c"))"
done
# query's --class paragraph names exactly the classes of verdict.c's table (its error lists them)
classes=$("$bin" query -d "$work/none.db" --class no-such-class 2>&1 | sed -n "s/.*the classes are //p" |
	sed 's/,/ /g; s/ or / /g' | tr ' ' '\n' | grep . | sort)
awk '$0 == "   query" {p = 1; next} p && (/^   [a-z]+$/ || /^[A-Z]/) {exit} p' "$work/man.txt" |
	awk '/--class c/ {p = 1; next} p && /^ *$/ {exit} p' | tr -c 'a-z\n' '\n' | grep . | sort -u >"$work/man.classes"
[ "$(wc -l <<<"$classes")" -ge 4 ] && [ "$classes" = "$(grep -xF "$classes" "$work/man.classes")" ] &&
	[ "$(grep -vxF -e or "$work/man.classes")" = "$classes" ] && ok ||
	bad "man page: query's --class gives $(echo $(cat "$work/man.classes")), verdict.c's table $(echo $classes)"

# 4. bash completion: sourced as bash-completion would, the function called with COMP_WORDS
# complete WORDS...: prints what _smaudit offers for the last word, sorted, one a line
cat >"$work/complete.sh" <<'EOF'
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_smaudit
printf '%s\n' "${COMPREPLY[@]}" | sort -u
EOF
complete() { bash "$work/complete.sh" "$p/share/bash-completion/completions/smaudit" smaudit "$@"; }
[ "$(complete au)" = audit ] && ok || bad "bash: 'smaudit au<TAB>' gives '$(complete au)', not 'audit'"
[ "$(complete "" | grep -v -- '^-\|^help$')" = "$(sort <<<"$commands")" ] && ok || bad "bash: 'smaudit <TAB>' does not give the commands"
[ "$(complete help ti)" = timeline ] && ok || bad "bash: 'smaudit help ti<TAB>'"
[ "$(complete audit --form)" = --format ] && ok || bad "bash: 'smaudit audit --form<TAB>' gives '$(complete audit --form)'"
for c in $commands; do # --format <TAB>: the formats of the command's --help
	want=$(help_formats "$c")
	[ -n "$want" ] || continue
	got=$(complete "$c" --format "")
	[ "$got" = "$want" ] && ok || bad "bash: 'smaudit $c --format <TAB>' gives '$(echo $got)', its --help '$(echo $want)'"
done
want=$("$bin" query --help | sed -n 's/^ *--class C  *//p' | sed 's/,/ /g; s/ or / /g' | tr ' ' '\n' | grep . | sort)
[ -n "$want" ] && [ "$(complete query --class "")" = "$want" ] && ok ||
	bad "bash: 'smaudit query --class <TAB>' gives '$(echo $(complete query --class ""))', its --help '$(echo $want)'"
[ "$(complete audit -s pcaps/site.c)" = pcaps/site.conf ] && ok || bad "bash: 'smaudit audit -s pcaps/site.c<TAB>' does not complete the file"
[ "$(complete audit -s pcaps/site.conf pcaps/mediator-d)" = pcaps/mediator-down.pcap ] && ok ||
	bad "bash: a capture after the options is not completed"
for c in $commands; do
	want=$(help_options "$c")
	got=$(complete "$c" -- | grep -- '^--')
	[ "$got" = "$want" ] && ok || { bad "bash: 'smaudit $c --<TAB>' differs from '$c --help':"; diff <(echo "$want") <(echo "$got") | head -5; }
done

# 5. zsh completion: _arguments stubbed to print the specs it is given
if command -v zsh >/dev/null; then
	for c in $commands; do
		want=$(help_options "$c")
		got=$(zsh -fc '_arguments() { print -rl -- "$@" }; compadd() { }; _call_program() { shift; "$@" }
			words=(smaudit '"$c"' --); CURRENT=3; source "$1"' zsh "$(ls "$p"/share/zsh/*/_smaudit)" 2>&1 |
			grep -oE -- '^\*?--[a-z-]+' | tr -d '*' | sort -u)
		[ "$got" = "$want" ] && ok || { bad "zsh: options of '$c' differ from '$c --help':"; diff <(echo "$want") <(echo "$got") | head -5; }
		want=$(help_formats "$c")
		[ -n "$want" ] || continue
		got=$(zsh -fc '_arguments() { print -rl -- "$@" }; compadd() { }; _call_program() { shift; "$@" }
			words=(smaudit '"$c"' --); CURRENT=3; source "$1"' zsh "$(ls "$p"/share/zsh/*/_smaudit)" 2>&1 |
			sed -n 's/^\*--format:format:(\(.*\))$/\1/p' | tr ' ' '\n' | sort)
		[ "$got" = "$want" ] && ok || bad "zsh: '$c --format' offers '$(echo $got)', its --help '$(echo $want)'"
	done
else
	echo "install: zsh not installed: its completion not checked (scripts/deps.sh --test installs it)"
fi

echo "install: $pass passed, $fail failed"
[ $fail -eq 0 ]
