#!/usr/bin/env bash
# The HTML report as a browser shows it, at 1400 and 400 px wide (headless Chromium):
# the title names the capture, the header the time range, site file and filter, the
# first section is the failing flows, nothing overflows at 400 px, role names are not
# broken, n/a rows are one line, findings are not <pre>, the timeline has a time axis,
# the extract hint only with a database.  Figures come from the JSON report of the
# same run.  Screenshots: OUTDIR/report-1400.png, report-400.png (mediator-down) and
# report-outage-1400.png, report-outage-400.png.
# usage: report-html.sh SMAUDIT OUTDIR      (run from the repository root)
set -u
bin=$(readlink -f "$1")
outdir=$(readlink -f "${2:-.}")
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "SKIP: no chromium (scripts/deps.sh --test installs it)"
	exit 77
fi
work=$(mktemp -d /tmp/smaudit-html.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
S=pcaps/site.conf
flags="--headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars
       --allow-file-access-from-files --user-data-dir=$work/chrome"

# Headless Chromium lays a window out at 500 px at least: the report is loaded in an
# iframe of the wanted width, so its viewport (and media queries) are that width.
frame() { # html width height [probe]
	local probe=""
	[ -n "${4:-}" ] && probe=" onload=\"probe(this)\""
	printf '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}'
	printf 'iframe{border:0;display:block}</style>\n'
	[ -n "${4:-}" ] && cat "$4"
	printf '</head><body><iframe src="file://%s" width="%s" height="%s"%s></iframe></body></html>\n' \
		"$1" "$2" "$3" "$probe"
}
# Measurements of the page, written into the wrapper's DOM for --dump-dom.
cat >"$work/probe.js" <<'JS'
<script>
function probe(f) {
	const d = f.contentDocument, de = d.documentElement, W = de.clientWidth;
	const text = e => e ? e.textContent.replace(/\s+/g, " ").trim() : null;
	const firstSection = d.querySelector("body > section, main > section");
	const rows = [...d.querySelectorAll("#matrix tr")].filter(r => r.querySelector("[data-verdict]"));
	const out = {
		title: d.title,
		width: W,
		scrollWidth: de.scrollWidth,
		height: de.scrollHeight,
		header: text(d.querySelector("header")),
		first_section: firstSection ? firstSection.id : null,
		first_heading: firstSection ? text(firstSection.querySelector("h2")) : null,
		pre_in_findings: d.querySelectorAll("#failing pre").length,
		findings: d.querySelectorAll("#failing .finding:not(.partial)").length,
		// elements wider than the page or drawn past its right edge
		overflowing: [...d.querySelectorAll("body *")].filter(e => {
			const r = e.getBoundingClientRect();
			return r.width > 0 && r.right > W + 0.5;
		}).slice(0, 8).map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " " + text(e).slice(0, 40)),
		cells_cut: [...d.querySelectorAll("[data-verdict]")].filter(e => {
			const r = e.getBoundingClientRect();
			return r.width === 0 || r.right > W + 0.5;
		}).length,
		cells: d.querySelectorAll("[data-verdict]").length,
		// a role or address drawn on more than one line was broken inside the word
		broken_words: [...d.querySelectorAll(".role, .addr, .flow, .nw")].filter(e => e.getClientRects().length > 1 ||
			(e.getClientRects().length === 1 && e.getBoundingClientRect().height > 1.9 * parseFloat(getComputedStyle(e).lineHeight || 16))).map(text).slice(0, 8),
		roles: d.querySelectorAll(".role").length,
		na_rows_in_matrix: rows.filter(r => [...r.querySelectorAll("[data-verdict]")].every(c => c.dataset.verdict === "n/a")).length,
		na_summary: text(d.querySelector("details#na > summary")),
		na_listed: d.querySelectorAll("details#na li").length,
		axis: [...d.querySelectorAll("#timeline .axis span")].map(text),
		// labels of the time axis drawn over each other
		axis_overlap: (() => {
			const a = d.querySelector("#timeline .axis");
			const r = a ? [...a.querySelectorAll("span")].map(e => e.getBoundingClientRect()).filter(r => r.width > 0) : [];
			return r.some((x, i) => i > 0 && r[i - 1].right > x.left || x.left < 0 || x.right > W + 0.5);
		})(),
		timeline_bars: d.querySelectorAll("#timeline svg").length,
		extract_hint: text(d.querySelector("#extract")),
		body_text: text(d.body),
	};
	document.body.insertAdjacentHTML("beforeend", "<pre id=\"probe\"></pre>");
	document.getElementById("probe").textContent = JSON.stringify(out);
}
</script>
JS

# render NAME WIDTH: probe.json, then a screenshot of the whole page
render() {
	local name=$1 w=$2 html=$work/$1.html
	frame "$html" "$w" 1000 "$work/probe.js" >"$work/$name-$w-probe.html"
	timeout 120 "$browser" $flags --window-size=1400,1000 --dump-dom \
		"file://$work/$name-$w-probe.html" 2>/dev/null |
		python3 -c 'import sys, re, html
m = re.search(r"<pre id=\"probe\">(.*?)</pre>", sys.stdin.read(), re.S)
print(html.unescape(m.group(1)) if m else "{}")' >"$work/$name-$w.json"
	local h
	h=$(python3 -c 'import json,sys; print(min(json.load(open(sys.argv[1])).get("height", 1000), 8000))' "$work/$name-$w.json")
	frame "$html" "$w" "$h" >"$work/$name-$w-shot.html"
	local shot=$outdir/report-$3$w.png
	rm -f "$shot"
	# the window is 500 px at least: a 400 px screenshot is its left 400 px
	timeout 120 "$browser" $flags --window-size="$w,$h" --screenshot="$shot" \
		"file://$work/$name-$w-shot.html" >/dev/null 2>&1
	if [ -s "$shot" ] && [ "$(head -c 4 "$shot" | od -An -c | tr -d ' ')" = "211PNG" ]; then
		echo "screenshot ($name, $w px): $shot"
		ok
	else
		bad "$name at $w px: no screenshot from $browser"
	fi
}

