#!/bin/bash
# `pnas export --format pytorch|json` checked with PyTorch: several cells and (N, F, dataset)
# settings; the module must build, run forward/backward and match `pnas cost --json` (params and
# mult-adds) and the JSON tensor list. Skips (exit 77) when /usr/bin/python3 cannot import torch.
# `pnas export --run DIR` is checked on the committed benchmark table (a run directory): the best
# cell, found here from the TSV export, must be the one exported, on the run's dataset.
# Usage: test_export.sh PNAS_BINARY CHECK_PYTORCH_PY RUN_DIR
set -u
PNAS=$1
CHECK=$2
RUN=$3
PY=/usr/bin/python3 # Debian's python with torch; plain python3 on PATH may lack it
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "SKIP: $PY cannot import torch"
  exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-export-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
args=()
k=0
# cell | export/cost flags
while IFS='|' read -r cell flags; do
  [ -z "$cell" ] && continue
  k=$((k + 1))
  # shellcheck disable=SC2086
  if ! "$PNAS" export --cell "$cell" --format pytorch $flags --out "$T/m$k.py" ||
     ! "$PNAS" export --cell "$cell" --format json $flags --out "$T/g$k.json" ||
     ! "$PNAS" cost --cell "$cell" --json $flags > "$T/c$k.json"; then
    echo "FAIL: export/cost of '$cell' with '$flags'"
    fail=1
    continue
  fi
  args+=("$T/m$k.py" "$T/g$k.json" "$T/c$k.json")
