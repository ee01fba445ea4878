#!/usr/bin/env bash
# The user documentation (docs/) against what smaudit really does: every field of the JSON
# report, of `report --list`, `timeline` and `diff` in JSON, and every table and column of
# a database it writes is named in docs/; the README, docs/, the man page and every
# --help point at docs/, not at a SPEC the repository does not ship.
# usage: tests/scripts/docs.sh SMAUDIT   (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/smaudit-docs.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
S=pcaps/site.conf

# JSON keys (every level) of the documents on stdin, one a line
keys() {
	python3 -c '
import json, sys
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            print(k); walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
walk(json.load(sys.stdin))' | sort -u
}
db=$work/a.db
for c in unexpected mismatch mediator-down rejected; do
	"$bin" audit -q -s $S -d "$db" --format json pcaps/$c.pcap
done >"$work/reports" 2>/dev/null
python3 -c '
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder(); i = 0; docs = []
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    d, i = dec.raw_decode(text, i); docs.append(d)
json.dump(docs, sys.stdout)' "$work/reports" | keys >"$work/k.report"
[ "$(wc -l <"$work/k.report")" -gt 30 ] && ok || bad "too few JSON report keys read ($(wc -l <"$work/k.report"))"
"$bin" report -d "$db" --list --format json | keys >"$work/k.list"
"$bin" timeline -d "$db" --run 3 --port 31784 --gap 1 --format json | keys >"$work/k.timeline"
"$bin" diff -d "$db" 1 2 --format json | keys >"$work/k.diff"
for k in $(sort -u "$work"/k.*); do
	grep -q "\`$k\`" docs/json.md && ok || bad "docs/json.md does not document the JSON field '$k'"
done

# every table and column of the database
sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table'" >"$work/tables" 2>/dev/null ||
	python3 -c 'import sqlite3, sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("SELECT name FROM sqlite_master WHERE type = \"table\"")]' "$db" >"$work/tables"
[ "$(wc -l <"$work/tables")" -ge 8 ] && ok || bad "too few tables read"
while read -r t; do
	grep -q "\`$t\`\|\`$t(" docs/schema.md && ok || bad "docs/schema.md does not document table '$t'"
	for col in $(python3 -c 'import sqlite3, sys; [print(r[1]) for r in sqlite3.connect(sys.argv[1]).execute("PRAGMA table_info(%s)" % sys.argv[2])]' "$db" "$t"); do
		grep -qE "\`$col\`|[(, ]$col[,)]" docs/schema.md && ok || bad "docs/schema.md does not document $t.$col"
	done
done <"$work/tables"
want_v=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$db")
grep -q "user_version\` ($want_v today)" docs/schema.md && ok || bad "docs/schema.md does not give schema version $want_v"

# verdicts and exit statuses
for v in ok no-answer rejected one-way not-seen filtered n/a; do
	grep -q "| \`$v\` |" docs/verdicts.md && ok || bad "docs/verdicts.md has no row for verdict '$v'"
done
for s in 0 1 2 3; do
	grep -q "^| $s |" docs/exit-status.md && ok || bad "docs/exit-status.md has no row for status $s"
done

# every protocol app=NAME takes (the error for an unknown one lists app.c's table) is
# named where users read the protocols: docs/site-file.md's app=NAME, docs/schema.md's
# sessions.app and the comment of the shipped rules
printf 'expect tcp/1 a -> b app=no-such-app "x"\n' >"$work/app.rules"
apps=$("$bin" check -s $S --rules "$work/app.rules" 2>&1 | sed -n "s/.*unknown app 'no-such-app': expected //p" |
	sed 's/ or /, /; s/, / /g')
[ "$(wc -w <<<"$apps")" -ge 4 ] && ok || bad "no list of protocols in the error for app=no-such-app: '$apps'"
for a in $apps; do
	grep '^- `app=NAME`' -A1 docs/site-file.md | grep -q "\`$a\`" && ok ||
		bad "docs/site-file.md does not name app=$a"
	grep -q "^| \`app\`.*\`$a\`" docs/schema.md && ok || bad "docs/schema.md does not name sessions.app '$a'"
	grep '^#   app=NAME' rules/sm-as.rules | grep -qw "$a" && ok ||
		bad "the comment of rules/sm-as.rules does not name app=$a"
done

# no reference to the unshipped SPEC where users read; links to docs/ resolve
helps=$("$bin" --help; for c in $("$bin" --complete); do "$bin" "$c" --help; done)
if grep -nw 'SPEC' README.md docs/*.md man/smaudit.1 rules/sm-as.rules >"$work/spec" || grep -q SPEC <<<"$helps"; then
	bad "SPEC is mentioned where users read it:"; cat "$work/spec"
else
	ok
fi
grep -q "'man smaudit'" <<<"$helps" && grep -q "docs/ (installed in share/doc/smaudit)" <<<"$helps" &&
	grep -q "json (its fields: docs/json.md)" <<<"$helps" && ok ||
	bad "smaudit --help does not point at the man page and docs/, or --format at docs/json.md"
for f in $(grep -ohE 'docs/[a-z-]+\.md' README.md man/smaudit.1 <(echo "$helps") | sort -u) \
	$(grep -ohE '\]\([a-z-]+\.md' docs/*.md | cut -c3- | sed 's|^|docs/|' | sort -u) \
	$(grep -oE '^\.Pa [a-z-]+\.md' man/smaudit.1 | cut -c5- | sed 's|^|docs/|' | sort -u); do
	[ -f "$f" ] && ok || bad "$f is referred to but does not exist"
done

# ARCHITECTURE.md stays a map of the tree: every source file is on it, and every
# file it names exists
for f in src/*.c src/*.h include/smaudit/*.h; do
	case $f in include/*) continue ;; esac
	grep -q "$(basename "$f")" ARCHITECTURE.md && ok || bad "ARCHITECTURE.md does not name $f"
done
for f in $(grep -ohE '`[a-z_]+\.[ch]`' ARCHITECTURE.md | tr -d '`' | sort -u); do
	case $f in pcap.h | nids.h | sqlite3.h) ok; continue ;; esac
	[ -f "src/$f" ] || [ -f "include/smaudit/$f" ] && ok || bad "ARCHITECTURE.md names $f, which does not exist"
done

echo "docs: $pass passed, $fail failed"
[ $fail -eq 0 ]
