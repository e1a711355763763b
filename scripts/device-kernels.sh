#!/usr/bin/env bash
# Runs the kernel ladder's device work on a GPU machine, stage by stage, from the repository root:
#   scripts/device-kernels.sh [--bench PATH] [--out DIR] STAGE...
# Stages: env check sanitize key ladder gqa ncu ncu-collect ncu-breakdown torch-key torch-ladder torch-gqa
#         (ladder II) check2 decode decode-write window scan ncu2 ncu-mma-l1 torch-decode scan2 decode2
# The ladder II binaries (attnlab-attn-decode, -attn-window, -scan-selective) are looked up beside
# the bench.
# Results (JSON measurement files, logs) go to DIR (default $OUT or ./device-out), and after every
# stage into DIR/results.tgz so that a run cut short still returns what it finished.
# attnlab-bench must be built already (on a machine with nvcc: the default preset builds it). The
# kernel programs link libfmt.so.9 (through the core library): a copy taken to a machine without
# it carries the library beside the binaries, whose folder is put on LD_LIBRARY_PATH below.
set -uo pipefail
bench=build/attnlab-bench
out="${OUT:-./device-out}"
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) bench="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) break ;;
  esac
done
mkdir -p "$out/r"
res="$out/r"
# cuBLAS comes from the CUDA toolkit or from PyTorch's wheels; the bench links it dynamically.
if ! ldconfig -p | grep -q libcublas.so.13; then
  lib=$(dirname "$(find / -name 'libcublasLt.so.13' -not -path '*/proc/*' 2>/dev/null | head -1)")
  export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
fi
export LD_LIBRARY_PATH="$(cd "$(dirname "$bench")" && pwd):${LD_LIBRARY_PATH:-}"
pack() { tar -czf "$out/results.tgz" -C "$res" . 2>/dev/null; }
py=python3
bin=$(dirname "$bench")
dec="$bin/attnlab-attn-decode"; win="$bin/attnlab-attn-window"; scan="$bin/attnlab-scan-selective"
# One sanitizer run: tool, log name, command...; the log keeps the summary lines and the exit code.
san() {
  local tool=$1 name=$2; shift 2
  compute-sanitizer --tool "$tool" --error-exitcode 9 "$@" > "$res/san-$name-$tool.full" 2>&1
  local rc=$?
  { echo "\$ compute-sanitizer --tool $tool --error-exitcode 9 $*"
    grep -E "^(ok|FAIL|All results|[0-9]+ of|=========)|ERROR SUMMARY|RACECHECK SUMMARY|checked" "$res/san-$name-$tool.full" | tail -40
    echo "exit code: $rc"; echo; } | tee -a "$res/sanitizer-summary.txt"
  rm -f "$res/san-$name-$tool.full"
}

for stage in "$@"; do
  echo "=== stage $stage ($(date -u +%H:%M:%S))"
  case "$stage" in
    env)
      { nvidia-smi; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem --format=csv
        ncu --version; compute-sanitizer --version; $py -c 'import torch; print("torch", torch.__version__)'
        ldd "$bench"; } 2>&1 | tee "$res/env.log" ;;
    check)
      "$bench" --check --quiet 2>&1 | tee "$res/check.log" ;;
    sanitize)
      # memcheck, racecheck and synccheck over every rung at three sizes (ragged ones included);
      # cuBLAS's own kernels only under memcheck (racecheck/synccheck flag library internals).
      for tool in memcheck racecheck synccheck; do
        san $tool ladder "$bench" --check --grid sanitizer --quiet --kernels naive,tiled,mma
        san $tool decode "$dec" --check --sweep sanitizer
        san $tool window "$win" --check --sanitizer
        san $tool scan "$scan" --check --batch 2 --channels 8 --lens 16,272,1040
      done
      san memcheck cublas "$bench" --check --grid sanitizer --quiet --kernels naive-cublas ;;
    check2)
      { "$dec" --check --sweep quick; echo "decode check exit $?"
        "$win" --check; echo "window check exit $?"
        "$scan" --check --batch 2 --channels 64 --lens 16,272,1040,4096; echo "scan check exit $?"; } 2>&1 | tee "$res/check2.log" ;;
    decode)
      "$dec" --sweep key --flush read --json "$res/decode.json" 2>&1 | tee "$res/decode.log" ;;
    decode-write)
      "$dec" --sweep key --flush write --repeats 10 2>&1 | tee "$res/decode-write.log" ;;
    window)
      "$win" --json "$res/window.json" 2>&1 | tee "$res/window.log" ;;
    scan)
      "$scan" --json "$res/scan.json" 2>&1 | tee "$res/scan.log" ;;
    ncu2)
      $py kernels/ncu_ladder2.py --bin "$bin" --into "$res/ncu-ladder2.json" 2>&1 | tee "$res/ncu2.log" ;;
    ncu-mma-l1)
      # Why attn-mma's SM-side L2 reads fall short of Tr x (K + V): L1 hits of the cp.async copies?
      for d in 64 128; do
        ncu --clock-control none --cache-control all --csv --print-units base --metrics \