done <<'CASES'
pnasnet-5|--dataset cifar10 --N 3 --F 48
pnasnet-5|--dataset fashion-mnist --N 2 --F 24
1:identity,0:dil3x3;2:conv1x7_7x1,0:avg3x3;3:max3x3,1:identity|--dataset fashion-mnist --N 1 --F 8
0:identity,1:identity|--dataset cifar10 --N 2 --F 6 --image-size 5 --classes 3
0:max3x3,1:sep3x3;0:identity,2:dil3x3|--dataset cifar10 --N 2 --F 16 --stem-multiplier 1
0:sep7x7,1:avg3x3|--dataset imagenet --N 1 --F 30 --image-size 64 --classes 5 --stem-multiplier 2
CASES
# --run: the run's best cell (highest accuracy over all levels, ties by hash, computed here from
# the TSV export) on the run's dataset (fashion-mnist: a 1-channel input the module must take).
best=$("$PNAS" table export "$RUN" --format tsv | "$PY" -c '
import sys
rows = [l.rstrip("\n").split("\t") for l in sys.stdin][1:]
ok = [r for r in rows if r[6] == "1"]
top = max(float(r[2]) for r in ok)
print([r[0] for r in ok if float(r[2]) == top][0] if sum(float(r[2]) == top for r in ok) == 1 else "TIE")')
if "$PNAS" export --run "$RUN" --format pytorch --out "$T/run.py" 2> "$T/run.err" &&
   "$PNAS" export --run "$RUN" --format json --out "$T/run.json" 2>> "$T/run.err" &&
   "$PNAS" cost --cell "$best" --dataset fashion-mnist --json > "$T/runc.json"; then
  args+=("$T/run.py" "$T/run.json" "$T/runc.json")
  grep -q "^CELL_TEXT = \"$best\"" "$T/run.py" && grep -q '^IN_CHANNELS = 1$' "$T/run.py" ||
    { echo "FAIL: export --run: want cell $best on fashion-mnist, got $(grep -E '^(CELL_TEXT|IN_CHANNELS)' "$T/run.py")"; fail=1; }
  grep -q "best cell of run .*: $best" "$T/run.err" && grep -q "children were N=1 F=8" "$T/run.err" ||
    { echo "FAIL: export --run stderr: $(cat "$T/run.err")"; fail=1; }
else
  echo "FAIL: export --run $RUN: $(cat "$T/run.err")"
  fail=1
fi
"$PY" "$CHECK" "${args[@]}" || fail=1

# The JSON genotype itself.
"$PNAS" export --cell pnasnet-5 > "$T/p5.json" || fail=1
"$PY" - "$T/p5.json" <<'PYEOF' || fail=1
import json, sys
g = json.load(open(sys.argv[1]))
want_blocks = [[1, "sep5x5", 1, "max3x3"], [0, "sep7x7", 0, "max3x3"], [0, "sep5x5", 0, "sep3x3"],
               [4, "sep3x3", 0, "max3x3"], [1, "sep3x3", 0, "identity"]]
ok = (g["format"] == "pnas-genotype" and g["version"] == 1 and g["blocks"] == want_blocks
      and g["nblocks"] == 5 and g["N"] == 3 and g["F"] == 48 and g["dataset"] == "cifar10"
      and g["cell"] == "1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep5x5,0:sep3x3;4:sep3x3,0:max3x3;1:sep3x3,0:identity"
      and g["canonical"] == "1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;0:sep3x3,0:sep5x5;0:max3x3,4:sep3x3;0:identity,1:sep3x3"
      and len(g["hash"]) == 16 and int(g["hash"], 16) > 0 and len(g["cells"]) == 9
      and [c["stride"] for c in g["cells"]] == [1, 1, 1, 2, 1, 1, 2, 1, 1]
      and [c["filters"] for c in g["cells"]] == [48, 48, 48, 96, 96, 96, 192, 192, 192]
      and 3.1e6 < g["params"] < 3.3e6  # paper: 3.2M
      and sorted(g["operators"]) == ["identity", "max3x3", "sep3x3", "sep5x5", "sep7x7"]
      and g["operators"]["identity"] == [] and g["operators"]["max3x3"] == [
          {"layer": "max", "kernel": [3, 3], "dilation": 1, "strided": True}]
      and [(l["layer"], l.get("kernel"), l.get("strided")) for l in g["operators"]["sep5x5"]] == [
          ("relu", None, None), ("dw", [5, 5], True), ("conv", [1, 1], False), ("bn", None, None),
          ("relu", None, None), ("dw", [5, 5], False), ("conv", [1, 1], False), ("bn", None, None)]
      and [l["layer"] for l in g["projection"]] == ["relu", "conv", "bn"])
print("json genotype ok" if ok else "FAIL: json genotype %s" % json.dumps(g)[:600])
sys.exit(0 if ok else 1)
PYEOF
# The same architecture in another branch order has the same hash and canonical form.
h1=$("$PNAS" export --cell '0:sep3x3,1:max3x3' | grep '"hash"')
h2=$("$PNAS" export --cell '1:max3x3,0:sep3x3' | grep '"hash"')
[ -n "$h1" ] && [ "$h1" = "$h2" ] || { echo "FAIL: hash differs for swapped branches: $h1 / $h2"; fail=1; }

# Usage errors exit 2, impossible configurations exit 1.
expect() { # want_rc pattern args...
  local want=$1 pat=$2
  shift 2
  "$PNAS" export "$@" > /dev/null 2> "$T/err"
  local rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$pat" "$T/err"; then
    echo "FAIL: pnas export $* -> rc $rc (want $want), stderr: $(cat "$T/err")"
    fail=1
  fi
}
expect 2 "bad --cell" --cell '0:sep3x3,5:max3x3'
expect 2 "bad --cell" --cell 'nonsense'
expect 2 "unknown --format" --cell pnasnet-5 --format onnx
expect 2 "unknown --dataset" --cell pnasnet-5 --dataset mnist
expect 2 "give --cell" --format json
expect 2 "trained on fashion-mnist" --run "$RUN" --dataset cifar10
expect 1 "config.msgpack" --run "$T/no-such-run"
expect 1 "cannot write" --cell pnasnet-5 --out "$T/no/such/dir/x.json"
[ $fail -eq 0 ] && echo "ok"
exit $fail