# mediator-down with a database (the extract hint names it), outage through a filter
# and without one
db=$work/incident.db
"$bin" audit -q -s $S -d "$db" --format html -o "$work/md.html" pcaps/mediator-down.pcap
"$bin" report -d "$db" --format json -o "$work/md-report.json"
"$bin" audit -q -s $S -f ip --format html -o "$work/out.html" pcaps/outage.pcap
"$bin" audit -q -s $S -f ip --format json -o "$work/out-report.json" pcaps/outage.pcap
[ -s "$work/md.html" ] && [ -s "$work/out.html" ] && ok || bad "no HTML report written"

for w in 1400 400; do
	render md $w ""
	render out $w "outage-"
done

cat >"$work/checks.py" <<'PY'
import datetime, json, re, sys
p, rep = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
cap, db, W = sys.argv[3], sys.argv[4], int(sys.argv[5])
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
def utc(ts, fmt):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(fmt)
run = rep["run"]
check(cap in p.get("title", ""), f"title {p.get('title')!r} does not name {cap}")
hdr = p.get("header") or ""
check(hdr, "no <header>")
for s in run["sources"]:
    check(s in hdr, f"header lacks the capture {s}")
check(utc(run["first_ts"], "%Y-%m-%d %H:%M:%S") in hdr and utc(run["last_ts"], "%H:%M:%S") in hdr,
      f"header lacks the time range: {hdr!r}")
check("pcaps/site.conf" in hdr, f"header lacks the site file: {hdr!r}")
check(re.search(r"filter:? " + re.escape(run["filter"] or "none"), hdr), f"header lacks the filter: {hdr!r}")
missing = [e for e in rep["expected"] if e["kind"] == "expect" and e["verdict"] not in ("ok", "n/a", "filtered")]
check(p.get("first_section") == "failing", f"first section is {p.get('first_section')!r}, not the failing flows")
check((p.get("first_heading") or "").startswith(f"Failing flows ({len(missing)})"),
      f"first heading {p.get('first_heading')!r}, expected 'Failing flows ({len(missing)})'")
check(p.get("findings") == len(missing), f"{p.get('findings')} findings shown, {len(missing)} missing flows")
check(p.get("pre_in_findings") == 0, f"{p.get('pre_in_findings')} <pre> blocks in the findings")
check(p.get("scrollWidth", 1e9) <= W, f"page is {p.get('scrollWidth')} px wide in a {W} px viewport: {p.get('overflowing')}")
check(p.get("cells", 0) > 0 and p.get("cells_cut") == 0, f"{p.get('cells_cut')} of {p.get('cells')} matrix cells cut off")
check(p.get("roles", 0) > 0 and not p.get("broken_words"), f"names broken across lines: {p.get('broken_words')}")
na = [e for e in rep["expected"] if e["verdict"] == "n/a"]
if na:
    check(p.get("na_rows_in_matrix") == 0, f"{p.get('na_rows_in_matrix')} all-n/a rows in the matrix")
    check(str(len(na)) in (p.get("na_summary") or ""), f"n/a summary {p.get('na_summary')!r} lacks the count {len(na)}")
    check(p.get("na_listed") == len(na), f"{p.get('na_listed')} n/a flows listed, {len(na)} in the run")
axis = p.get("axis") or []
check(len(axis) >= 3 and all(re.fullmatch(r"\d\d:\d\d:\d\d(\.\d)?", a) for a in axis), f"timeline axis {axis}")
check(axis[:1] == [utc(run["first_ts"], "%H:%M:%S")] or (axis and axis[0].startswith(utc(run["first_ts"], "%H:%M:%S"))),
      f"axis starts at {axis[:1]}, the capture at {utc(run['first_ts'], '%H:%M:%S')}")
check(p.get("timeline_bars", 0) > 0, "no timeline bar")
check(p.get("axis_overlap") is False, "labels of the time axis overlap or stick out")
hint = p.get("extract_hint")
if db:
    check(hint and f"smaudit extract -d {db}" in hint, f"extract hint {hint!r} does not name the database")
else:
    check(hint is None and "smaudit extract" not in p.get("body_text", ""), "extract hint without a database")
for e in errors:
    print(f"  {cap} at {W} px: {e}")
sys.exit(1 if errors else 0)
PY
for w in 1400 400; do
	python3 "$work/checks.py" "$work/md-$w.json" "$work/md-report.json" mediator-down.pcap "$db" $w &&
		ok || bad "mediator-down at $w px"
	python3 "$work/checks.py" "$work/out-$w.json" "$work/out-report.json" outage.pcap "" $w &&
		ok || bad "outage at $w px"
done
echo "report_html: $pass passed, $fail failed"
[ $fail -eq 0 ]