'lts__t_sectors_srcunit_tex_op_read.sum,lts__t_requests_srcunit_tex_op_read.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ldgsts.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ldgsts_lookup_hit.sum,l1tex__t_requests_pipe_lsu_mem_global_op_ldgsts.sum,launch__registers_per_thread,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,sm__ctas_launched.sum,launch__grid_size' \
          "$bench" --profile --quiet --kernels mma --batch 4 --heads 16 --seq 2048 --dim $d > "$res/ncu-mma-l1-d$d.csv" 2>&1
        echo "ncu mma l1 d$d exit $?"
      done
      # What limits the scan and the decode split kernel: speed of light, occupancy, stall reasons.
      ncu --clock-control none --section SpeedOfLight --section Occupancy --section WarpStateStats \
        -k regex:selective_scan --launch-count 1 "$scan" --check --batch 2 --channels 4096 --lens 16384 \
        > "$res/ncu-scan-sol.txt" 2>&1
      ncu --clock-control none --section SpeedOfLight --section Occupancy --section WarpStateStats \
        -k regex:decode_ "$dec" --profile --sweep key --chunk 1024 > "$res/ncu-decode-sol.txt" 2>&1
      echo "ncu sol exit $?" ;;
    scan2)
      # The states-across-lanes scan (variants S4*): resources and SASS mix, check, sanitizers at
      # three sizes (ragged L and a partial channel block), timing, and its profile.
      cuobjdump --dump-resource-usage "$scan" 2>&1 | grep -A1 states_kernel > "$res/scan2-resources.txt"
      cuobjdump -sass "$scan" > "$res/scan.sass" 2>&1
      $py - "$res/scan.sass" <<'PYEOF' | tee -a "$res/scan2-resources.txt"
import re, sys, collections
for f in re.split(r"\n\s+Function : ", open(sys.argv[1]).read())[1:]:
    name = f.split("\n")[0]
    if "states" not in name: continue
    ops = re.findall(r"/\*[0-9a-f]{4}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)", f)
    print(name[:60], len(ops), collections.Counter(o.split(".")[0] for o in ops).most_common(20))
PYEOF
      rm -f "$res/scan.sass"
      "$scan" --check --batch 2 --channels 64 --lens 16,272,1040,4096 2>&1 | tee "$res/scan2-check.log"
      for tool in memcheck racecheck synccheck; do
        san $tool scan2 "$scan" --check --only S4 --batch 2 --channels 40 --lens 16,272,1040
      done
      "$scan" --json "$res/scan.json" 2>&1 | tee "$res/scan.log"
      for v in "S4 R1 P0 shfl" "S4 R1 P0 shfl pk"; do
        ncu --clock-control none --section SpeedOfLight --section Occupancy --section WarpStateStats \
          --section ComputeWorkloadAnalysis --section InstructionStats --section LaunchStats --metrics \
'l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_elapsed,smsp__inst_executed_op_shared_ld.sum,smsp__inst_executed_op_shared_st.sum,smsp__inst_executed_op_shfl.sum,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active' \
          -k regex:selective_scan_states --launch-count 1 "$scan" --check --only "$v" --batch 2 --channels 4096 \
          --lens 16384 > "$res/ncu-scan2-${v// /}.txt" 2>&1
        echo "ncu scan2 $v exit $?"
      done
      $py kernels/ncu_ladder2.py --bin "$bin" --parts scan --scan-only S4 --into "$res/ncu-scan2.json" 2>&1 | tee "$res/ncu2-scan2.log" ;;
    decode2)
      # The decode rung after a change: check, the three sanitizers, the key sweep, PyTorch beside it.
      "$dec" --check --sweep quick 2>&1 | tee "$res/decode2-check.log"; echo "decode check exit $?"
      for tool in memcheck racecheck synccheck; do san $tool decode2 "$dec" --check --sweep sanitizer; done
      "$dec" --sweep key --flush read --json "$res/decode.json" 2>&1 | tee "$res/decode.log"
      $py kernels/torch_decode_reference.py --into "$res/decode.json" 2>&1 | tee "$res/torch-decode.log" ;;
    torch-decode)
      $py kernels/torch_decode_reference.py --into "$res/decode.json" 2>&1 | tee "$res/torch-decode.log" ;;
    key|ladder|gqa|ncu)
      "$bench" --sweep "$stage" --json "$res/$stage.json" 2>&1 | tee "$res/$stage.log" ;;
    torch-*)
      f="$res/${stage#torch-}.json"
      $py kernels/torch_reference.py --into "$f" 2>&1 | tee "$res/$stage.log" ;;
    ncu-collect)
      $py kernels/ncu_collect.py --bench "$bench" --sweep ncu --kernels naive,naive-cublas,tiled,mma \
        --into "$res/ncu.json" 2>&1 | tee "$res/ncu-collect.log" ;;
    ncu-breakdown)
      # Where lts__t_bytes comes from (SM reads/writes, fabric, fills), for the simulator's L2 model.
      ncu --query-metrics --chip gh100 2>&1 | grep -E "^lts__t_(sectors|bytes|requests)" > "$res/lts-metrics.txt"
      for k in naive mma; do
        ncu --clock-control none --cache-control all --csv --print-units base \
          --metrics 'regex:^lts__t_(sectors|bytes)(_srcunit_[a-z]+)?(_op_[a-z]+)?(_lookup_[a-z]+)?\.sum$' \
          "$bench" --profile --quiet --kernels $k --batch 4 --heads 16 --seq 2048 --dim 128 \
          > "$res/ncu-breakdown-$k.csv" 2>&1
        echo "ncu breakdown $k exit $?"
      done ;;
    *) echo "unknown stage $stage" ;;
  esac
  pack
done
echo "=== done ($(date -u +%H:%M:%S))"
