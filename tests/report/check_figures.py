#!/usr/bin/env python3
"""Checks the figures of a pnas report as Chromium rendered the page.

For every figure plots.gp draws (its `set output` blocks):
  - the figure's SVG carries the x and y axis labels that plots.gp gives it;
  - every data row behind it (the TSV columns each `plot` clause uses, with the clause's filter)
    lies within the axes' range: the explicit `set xrange`, or else the first and last tick
    labels (gnuplot's autoscale extends the range to whole ticks, so data outside them would be
    clipped away and the figure would mislead);
  - the rendered page (Chromium's --dump-dom of report.html) embeds it: its labels appear there,
    and the page holds as many gnuplot figures as report.md links.
Usage: check_figures.py REPORT_DIR DOM_HTML. Exit 0 when all hold, 1 otherwise (naming the
figure and the row).
"""
import math
import os
import re
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def number(s):
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        return None


def parse_plots(path):
    """plots.gp -> [{output, xlabel, ylabel, xrange, clauses: [(file, xexpr, ycol)]}]."""
    figs, cur, xrange_, yrange_ = [], None, None, None
    lines = open(path).read().replace("\\\n", " ").splitlines()
    for line in lines:
        m = re.match(r"set xrange \[([^:]*):([^\]]*)\]", line)
        if m:
            xrange_ = (number(m[1]), number(m[2]))
        m = re.match(r"set yrange \[([^:]*):([^\]]*)\]", line)
        if m:
            yrange_ = (number(m[1]), number(m[2]))
        if line.startswith("set autoscale x"):
            xrange_ = None
        if line.startswith("set autoscale y"):
            yrange_ = None
        m = re.match(r"set output '([^']+)'", line)
        if m:
            cur = {"output": m[1], "xrange": xrange_, "yrange": yrange_, "clauses": []}
            figs.append(cur)
        m = re.match(r"set ([xy])label '([^']*)'", line)
        if m and cur is not None:
            cur[m[1] + "label"] = m[2]
        if line.startswith("plot ") and cur is not None:
            for file_, using in re.findall(r"'([^']+\.tsv)' using (.+?) with ", line):
                # x expression, then the y columns (a band has two: min and max)
                m = re.match(r"(\(.*\)|\d+):(\d+(?::\d+)*)$", using)
                cur["clauses"].append((file_, m[1], [int(c) for c in m[2].split(":")]))
    return figs


def xvalue(expr, row):
    """The x of a data row under a `using` x expression: a column, ($a + c), or
    ($a == N ? $b : 1/0)."""
    if expr.isdigit():
        return number(row[int(expr) - 1])
    m = re.match(r"\(\$(\d+) \+ (-?[0-9.]+)\)$", expr)
    if m:
        return number(row[int(m[1]) - 1]) + float(m[2])
    m = re.match(r"\(\$(\d+) == (\d+) \? \$(\d+) : 1/0\)$", expr)
    if not m:
        fail("unknown using expression %s" % expr)
        return None
    if number(row[int(m[1]) - 1]) != int(m[2]):
        return None  # filtered out: not drawn
    return number(row[int(m[3]) - 1])


def ticks(svg):
    """Tick labels: y ticks are right-aligned numbers, x ticks centred numbers."""
    xs, ys = [], []
    for anchor, text in re.findall(
            r'<g transform="translate\([0-9.,-]+\)" stroke="none" fill="rgb\(68,68,68\)"[^>]*'
            r'text-anchor="(end|middle)">\s*<text><tspan[^>]*>([^<]*)</tspan>', svg):
        v = number(text)
        if v is not None:
            (ys if anchor == "end" else xs).append(v)
    return xs, ys


def main():
    out, dom_path = sys.argv[1], sys.argv[2]
    dom = open(dom_path, encoding="utf-8", errors="replace").read()
    figs = parse_plots(os.path.join(out, "plots.gp"))
    md = open(os.path.join(out, "report.md")).read()
    linked = re.findall(r"!\[[^\]]*\]\((fig-[^)]+\.svg)\)", md)
    drawn = [f["output"] for f in figs]
    if sorted(linked) != sorted(drawn):
        fail("report.md links %s, plots.gp draws %s" % (sorted(linked), sorted(drawn)))
    ndom = dom.count("<title>Gnuplot</title>")
    if ndom != len(drawn):
        fail("the rendered page holds %d gnuplot figures, plots.gp draws %d" % (ndom, len(drawn)))
    for f in figs:
        name = f["output"]
        svg = open(os.path.join(out, name)).read()
        texts = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
        for axis in ("xlabel", "ylabel"):
            label = f.get(axis, "")
            if not label:
                fail("%s: no %s in plots.gp" % (name, axis))
            elif label not in texts:
                fail("%s: the %s '%s' is not drawn" % (name, axis, label))
            elif label not in dom:
                fail("%s: the %s '%s' is not on the rendered page" % (name, axis, label))
        xt, yt = ticks(svg)
        if len(xt) < 2 or len(yt) < 2:
            fail("%s: fewer than 2 labelled ticks on an axis (x %s, y %s)" % (name, xt, yt))
            continue
        xlo, xhi = f["xrange"] if f["xrange"] else (min(xt), max(xt))
        ylo, yhi = f["yrange"] if f["yrange"] else (min(yt), max(yt))
        rows = 0
        for file_, xexpr, ycols in f["clauses"]:
            for line in open(os.path.join(out, file_)):
                if line.startswith("#") or not line.strip():
                    continue
                row = line.rstrip("\n").split("\t")
                x = xvalue(xexpr, row)
                for ycol in ycols:
                    y = number(row[ycol - 1])
                    if x is None or y is None or math.isnan(x) or math.isnan(y):
                        continue
                    rows += 1
                    eps = 1e-9 * max(1.0, abs(xhi), abs(yhi))
                    if not (xlo - eps <= x <= xhi + eps and ylo - eps <= y <= yhi + eps):
                        fail("%s: %s row (%g, %g) outside the axes [%g, %g] x [%g, %g]"
                             % (name, file_, x, y, xlo, xhi, ylo, yhi))
        if rows == 0:
            fail("%s: no data point" % name)
        print("%s: labelled axes, %d points within [%g, %g] x [%g, %g]"
              % (name, rows, xlo, xhi, ylo, yhi))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
