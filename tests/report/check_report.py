#!/usr/bin/env python3
"""Validates a report folder: report.html is well-formed (balanced tags), self-contained (no
external resources), every inlined SVG parses as XML with unique ids across the page; every
SVG file parses; report.md references only files that exist and holds the expected sections.
Usage: check_report.py DIR STRATEGY... (the strategies the report must cover)"""
import html.parser
import os
import re
import sys
import xml.etree.ElementTree as ET

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.ids, self.tags = [], [], [], {}
        self.doctype = False
        self.in_svg = 0

    def handle_decl(self, decl):
        self.doctype |= decl.lower().startswith("doctype html")

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k == "id":
                self.ids.append(v)
            if k in ("src", "href", "xlink:href") and v and not v.startswith("#"):
                self.errors.append("external reference %s=%r in <%s>" % (k, v, tag))
        if tag == "svg":
            self.in_svg += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k == "id":
                self.ids.append(v)
            if k in ("src", "href", "xlink:href") and v and not v.startswith("#"):
                self.errors.append("external reference %s=%r in <%s/>" % (k, v, tag))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s> at line %d" %
                               (tag, self.stack[-1] if self.stack else "nothing", self.getpos()[0]))
            return
        self.stack.pop()
        if tag == "svg":
            self.in_svg -= 1


def main():
    d, strategies = sys.argv[1], sys.argv[2:]
    errors = []
    text = open(os.path.join(d, "report.html"), encoding="utf-8").read()
    c = Checker()
    c.feed(text)
    c.close()
    errors += c.errors
    if not c.doctype:
        errors.append("no <!DOCTYPE html>")
    if c.stack:
        errors.append("unclosed tags at the end: %s" % c.stack)
    dup = sorted({i for i in c.ids if c.ids.count(i) > 1})
    if dup:
        errors.append("duplicate ids in report.html: %s" % dup[:5])
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    # every figure report.md links (curves, sizes, predictions) + one drawing per strategy
    md_text = open(os.path.join(d, "report.md"), encoding="utf-8").read()
    nfig = len(re.findall(r"!\[[^\]]*\]\(fig-[^)]+\.svg\)", md_text))
    if nfig < 4 or len(svgs) != nfig + len(strategies):
        errors.append("report.html inlines %d SVGs, want %d figures + %d drawings"
                      % (len(svgs), nfig, len(strategies)))
    for i, s in enumerate(svgs):
        try:
            root = ET.fromstring(s)
            if root.tag != "{http://www.w3.org/2000/svg}svg":
                errors.append("inline svg %d: root %s" % (i, root.tag))
        except ET.ParseError as e:
            errors.append("inline svg %d does not parse: %s" % (i, e))
    # figures hold one curve per strategy: gnuplot labels them in the key
    for name in strategies:
        if not re.search(r"<title>%s \(\d+ seeds?\)</title>" % name, text):
            errors.append("no curve labelled %s in the figures" % name)
    for f in sorted(os.listdir(d)):
        if f.endswith(".svg"):
            try:
                ET.parse(os.path.join(d, f))
            except ET.ParseError as e:
                errors.append("%s does not parse: %s" % (f, e))
    md = open(os.path.join(d, "report.md"), encoding="utf-8").read()
    for ref in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        if not os.path.isfile(os.path.join(d, ref)):
            errors.append("report.md references missing %s" % ref)
    for sec in ("## Runs", "## Best-so-far accuracy", "## Models needed to reach PNAS's accuracy",
                "## Predictor rank correlation (PNAS)", "## Best cell of each strategy"):
        if sec not in md:
            errors.append("report.md lacks section %r" % sec)
    for name in strategies:
        if not re.search(r"^\| %s \| " % name, md, re.M):
            errors.append("report.md has no row for %s" % name)
    for e in errors:
        print("FAIL:", e)
    print("report ok: %d inline SVGs, %d tags" % (len(svgs), sum(c.tags.values())) if not errors
          else "%d problem(s)" % len(errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
