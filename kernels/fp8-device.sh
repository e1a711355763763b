#!/bin/bash
# One device call for the FP8 rung: nothing is built there. Run from a folder holding
# attnlab-attn-fp8 (built here for sm_90a, static cudart), libfmt.so.9, torch_reference.py and
# fp8_device.py; results under $OUT (results.tgz holds every log, re-packed after each stage so a
# call cut short still returns what it finished).
#   fp8-device.sh [env check time torch ncu sanitize variants]...   (default: env time torch ncu sanitize)
# Stages: env (GPU, driver, tools; SASS: QGMMA count, local memory), check (every config and
# scaling against fp64), time (--json: check, accuracy table, timings, quantize kernels),
# torch (PyTorch SDPA bf16, its FP8 offer, the _scaled_mm ceiling), ncu (bytes and tensor-pipe
# activity at 6 sizes + one full profile), sanitize (memcheck, synccheck, racecheck at three sizes),
# variants (the softmax variants at d128 beside the bf16 rung: exp2 on MUFU / polynomial / f16 pairs,
# row max as chain / tree, with ncu pipe figures of each row-max kind).
# FP8_DEFAULTS (environment): options that change the default kernel for time, ncu and sanitize, e.g.
# FP8_DEFAULTS="--default-max tree" to re-measure everything with a variant that won the variants stage.
set -u
BIN="./attnlab-attn-fp8 ${FP8_DEFAULTS:-}"
OUT=${OUT:-/tmp/out}
R=$OUT/r
mkdir -p $R
# cuBLAS (linked by the kernels library) from the CUDA toolkit or PyTorch's wheels, as scripts/device-kernels.sh.
if ! ldconfig -p | grep -q libcublas.so.13; then
  lib=$(dirname "$(find / -name 'libcublasLt.so.13' -not -path '*/proc/*' 2>/dev/null | head -1)")
  export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
fi
export LD_LIBRARY_PATH=$(pwd):${LD_LIBRARY_PATH:-}
stages=${*:-env time torch ncu sanitize}
pack() { tar -czf $OUT/results.tgz -C $R . 2>/dev/null; }
for st in $stages; do
  echo "=== $st $(date -u +%H:%M:%S)"
  case $st in
    env)
      { date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
        nvcc --version 2>/dev/null | tail -2; ncu --version | tail -1; compute-sanitizer --version | tail -1
        python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
        cuobjdump --dump-resource-usage ./attnlab-attn-fp8 2>&1 | grep -A1 -E "attn_fp8|quantize" | grep -oE "Function [^:]*|REG:[0-9]+|STACK:[0-9]+|LOCAL:[0-9]+|SHARED:[0-9]+" | paste - - - - - 
        cuobjdump -sass ./attnlab-attn-fp8 > $R/fp8.sass 2>&1
        echo "SASS QGMMA kinds:"; grep -oE "QGMMA\.[0-9A-Zx.]*" $R/fp8.sass | sort | uniq -c
        echo "LDL/STL in attn_fp8 kernels: $(awk '/Function : .*attn_fp8/{f=1} /Function : /&&!/attn_fp8/{f=0} f' $R/fp8.sass | grep -cE 'LDL|STL')"
        rm -f $R/fp8.sass; } 2>&1 | tee $R/env.txt ;;
    check)
      timeout 240 $BIN --check > $R/check.txt 2>&1; echo "check rc=$?" >> $R/check.txt
      grep -E "FAIL|check:|rc=" $R/check.txt ;;
    time)
      timeout 300 $BIN --json $R/h200-fp8.json > $R/time.txt 2>&1; echo "time rc=$?" >> $R/time.txt
      grep -vE "^(B|check|  )" $R/time.txt | tail -60 ;;
    torch)
      PYTHONUNBUFFERED=1 timeout 150 python3 fp8_device.py torch --into $R/h200-fp8.json > $R/torch.txt 2>&1
      echo "torch rc=$?" >> $R/torch.txt; tail -25 $R/torch.txt ;;
    ncu)
      M=dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,gpu__time_duration.sum,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active,sm__cycles_elapsed.avg.per_second
      files=""
      for cfg in "4096 128 0" "4096 128 1" "4096 64 0" "4096 64 1" "16384 128 0" "16384 128 1"; do
        set -- $cfg; f=$R/ncu-N$1-d$2-c$3.csv; c=""; [ $3 = 1 ] && c=--profile-causal
        timeout 90 ncu --clock-control none --cache-control all --metrics $M -k regex:attn_fp8 --csv --print-units base \
          $BIN --profile --profile-seq $1 --profile-dim $2 $c > $f 2>&1
        echo "ncu N$1 d$2 c$3 rc=$?"; files="$files $f"
      done
      python3 fp8_device.py ncu --into $R/h200-fp8.json $files 2>&1 | tee $R/ncu.txt
      timeout 120 ncu --clock-control none --section SpeedOfLight --section WarpStateStats --section ComputeWorkloadAnalysis \
        --section Occupancy -k regex:attn_fp8 $BIN --profile --profile-seq 4096 --profile-dim 128 > $R/ncu-sol-d128.txt 2>&1
      echo "ncu sol rc=$?"; grep -E "Throughput|Pipe|Stall|Warp Cycles|Issue|Duration|SM Frequency" $R/ncu-sol-d128.txt | head -30 ;;
    sanitize)
      for tool in memcheck synccheck racecheck; do
        echo "== compute-sanitizer --tool $tool --error-exitcode 9 attnlab-attn-fp8 --check --quick"
        timeout 90 compute-sanitizer --tool $tool --error-exitcode 9 $BIN --check --quick 2>&1 | grep -E "SUMMARY|check:|FAIL|rror" | head -8
        echo "rc=${PIPESTATUS[0]}"
      done 2>&1 | tee $R/sanitizer.txt ;;
    variants)
      timeout 200 $BIN --json $R/variants.json --no-accuracy --d128-only --quick > $R/variants.txt 2>&1
      echo "variants rc=$?" | tee -a $R/variants.txt
      grep -E "^check:|FAIL" $R/variants.txt; grep -E "attn-(hopper|fp8-hopper)" $R/variants.txt
      M=gpu__time_duration.sum,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active,sm__inst_issued.avg.pct_of_peak_sustained_active,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active
      for e in chain tree; do
        timeout 40 ncu --clock-control none --metrics $M -k regex:attn_fp8 --csv --print-units base \
          $BIN --profile --profile-seq 4096 --profile-dim 128 --default-max $e > $R/ncu-max-$e.csv 2>&1
        echo "$e: $(grep -E '"(gpu__|sm__)' $R/ncu-max-$e.csv | awk -F'","' '{printf "%s=%s ", $(NF-2), $NF}' | sed 's/"//g')"
      done ;;
  esac
  pack
done
[ -f $R/h200-fp8.json ] && $BIN --validate $R/h200-fp8.json 2>&1 | tee -a $R/time.txt
pack
echo "=== done $(date -u +%H:%M:%S)"
