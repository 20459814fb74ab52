#!/usr/bin/env bash
# --strategy prune (network slimming) end to end on a tiny real network: an unreachable budget is
# refused before anything trains; a run trains the wide base network and the pruned one (two
# records, the pruned within --max-params), writes pruned-arch.txt; resume retrains nothing;
# `pnas train|show|export --arch` take it (export's parameters equal the file's); a report of
# the run counts only the pruned network; damaged or wrong architecture files are refused with
# a message naming the problem.
set -u
PNAS=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-prune.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
CELL='0:sep3x3,1:sep5x5;0:sep3x3,2:max3x3'
A=(--strategy prune --cell "$CELL" --N 1 --F 4 --batch 32 --train-subset 300 --val-subset 200
   --threads 1 --device cpu)
# Unreachable: refused before training, nothing recorded.
"$PNAS" search "${A[@]}" --max-params 1000 --run "$T/u" > /dev/null 2> "$T/u.err" && fail "budget 1000 accepted"
grep -q "out of reach" "$T/u.err" || fail "message: $(cat "$T/u.err")"
[ ! -s "$T/u/results.log" ] || [ "$(wc -c < "$T/u/results.log")" -le 16 ] || fail "something trained"
"$PNAS" search --strategy prune --N 1 --F 4 --device cpu --run "$T/nb" > /dev/null 2> "$T/nb.err" &&
  fail "no budget accepted"
grep -q "needs a budget" "$T/nb.err" || fail "message: $(cat "$T/nb.err")"
# Full size and the minimum, from the cost model, to pick a budget in between.
full=$("$PNAS" cost --cell "$CELL" --dataset fashion-mnist --N 1 --F 8 --json | sed 's/.*"params": \([0-9]*\).*/\1/')
B=$((full * 2 / 3))
"$PNAS" search "${A[@]}" --max-params $B --run "$T/p" > "$T/p.out" 2> "$T/p.err" || fail "prune: $(tail -3 "$T/p.err")"
grep -q "pruned network of cell" "$T/p.out" || fail "summary: $(cat "$T/p.out")"
[ -f "$T/p/pruned-arch.txt" ] || fail "no pruned-arch.txt"
"$PNAS" inspect "$T/p" --json > "$T/p.json" || fail "inspect"
[ "$(grep -c '"strategy": "prune"' "$T/p.json")" = 2 ] || fail "two records expected: $(cat "$T/p.json")"
p1=$(sed -n 1p "$T/p.json" | sed 's/.*"params": \([0-9]*\).*/\1/')
p2=$(sed -n 2p "$T/p.json" | sed 's/.*"params": \([0-9]*\).*/\1/')
[ "$p1" = "$full" ] || fail "base network $p1 params, want $full (F x 2)"
[ "$p2" -le $B ] || fail "pruned network $p2 params over the budget $B"
grep -q "^params $p2\$" "$T/p/pruned-arch.txt" || fail "file params differ from the record's"
# Resume: nothing trains again.
"$PNAS" search --resume "$T/p" > /dev/null 2> "$T/r.err" || fail "resume: $(tail -3 "$T/r.err")"
[ "$("$PNAS" inspect "$T/p" --json | wc -l)" = 2 ] || fail "resume trained again"
# train / show / export take the pruned network.
"$PNAS" train --arch "$T/p" --train-subset 200 --val-subset 100 --batch 32 --threads 1 --backend cpu --json > "$T/t.json" 2> /dev/null ||
  fail "train --arch"
grep -q "\"params\": $p2" "$T/t.json" || fail "train --arch built another network: $(cat "$T/t.json")"
"$PNAS" train --arch "$T/p" --N 2 > /dev/null 2> "$T/e.err" && fail "train --arch --N accepted"
"$PNAS" show --arch "$T/p/pruned-arch.txt" > "$T/show" || fail "show --arch"
grep -q "pruned network (network slimming): N=1 F=8" "$T/show" || fail "show: $(cat "$T/show")"
grep -q "b1 left sep3x3 [0-9]*/8" "$T/show" || fail "show lists no channels: $(cat "$T/show")"
"$PNAS" export --run "$T/p" --out "$T/g.json" || fail "export --run of a prune run"
grep -q "\"params\": $p2," "$T/g.json" || fail "export params: $(grep params "$T/g.json")"
# A report of the run: the answer is the pruned network, not the wider base.
"$PNAS" report "$T/p" --out "$T/rep" > /dev/null 2>&1 || fail "report"
acc2=$(sed -n 2p "$T/p.json" | sed 's/.*"val_acc": \([0-9.]*\).*/\1/')
grep "^| prune |" "$T/rep/report.md" | head -1 | grep -q "$(printf '%.4f' "$acc2")" ||
  fail "report's prune row is not the pruned network's $acc2: $(grep '^| prune' "$T/rep/report.md")"
# Bad architecture files: each refused with a message naming the problem.
F=$T/p/pruned-arch.txt
bad() { # NAME EXPECTED-WORDS: train --arch on $T/bad must fail and say so
  "$PNAS" show --arch "$T/bad" > /dev/null 2> "$T/bad.err" && fail "$1 accepted"
  grep -q "$2" "$T/bad.err" || fail "$1: message '$(cat "$T/bad.err")' lacks '$2'"
}
head -c 40 "$F" > "$T/bad"; bad truncated "truncated\|crc32"
printf 'hello\n' > "$T/bad"; bad "wrong magic" "not a pruned architecture"
head -c 300 /dev/urandom > "$T/bad"; bad garbage "not a pruned architecture\|binary data"
sed 's/^stem \([0-9]*\)/stem 1\1/' "$F" > "$T/bad"; bad "edited without resealing" "checksum mismatch"
: > "$T/bad"; bad empty "empty file"
reseal() { /usr/bin/python3 -c "
import sys, zlib
b = open(sys.argv[1], 'rb').read().split(b'\n')
body = b'\n'.join(b[:-2]) + b'\n'
open(sys.argv[1], 'wb').write(body + b'crc32 %08x\n' % zlib.crc32(body))" "$T/bad"; }
grep -v '^inner 0 1 left' "$F" | sed 's/^inner 0 2 left \([0-9]*\)/inner 0 2 right \1/' > "$T/bad"; reseal
bad "inner entry on a max pool" "no separable op there"
sed 's/^params \([0-9]*\)/params 12345/' "$F" > "$T/bad"; reseal; bad "wrong params" "the cost model gives"
sed 's/^N 1/N 99/' "$F" > "$T/bad"; reseal; bad "N out of range" "N must be an integer 1..16"
sed 's/^F 8/G 8/' "$F" > "$T/bad"; reseal; bad "unknown key" "unknown key 'G'"
mkdir "$T/emptydir"; "$PNAS" train --arch "$T/emptydir" > /dev/null 2> "$T/d.err" && fail "a directory without the file accepted"
grep -q "No such file" "$T/d.err" || fail "message: $(cat "$T/d.err")"
echo "ok: --strategy prune"
