#!/usr/bin/env python3
"""The architecture check (ctest arch_layers): derives the file dependency graph of the
library code from its object files (nm: file A depends on file B when A uses a global symbol
B defines, so calls and taken addresses count, not only #include lines) and fails on

  - any cycle between files (each printed as a path of files with one symbol per step), and
  - any dependency that goes against the layers below (a file calling upward), naming both
    files and a symbol.

usage: check_layers.py SOURCE_DIR BUILD_DIR OBJECT... (arguments may be ';'-separated lists)
The layer table is docs/architecture.md's; a file in no layer is an error too, so a new
folder must be placed in the table."""
import collections
import os
import re
import subprocess
import sys

# Layers, lowest first: unit (a folder, or one file; a file belongs to the longest matching
# unit) and the units it may use directly. What a unit may use includes what those may use.
LAYERS = [
    ("common", []),                               # args, PNAS_ASSERT, pnas_seterr
    ("searchspace", ["common"]),
    ("data", ["searchspace"]),
    ("predictor", ["searchspace"]),
    ("kernels/backend.h", ["common"]),           # the seam: types and the op table
    ("kernels/ops.h", ["kernels/backend.h"]),     # the ref/cpu ops' declarations
    ("kernels/ctx.c", ["kernels/backend.h"]),     # kn_ctx scratch, descriptors (every backend)
    ("kernels/ref", ["kernels/ctx.c", "kernels/ops.h"]),  # the oracle
    ("kernels/cpu", ["kernels/ref"]),             # fast paths (fall back to ref for rare shapes)
    ("kernels/cuda", ["kernels/ctx.c"]),
    ("kernels", ["kernels/cpu", "kernels/cuda"]), # backend.c: the registry of backends
    ("pnas/store", ["searchspace", "predictor"]),
    ("pnas/child", ["data", "kernels"]),
    ("pnas/search", ["pnas/store", "pnas/child", "predictor"]),
    ("pnas/dispatch", ["pnas/search"]),
    ("pnas/strategies", ["pnas/dispatch"]),
    ("pnas/report", ["pnas/search"]),
    ("pnas/cli", ["pnas/strategies", "pnas/report"]),
]


def closure():
    direct = dict(LAYERS)
    allowed = {}
    for unit, _ in LAYERS:  # lowest first, so every dependency is already closed
        a = set()
        for d in direct[unit]:
            a.add(d)
            a |= allowed[d]
        allowed[unit] = a
    return allowed


def unit_of(path):
    best = None
    for unit, _ in LAYERS:
        if path == unit or path.startswith(unit + "/"):
            if best is None or len(unit) > len(best):
                best = unit
    return best


def source_of(obj, src, build):
    m = re.match(r"(.*)/CMakeFiles/[^/]+\.dir/(.*)\.o(bj)?$", obj)
    if not m:
        sys.exit("check_layers: not a CMake object path: " + obj)
    srcdir = os.path.join(src, os.path.relpath(m.group(1), build))
    rel = "/".join(".." if p == "__" else p for p in m.group(2).split("/"))
    return os.path.relpath(os.path.normpath(os.path.join(srcdir, rel)), src)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    src, build = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    objs = [o for a in argv[3:] for o in a.split(";") if o]
    defs, uses = {}, collections.defaultdict(set)
    files = set()
    for o in objs:
        s = source_of(os.path.abspath(o), src, build)
        files.add(s)
        out = subprocess.run(["nm", "-P", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) < 2:
                continue
            if p[1] == "U":
                uses[s].add(p[0])
            elif p[1] in "TDBRGSVWC":
                defs.setdefault(p[0], s)
    edges = collections.defaultdict(dict)  # a -> {b: a symbol of b that a uses}
    for a, syms in uses.items():
        for sym in sorted(syms):
            b = defs.get(sym)
            if b and b != a:
                edges[a].setdefault(b, sym)
    problems = 0
    allowed = closure()
    for f in sorted(files):
        if unit_of(f) is None:
            print("not in any layer: %s (place its folder in the layer table)" % f)
            problems += 1
    for a in sorted(edges):
        ua = unit_of(a)
        for b, sym in sorted(edges[a].items()):
            ub = unit_of(b)
            if ua is None or ub is None or ua == ub or ub in allowed[ua]:
                continue
            print("upward: %s -> %s (%s): %s may not use %s" % (a, b, sym, ua, ub))
            problems += 1
    # Cycles: the strongly connected components of more than one file (Tarjan), each shown
    # as one closed path found by breadth-first search inside the component.
    index, low, stack, on, comps = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(set(edges) | files):
        if v not in index:
            visit(v)
    for comp in comps:
        cs = set(comp)
        print("cycle of %d files: %s" % (len(comp), ", ".join(comp)))
        covered = set()
        for start in comp:  # the shortest closed path through each file not shown yet
            if start in covered:
                continue
            prev, queue, path = {start: None}, collections.deque([start]), None
            while queue and path is None:
                v = queue.popleft()
                for w in sorted(edges.get(v, {})):
                    if w not in cs:
                        continue
                    if w == start:
                        path = [v]
                        while prev[path[-1]] is not None:
                            path.append(prev[path[-1]])
                        path.reverse()
                        break
                    if w not in prev:
                        prev[w] = v
                        queue.append(w)
            covered |= set(path)
            steps = [(path[i], path[(i + 1) % len(path)]) for i in range(len(path))]
            print("  " + " -> ".join("%s (%s)" % (a, edges[a][b]) for a, b in steps) + " -> " + start)
        problems += 1
    # Headers: an #include of a project header from a higher layer is an upward dependency too
    # (a type or macro does not show in nm). Every .c/.h/.cu file under a layer is read.
    for unit, _ in LAYERS:
        root = os.path.join(src, unit)
        walk = [(root, [], [os.path.basename(root)])] if os.path.isfile(root) else os.walk(root)
        for d, _, names in walk:
            for n in sorted(names):
                f = os.path.relpath(os.path.join(os.path.dirname(root) if d == root and
                                                 os.path.isfile(root) else d, n), src)
                if not f.endswith((".c", ".h", ".cu")) or unit_of(f) != unit:
                    continue
                with open(os.path.join(src, f), errors="replace") as fh:
                    for ln, line in enumerate(fh, 1):
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m or not os.path.isfile(os.path.join(src, m.group(1))):
                            continue
                        uh = unit_of(m.group(1))
                        if uh and uh != unit and uh not in allowed[unit]:
                            print("upward include: %s:%d includes %s: %s may not use %s"
                                  % (f, ln, m.group(1), unit, uh))
                            problems += 1
    nedges = sum(len(v) for v in edges.values())
    if problems:
        print("check_layers: %d problem(s) in %d files, %d dependencies" % (problems, len(files), nedges))
        return 1
    print("check_layers: %d files, %d dependencies: no cycle, nothing calls upward" % (len(files), nedges))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
