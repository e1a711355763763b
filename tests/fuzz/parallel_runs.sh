#!/usr/bin/env bash
# Long fuzz runs on a many-core machine that has no clang runtime: runs the libFuzzer binaries
# built by scripts/fuzz (build-fuzz/fuzz/, carried over) with scripts/fuzz's flags, W worker
# processes per target at once, each RUNS executions from the seed corpus in its own work folder.
#
#   tests/fuzz/parallel_runs.sh BIN_DIR OUT_DIR RUNS W [target ...]
#
# MAX_TIME=S (environment): each worker also stops after S seconds (libFuzzer -max_total_time).
# Per target: OUT_DIR/logs/<target>-<w>.log, findings in OUT_DIR/findings/, and one summary line
# with the executions of all its workers added up. Exit 1 if any worker reported a finding.
set -uo pipefail
bin="$1" out="$2" runs="$3" workers="$4"
shift 4
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cli lesson measurement models)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
declare -A max_len=([cli]=512 [lesson]=12288 [measurement]=16384 [models]=16384)
mkdir -p "$out/logs" "$out/findings" "$out/work"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
start=$SECONDS
pids=() names=()
for t in "${targets[@]}"; do
  dict=()
  if ATTNLAB_FUZZ_WRITE_DICT="$out/work/$t.dict" "$bin/fuzz_$t" -runs=0 </dev/null >/dev/null 2>&1 &&
     [ -s "$out/work/$t.dict" ]; then dict=(-dict="$out/work/$t.dict"); fi
  for w in $(seq 1 "$workers"); do
    mkdir -p "$out/work/$t-$w"
    limit=(-runs="$runs")
    [ -z "${MAX_TIME:-}" ] || limit+=(-max_total_time="$MAX_TIME")
    (cd "$out/work" && exec "$bin/fuzz_$t" "${limit[@]}" -seed="$w" "${dict[@]}" -max_len="${max_len[$t]}" \
       -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/findings/$t-$w-" \
       "$out/work/$t-$w" "$root/tests/fuzz/corpus/$t" </dev/null >"$out/logs/$t-$w.log" 2>&1) &
    pids+=($!) names+=("$t-$w")
  done
done
rc=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then rc=1; echo "FINDING or failure in ${names[$i]}: tail of its log:"; tail -30 "$out/logs/${names[$i]}.log"; fi
done
echo "wall time: $((SECONDS - start)) s, $workers worker(s) per target, -runs=$runs each"
for t in "${targets[@]}"; do
  total=0 lines=""
  for w in $(seq 1 "$workers"); do
    n="$(grep -E '^stat::number_of_executed_units' "$out/logs/$t-$w.log" | tail -1 | awk '{print $2}')"
    total=$((total + ${n:-0}))
    lines+="    $(grep -E '^Done [0-9]+ runs' "$out/logs/$t-$w.log" | tail -1)"$'\n'
  done
  echo "  $t: $total executions in all"
  printf '%s' "$lines"
done
exit $rc
