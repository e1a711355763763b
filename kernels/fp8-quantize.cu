// fp8-quantize.cu — bf16 -> FP8 e4m3 with scales: the step in front of the FP8 rung
// (attn-fp8-hopper.cu), a kernel of its own so that its cost is timed and the end-to-end figure
// is honest. Three ways to choose the scales (Fp8Scaling, attn-fp8.hpp):
//   tensor          one scale per tensor: a first pass writes each tile's amax, a small kernel
//                   reduces them and writes the tensor's scale into every tile's slot, a second
//                   pass quantizes (the input is read twice).
//   block           one scale per tile (Br = 128 query rows of one head, Bc = 128 keys of one kv
//                   head): amax of the tile / 448 (e4m3's largest finite value), one pass.
//   block_hadamard  as block, after "incoherent processing" of Q and K: each row x (d values) is
//                   replaced by M x with M = H diag(signs) / sqrt(d), H the Sylvester-Hadamard
//                   matrix and signs random +-1. M is orthogonal, so (M q).(M k) = q.k and the
//                   attention is unchanged, but an outlier coordinate is spread over all d
//                   coordinates, so the tile's amax (and with it the rounding step of every other
//                   value) shrinks. The transform is a fast Walsh-Hadamard transform in registers
//                   and shuffles: log2(d) butterfly stages, no shared memory.
// V is written transposed, V^T [b][kv head][d][keys rounded up to Bc], because FP8 wgmma reads its
// B operand K-major only; inside every 32 keys the columns are permuted so that the P fragments
// the attention kernel builds from its S accumulators line up without shuffles (the permutation
// is explained in attn-fp8-hopper.cu). Keys past seq_kv are written as zeros (finite: 0 * 0).
// Values are rounded to nearest with saturation (cvt.rn.satfinite); a tile of zeros gets scale 1.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attn-fp8.hpp"

using namespace attnlab::kernels;

namespace {

constexpr float kE4m3Max = 448.f;
constexpr int kTileRows = 128;  // = kFp8Br = kFp8Bc
constexpr int kThreads = 256;

enum Mode : int { quantize_block = 0, amax_only = 1, quantize_given = 2 };

__device__ __forceinline__ uint16_t cvt2(float lo, float hi) {
  uint16_t r;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));  // first operand -> upper byte
  return r;
}

// Max over the block; every thread gets it. `red` holds one float per warp.
__device__ __forceinline__ float block_max(float v, float* red) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();  // every warp's partial max is in `red`
  float m = red[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w) m = fmaxf(m, red[w]);
  return m;
}

// The tile's scale by mode (and thread 0 records it): block -> amax/448, given -> read it.
__device__ __forceinline__ float tile_scale(float amax, float* scale, int mode) {
  if (mode == quantize_given) return scale[0];
  const float sc = amax > 0.f ? amax / kE4m3Max : 1.f;
  if (threadIdx.x == 0) scale[0] = mode == amax_only ? amax : sc;
  return sc;
}

// Q or K: one block per (tile of 128 rows, z = batch x head). Warp w takes rows w*16 .. w*16+15
// of the tile; lane l holds the E = d/32 consecutive values l*E .. l*E+E-1 of each (8-byte loads
// at d = 128). The Walsh-Hadamard butterfly at distance s pairs index e with e ^ s: inside the
// lane's registers when s < E, across lanes (shuffle with lane mask s/E) otherwise.
template <int D, bool kHadamard>
__global__ void __launch_bounds__(kThreads) quantize_rows(const __nv_bfloat16* __restrict__ x, int rows,
                                                        int tiles, uint8_t* __restrict__ out,
                                                        float* __restrict__ scales,
                                                        const float* __restrict__ signs, int mode) {
  constexpr int E = D / 32;
  constexpr int R = kTileRows / (kThreads / 32);  // rows per warp
  __shared__ float red[kThreads / 32];
  const int tile = blockIdx.x, z = blockIdx.y;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const size_t zbase = size_t(z) * rows;
  float v[R][E];
  float amax = 0.f;
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int r = tile * kTileRows + warp * R + i;
#pragma unroll
    for (int k = 0; k < E; ++k) v[i][k] = 0.f;
    if (r < rows) {
      const __nv_bfloat16* src = x + (zbase + r) * D + lane * E;
#pragma unroll
      for (int k = 0; k < E; k += 2) {
        const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(src + k));
        v[i][k] = f.x;
        v[i][k + 1] = f.y;
      }
    }
    if constexpr (kHadamard) {
#pragma unroll
      for (int k = 0; k < E; ++k) v[i][k] *= signs[lane * E + k];
#pragma unroll
      for (int s = 1; s < E; s <<= 1)
#pragma unroll
        for (int k = 0; k < E; ++k)
          if ((k & s) == 0) {
            const float a = v[i][k], b = v[i][k + s];
            v[i][k] = a + b;
            v[i][k + s] = a - b;
          }
#pragma unroll
      for (int s = E; s < D; s <<= 1) {
        const int lm = s / E;
        const bool upper = lane & lm;
#pragma unroll
        for (int k = 0; k < E; ++k) {
          const float other = __shfl_xor_sync(0xffffffff, v[i][k], lm);
          v[i][k] = upper ? other - v[i][k] : v[i][k] + other;
        }
      }
      const float norm = rsqrtf(float(D));
#pragma unroll
      for (int k = 0; k < E; ++k) v[i][k] *= norm;
    }
