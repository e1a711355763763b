#!/usr/bin/env bash
# Runs the kernel ladder's device work on a GPU machine, stage by stage, from the repository root:
#   scripts/device-kernels.sh [--bench PATH] [--out DIR] STAGE...
# Stages: env check sanitize key ladder gqa ncu ncu-collect ncu-breakdown torch-key torch-ladder torch-gqa
# Results (JSON measurement files, logs) go to DIR (default $OUT or ./device-out), and after every
# stage into DIR/results.tgz so that a run cut short still returns what it finished.
# attnlab-bench must be built already (it is built on a machine with nvcc; see kernels/NOTES.md).
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
pack() { tar -czf "$out/results.tgz" -C "$res" . 2>/dev/null; }
py=python3

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
      for tool in memcheck racecheck; do
        compute-sanitizer --tool $tool --error-exitcode 9 "$bench" --check --grid sanitizer --quiet \
          --kernels naive,tiled,mma 2>&1 | tail -40 | tee "$res/sanitize-$tool.log"
        echo "compute-sanitizer $tool exit: ${PIPESTATUS[0]}" | tee -a "$res/sanitize-$tool.log"
      done
      compute-sanitizer --tool memcheck --error-exitcode 9 "$bench" --check --grid sanitizer --quiet \
        --kernels naive-cublas 2>&1 | tail -20 | tee "$res/sanitize-memcheck-cublas.log"
      echo "compute-sanitizer memcheck (cublas) exit: ${PIPESTATUS[0]}" | tee -a "$res/sanitize-memcheck-cublas.log" ;;
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
