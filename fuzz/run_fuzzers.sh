#!/usr/bin/env bash
# Runs each fuzzer for SECONDS on a scratch copy of its checked-in corpus
# (fuzz/corpus/<fuzzer>/); new corpus entries and crash artifacts go under
# BUILD/fuzz-runs/<fuzzer>/, never into the source tree. Exits 1 when any
# fuzzer found a crash, a timeout (-timeout=10), an OOM (-rss_limit_mb=2048)
# or a leak. `make fuzz` calls it.
#
#   fuzz/run_fuzzers.sh BUILD SECONDS FUZZER...
set -uo pipefail
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

failed=()
for fuzzer in "$@"; do
  binary="$build/fuzz/$fuzzer"
  work="$build/fuzz-runs/$fuzzer"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$here/corpus/$fuzzer/"* "$work/corpus/"
  extra=()
  case "$fuzzer" in
    request_fuzzer) extra+=(-dict="$here/swf.dict") ;;
    # A multi-threaded server: libFuzzer's per-input leak check (when
    # malloc and free counts differ, i.e. always) costs most of the time.
    http_fuzzer) extra+=(-dict="$here/swf.dict" -detect_leaks=0) ;;
  esac
  echo "== $fuzzer: ${seconds}s (log: $work/log)"
  "$binary" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "${extra[@]}" >"$work/log" 2>&1
  rc=$?
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)" "$work/log" | sed 's/^/   /'
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$work/log" |
    sed 's/^/   /'
  artifacts=$(ls -A "$work/artifacts")
  if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
    failed+=("$fuzzer")
    echo "   FAILED (exit $rc); artifacts:"
    for a in $artifacts; do echo "     $work/artifacts/$a"; done
    grep -m1 -A30 -E "^==[0-9]+==ERROR|runtime error|FUZZ CHECK FAILED|ERROR: libFuzzer" \
      "$work/log" | sed 's/^/   | /'
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzers with findings: ${failed[*]}"
  echo "replay one: $build/fuzz/<fuzzer> <artifact>"
  exit 1
fi
echo "no findings"
