#!/usr/bin/env bash
# check_invalid_flow.sh PROGRAM CASE EXPECTED: `PROGRAM run` with the
# declaration mistake CASE must exit 1 with EXPECTED in its error, and never
# abort (no "terminate called"); CASE none must complete.
set -uo pipefail
program=$1 case=$2 expected=$3
output=$(GARCON_MISUSE_CASE=$case "$program" run 2>&1)
code=$?
echo "$output"
if grep -q "terminate called" <<<"$output"; then
  echo "FAIL: the program aborted" >&2
  exit 1
fi
if [ "$case" = none ]; then
  [ $code -eq 0 ] || { echo "FAIL: exit $code, expected 0" >&2; exit 1; }
else
  [ $code -eq 1 ] || { echo "FAIL: exit $code, expected 1" >&2; exit 1; }
fi
grep -qF -- "$expected" <<<"$output" || { echo "FAIL: no '$expected' in the output" >&2; exit 1; }
echo "OK"
