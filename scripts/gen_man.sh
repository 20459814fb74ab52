#!/usr/bin/env bash
# Writes the pnas(1) man page from the program's own help text (run at build time by CMake):
#   gen_man.sh PNAS OUT.1
# Every command's section is `pnas help CMD` verbatim, so the page cannot drift from --help.
set -euo pipefail
PNAS=$1 OUT=$2
ver=$("$PNAS" --version | awk '{print $2}')
cmds=$("$PNAS" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}')
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
{
  echo ".TH PNAS 1 \"\" \"pnas $ver\" \"User Commands\""
  echo ".SH NAME"
  echo "pnas \\- Progressive Neural Architecture Search (cells grown block by block, a surrogate"
  echo "picks the children worth training), with RL, random and evolution baselines"
  echo ".SH SYNOPSIS"
  echo ".nf"
  "$PNAS" --help | esc
  echo ".fi"
  for c in $cmds; do
    echo ".SH \"pnas $c\""
    echo ".nf"
    "$PNAS" help "$c" | esc
    echo ".fi"
  done
  echo ".SH EXIT STATUS"
  echo "0 success, 1 failure (the reason on standard error), 2 usage error."
  echo ".SH SEE ALSO"
  echo "The README and docs/DESIGN.md of the source tree."
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
