#!/usr/bin/env bash
# usage: cli.sh PNAS BUILD_DIR SOURCE_DIR
set -u
PNAS=$1 BUILD=$2 SRC=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/pnas-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$PNAS" --version | grep -qE '^pnas [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version: $("$PNAS" --version)"
cmds=$("$PNAS" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}')
[ "$(echo $cmds | wc -w)" -ge 12 ] || fail "commands listed: $cmds"
for c in $cmds; do
  "$PNAS" help "$c" > "$T/h1" 2>&1 || fail "pnas help $c failed"
  "$PNAS" "$c" --help > "$T/h2" 2>&1
  cmp -s "$T/h1" "$T/h2" || fail "pnas help $c differs from pnas $c --help"
  grep -q "usage: pnas" "$T/h1" || fail "pnas help $c: no usage line"
done
for c in $cmds; do
  "$PNAS" help "$c" | grep -qi "example" || fail "no example in pnas help $c"
done
"$PNAS" serach > /dev/null 2> "$T/e"; [ $? = 2 ] || fail "pnas serach: exit status"
grep -q "did you mean 'search'" "$T/e" || fail "no suggestion for serach: $(head -1 "$T/e")"
"$PNAS" --beem 4 > /dev/null 2> "$T/e"; [ $? = 2 ] || fail "--beem: exit status"
grep -q "did you mean '--beam'" "$T/e" || fail "no suggestion for --beem: $(cat "$T/e")"
"$PNAS" search --zzzzzz 1 > /dev/null 2> "$T/e"
if grep -q "did you mean" "$T/e"; then fail "a suggestion for nonsense: $(cat "$T/e")"; fi
"$PNAS" help nosuchcommand > /dev/null 2>&1; [ $? = 2 ] || fail "help of an unknown command"
# The man page is built from the help text; installation puts binary, page and completion in place.
[ -s "$BUILD/pnas/pnas.1" ] || fail "no generated man page"
grep -q '^\.SH "pnas compare"' "$BUILD/pnas/pnas.1" || fail "man page lacks the compare section"
cmake --install "$BUILD" --prefix "$T/prefix" > "$T/install.log" 2>&1 || fail "install: $(tail -3 "$T/install.log")"
for f in bin/pnas share/man/man1/pnas.1 share/bash-completion/completions/pnas; do
  [ -s "$T/prefix/$f" ] || fail "not installed: $f"
done
# Completion: commands, and a command's flags from its own help.
out=$(PATH="$(dirname "$PNAS"):$PATH" bash -c '
  source "$1"
  COMP_WORDS=(pnas comp); COMP_CWORD=1; _pnas; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pnas table --rep); COMP_CWORD=2; _pnas; echo "${COMPREPLY[*]}"' _ "$SRC/scripts/pnas-completion.bash")
echo "$out" | head -1 | grep -qw compare || fail "completion of 'comp': $out"
echo "$out" | tail -1 | grep -q -- "--repeat-seeds" || fail "completion of 'table --rep': $out"
echo "cli: version, help CMD, did-you-mean, examples, man page, install, completion"
