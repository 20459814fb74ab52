#!/usr/bin/env bash
# Messages (issue item 12): a symbolic link loop as the run directory or as results.log says
# "symbolic link loop" (was mkdir's "File exists"), a results.log that is a directory says "is a
# directory" (was "read error"), and a corrupt results.log's advice names only commands that
# accept --salvage (`pnas search --resume DIR --salvage` repairs; `pnas inspect` and `pnas
# predictor retrain|eval --run` read past the damage in memory), which then do accept it. Each
# row runs the real binary: exit status, a regex its stderr must match, and the run directory
# byte-for-byte unchanged (checksum before/after), no output file or folder written.
# Usage: messages.sh PNAS REF_OUT (make_ref.sh's directory)
set -u
PNAS=$1 REF=$2/ref
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-messages.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ "$(records "$REF" | wc -l)" = "$WANT" ] || { echo "FAIL: no reference run in $REF"; exit 1; }
M=$T/model.msgpack # a predictor file outside every run directory
cp "$REF/predictor-L1.msgpack" "$M"
ln -s loop "$T/loop" # a run directory that is a symbolic link loop
cp -a "$REF" "$T/lloop" && rm "$T/lloop/results.log" && ln -s results.log "$T/lloop/results.log"
cp -a "$REF" "$T/ldir" && rm "$T/ldir/results.log" && mkdir "$T/ldir/results.log"
cp -a "$REF" "$T/bad" && flip "$T/bad/results.log" $(( $(frame_off "$T/bad/results.log" 10) + 40 )) 3
mkdir "$T/cwd" # the commands run here: retrain's default --out would land here
cd "$T/cwd" || exit 1
failures=0 rows=0

# row RC REGEX DIR COMMAND...: DIR is the directory that must not change (its checksum, or for a
# link its target string); $T/out.d and $T/x.msgpack must not appear.
row() {
  local want=$1 re=$2 dir=$3 before after rc why=""; shift 3
  rows=$((rows + 1))
  if [ -L "$dir" ]; then before=$(readlink "$dir"); else before=$(dirsum "$dir"); fi
  "$PNAS" "$@" > "$T/stdout" 2> "$T/err"
  rc=$?
  if [ -L "$dir" ]; then after=$(readlink "$dir"); else after=$(dirsum "$dir"); fi
  if crashed $rc "$T/err"; then why="crashed (exit $rc)"
  elif [ $rc != "$want" ]; then why="exit $rc, want $want"
  elif ! grep -qE -- "$re" "$T/err"; then why="message lacks /$re/"
  elif grep -qE "File exists|read error|rerun with --salvage" "$T/err"; then why="the old message"
  elif [ "$before" != "$after" ]; then why="$dir changed"
  elif [ -e "$T/out.d" ] || [ -e "$T/x.msgpack" ] || [ -n "$(ls -A "$T/cwd")" ]; then
    why="an output was written"
  fi
  # Advice about --salvage names only commands that accept it.
  if [ -z "$why" ] && grep -q -- "--salvage" "$T/err"; then
    while read -r cmd; do
      case $cmd in
        "pnas search --resume "*" --salvage" | "pnas inspect" | "pnas predictor retrain|eval --run") ;;
        *) why="the advice names \`$cmd\`" ;;
      esac
    done < <(grep -o '`[^`]*`' "$T/err" | tr -d '`' | sed "s|$T|T|g")
  fi
  if [ -n "$why" ]; then
    failures=$((failures + 1))
    printf "FAIL pnas %s\n    %s: %s\n" "$(echo "$*" | sed "s|$T|T|g")" "$why" "$(head -c 400 "$T/err" | sed "s|$T|T|g")"
  else
    printf "ok   exit %s  pnas %-50s %s\n" $rc "$(echo "$*" | sed "s|$T|T|g" | cut -c1-50)" \
      "$(grep -E -- "$re" "$T/err" | head -1 | sed "s|$T|T|g" | cut -c1-120)"
  fi
  rm -rf "$T/out.d" "$T/x.msgpack" "$T/cwd/"*
}

