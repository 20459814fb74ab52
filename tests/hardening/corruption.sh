#!/usr/bin/env bash
# Corruption table: every file pnas reads - results.log, config.msgpack, state.msgpack,
# predictor-L*.msgpack, the dataset files, `--model` files - truncated, bit-flipped (headers, and
# values that only the files' crc32 entry can tell), foreign, empty or missing. Each row names
# the damage, the command, the exit status and a message that must appear (it names the file).
# Exit 0 rows are the salvages DESIGN.md allows (torn tail, --salvage, an unreadable saved
# predictor refitted): the resumed run must then end with the same records and accuracies as the
# uninterrupted reference. Never a crash.
# Usage: corruption.sh PNAS REF_OUT (make_ref.sh's directory)
set -u
PNAS=$1 REF=$2/ref REFOUT=$2/ref.out
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-corrupt.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ "$(records "$REF" | wc -l)" = "$WANT" ] || { echo "FAIL: no reference run in $REF"; exit 1; }
FM=/usr/share/datasets/fashion-mnist
failures=0 rows=0

# damage FILE SPEC: cut:N | cut:half | empty | delete | flip:OFF:BIT | recflip:I (a payload byte
# of record I) | lenflip:I (its length field) | torn (last record cut in half) | foreign:FILE |
# upto:I (keep records 0..I-1: a run killed after I children)
damage() {
  local f=$1 spec=$2 sz
  sz=$(stat -c %s "$f")
  case $spec in
    cut:half) truncate -s $((sz / 2)) "$f" ;;
    cut:*) truncate -s "${spec#cut:}" "$f" ;;
    empty) : > "$f" ;;
    delete) rm -f "$f" ;;
    flip:*) IFS=: read -r _ off bit <<< "$spec"; flip "$f" "$off" "$bit" ;;
    recflip:*) flip "$f" $(( $(frame_off "$f" "${spec#recflip:}") + 40 )) 3 ;;
    lenflip:*) flip "$f" $(( $(frame_off "$f" "${spec#lenflip:}") + 2 )) 4 ;;
    torn) local a b; a=$(frame_off "$f" $((WANT - 1))); truncate -s $(( a + (sz - a) / 2 )) "$f" ;;
    upto:*) truncate -s "$(frame_off "$f" "${spec#upto:}")" "$f" ;;
    foreign:*) cp "${spec#foreign:}" "$f" ;;
    *) echo "bad damage $spec"; exit 2 ;;
  esac
}

