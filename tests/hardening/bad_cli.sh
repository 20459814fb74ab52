#!/usr/bin/env bash
# Bad command lines: each row is an invalid invocation, the exit status it must give (2 usage,
# 1 failure) and a regex its message must match (naming the flag, value or path). After every
# row an existing run directory must be byte-for-byte unchanged, and a rejected new --run
# directory must not have been created. The run directory is built from the fuzz seeds (a real
# 2-record results log, a small predictor file), so this test trains nothing and takes seconds.
# Usage: bad_cli.sh PNAS
set -u
PNAS=$1
SEEDS=$(cd "$(dirname "$0")/../fuzz/corpus" && pwd)
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/pnas-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/run"
cp "$SEEDS/store/log-2-records" "$T/run/results.log"
cp "$SEEDS/predictor/lstm-2x3.msgpack" "$T/run/predictor-L1.msgpack"
"$PNAS" inspect "$T/run" --json | grep -q '"seq": 1' || { echo "FAIL: seed run unreadable"; exit 1; }
touch "$T/file"
mkdir "$T/empty"
sum0=$(dirsum "$T/run") file0=$(sha256sum < "$T/file")
N=$T/new # a run directory that must not appear
failures=0 rows=0
row() {
  local want=$1 re=$2; shift 2
  rows=$((rows + 1))
  "$PNAS" "$@" > "$T/out" 2> "$T/err"
  local rc=$? why=""
  if crashed $rc "$T/err"; then why="crashed (exit $rc)"
  elif [ $rc != "$want" ]; then why="exit $rc, want $want"
  elif ! grep -qE -- "$re" "$T/err"; then why="message lacks /$re/"
  elif [ "$(dirsum "$T/run")" != "$sum0" ]; then why="the existing run directory changed"
  elif [ "$(sha256sum < "$T/file")" != "$file0" ]; then why="the file changed"
  elif [ -e "$N" ]; then why="created $N"
  fi
  if [ -n "$why" ]; then
    failures=$((failures + 1))
    printf "FAIL pnas %s\n    %s: %s\n" "$*" "$why" "$(head -c 300 "$T/err")"
  else
    printf "ok   exit %s  pnas %-52s %s\n" $rc "$(echo "$*" | sed "s|$T|T|g" | cut -c1-52)" "$(head -1 "$T/err" | sed "s|$T|T|g" | cut -c1-110)"
  fi
  rm -rf "$N"
}
S=(search --run "$N")
#   rc regex                                         command line
row 2 "--beam must be between 1 and 100000, got 0"   "${S[@]}" --beam 0
row 2 "--beam must be at least 2"                     "${S[@]}" --beam 1 --max-blocks 2
row 2 "--max-blocks must be between 1 and 10, got 0"  "${S[@]}" --max-blocks 0
row 2 "--max-blocks must be between 1 and 10, got 11" "${S[@]}" --max-blocks 11
row 2 "bad --ops: .*conv9x9"                          "${S[@]}" --ops sep3x3,conv9x9
row 2 "bad --ops"                                     "${S[@]}" --ops ""
row 2 "--epochs must be between 1 and 10000, got -1"  "${S[@]}" --epochs -1
row 2 "--epochs expects an integer, got '2x'"         "${S[@]}" --epochs 2x
row 2 "--predictor-epochs must be between 0 and 100000, got -5" "${S[@]}" --predictor-epochs -5
row 2 "--lr must be between"                          "${S[@]}" --lr -0.1
row 2 "--lr (must be between|expects a number)"       "${S[@]}" --lr nan
row 2 "--lr (must be between|expects a number)"       "${S[@]}" --lr inf
row 2 "--members must be at least 2"                  "${S[@]}" --members 1
row 2 "--threads must be between 0 and 1024, got -1"  "${S[@]}" --threads -1
row 2 "--train-subset must be between"                "${S[@]}" --train-subset -5
row 2 "--seed expects an integer"                     "${S[@]}" --seed 1e30
row 2 "--beam must be between 1 and 100000, got 99999999999" "${S[@]}" --beam 99999999999
row 2 "unknown option '--bem'"                        "${S[@]}" --bem 4
row 2 "--beam needs a value"                          "${S[@]}" --beam
row 2 "unknown --strategy 'greedy'"                   "${S[@]}" --strategy greedy
row 2 "unknown --dataset 'mnist'"                     "${S[@]}" --dataset mnist
row 2 "unknown --device 'tpu'"                        "${S[@]}" --device tpu
row 2 "unknown --predictor 'gp'"                      "${S[@]}" --predictor gp
row 2 "--sample \(30\) cannot exceed --population \(20\)" "${S[@]}" --strategy evolution --population 20 --sample 30
row 2 "unexpected argument 'extra'"                   "${S[@]}" extra
row 2 "unknown command 'serch'"                       serch --beam 4
# Run directories that cannot be used.
row 1 "$T/file: exists and is not a directory"        search "${ARGS[@]}" --run "$T/file"
row 1 "$T/file/run: cannot create the run directory: Not a directory" search "${ARGS[@]}" --run "$T/file/run"
row 2 "$T/run already holds a search; continue it with .pnas search --resume" search "${ARGS[@]}" --run "$T/run"
# --resume of things that are not resumable runs, or with search flags.
row 1 "cannot resume: $T/empty/config.msgpack: No such file" search --resume "$T/empty"
row 1 "cannot resume: $T/missing/config.msgpack: No such file" search --resume "$T/missing"
row 1 "cannot resume: $T/file/config.msgpack: Not a directory" search --resume "$T/file"
row 2 "--resume takes only --salvage, --threads, --jobs" search --resume "$T/run" --beam 8
row 2 "--resume takes only --salvage, --threads, --jobs" search --resume "$T/run" --epochs 3 --threads 1
row 2 "--resume takes only --salvage, --threads, --jobs" search --resume "$T/run" --run "$N"
row 2 "--resume needs a value"                        search --resume
row 2 "give one run directory"                        inspect
row 1 "$T/missing/results.log: No such file"          inspect "$T/missing"
row 1 "$T/file/predictor-L1.msgpack: cannot open"     predict --model "$T/file/predictor-L1.msgpack" --cell 0:sep3x3,1:max3x3
row 1 "(not a pnas predictor file|truncated)"         predict --model "$T/file" --cell 0:sep3x3,1:max3x3
row 2 "position [0-9]+"                               predict --model "$T/run/predictor-L1.msgpack" --cell 0:sep3x3,9:max3x3
echo "bad command lines: $rows rows, $failures failed"
[ $failures = 0 ]
