#!/bin/sh
# `pnas predict` end to end: a saved model, text and JSON output, repeated --cell, --file,
# and the failures (bad cell = usage error 2, damaged model = 1 with a message).
# usage: cli_predict.sh PNAS MAKE_MODEL
set -u
PNAS=$1
MAKE=$2
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$MAKE" "$D/m.msgpack" || fail "fixture"
out=$("$PNAS" predict --model "$D/m.msgpack" --cell pnasnet-5 --cell '0:sep3x3,1:identity') ||
  fail "predict exit $?"
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 2 ] || fail "expected 2 lines"
echo "$out" | head -1 | grep -Eq '^0\.[0-9]{4} \+- 0\.[0-9]{4}  1:sep5x5,1:max3x3;0:sep7x7,0:max3x3;' ||
  fail "text format / canonical cell"
js=$("$PNAS" predict --model "$D/m.msgpack" --cell=pnasnet-5 --json) || fail "json exit"
echo "$js"
echo "$js" | grep -q '"kind": "ridge", "members": 5, "predictions": \[{"cell": "1:sep5x5,1:max3x3' ||
  fail "json"
printf '# cells\n0:sep3x3,1:identity\n\n1:avg3x3,0:dil3x3  # comment\n' >"$D/cells.txt"
n=$("$PNAS" predict --model "$D/m.msgpack" --file "$D/cells.txt" | wc -l)
[ "$n" -eq 2 ] || fail "--file gave $n lines"
"$PNAS" predict --model "$D/m.msgpack" --cell '0:bogus,0:identity' 2>"$D/err"
[ $? -eq 2 ] || fail "bad cell should exit 2"
grep -q "bad cell" "$D/err" || fail "bad cell message"
"$PNAS" predict --cell pnasnet-5 2>/dev/null
[ $? -eq 2 ] || fail "missing --model should exit 2"
head -c 100 "$D/m.msgpack" >"$D/t.msgpack"
"$PNAS" predict --model "$D/t.msgpack" --cell pnasnet-5 2>"$D/err"
[ $? -eq 1 ] || fail "truncated model should exit 1"
cat "$D/err"
grep -q "truncated" "$D/err" || fail "truncated message"
# The checksum is zlib's crc32 of every byte before the final "crc32" entry (a5 crc32 ce + u32).
python3 "$(dirname "$0")/../check_sealed.py" "$D/m.msgpack" ||
  fail "the file's checksum is not zlib's crc32 of the rest"
# Variants: a flipped byte (crc kept), a NaN weight / a huge weight (crc recomputed), and the
# file as written before checksums (map of 7 entries, no crc32 entry).
python3 - "$D" <<'PY' || fail "cannot make the damaged variants"
import struct, sys, zlib
D = sys.argv[1]; d = bytearray(open(D + "/m.msgpack", "rb").read())
def crc(b): return bytes(b[:-4]) + struct.pack(">I", zlib.crc32(bytes(b[:-11])))
f = bytearray(d); f[len(d) // 2] ^= 0x04; open(D + "/flip.msgpack", "wb").write(f)
i = d.find(b"\xa4data\xc4") + 7  # the first weight of the first tensor stored as bin8: ridge "b"
v = bytearray(d); v[i:i + 4] = struct.pack("<f", float("nan")); open(D + "/nan.msgpack", "wb").write(crc(v))
v, j = bytearray(d), 0  # every weight 3e38: all finite, the scores overflow to inf
while (j := d.find(b"\xa4data", j) + 1) > 0:
    n, at = (d[j + 5], j + 6) if d[j + 4] == 0xc4 else (struct.unpack(">H", d[j + 5:j + 7])[0], j + 7)
    v[at:at + n] = struct.pack("<f", 3e38) * (n // 4)
open(D + "/huge.msgpack", "wb").write(crc(v))
# as written before checksums and the fitted-on domain: 7 entries, no "domain", no "crc32"
a, b = d.find(b"\xa6domain"), d.find(b"\xa7members")
assert 0 < a < b, (a, b)
o = bytearray(d[:a] + d[b:-11]); o[0] = 0x87; open(D + "/old.msgpack", "wb").write(bytes(o))
PY
"$PNAS" predict --model "$D/flip.msgpack" --cell pnasnet-5 > "$D/out" 2> "$D/err"
[ $? -eq 1 ] || fail "a flipped byte should exit 1"
grep -q "flip.msgpack: predictor file is damaged (checksum mismatch" "$D/err" || fail "flip message: $(cat "$D/err")"
[ ! -s "$D/out" ] || fail "output from a corrupt model"
"$PNAS" predict --model "$D/nan.msgpack" --cell pnasnet-5 > "$D/out" 2> "$D/err"
[ $? -eq 1 ] || fail "a NaN weight should exit 1"
grep -q "nan.msgpack: predictor file: member 0 tensor \"b\" holds a non-finite weight (nan" "$D/err" ||
  fail "NaN message: $(cat "$D/err")"
[ ! -s "$D/out" ] || fail "output from a NaN model"
cat "$D/err"
"$PNAS" predict --model "$D/huge.msgpack" --cell pnasnet-5 --cell 0:identity,0:identity > "$D/out" 2> "$D/err"
rc=$?
cat "$D/out" "$D/err"
grep -qi nan "$D/out" && fail "predict printed nan"
[ $rc -eq 1 ] || fail "huge weights: exit $rc, want 1"
grep -q "huge.msgpack: the predictor gives a non-finite score" "$D/err" || fail "huge weights: no message"
"$PNAS" predict --model "$D/old.msgpack" --cell pnasnet-5 > "$D/out" 2> "$D/err" || fail "a file without checksum"
[ "$(cat "$D/out")" = "$(echo "$out" | head -1)" ] || fail "the file without checksum predicts otherwise"
grep -q "does not record what it was fitted on" "$D/err" || fail "old file: no word on its unknown domain"
# What the model was fitted on (200 cells of 1..5 blocks over all operators) is in the file and
# in the JSON; a cell inside it is no extrapolation.
echo "$js" | grep -q '"within_fit": true' || fail "json: within_fit"
echo "$js" | grep -q '"fitted_on": {"cells": 200, "max_blocks": 5, "ops": "identity,sep3x3,sep5x5,sep7x7,conv1x7_7x1,avg3x3,max3x3,dil3x3"}' ||
  fail "json: fitted_on: $js"
python3 - "$D/m.msgpack" "$D/dom.msgpack" <<'PY' || fail "cannot make the damaged-domain variant"
import struct, sys, zlib
d = bytearray(open(sys.argv[1], "rb").read())
i = d.find(b"\xaamax_blocks") + 11  # positive fixint 5 -> 99: more blocks than a cell can have
assert d[i] == 5, d[i]
d[i] = 99
open(sys.argv[2], "wb").write(bytes(d[:-4]) + struct.pack(">I", zlib.crc32(bytes(d[:-11]))))
PY
"$PNAS" predict --model "$D/dom.msgpack" --cell pnasnet-5 > "$D/out" 2> "$D/err"
[ $? -eq 1 ] && grep -q 'bad "domain" entry' "$D/err" || fail "a bad domain entry: $(cat "$D/err")"
echo ok
