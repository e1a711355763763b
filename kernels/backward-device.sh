#!/bin/bash
# One device call for the backward rung: check, time (ours + PyTorch), sanitizers. Run from a folder
# holding attnlab-attn-bwd-mma and torch_backward_reference.py; results under $OUT.
# Usage: backward-device.sh [check|time|sanitize|ncu]...   (default: check time sanitize)
set -u
BIN=./attnlab-attn-bwd-mma
OUT=${OUT:-/tmp/out}
stages=${*:-check time sanitize}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv | tee $OUT/gpu.txt
for st in $stages; do
  case $st in
    check)
      $BIN --check 2>&1 | tee $OUT/check.txt; rc=${PIPESTATUS[0]}
      [ $rc -eq 0 ] || { echo "CHECK FAILED rc=$rc: stopping"; exit 1; } ;;
    time)
      $BIN --time --sweep key --json $OUT/h200-backward.json 2>&1 | tee $OUT/time.txt
      PYTHONUNBUFFERED=1 python3 torch_backward_reference.py --into $OUT/h200-backward.json 2>&1 | tee $OUT/torch.txt ;;
    sanitize)
      for tool in memcheck racecheck synccheck; do
        echo "== compute-sanitizer --tool $tool: --check --quick"
        compute-sanitizer --tool $tool --error-exitcode 9 $BIN --check --quick 2>&1 | tail -6
        echo "rc=${PIPESTATUS[0]}"
      done 2>&1 | tee $OUT/sanitizer.txt ;;
  esac
done
