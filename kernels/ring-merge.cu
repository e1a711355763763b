// ring-merge.cu: the one kernel of ring attention (ring-attention.cpp drives it): merging a block's
// partial O and log-sum-exp into the running result.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "ring-merge.hpp"

namespace attnlab::kernels {

namespace {

// ---------------------------------------------------------------------------------------------
// The merge: one row of d values per group of d/4 threads (4 values each), all inside one warp,
// so the row's old lse is read by every thread before lane 0 of the row overwrites it.

constexpr int kMergeThreads = 256;

__global__ void ring_merge_kernel(float* __restrict__ acc_o, float* __restrict__ acc_lse,
                                  const __nv_bfloat16* __restrict__ part_o, const float* __restrict__ part_lse,
                                  __nv_bfloat16* __restrict__ out, long long rows, int d, int first, int last,
                                  int have_part, long long part_empty_every) {
  const int per_row = d / 4;  // 16 (d = 64) or 32 (d = 128): a row never straddles two warps
  const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const long long row = t / per_row;
  const int c = int(t % per_row) * 4;
  const bool active = row < rows;
  float a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
  float la = -INFINITY, lb = -INFINITY;
  if (active) {
    if (!first) {
      const float4 v = *reinterpret_cast<const float4*>(acc_o + row * d + c);
      a[0] = v.x, a[1] = v.y, a[2] = v.z, a[3] = v.w;
      la = acc_lse[row];
    }
    // Striped layout, a later device's keys: the kernel ran on rows shifted by one (ring-attention.cpp),
    // so the first row of every (b, h) holds another row's result; that row sees no key here.
    if (have_part && !(part_empty_every > 0 && row % part_empty_every == 0)) {
      const uint2 raw = *reinterpret_cast<const uint2*>(part_o + row * d + c);
      const __nv_bfloat162 p0 = *reinterpret_cast<const __nv_bfloat162*>(&raw.x);
      const __nv_bfloat162 p1 = *reinterpret_cast<const __nv_bfloat162*>(&raw.y);
      b[0] = __low2float(p0), b[1] = __high2float(p0), b[2] = __low2float(p1), b[3] = __high2float(p1);
      lb = part_lse[row];
    }
  }
  __syncwarp();  // every thread of the row has read acc_lse[row]
  if (!active) return;
  const float m = fmaxf(la, lb);
  float wa = 0.f, wb = 0.f, lse = -INFINITY;
  if (m != -INFINITY) {  // a row with no visible key so far keeps O = 0, lse = −inf
    const float ea = __expf(la - m), eb = __expf(lb - m);
    lse = m + __logf(ea + eb);
    wa = ea / (ea + eb);
    wb = eb / (ea + eb);
  }
  float r[4];
#pragma unroll
  for (int x = 0; x < 4; ++x) r[x] = wa * a[x] + wb * b[x];
  if (last) {
    __nv_bfloat162 o0 = __floats2bfloat162_rn(r[0], r[1]), o1 = __floats2bfloat162_rn(r[2], r[3]);
    uint2 raw;
    raw.x = *reinterpret_cast<uint32_t*>(&o0);
    raw.y = *reinterpret_cast<uint32_t*>(&o1);
    *reinterpret_cast<uint2*>(out + row * d + c) = raw;
  } else {
    *reinterpret_cast<float4*>(acc_o + row * d + c) = make_float4(r[0], r[1], r[2], r[3]);
  }
  if (c == 0) acc_lse[row] = lse;
}

}  // namespace

cudaError_t ring_merge(float* acc_o, float* acc_lse, const void* part_o, const float* part_lse, void* out,
                       long long rows, int d, bool first, bool last, bool have_part, long long part_empty_every,
                       cudaStream_t st) {
  const long long threads = rows * (d / 4);
  const unsigned blocks = unsigned((threads + kMergeThreads - 1) / kMergeThreads);
  ring_merge_kernel<<<blocks, kMergeThreads, 0, st>>>(acc_o, acc_lse, static_cast<const __nv_bfloat16*>(part_o),
                                                      part_lse, static_cast<__nv_bfloat16*>(out), rows, d,
                                                      first ? 1 : 0, last ? 1 : 0, have_part ? 1 : 0,
                                                      part_empty_every);
  return cudaGetLastError();
}

}  // namespace attnlab::kernels
