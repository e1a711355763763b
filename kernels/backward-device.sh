#!/bin/bash
# One device call for the backward rungs: check, time (ours + PyTorch), sanitizers, ncu byte counters.
# Run from a folder holding attnlab-attn-bwd-mma (and libfmt.so.9 where the build links it),
# torch_backward_reference.py and backward_ncu_merge.py; results in $OUT.
# Usage: backward-device.sh [check|time|sanitize|ncu|ncu-ours|profile]...   (default: check time sanitize ncu)
#   HOPPER_VARIANTS (environment): the bwd-hopper variants the time stage picks from and the
#            sanitizers run (default 1-9; a variant that fails the check stage is dropped).
#   RUNGS (environment): the rungs every stage runs, "mma hopper" by default (--rung of the program;
#            hopper = attn-bwd-hopper.cu). The time stage writes the first rung's file as
#            h200-backward.json and adds the others' backward runs to it, then PyTorch's.
#   SANITIZE_RUNGS, PROFILE_RUNGS (environment): those two stages' rungs instead (default RUNGS).
#   ncu-ours: our kernels' records only (PyTorch's FA2 records do not change when ours do).
#   VARIANTS (environment): the variants the time stage times and picks the fastest of per shape
#            (default: all of them).
#   profile: what limits our main kernel (the default variant, B4 H16 N4096 d64 and d128): pipe
#            utilisation, warp stall reasons, occupancy, shared-memory wavefronts (ncu-profile.csv).
set -u
export LD_LIBRARY_PATH=$PWD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
BIN=./attnlab-attn-bwd-mma
OUT=${OUT:-/tmp/out}
stages=${*:-check time sanitize ncu}
RUNGS=${RUNGS:-mma hopper}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv | tee $OUT/gpu.txt
for st in $stages; do
  case $st in
    check)
      for r in $RUNGS; do
        $BIN --rung $r --check > $OUT/check-$r.txt 2>&1; rc=$?
        grep -E "FAIL|match" $OUT/check-$r.txt
        if [ $r = hopper ] && [ $rc -eq 1 ]; then
          # A bwd-hopper variant that fails is left out of every later stage (variant 1 must pass).
          bad=$(grep -oE "^FAIL v[0-9]+" $OUT/check-$r.txt | grep -oE "[0-9]+" | sort -u | tr '\n' ' ')
          HOPPER_VARIANTS=$(echo ${HOPPER_VARIANTS:-1,2,3,4,5,6,7,8,9} | tr ',' '\n' | grep -vxE "$(echo $bad | tr ' ' '|')" | paste -sd,)
          echo "CHECK FAILED for bwd-hopper variants: $bad; going on with variants $HOPPER_VARIANTS"
          case ",$HOPPER_VARIANTS," in *,1,*) rc=0 ;; esac
        fi
        [ $rc -eq 0 ] || { tail -5 $OUT/check-$r.txt; echo "CHECK FAILED ($r) rc=$rc: stopping"; exit 1; }
      done ;;
    time)
      first=""
      for r in $RUNGS; do
        if [ $r = mma ]; then
          $BIN --time --sweep key --variants ${VARIANTS:-1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20} --fastest --json $OUT/time-$r.json > $OUT/time-$r.txt 2>&1
        else
          $BIN --rung $r --time --sweep key --variants ${HOPPER_VARIANTS:-1,2,3,4,5,6,7,8,9} --fastest --json $OUT/time-$r.json > $OUT/time-$r.txt 2>&1
        fi
        cat $OUT/time-$r.txt
        if [ -z "$first" ]; then first=$r; cp $OUT/time-$r.json $OUT/h200-backward.json; continue; fi
        # The other rungs' backward runs (and their command) join the first rung's file.
        python3 - $OUT/h200-backward.json $OUT/time-$r.json <<'PY'
