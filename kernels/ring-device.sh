#!/bin/bash
# Ring attention's device work (kernels/ring-attention.cpp), stage by stage. Run from a folder that
# holds attnlab-ring-attention (and libfmt.so.9, which the core library links); results go to $OUT.
#   ring-device.sh STAGE...
# Stages:
#   env          GPUs, driver, CUDA, NCCL's library (from PyTorch's nvidia-nccl wheel)
#   one-gpu      the ring for 2, 4 and 8 virtual devices on GPU 0, every layout, causal and not
#   sanitize     compute-sanitizer memcheck: the one-GPU ring at P = 4, zigzag and striped (quick shapes)
#   check        the NCCL ring over every visible GPU, every layout (exit 77 with one GPU)
#   sweep:P:N,N[:KVH]  the measured runs at P GPUs, per-device blocks N (tokens), H32/32 and H32/8
#                (or only Hkv = KVH), d128, bf16, B1, causal and not, each layout (contiguous, zigzag,
#                striped); writes $OUT/ring-h200x<P>-n<N..>[-kv<KVH>].json
#   sanitize-nccl  compute-sanitizer memcheck over the NCCL ring (>= 2 GPUs), zigzag and striped
#
# The runs issue 23 still needs (multi-GPU machines were withheld when this was written), one
# device call per line, on the machine of that many GPUs (nvidia-h200-x2 / -x4 / -x8):
#   P=2: ring-device.sh env check sanitize-nccl sweep:2:1024,2048,4096
#        ring-device.sh sweep:2:8192,16384
#   P=4: ring-device.sh env check sanitize-nccl sweep:4:1024,2048,4096
#        ring-device.sh sweep:4:8192
#        ring-device.sh sweep:4:16384
#   P=8: ring-device.sh env check sanitize-nccl sweep:8:1024,2048,4096
#        ring-device.sh sweep:8:8192
#        ring-device.sh sweep:8:16384:32
#        ring-device.sh sweep:8:16384:8
# Each sweep point n is 12 rows (H32/32 and 32/8 x causal or not x 3 layouts), each row checked
# against the one-GPU rung and fp64 rows, then timed (4 schedules x (2 + 20) passes), plus the
# link alone (4 KiB ... 1 GiB) per file. At P = 8 and n = 16384 the whole sequence is 131072
# tokens: the inputs (3 GiB) and the fp64 rows take most of the time, hence a call per series.
# Then on this machine:
#   attnlab ring --measured FILE [--calibrate]   (the rows beside the model, per layout)
set -u
BIN=./attnlab-ring-attention
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
# NVLink multicast stays off (see ring-attention.cpp's header; the program sets it too).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nccl=$(python3 -c 'import nvidia.nccl,os;print(os.path.dirname(nvidia.nccl.__file__))' 2>/dev/null)/lib
export LD_LIBRARY_PATH="$(pwd):$nccl:${LD_LIBRARY_PATH:-}"
# cuBLAS (linked by the kernels' library) from the CUDA toolkit or from PyTorch's wheels.
if ! ldconfig -p | grep -q libcublas.so.13; then
  lib=$(dirname "$(find / -name 'libcublasLt.so.13' -not -path '/proc/*' 2>/dev/null | head -1)")
  export LD_LIBRARY_PATH="$lib:$LD_LIBRARY_PATH"
fi
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(env one-gpu sanitize check)
for st in "${stages[@]}"; do
  echo "=== $st ($(date -u +%FT%TZ))"
  case $st in
    env)
      { nvidia-smi --query-gpu=index,name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv
        nvidia-smi topo -m; compute-sanitizer --version | tail -1; ls "$nccl" | grep nccl; ldd $BIN | grep -E "nccl|fmt"
      } 2>&1 | tee -a "$OUT/env.txt" ;;
    one-gpu)
      timeout 100 $BIN --virtual 2,4,8 --check 2>&1 | tee "$OUT/one-gpu.txt" | grep -E "FAILED|^ok|H200"
      echo "rc=${PIPESTATUS[0]}" | tee -a "$OUT/one-gpu.txt" ;;
    sanitize)
      for l in zigzag striped; do
        echo "== compute-sanitizer --tool memcheck $BIN --virtual 4 --layout $l --check --quick"
        timeout 45 compute-sanitizer --tool memcheck --error-exitcode 9 $BIN --virtual 4 --layout $l --check --quick 2>&1 |
          grep -E "ERROR SUMMARY|^ok|FAILED|rror"
        echo "rc=${PIPESTATUS[0]}"
      done 2>&1 | tee "$OUT/sanitizer.txt" ;;
    check)
      $BIN --check 2>&1 | tee "$OUT/check.txt"; echo "rc=${PIPESTATUS[0]}" ;;
    sweep:*)
      IFS=: read -r _ P N KVH <<< "$st"
      tag="h200x$P-n${N//,/-}${KVH:+-kv$KVH}"
      timeout 580 $BIN --devices "$P" --sweep layouts --block "$N" ${KVH:+--kv-heads $KVH} --json "$OUT/ring-$tag.json" \
        2>&1 | tee "$OUT/sweep-$tag.txt"
      echo "rc=${PIPESTATUS[0]}" ;;
    sanitize-nccl)
      # The NCCL ring under memcheck (>= 2 GPUs): the quick shapes of the two balanced layouts.
      timeout 400 compute-sanitizer --tool memcheck --error-exitcode 9 $BIN --check --quick --layout zigzag,striped 2>&1 |
        grep -E "ERROR SUMMARY|^ok|FAILED|rror" | tee "$OUT/sanitizer-nccl.txt"
      echo "rc=${PIPESTATUS[0]}" | tee -a "$OUT/sanitizer-nccl.txt" ;;
    *) echo "unknown stage $st"; exit 2 ;;
  esac
done