#pragma unroll
    for (int k = 0; k < E; ++k) amax = fmaxf(amax, fabsf(v[i][k]));
  }
  amax = block_max(amax, red);
  const float sc = tile_scale(amax, scales + size_t(z) * tiles + tile, mode);
  if (mode == amax_only) return;
  const float inv = 1.f / sc;
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int r = tile * kTileRows + warp * R + i;
    if (r >= rows) continue;
    uint8_t* dst = out + (zbase + r) * D + lane * E;
    if constexpr (E == 4) {
      *reinterpret_cast<uint32_t*>(dst) =
          uint32_t(cvt2(v[i][0] * inv, v[i][1] * inv)) | (uint32_t(cvt2(v[i][2] * inv, v[i][3] * inv)) << 16);
    } else {
      *reinterpret_cast<uint16_t*>(dst) = cvt2(v[i][0] * inv, v[i][1] * inv);
    }
  }
}

// V -> V^T: one block per (tile of 128 keys, z = batch x kv head). The tile is staged in shared
// memory as bf16 [key][d] (16-byte loads), then thread (dim dd, part) writes row dd of V^T for 32
// keys at a time (32 bytes: one full sector), reading column dd of the staged tile: the 32 lanes of
// a warp read 32 consecutive dims of one key row (no bank conflicts).
template <int D>
__global__ void __launch_bounds__(kThreads) quantize_vt(const __nv_bfloat16* __restrict__ v, int seq_kv, int tiles,
                                                      int vt_cols, uint8_t* __restrict__ vt,
                                                      float* __restrict__ scales, int mode) {
  __shared__ __align__(16) __nv_bfloat16 tile_s[kTileRows][D];
  __shared__ float red[kThreads / 32];
  const int tile = blockIdx.x, z = blockIdx.y;
  const int k0 = tile * kTileRows;
  float amax = 0.f;
  constexpr int chunks = kTileRows * D / 8;  // 16-byte chunks of the tile
  for (int c = threadIdx.x; c < chunks; c += kThreads) {
    const int r = c / (D / 8), col = (c % (D / 8)) * 8;
    uint4 u = make_uint4(0, 0, 0, 0);
    if (k0 + r < seq_kv) u = *reinterpret_cast<const uint4*>(v + (size_t(z) * seq_kv + k0 + r) * D + col);
    *reinterpret_cast<uint4*>(&tile_s[r][col]) = u;
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const float2 f = __bfloat1622float2(h[q]);
      amax = fmaxf(amax, fmaxf(fabsf(f.x), fabsf(f.y)));
    }
  }
  amax = block_max(amax, red);  // its __syncthreads also makes the staged tile visible
  const float sc = tile_scale(amax, scales + size_t(z) * tiles + tile, mode);
  if (mode == amax_only) return;
  const float inv = 1.f / sc;
  constexpr int parts = kThreads / D;            // threads per V^T row
  constexpr int groups = kTileRows / 32 / parts;  // 32-key groups per thread
  const int dd = threadIdx.x % D, part = threadIdx.x / D;
  uint8_t* row = vt + (size_t(z) * D + dd) * vt_cols + k0;
#pragma unroll
  for (int gi = 0; gi < groups; ++gi) {
    const int g32 = (part * groups + gi) * 32;
    uint32_t w[8];
#pragma unroll
    for (int q = 0; q < 8; ++q) {
      // column c = 4q + i (i = 0..3) of this 32-key group holds key 16*(q/4) + 2*(q%4) + (i%2) + 8*(i/2)
      float f[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int key = g32 + 16 * (q / 4) + 2 * (q % 4) + (i % 2) + 8 * (i / 2);
        f[i] = __bfloat162float(tile_s[key][dd]) * inv;
      }
      w[q] = uint32_t(cvt2(f[0], f[1])) | (uint32_t(cvt2(f[2], f[3])) << 16);
    }
    *reinterpret_cast<uint4*>(row + g32) = make_uint4(w[0], w[1], w[2], w[3]);
    *reinterpret_cast<uint4*>(row + g32 + 16) = make_uint4(w[4], w[5], w[6], w[7]);
  }
}

