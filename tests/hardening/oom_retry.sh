#!/usr/bin/env bash
# Trustworthy runs, item 4: a child recorded as failed out of memory is trained again by
# --resume (said on stderr), once; a child that failed for another reason is kept as it is.
# The failures are made by rewriting two records of a finished run's log (frame and CRC redone).
# Usage: oom_retry.sh PNAS
set -u
PNAS=$1
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-oom.XXXXXX)
trap 'rm -rf "$T"' EXIT
SMALL=(--ops identity,max3x3 --beam 2 --max-blocks 2 --N 1 --F 2 --epochs 1 --batch 32
       --train-subset 64 --val-subset 64 --members 2 --predictor-epochs 2 --seed 5 --threads 1)
fail() { echo "FAIL: $*"; [ -f "$T/err" ] && tail -5 "$T/err"; exit 1; }

"$PNAS" search "${SMALL[@]}" --run "$T/r" > /dev/null 2> "$T/err" || fail "reference search"
n0=$(records "$T/r" | wc -l)
# Record 2 (level 1): out of memory; record 11 (level 2): another failure. The retried child
# trains to the same accuracy (its seed is its hash), so the rest of the replay is unchanged.
python3 - "$T/r/results.log" << 'PY' || fail "rewriting the log"
import struct, sys, zlib
p = sys.argv[1]; d = open(p, "rb").read()
def fixstr(s):
    b = s.encode(); return (bytes([0xa0 | len(b)]) if len(b) < 32 else bytes([0xd9, len(b)])) + b
fail = {2: "out of GPU memory: cudaMalloc of 12 MB", 11: "loss is NaN (diverged)"}
out, off, i = bytearray(d[:12]), 12, 0
while off < len(d):
    n = struct.unpack_from("<I", d, off)[0]; pl = d[off + 8:off + 8 + n]
    if i in fail:
        for old, new in ((b"\xa2ok\xc3", b"\xa2ok\xc2"), (b"\xa6reason\xa0", b"\xa6reason" + fixstr(fail[i]))):
            assert pl.count(old) == 1, (i, old); pl = pl.replace(old, new)
    out += struct.pack("<II", len(pl), zlib.crc32(pl) & 0xffffffff) + pl
    off += 8 + n; i += 1
open(p, "wb").write(out)
PY
oom_cell=$(records "$T/r" | sed -n 3p | cut -d' ' -f3)
other_cell=$(records "$T/r" | sed -n 12p | cut -d' ' -f3)
"$PNAS" inspect "$T/r" --json | grep -q '"reason": "out of GPU memory' || fail "the rewritten log does not read back"

"$PNAS" search --resume "$T/r" > /dev/null 2> "$T/err" || fail "resume"
grep -q "pnas: 1 child failed out of memory last time: training it again (other failures are kept)" \
  "$T/err" || fail "the retry is not said"
n1=$(records "$T/r" | wc -l)
[ "$n1" = $((n0 + 1)) ] || fail "$n1 records after the resume, want $((n0 + 1)) (the out-of-memory child once more)"
last=$("$PNAS" inspect "$T/r" --json | tail -1)
case $last in *"\"cell\": \"$oom_cell\""*'"ok": true'*) ;; *) fail "the last record is not the retried $oom_cell: $last" ;; esac
[ "$("$PNAS" inspect "$T/r" --json | grep -c "\"cell\": \"$other_cell\"")" = 1 ] ||
  fail "the child that failed for another reason was trained again"

# Resumed again: the retried child now has a good record; nothing more trains.
"$PNAS" search --resume "$T/r" > /dev/null 2> "$T/err" || fail "second resume"
! grep -q "failed out of memory last time" "$T/err" || fail "the second resume retried again"
[ "$(records "$T/r" | wc -l)" = "$n1" ] || fail "the second resume trained something"
echo "out-of-memory failures: retried once by --resume (said); other failures kept"
