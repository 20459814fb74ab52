#!/bin/bash
# `pnas show` in all three formats: text content, DOT accepted by Graphviz, SVG that parses as XML
# with the expected node and edge counts (2 inputs + 2 ops and 1 add per block + concat), --out,
# bad cells (exit 2 with the parser's message) and a missing Graphviz (exit 1).
# Usage: test_show.sh PNAS_BINARY
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-show-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
PY=$(command -v python3 || echo /usr/bin/python3)
bad() { echo "FAIL: $*"; fail=1; }

"$PNAS" show --cell pnasnet-5 > "$T/p5.txt" || bad "text rc"
for line in "b1  = sep5x5(H[c-2]) + max3x3(H[c-2])" "b4  = sep3x3(b3) + max3x3(H[c-1])" \
            "b5  = sep3x3(H[c-2]) + identity(H[c-1])" "out = concat(b1, b2, b3, b4, b5)" \
            "in0 = H[c-1]" "in1 = H[c-2]" "b3 feeds b4" \
            "canonical  1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep3x3,0:sep5x5;0:max3x3,4:sep3x3;0:identity,1:sep3x3"; do
  grep -qF -- "$line" "$T/p5.txt" || bad "text lacks '$line'"
done

# svg/dot checked for counts on three cells: (cell, blocks). Needs Graphviz.
have_dot=1
command -v dot > /dev/null || { have_dot=0; echo "no Graphviz dot on PATH: svg checks skipped"; }
[ $have_dot -eq 1 ] && for spec in "pnasnet-5 5" "0:dil3x3,1:identity;2:avg3x3,2:conv1x7_7x1 2" "1:sep7x7,1:sep7x7 1"; do
  cell=${spec% *}
  nb=${spec##* }
  "$PNAS" show --cell "$cell" --format dot --out "$T/c.dot" || bad "dot rc for $cell"
  dot -Tsvg "$T/c.dot" -o "$T/from_dot.svg" || bad "graphviz rejects our DOT for $cell"
  "$PNAS" show --cell "$cell" --format svg --out "$T/c.svg" || bad "svg --out rc for $cell"
  "$PNAS" show --cell "$cell" --format svg > "$T/c_stdout.svg" || bad "svg stdout rc for $cell"
  cmp -s "$T/c.svg" "$T/c_stdout.svg" || bad "svg via --out and stdout differ for $cell"
  "$PY" - "$T/c.svg" "$nb" <<'PYEOF' || bad "svg check for $cell"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
nb = int(sys.argv[2])
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
groups = list(root.iter(ns + "g"))
nodes = [g for g in groups if g.get("class") == "node"]
edges = [g for g in groups if g.get("class") == "edge"]
texts = [t.text for t in root.iter(ns + "text")]
want_nodes, want_edges = 2 + 3 * nb + 1, 4 * nb + nb
ok = len(nodes) == want_nodes and len(edges) == want_edges
ok = ok and "H[c-1]" in texts and "H[c-2]" in texts and "concat" in texts
ok = ok and all(("block %d" % (i + 1)) in texts for i in range(nb))
print(("svg ok: %d nodes, %d edges" if ok else "FAIL svg: %d nodes, %d edges") % (len(nodes), len(edges)))
sys.exit(0 if ok else 1)
PYEOF
done

# Bad cells: exit 2 and the parser's message; usage errors exit 2.
expect() { # want_rc pattern args...
  local want=$1 pat=$2
  shift 2
  "$PNAS" show "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$pat" "$T/err"; then
    bad "pnas show $* -> rc $rc (want $want), stderr: $(cat "$T/err")"
  fi
}
expect 2 "bad --cell: position" --cell '0:sep3x3,9:max3x3'
expect 2 "bad --cell" --cell '0:sep3x3,0:conv9x9'
expect 2 "bad --cell" --cell 'pnasnet-6' --format svg
expect 2 "bad --cell" --cell '' --format dot
expect 2 "unknown --format" --cell pnasnet-5 --format png
expect 2 "required" --format text
expect 2 "unknown option" --cell pnasnet-5 --colour
expect 1 "cannot write" --cell pnasnet-5 --out "$T/missing/dir/x.txt"
# Graphviz missing from PATH: a clear failure, not a crash.
PATH=/nonexistent "$PNAS" show --cell pnasnet-5 --format svg > "$T/out" 2> "$T/err"
rc=$?
{ [ $rc -eq 1 ] && grep -q "dot' not found on PATH" "$T/err" && [ ! -s "$T/out" ]; } ||
  bad "svg without graphviz -> rc $rc, stderr: $(cat "$T/err")"
"$PNAS" show --help > /dev/null || bad "--help rc"
[ $fail -ne 0 ] && exit 1
[ $have_dot -eq 0 ] && exit 77
echo "ok"
