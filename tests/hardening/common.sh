# Shared by the hardening tests (sourced). The small real search they all use, and helpers.
ARGS=(--ops sep3x3,max3x3,identity --beam 4 --max-blocks 2 --N 1 --F 4 --epochs 1 --batch 32
      --train-subset 600 --val-subset 300 --members 2 --predictor-epochs 20 --seed 3 --threads 1)
WANT=$((21 + 4)) # 3 ops, 2 inputs: 21 unique 1-block cells, then the top 4 of the children
# One line per record: seq hash cell val_acc
records() { ("$PNAS" inspect "$1" --json 2>/dev/null || true) | sed -E 's/.*"seq": ([0-9]+), "cell": "([^"]*)", "hash": "([0-9a-f]*)".*"val_acc": ([^,]*),.*/\1 \3 \2 \4/'; }
# Cells with their accuracies, sorted: equal for two runs that trained the same children alike.
acc_key() { records "$1" | cut -d' ' -f3,4 | sort; }
# Byte offset of record i (0-based) in a results log, or of the end with i = count.
frame_off() { python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read(); off = 12
for _ in range(int(sys.argv[2])): off += 8 + struct.unpack_from("<I", d, off)[0]
print(off)' "$1" "$2"; }
# Byte offset of the value that follows the first msgpack key KEY (a fixstr) in FILE.
key_off() { python3 -c '
import sys
d, k = open(sys.argv[1], "rb").read(), sys.argv[2].encode()
i = d.find(bytes([0xa0 | len(k)]) + k)
assert i >= 0, "no key %s in %s" % (k, sys.argv[1])
print(i + 1 + len(k))' "$1" "$2"; }
# Flip bit b of byte at offset off.
flip() { python3 -c '
import sys
p, off, bit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = bytearray(open(p, "rb").read()); d[off] ^= 1 << bit; open(p, "wb").write(d)' "$1" "$2" "$3"; }
# Checksum of every file in a directory (names + contents), for "nothing changed" checks.
dirsum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-16; }
# A crash (signal, sanitizer report) is never an acceptable answer.
crashed() { [ "$1" -ge 128 ] || grep -qE "Sanitizer|runtime error|Segmentation|Aborted|core dumped" "$2"; }
