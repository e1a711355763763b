// attn-tiled.cu — rung 2 of the kernel ladder: FlashAttention on CUDA cores.
//
// What changes from rung 1, and why: S and P never leave the chip. A block owns one query tile
// Qi (Br rows) and streams the key/value tiles Kj, Vj (Bc rows each) through shared memory; for
// each row it keeps the running max m and running sum l of the online softmax, rescales its
// output accumulator when m grows, and writes O once at the end (Algorithm 1 of FlashAttention,
// with the 1/l division moved to the end as in FlashAttention-2). Memory traffic drops from the
// S/P round trips (~12·B·H·N² bytes in rung 1) to one pass over Q and O plus K and V read once per
// query tile (Tr times; mostly from L2, since the blocks of one head run together). This is the kernel the
// lessons walk through line by line: plain FP32 FMAs, no tensor cores, no asynchronous copies.
//
// Run:  attnlab-bench --kernels tiled --batch 8 --heads 16 --seq 4096 --dim 128
//
// Measured (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, 2026-11-23; B8 H16 N4096 bf16, median of
// 10 with L2 flushed; assets/measurements/h100-key.json, sweeps in h100-ladder.json):
//   d128 76.1 ms 14.4 TFLOP/s, d128 causal 38.7 ms 14.2, d64 44.2 ms 12.4 — slower than rung 1's
//   naive kernels at d128 (50.2 ms), though it moves a fraction of their bytes.
// What limits it: the CUDA cores. Every multiply-add of S and P·V is a scalar FP32 FMA fed from
// shared memory, at ~22% of the H100's ~67 TFLOP/s FP32 FMA peak, and every tile load stalls the
// block (synchronous copies). The bytes are no longer the problem (O written once, K/V mostly from
// L2): rung 3 moves the FLOPs to the tensor cores and overlaps the loads.
//
// Tiles (the simulator's vocabulary): Br = 32 query rows per block (Tr = ceil(Nq/Br) blocks per
// head), Bc = 32 key rows per step (Tc = ceil(Nkv/Bc) steps). Grid: (Tr, heads, batch), query
// tile fastest, so the blocks of one head run together and share Kj, Vj through L2.
// Threads: 8 warps × 4 query rows each. For S a lane owns one key column of the tile; for O a lane
// owns the columns lane, lane+32, ... of its 4 rows.
//
// Caveats:
//   - CUDA cores only (FP32 FMA): the ceiling is ~1/15 of the tensor-core rate.
//   - Each Kj/Vj element is converted to fp32 on the way into shared memory (smem holds fp32).
//   - Synchronous loads: the block stalls on every tile load (rung 3 overlaps them with cp.async).
//   - d must be 64 or 128 (templated so the loops over d unroll).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "attn.hpp"

namespace attnlab::kernels {

namespace {

__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
template <typename T>
__device__ __forceinline__ T from_f(float x);
template <>
__device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16(x); }
template <>
__device__ __forceinline__ __half from_f<__half>(float x) { return __float2half(x); }

constexpr int Br = 32;            // query rows per block
constexpr int Bc = 32;            // key rows per step (one per lane)
constexpr int kWarps = 8;
constexpr int kRowsPerWarp = Br / kWarps;  // 4
constexpr int kThreads = kWarps * 32;

struct TiledParams {
  const void* q;
  const void* k;
  const void* v;
  void* o;
  int heads, kv_heads, group, seq_q, seq_kv;
  int causal, offset;  // query i sees key j when j <= i + offset (causal)
  float scale;
};

template <int D>
constexpr size_t tiled_smem_bytes() {
  // Qi [Br][D], Kj [Bc][D+1] (one float of padding: lane c reads row c, and rows of D floats would
  // all start in the same bank), Vj [Bc][D].
  return sizeof(float) * (Br * D + Bc * (D + 1) + Bc * D);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) attn_tiled_kernel(TiledParams p) {
  constexpr int kCols = D / 32;  // output columns per lane
  extern __shared__ float smem[];
  float* Qi = smem;               // [Br][D]
  float* Kj = Qi + Br * D;        // [Bc][D + 1]
  float* Vj = Kj + Bc * (D + 1);  // [Bc][D]

  const int b = blockIdx.z, h = blockIdx.y;
  const int kvh = h / p.group;  // GQA: query head h reads kv head h / group
  const int q0 = blockIdx.x * Br;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  const T* Q = static_cast<const T*>(p.q) + ((size_t(b) * p.heads + h) * p.seq_q) * D;
  const T* K = static_cast<const T*>(p.k) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  const T* V = static_cast<const T*>(p.v) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  T* O = static_cast<T*>(p.o) + ((size_t(b) * p.heads + h) * p.seq_q) * D;

  // Load Qi once (rows past seq_q are zeros: they are computed and never stored).
  for (int e = threadIdx.x; e < Br * D; e += kThreads) {
    int r = e / D, x = e % D;
    Qi[e] = (q0 + r < p.seq_q) ? to_f(Q[size_t(q0 + r) * D + x]) : 0.f;
  }

  // Per-row state of the online softmax, for this warp's 4 rows: running max m, running sum l,
  // and the unnormalised output accumulator (this lane's kCols columns).
  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kCols];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.f;
#pragma unroll
    for (int c = 0; c < kCols; ++c) acc[r][c] = 0.f;
  }

  // Causal: the last key the block's last row can see bounds the key tiles we visit (Tc' <= Tc).
  const int last_key = p.causal ? min(p.seq_kv - 1, q0 + Br - 1 + p.offset) : p.seq_kv - 1;
  const int tc = last_key / Bc + 1;

  for (int j = 0; j < tc; ++j) {
    const int k0 = j * Bc;
    __syncthreads();  // (a) Qi is loaded (first pass); (b) the last step's readers are done with Kj/Vj
    for (int e = threadIdx.x; e < Bc * D; e += kThreads) {
      int r = e / D, x = e % D;
      bool in = k0 + r < p.seq_kv;
      Kj[r * (D + 1) + x] = in ? to_f(K[size_t(k0 + r) * D + x]) : 0.f;
      Vj[e] = in ? to_f(V[size_t(k0 + r) * D + x]) : 0.f;
    }
    __syncthreads();  // Kj and Vj are complete before any warp reads them

    // S = Qi Kjᵀ · scale: lane c computes S[r][c] for the warp's 4 rows (Qi reads are broadcasts).
    float s[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) s[r] = 0.f;
    const float* krow = Kj + lane * (D + 1);
#pragma unroll 8
    for (int x = 0; x < D; ++x) {
      float kx = krow[x];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) s[r] += Qi[(warp * kRowsPerWarp + r) * D + x] * kx;
    }