P=(--members 2 --epochs 5) # a quick retrain
L="symbolic link loop"
# The run directory is a symbolic link loop.
row 1 "$T/loop: .*$L"            "$T/loop"  search "${ARGS[@]}" --run "$T/loop"
row 1 "$T/loop/config.msgpack: $L" "$T/loop" search --resume "$T/loop"
row 1 "$T/loop/config.msgpack: $L" "$T/loop" search --resume "$T/loop" --salvage
row 1 "$T/loop/results.log: $L"  "$T/loop"  inspect "$T/loop"
row 1 "$T/loop/results.log: $L"  "$T/loop"  inspect "$T/loop" --salvage
row 1 "$T/loop: .*$L"            "$T/loop"  report "$T/loop" --out "$T/out.d"
row 1 "$T/loop/results.log: $L"  "$T/loop"  predictor eval --run "$T/loop" --model "$M"
row 1 "$T/loop/results.log: $L"  "$T/loop"  predictor retrain --run "$T/loop" "${P[@]}"
# An output folder that is a symbolic link loop.
row 1 "cannot create $T/loop: $L" "$T/loop" report "$REF" --out "$T/loop"
# results.log is a symbolic link loop.
row 1 "$T/lloop/results.log: .*$L" "$T/lloop" search --resume "$T/lloop"
row 1 "$T/lloop/results.log: .*$L" "$T/lloop" search --resume "$T/lloop" --salvage
row 1 "$T/lloop/results.log: $L" "$T/lloop" inspect "$T/lloop"
row 1 "$T/lloop/results.log: $L" "$T/lloop" report "$T/lloop" --out "$T/out.d"
row 1 "$T/lloop/results.log: $L" "$T/lloop" predictor eval --run "$T/lloop" --model "$M" --salvage
row 1 "$T/lloop/results.log: $L" "$T/lloop" predictor retrain --run "$T/lloop" "${P[@]}"
# results.log is a directory.
D="is a directory"
row 1 "$T/ldir/results.log: $D"  "$T/ldir"  search --resume "$T/ldir"
row 1 "$T/ldir/results.log: $D"  "$T/ldir"  search --resume "$T/ldir" --salvage
row 1 "$T/ldir/results.log: $D"  "$T/ldir"  inspect "$T/ldir" --json
row 1 "$T/ldir/results.log: $D"  "$T/ldir"  report "$T/ldir" --out "$T/out.d"
row 1 "$T/ldir/results.log: $D"  "$T/ldir"  predictor eval --run "$T/ldir" --model "$M"
row 1 "$T/ldir/results.log: $D"  "$T/ldir"  predictor retrain --run "$T/ldir" "${P[@]}" --salvage
# A corrupt record in the middle of results.log: every reader's advice names the commands that
# take --salvage, and each of those that only reads does take it and changes nothing.
C="corrupt record at offset [0-9]+.*\`pnas search --resume $T/bad --salvage\` repairs"
row 1 "$C"                       "$T/bad"   search --resume "$T/bad"
row 1 "$C"                       "$T/bad"   inspect "$T/bad"
row 1 "$C"                       "$T/bad"   report "$T/bad" --out "$T/out.d"
row 1 "$C"                       "$T/bad"   predictor eval --run "$T/bad" --model "$M"
row 1 "$C"                       "$T/bad"   predictor retrain --run "$T/bad" "${P[@]}"
S="results.log: skipped [0-9]+ corrupt bytes"
row 0 "$S"                       "$T/bad"   inspect "$T/bad" --salvage
row 0 "$S"                       "$T/bad"   predictor eval --run "$T/bad" --model "$M" --salvage
row 0 "$S"                       "$T/bad"   predictor retrain --run "$T/bad" "${P[@]}" --out "$T/ok.msgpack" --salvage
# --salvage reads a damaged --run; a --table is not a results log.
row 2 "--salvage reads a damaged --run" "$T/bad" predictor eval --table "$T/bad" --salvage
echo "messages: $rows rows, $failures failed"
[ $failures = 0 ]
