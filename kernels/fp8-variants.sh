#!/bin/bash
# One device call timing the FP8 rung's variants at d128 (exp2 on MUFU / polynomial / f16 pairs,
# row max as chain / tree) beside the bf16 rung, then ncu pipe figures of the chain and tree
# kernels; if the tree max beats the default by >= 2% at B8 H16 N4096 d128 (non-causal), the full
# measurement (fp8-device.sh's time stage, the 6 ncu records, memcheck + synccheck) is re-run with
# it as the default. Run from a folder holding attnlab-attn-fp8 (sm_90a, static cudart), libfmt.so.9 and fp8_device.py; results under
# $OUT/results.tgz, re-packed after each step.
set -u
BIN=./attnlab-attn-fp8
OUT=${OUT:-/tmp/out}
R=$OUT/r
mkdir -p $R
if ! ldconfig -p | grep -q libcublas.so.13; then
  lib=$(dirname "$(find / -name 'libcublasLt.so.13' -not -path '/proc/*' 2>/dev/null | head -1)")
  export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
fi
export LD_LIBRARY_PATH=$(pwd):${LD_LIBRARY_PATH:-}
pack() { tar -czf $OUT/results.tgz -C $R . 2>/dev/null; }
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
  nvcc --version 2>/dev/null | tail -2; ncu --version | tail -1; } 2>&1 | tee $R/env.txt
echo "=== variants $(date -u +%H:%M:%S)"
timeout 200 $BIN --json $R/variants.json --no-accuracy --d128-only --quick > $R/variants.txt 2>&1
echo "variants rc=$?" | tee -a $R/variants.txt
grep -E "^check:|FAIL" $R/variants.txt; grep -E "attn-(hopper|fp8-hopper) " $R/variants.txt; grep -E "attn-fp8-hopper-" $R/variants.txt
pack
echo "=== ncu $(date -u +%H:%M:%S)"
M=gpu__time_duration.sum,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active,sm__inst_issued.avg.pct_of_peak_sustained_active,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active
for e in ${NCU_VARIANTS:-chain tree}; do
  timeout 40 ncu --clock-control none --metrics $M -k regex:attn_fp8 --csv --print-units base \
    $BIN --profile --profile-seq 4096 --profile-dim 128 --default-max $e > $R/ncu-max-$e.csv 2>&1
  echo "$e: $(grep -E '"(gpu__|sm__)' $R/ncu-max-$e.csv | awk -F'","' '{printf "%s=%s ", $(NF-2), $NF}' | sed 's/"//g')"
done
pack
best=$(python3 - $R/variants.json <<'PY'
import json, sys
runs = [r for r in json.load(open(sys.argv[1]))["runs"] if r["config"]["seq_q"] == 4096 and r["config"]["head_dim"] == 128
        and not r["config"]["causal"] and r["config"]["kv_heads"] == 16]
t = {r["kernel"]: r["tflops"] for r in runs}
d = t.get("attn-fp8-hopper", 0)
v = t.get("attn-fp8-hopper-treemax", 0)
print("tree" if v >= 1.02 * d else "")
PY
)
echo "best variant over the default: '${best}'"
if [ -n "$best" ]; then
  echo "=== full time with default $best $(date -u +%H:%M:%S)"
  timeout 150 $BIN --json $R/h200-fp8.json --default-max $best > $R/time.txt 2>&1; echo "time rc=$?" >> $R/time.txt
  grep -vE "^(B|check|  )" $R/time.txt | tail -8; grep -E "attn-(hopper|fp8-hopper) " $R/time.txt
  pack
  M2=dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,gpu__time_duration.sum,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_elapsed,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active,sm__cycles_elapsed.avg.per_second
  files=""
  for cfg in "4096 128 0" "4096 128 1" "4096 64 0" "4096 64 1" "16384 128 0" "16384 128 1"; do
    set -- $cfg; f=$R/ncu-N$1-d$2-c$3.csv; c=""; [ $3 = 1 ] && c=--profile-causal
    timeout 30 ncu --clock-control none --cache-control all --metrics $M2 -k regex:attn_fp8 --csv --print-units base \
      $BIN --profile --profile-seq $1 --profile-dim $2 --default-max $best $c > $f 2>&1
    echo "ncu N$1 d$2 c$3 rc=$?"; files="$files $f"
  done
  python3 fp8_device.py ncu --into $R/h200-fp8.json $files 2>&1 | tail -8
  pack
  for tool in memcheck synccheck; do
    echo "== compute-sanitizer --tool $tool --error-exitcode 9 attnlab-attn-fp8 --check --quick"
    timeout 60 compute-sanitizer --tool $tool --error-exitcode 9 $BIN --check --quick 2>&1 | grep -E "SUMMARY|check:|FAIL|rror" | head -8
    echo "rc=${PIPESTATUS[0]}"
  done 2>&1 | tee $R/sanitizer.txt
  pack
fi
echo "=== done $(date -u +%H:%M:%S)"
