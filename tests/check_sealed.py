#!/usr/bin/env python3
"""Checks that each FILE is sealed as common/crc32.h says, independently of pnas's code: it ends
with the msgpack entry "crc32" (a5 'crc32' ce, then a big-endian uint32) holding zlib's CRC-32
of every byte before that entry. Prints every file that is not; exit 1 if any.
Usage: check_sealed.py FILE..."""
import struct
import sys
import zlib


def problem(path):
    try:
        d = open(path, "rb").read()
    except OSError as e:
        return str(e)
    if len(d) < 11 or d[-11:-4] != b"\xa5crc32\xce":
        return "does not end with a crc32 entry (last bytes %s)" % d[-11:].hex()
    want, got = struct.unpack(">I", d[-4:])[0], zlib.crc32(d[:-11])
    return None if want == got else "crc32 %08x, the file says %08x" % (got, want)


bad = [(p, problem(p)) for p in sys.argv[1:]]
bad = [(p, why) for p, why in bad if why]
for p, why in bad:
    print("not sealed: %s: %s" % (p, why))
sys.exit(1 if bad or len(sys.argv) < 2 else 0)
