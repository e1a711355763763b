// The decode rung's host entry points (kernels in attn-decode.cu; its program is
// attn-decode-main.cpp): the launch parameters, the variants, and the launches the program times.
// Plain C++ with CUDA's bf16 type (cuda_bf16.h compiles with the host compiler too).
#pragma once
#include <cstddef>
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

namespace attnlab::kernels {

constexpr int kD = 128;      // head dimension this file is compiled for
constexpr int kWarps = 4;    // warps per block
constexpr int kStep = 16;    // keys per warp step (two n-tiles of 8 for QK, one k-step for PV)

struct DecodeParams {
  const __nv_bfloat16* q;  // [B, H, D]
  const __nv_bfloat16* k;  // contiguous: [B, KVH, L, D]; paged: pool [pages, KVH, P, D]
  const __nv_bfloat16* v;
  const int* block_table;  // [B, max_pages] or nullptr (contiguous)
  int page_size = 0, max_pages = 0;
  float* part_o;   // [B, H, splits, D] unnormalised partial O
  float* part_ml;  // [B, H, splits, 2]: (max in log2 units, sum)
  int* counters = nullptr;  // fused combine: [B, KVH·head_chunks] finished-split counts, zeroed once
                            // (each launch leaves them at 0); nullptr = separate combine kernel
  __nv_bfloat16* o;  // [B, H, D]
  int B = 0, H = 0, KVH = 0, L = 0, G = 0, splits = 0, chunk = 0;
  float scale_log2 = 0;
};
// The combine keeps one weight per split in shared memory: at most this many splits.
constexpr int kMaxSplits = 2048;

// One way to run a decode step (all are checked and timed by the bench).
struct Variant {
  const char* name;   // the kernel name in the measurement file (paged: "attn-decode-paged" + the suffix)
  const char* suffix;
  bool prefetch = false, fused = false, wide = false;
  int stages = 0;     // > 0: the cp.async ring of this many steps per warp
  bool pdl = false;   // combine kernel with programmatic dependent launch (sm_90)
};
inline constexpr Variant kVariants[] = {
    {"attn-decode", "", false, false, false, 0, false},
    {"attn-decode-prefetch", "-prefetch", true, false, false, 0, false},
    {"attn-decode-fused", "-fused", true, true, false, 0, false},
    {"attn-decode-prefetch-w8", "-prefetch-w8", true, false, true, 0, false},
    {"attn-decode-prefetch-pdl", "-prefetch-pdl", true, false, false, 0, true},
    {"attn-decode-prefetch-w8-pdl", "-prefetch-w8-pdl", true, false, true, 0, true},
    {"attn-decode-cpasync-s2-pdl", "-cpasync-s2-pdl", false, false, false, 2, true},
    {"attn-decode-cpasync-s4", "-cpasync-s4", false, false, false, 4, false},
    {"attn-decode-cpasync-s4-pdl", "-cpasync-s4-pdl", false, false, false, 4, true},
    {"attn-decode-cpasync-s6-pdl", "-cpasync-s6-pdl", false, false, false, 6, true},
};

// Dynamic shared memory of a variant: the per-warp partial O, then the cp.async slots.
inline size_t variant_smem(const Variant& v) {
  const int warps = v.wide ? 8 : kWarps;
  return size_t(warps) * 16 * kD * 4 + size_t(v.stages) * warps * 16 * 32 * 16;
}

// One decode step: the split kernel, then the combine (a second kernel, or fused into the split
// kernel's last block, or launched programmatically dependent: the variant says which).
cudaError_t decode_forward(const DecodeParams& p, const Variant& v, cudaStream_t st);
// The split kernel alone (no combine: its output is the partials), to time what the combine costs.
cudaError_t decode_split_forward(const DecodeParams& p, const Variant& v, cudaStream_t st);
// The read ceiling at a given size: a kernel that only reads `a` then `b` (bytes_each each) with
// 16-byte loads, 8 independent loads in flight per thread, blocks of 512 threads, and folds them
// into one word written to `sink` only if it equals an impossible value (so the loads stay).
cudaError_t read_stream(const void* a, const void* b, size_t bytes_each, unsigned* sink, int blocks, cudaStream_t st);

}  // namespace attnlab::kernels