#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int i = q0 + warp * kRowsPerWarp + r, key = k0 + lane;
      float sc = s[r] * p.scale;
      if (key >= p.seq_kv || (p.causal && key > i + p.offset)) sc = -INFINITY;  // ragged tail, causal mask
      // m_new = max(m, rowmax(S)); P = exp(S − m_new); l = l·exp(m − m_new) + rowsum(P)
      float mx = sc;
      for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      const float m_new = fmaxf(m[r], mx);
      // A row that has seen only masked keys keeps m = −inf; use 0 so that exp() gives 0, not NaN.
      const float m_use = (m_new == -INFINITY) ? 0.f : m_new;
      const float pr = __expf(sc - m_use);
      const float alpha = __expf(m[r] - m_use);  // rescales what was accumulated under the old max
      float sum = pr;
      for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      l[r] = l[r] * alpha + sum;
      m[r] = m_new;
      // O = diag(alpha)·O + P Vj: lane c broadcasts P[r][c]; each lane adds to its own columns.
#pragma unroll
      for (int c = 0; c < kCols; ++c) acc[r][c] *= alpha;
#pragma unroll 8
      for (int c2 = 0; c2 < Bc; ++c2) {
        const float pc = __shfl_sync(0xffffffffu, pr, c2);
#pragma unroll
        for (int c = 0; c < kCols; ++c) acc[r][c] += pc * Vj[c2 * D + lane + 32 * c];
      }
    }
  }

  // O = diag(1/l)·acc, written once.
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int i = q0 + warp * kRowsPerWarp + r;
    if (i >= p.seq_q) continue;
    const float inv_l = 1.f / l[r];
#pragma unroll
    for (int c = 0; c < kCols; ++c) O[size_t(i) * D + lane + 32 * c] = from_f<T>(acc[r][c] * inv_l);
  }
}

template <typename T, int D>
cudaError_t tiled_launch(const TiledParams& p, const AttnShape& s, cudaStream_t stream) {
  constexpr size_t smem = tiled_smem_bytes<D>();
  // d = 128 needs 48.5 KiB, just past the 48 KiB a block gets without asking.
  cudaError_t e = cudaFuncSetAttribute(attn_tiled_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  if (e != cudaSuccess) return e;
  dim3 grid((s.seq_q + Br - 1) / Br, s.heads, s.batch);
  attn_tiled_kernel<T, D><<<grid, kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t attn_tiled_forward(const AttnProblem& pr, cudaStream_t stream) {
  const AttnShape& s = pr.shape;
  if (s.head_dim != 64 && s.head_dim != 128) return cudaErrorInvalidValue;
  TiledParams p{pr.q, pr.k, pr.v, pr.o, s.heads, s.kv_heads, s.group(), s.seq_q, s.seq_kv, s.causal ? 1 : 0,
                s.seq_kv - s.seq_q, pr.scale};
  const bool bf = s.dtype == ElemType::bf16;
  if (s.head_dim == 64) return bf ? tiled_launch<__nv_bfloat16, 64>(p, s, stream) : tiled_launch<__half, 64>(p, s, stream);
  return bf ? tiled_launch<__nv_bfloat16, 128>(p, s, stream) : tiled_launch<__half, 128>(p, s, stream);
}

}  // namespace attnlab::kernels
