#!/usr/bin/env bash
# CLI tests for `pnas cost` and `pnas space`: outputs, exit codes and error messages.
set -u
PNAS=$1
fail=0
expect() { # expect <want-rc> <want-substring> <args...>
  local want_rc=$1 want=$2; shift 2
  out=$("$PNAS" "$@" 2>&1); rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL: pnas $* -> rc $rc (want $want_rc), output: $out (want '$want')"; fail=1
  fi
}
expect 0 '"params": 3176602' cost --cell pnasnet-5 --N 3 --F 48 --dataset cifar10 --json
expect 0 'mult-adds' cost --cell pnasnet-5
expect 2 'unknown operator' cost --cell '0:sep3x3,1:sep9x9'
expect 2 'input 2 out of range' cost --cell '0:sep3x3,2:max3x3'
expect 2 '--cell is required' cost
expect 2 'unknown option' cost --cell pnasnet-5 --bogus
expect 2 'must be between' cost --cell pnasnet-5 --N 0
expect 2 'unknown --dataset' cost --cell pnasnet-5 --dataset mnist
expect 0 '136 unique new blocks (256 ordered)' space count --blocks 1
expect 0 '"unique_new_blocks": 1176' space count --blocks 5 --json
expect 0 '21 unique' space count --blocks 1 --ops sep3x3,max3x3,identity
expect 0 '300' space expand --cell 0:sep3x3,1:max3x3 --count
expect 0 '0:identity,1:sep3x3' space canon --cell 1:sep3x3,0:identity
expect 2 'not in the operator set' space expand --cell 0:sep5x5,1:max3x3 --ops sep3x3,max3x3
expect 2 'unknown subcommand' space frobnicate
n=$("$PNAS" space expand --cell 0:sep3x3,1:max3x3 | sort -u | wc -l)
[ "$n" = 300 ] || { echo "FAIL: expand printed $n unique children, want 300"; fail=1; }
[ $fail = 0 ] && echo "cli_space: all passed"
exit $fail