import json, sys
doc, other = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
doc["backward"]["runs"] += other["backward"]["runs"]
# their variants apart: variant numbers are per rung
doc["backward"]["variants_" + other["backward"]["runs"][0]["kernel"]] = other["backward"].get("variants", [])
doc["backward"]["variants_note"] += " | " + other["backward"]["variants_note"]
doc["command"] += " ; " + other["command"]
json.dump(doc, open(sys.argv[1], "w"), indent=2)
PY
      done
      PYTHONUNBUFFERED=1 python3 torch_backward_reference.py --into $OUT/h200-backward.json > $OUT/torch.txt 2>&1
      cat $OUT/torch.txt ;;
    sanitize)
      for r in ${SANITIZE_RUNGS:-$RUNGS}; do
        for tool in memcheck racecheck synccheck; do
          echo "== compute-sanitizer --tool $tool: --rung $r --check --quick (every variant)"
          only=""; [ $r = hopper ] && only="--variants ${HOPPER_VARIANTS:-1,2,3,4,5,6,7,8,9}"
          compute-sanitizer --tool $tool --error-exitcode 9 $BIN --rung $r --check --quick $only 2>&1 | grep -E "SUMMARY|match|FAIL|rror|access at"
          echo "rc=${PIPESTATUS[0]}"
        done
      done 2>&1 | tee $OUT/sanitizer.txt ;;
    ncu|ncu-ours)
      # Bytes of the whole backward: ours = pre-pass + main + dQ conversion; PyTorch's FA2 = every
      # kernel between cudaProfilerStart/Stop around torch.autograd.grad. Caches flushed per kernel.
      M=dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,gpu__time_duration.sum
      NCU="ncu --clock-control none --cache-control all --print-units base --metrics $M --csv"
      for cfg in "1024 128" "2048 128" "4096 128" "4096 128 c" "4096 64" "4096 64 c"; do
        set -- $cfg; n=$1; d=$2; c=${3:+--causal}
        for r in $RUNGS; do
          # The variant the time stage ran as this rung's backward on this d (causal alike), else the default.
          v=$(python3 -c "import json,sys; r=[x['variant'] for x in json.load(open('$OUT/h200-backward.json'))['backward']['runs'] if x['kernel']=='attn-bwd-$r' and x['config']['head_dim']==$d and x['config']['causal']==bool('$c')]; print(r[0] if r else 0)" 2>/dev/null || echo 0)
          tag=ours; [ $r = mma ] || tag=ours-$r
          echo "# $tag B4 H16 N$n d$d ${c} variant $v" >> $OUT/ncu-ours.csv
          $NCU --kernel-name regex:attn_bwd $BIN --rung $r --once --variant $v --batch 4 --heads 16 --seq $n --dim $d $c 2>/dev/null \
            | grep '^"' >> $OUT/ncu-ours.csv
        done
        [ $st = ncu ] || continue
        echo "# torch-flash B4 H16 N$n d$d ${c}" >> $OUT/ncu-torch.csv
        $NCU --profile-from-start off \
          python3 torch_backward_reference.py --profile --backend flash --batch 4 --heads 16 --seq $n --dim $d $c \
          2>/dev/null | grep '^"' >> $OUT/ncu-torch.csv
      done
      wc -l $OUT/ncu-*.csv ;;
    profile)
      P=sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__throughput.avg.pct_of_peak_sustained_active
      P=$P,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active
      P=$P,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,lts__t_bytes.sum,gpu__time_duration.sum
      for r in barrier short_scoreboard long_scoreboard mio_throttle math_pipe_throttle lg_throttle not_selected wait dispatch_stall; do
        P=$P,smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio
      done
      for r in ${PROFILE_RUNGS:-$RUNGS}; do
        # the main kernel: attn_bwd_kernel* (mma) or attn_bwd_hopper_kernel
        [ $r = mma ] && kn=regex:attn_bwd_kernel || kn=regex:attn_bwd_${r}_kernel
        for d in 64 128; do
          echo "# ours-$r B4 H16 N4096 d$d (default variant)" >> $OUT/ncu-profile.csv
          ncu --clock-control none --print-units base --metrics $P --csv --kernel-name $kn \
            $BIN --rung $r --once --batch 4 --heads 16 --seq 4096 --dim $d 2>/dev/null | grep '^"' >> $OUT/ncu-profile.csv
          [ $r = mma ] || ncu --clock-control none --section SpeedOfLight --section WarpStateStats --section Occupancy \
            --kernel-name $kn $BIN --rung $r --once --batch 4 --heads 16 --seq 4096 --dim $d > $OUT/ncu-sections-$r-d$d.txt 2>&1
        done
      done
      python3 - $OUT/ncu-profile.csv <<'PY'
import csv, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"')) if r[0] != "ID"]
for r in rows:
    print(f"{r[4].split('(')[0][-60:]:<60} {r[-3]:<80} {r[-1]}")
PY
      ;;
  esac
done