# row NAME FILE DAMAGE ACTION RC REGEX
# FILE is relative to the run copy (run/...) or the dataset copy (data/...).
row() {
  local name=$1 file=$2 spec=$3 action=$4 want=$5 re=$6 rc
  rows=$((rows + 1))
  local W=$T/$name
  mkdir -p "$W"
  cp -a "$REF" "$W/run"
  mkdir -p "$W/data"
  for g in "$FM"/train-*; do ln -s "$g" "$W/data/"; done
  case $file in
    run/*) ;;
    data/*.raw) gunzip -c "$FM/$(basename "${file%.raw}").gz" > "$W/${file%.raw}"; rm -f "$W/${file%.raw}.gz"; file=${file%.raw} ;;
    data/*) rm -f "$W/$file"; cp "$FM/$(basename "$file")" "$W/$file" ;;
  esac
  for extra in ${EXTRA:-}; do damage "$W/run/${extra%%=*}" "${extra#*=}"; done
  damage "$W/$file" "$spec"
  local before; before=$(dirsum "$W/run")
  case $action in
    resume) "$PNAS" search --resume "$W/run" > "$W/out" 2> "$W/err" ;;
    salvage) "$PNAS" search --resume "$W/run" --salvage > "$W/out" 2> "$W/err" ;;
    inspect) "$PNAS" inspect "$W/run" > "$W/out" 2> "$W/err" ;;
    predict) "$PNAS" predict --model "$W/$file" --cell 0:sep3x3,1:max3x3 > "$W/out" 2> "$W/err" ;;
    search) "$PNAS" search "${ARGS[@]}" --data "$W/data" --run "$W/new" > "$W/out" 2> "$W/err" ;;
  esac
  rc=$?
  local why=""
  if crashed $rc "$W/err"; then why="crashed (exit $rc)"
  elif [ $rc != "$want" ]; then why="exit $rc, want $want"
  elif ! grep -qE "$re" "$W/err"; then why="message lacks /$re/"
  elif [ "$want" = 0 ] && [ "$action" = resume -o "$action" = salvage ]; then
    [ "$(records "$W/run" | wc -l)" = "$WANT" ] || why="$(records "$W/run" | wc -l) records after the salvage"
    [ -z "$why" ] && ! diff -q <(acc_key "$REF") <(acc_key "$W/run") > /dev/null && why="records differ from the reference"
    [ -z "$why" ] && ! diff -q <(grep -A1 "best cell" "$REFOUT") <(grep -A1 "best cell" "$W/out") > /dev/null && why="final result differs"
  elif [ "$want" != 0 ] && [ "$action" != search ] && [ "$(dirsum "$W/run")" != "$before" ]; then
    why="a failed command changed the run directory"
  fi
  if [ -n "$why" ]; then
    failures=$((failures + 1))
    printf "FAIL %-24s %s\n    %s\n" "$name" "$why" "$(tail -2 "$W/err" | tr '\n' ' ')"
  else
    printf "ok   %-24s exit %s: %s\n" "$name" "$rc" "$(grep -E "$re" "$W/err" | head -1 | cut -c1-150)"
    rm -rf "$W"
  fi
}

L=run/results.log C=run/config.msgpack S=run/state.msgpack P1=run/predictor-L1.msgpack
#   name                  file  damage                 action  rc regex the message must match
row log-empty             $L    empty                  resume  1  "results.log: not a pnas results log"
row log-header-cut        $L    cut:6                  resume  1  "results.log: not a pnas results log"
row log-magic-flip        $L    flip:1:0               resume  1  "results.log: not a pnas results log"
row log-version-flip      $L    flip:8:1               resume  1  "results.log: results log version 3"
row log-foreign           $L    foreign:$REF/config.msgpack resume 1 "results.log: not a pnas results log"
row log-missing           $L    delete                 resume  1  "no results log"
row log-torn-tail         $L    torn                   resume  0  "results.log: dropping a torn last record"
row log-torn-inspect      $L    torn                   inspect 0  "results.log: dropping a torn last record"
row log-payload-flip      $L    recflip:10             resume  1  "results.log: corrupt record at offset [0-9]+ \(checksum mismatch\).*--salvage"
row log-length-flip       $L    lenflip:10             resume  1  "results.log: corrupt record at offset [0-9]+"
row log-flip-inspect      $L    recflip:10             inspect 1  "results.log: corrupt record at offset"
row log-flip-salvage      $L    recflip:10             salvage 0  "results.log: skipped [0-9]+ corrupt bytes"
row log-lenflip-salvage   $L    lenflip:3              salvage 0  "results.log: skipped [0-9]+ corrupt bytes"
row config-empty          $C    empty                  resume  1  "config.msgpack: damaged config .truncated"
row config-cut            $C    cut:half               resume  1  "config.msgpack: damaged config .truncated"
row config-foreign        $C    foreign:$REF/state.msgpack resume 1 "config.msgpack: (not a pnas run configuration|field .beam. has the wrong type)"
row config-missing        $C    delete                 resume  1  "config.msgpack: No such file"
row config-format-flip    $C    flip:3:1               resume  1  "config.msgpack: damaged config"
# A value flipped (the last bit of --lr: still in range, only the checksum tells).
row config-value-flip     $C    flip:$(( $(key_off "$REF/config.msgpack" lr) + 8 )):0 resume 1 "config.msgpack: damaged config .checksum mismatch.*cannot resume without it.*--cache"
row state-cut             $S    cut:half               resume  0  "resumed"
row state-foreign         $S    foreign:$REF/results.log resume 0 "resumed"
row state-missing         $S    delete                 resume  0  "resumed"
row state-value-flip      $S    flip:$(key_off "$REF/state.msgpack" finished):0 resume 0 "resumed"
# A run killed after level 1 (21 children): resume needs predictor-L1.msgpack. Unreadable, it is
# refitted with a warning (the fit is deterministic, so the result must not change).
EXTRA="results.log=upto:21 predictor-L2.msgpack=delete" \
row pred-L1-cut           $P1   cut:half               resume  0  "predictor-L1.msgpack unreadable .*truncated.*refitting"
EXTRA="results.log=upto:21 predictor-L2.msgpack=delete" \
row pred-L1-foreign       $P1   foreign:$REF/config.msgpack resume 0 "predictor-L1.msgpack unreadable .*not a pnas predictor file.*refitting"
EXTRA="results.log=upto:21 predictor-L2.msgpack=delete" \
row pred-L1-empty         $P1   empty                  resume  0  "predictor-L1.msgpack unreadable .*refitting"
# A flipped bit in a weight (the first tensor's data: a finite float either way): the checksum.
PW=$(( $(key_off "$REF/predictor-L1.msgpack" data) + 3 ))
EXTRA="results.log=upto:21 predictor-L2.msgpack=delete" \
row pred-L1-weight-flip   $P1   flip:$PW:0             resume  0  "predictor-L1.msgpack unreadable .*damaged .checksum mismatch.*refitting"
row model-cut             $P1   cut:half               predict 1  "predictor-L1.msgpack: predictor file is truncated"
row model-empty           $P1   empty                  predict 1  "predictor-L1.msgpack: predictor file is truncated"
row model-foreign         $P1   foreign:$REF/results.log predict 1 "predictor-L1.msgpack: not a pnas predictor file"
row model-magic-flip      $P1   flip:3:0               predict 1  "predictor-L1.msgpack: not a pnas predictor file"
row model-weight-flip     $P1   flip:$PW:0             predict 1  "predictor-L1.msgpack: predictor file is damaged .checksum mismatch"
row model-missing         $P1   delete                 predict 1  "predictor-L1.msgpack: cannot open"
row data-images-cut       data/train-images-idx3-ubyte.gz cut:half search 1 "train-images-idx3-ubyte.gz: (truncated|corrupt)"
row data-images-gzflip    data/train-images-idx3-ubyte.gz flip:100000:2 search 1 "train-images-idx3-ubyte.gz: .*(corrupt|truncated|invalid)"
row data-labels-crcflip   data/train-labels-idx1-ubyte.gz flip:-8:0 search 1 "train-labels-idx1-ubyte.gz: .*(corrupt|incorrect)"
row data-labels-foreign   data/train-labels-idx1-ubyte.gz foreign:$FM/t10k-images-idx3-ubyte.gz search 1 "train-labels-idx1-ubyte.gz: wrong magic"
row data-images-notgz     data/train-images-idx3-ubyte.gz foreign:$REF/results.log search 1 "train-images-idx3-ubyte.gz: not a gzip file"
row data-images-missing   data/train-images-idx3-ubyte.gz delete search 1 "train-images-idx3-ubyte.gz: missing file"
row data-raw-magic-flip   data/train-images-idx3-ubyte.raw flip:2:0 search 1 "train-images-idx3-ubyte: wrong magic"
row data-raw-dims-flip    data/train-images-idx3-ubyte.raw flip:11:3 search 1 "train-images-idx3-ubyte: images are 20x28, expected 28x28"
row data-raw-count-flip   data/train-images-idx3-ubyte.raw flip:5:4 search 1 "train-images-idx3-ubyte: (truncated|header says)"
row data-raw-cut          data/train-images-idx3-ubyte.raw cut:1000 search 1 "train-images-idx3-ubyte: truncated"
echo "corruption table: $rows rows, $failures failed"
[ $failures = 0 ]