// Per-tensor scaling: the tiles' amax -> one scale, written into every tile's slot.
__global__ void __launch_bounds__(kThreads) amax_to_tensor_scale(float* scales, int n) {
  __shared__ float red[kThreads / 32];
  float m = 0.f;
  for (int i = threadIdx.x; i < n; i += kThreads) m = fmaxf(m, scales[i]);
  m = block_max(m, red);  // every thread has read its entries before any is overwritten below
  const float sc = m > 0.f ? m / kE4m3Max : 1.f;
  for (int i = threadIdx.x; i < n; i += kThreads) scales[i] = sc;
}

template <int D>
cudaError_t quantize_d(const Fp8QuantizeArgs& a, Fp8Scaling m, cudaStream_t st) {
  const AttnShape& s = a.shape;
  const int qt = fp8_q_tiles(s), kt = fp8_kv_tiles(s);
  const int zq = s.batch * s.heads, zkv = s.batch * s.kv_heads;
  const auto* q = static_cast<const __nv_bfloat16*>(a.q);
  const auto* k = static_cast<const __nv_bfloat16*>(a.k);
  const auto* v = static_cast<const __nv_bfloat16*>(a.v);
  auto* q8 = static_cast<uint8_t*>(a.q8);
  auto* k8 = static_cast<uint8_t*>(a.k8);
  auto* vt8 = static_cast<uint8_t*>(a.vt8);
  const dim3 gq(qt, zq), gk(kt, zkv);
  if (m == Fp8Scaling::block_hadamard) {
    quantize_rows<D, true><<<gq, kThreads, 0, st>>>(q, s.seq_q, qt, q8, a.sq, a.signs, quantize_block);
    quantize_rows<D, true><<<gk, kThreads, 0, st>>>(k, s.seq_kv, kt, k8, a.sk, a.signs, quantize_block);
    quantize_vt<D><<<gk, kThreads, 0, st>>>(v, s.seq_kv, kt, fp8_vt_cols(s), vt8, a.sv, quantize_block);
    return cudaGetLastError();
  }
  if (m == Fp8Scaling::tensor) {
    quantize_rows<D, false><<<gq, kThreads, 0, st>>>(q, s.seq_q, qt, q8, a.sq, nullptr, amax_only);
    quantize_rows<D, false><<<gk, kThreads, 0, st>>>(k, s.seq_kv, kt, k8, a.sk, nullptr, amax_only);
    quantize_vt<D><<<gk, kThreads, 0, st>>>(v, s.seq_kv, kt, fp8_vt_cols(s), vt8, a.sv, amax_only);
    amax_to_tensor_scale<<<1, kThreads, 0, st>>>(a.sq, qt * zq);
    amax_to_tensor_scale<<<1, kThreads, 0, st>>>(a.sk, kt * zkv);
    amax_to_tensor_scale<<<1, kThreads, 0, st>>>(a.sv, kt * zkv);
  }
  const int mode = m == Fp8Scaling::tensor ? quantize_given : quantize_block;
  quantize_rows<D, false><<<gq, kThreads, 0, st>>>(q, s.seq_q, qt, q8, a.sq, nullptr, mode);
  quantize_rows<D, false><<<gk, kThreads, 0, st>>>(k, s.seq_kv, kt, k8, a.sk, nullptr, mode);
  quantize_vt<D><<<gk, kThreads, 0, st>>>(v, s.seq_kv, kt, fp8_vt_cols(s), vt8, a.sv, mode);
  return cudaGetLastError();
}

}  // namespace

namespace attnlab::kernels {

const char* fp8_scaling_name(Fp8Scaling m) {
  switch (m) {
    case Fp8Scaling::tensor: return "fp8-tensor";
    case Fp8Scaling::block: return "fp8-block";
    case Fp8Scaling::block_hadamard: return "fp8-block-hadamard";
  }
  return "?";
}

cudaError_t fp8_quantize(const Fp8QuantizeArgs& a, Fp8Scaling m, cudaStream_t st) {
  if (a.shape.head_dim == 64) return quantize_d<64>(a, m, st);
  if (a.shape.head_dim == 128) return quantize_d<128>(a, m, st);
  return cudaErrorInvalidValue;
}

}  // namespace attnlab::kernels
