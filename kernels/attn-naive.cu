// attn-naive.cu — rung 1 of the kernel ladder: standard attention, the way the equations read.
//
//   S = scale · Q Kᵀ        (kernel 1, S written to memory: B·H·Nq·Nkv fp32 values)
//   P = softmax(S) by row   (kernel 2, reads S, writes P over it)
//   O = P V                 (kernel 3, reads P and V, writes O)
//
// Versions in this file (both use the same entry point as every rung):
//   naive         three hand-written kernels on CUDA cores, S and P in fp32. Teaches what
//                 FlashAttention removes: the N×N matrix makes a round trip through HBM, and the
//                 GEMMs run on CUDA cores (FP32 FMA) rather than tensor cores.
//   naive-cublas  the GEMMs from cuBLAS (tensor cores), S and P stored in the input dtype (bf16 or
//                 fp16), one softmax kernel between them: "what a framework does" (PyTorch's math
//                 backend does the same, with a few more kernels).
//
// Run:  attnlab-bench --kernels naive,naive-cublas --batch 8 --heads 16 --seq 4096 --dim 128
//
// Measured (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, 2026-11-23; B8 H16 N4096 bf16, median of
// 10 with L2 flushed; assets/measurements/h100-key.json, sweeps in h100-ladder.json):
//                  d128              d128 causal        d64
//   naive          50.2 ms  21.9 TF  49.3 ms  11.1 TF   31.1 ms  17.7 TF    (TF = TFLOP/s)
//   naive-cublas    8.1 ms 136.0 TF   7.1 ms  77.0 TF    8.0 ms  68.9 TF    (PyTorch flash: 345 TF at d128)
// What limits them:
//   naive: its CUDA-core GEMMs. It reaches neither DRAM (Nsight Compute counts 17.4 GB of DRAM
//     traffic at B4, so ~35 GB in 50 ms here: ~0.7 of 3.35 TB/s) nor the FP32 FMA peak (~67 TFLOP/s).
//     Causal halves the useful FLOPs but not the time: the whole S is still computed and stored.
//   naive-cublas: the S/P round trip. S and P in bf16 are 4.3 GB each at d128, written and read
//     once each: >= 17.2 GB, 5.1 ms of its 8.1 ms at 3.35 TB/s, while the GEMMs run on tensor
//     cores. At d64 the GEMMs halve and the round trip does not, hence half the TFLOP/s.
//
// Tiles (the simulator's vocabulary, algorithm "naive"): kernel 1 computes S in T×T tiles with
// T = 128 (Br = Bc = 128), kernel 3 computes O in T-row × d tiles; kernel 2 works one row at a time
// and reads S once when the row fits in shared memory (twice otherwise), as the simulator assumes.
// Causal: as in the simulator's naive model (and in a framework), the whole S is computed and
// stored; the mask is applied in kernel 2, which reads only the visible keys of each row and
// writes P = 0 above the diagonal, and kernel 3 multiplies the whole P. So causal saves only the
// softmax's reads of the masked half: skipping masked tiles is the first step towards the tiled rung.
//
// Caveats:
//   - S costs 4·B·H·Nq·Nkv bytes of device memory (8.6 GB at B8 H16 N4096): that is the point.
//   - The CUDA-core GEMMs are a plain 128×128 smem tiling with 8×8 register blocking: honest, not
//     tuned (no double buffering, no vectorised loads, no tensor cores); cuBLAS is the tuned
//     comparison.
//   - GQA: each query head re-reads its shared K/V head (no reuse across the group beyond L2).
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cfloat>
#include <cstdint>

#include "attn.hpp"

namespace attnlab::kernels {

namespace {

// ---------------------------------------------------------------------------------------------
// Element helpers

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
template <typename T>
__device__ __forceinline__ T from_f(float x);
template <>
__device__ __forceinline__ float from_f<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16(x); }
template <>
__device__ __forceinline__ __half from_f<__half>(float x) { return __float2half(x); }

struct NaiveParams {
  int heads, kv_heads, group, seq_q, seq_kv, d;
  int causal;
  int offset;  // seq_kv - seq_q: query i sees key j when j <= i + offset (causal)
  float scale;
};

constexpr int kTile = 128;    // T: the GEMMs' output tiles are T×T (kernel 1) and T×d (kernel 3)
constexpr int kStep = 16;     // depth of one smem slice of the GEMM loop (16 of d, or 16 keys)
constexpr int kThreads = 256; // 16×16 threads; each computes an 8×8 (kernel 1) or 8×d/16 block
constexpr int kPer = kTile / 16;  // 8 rows (and 8 columns) per thread

// Thread tx's c-th key column in a T-wide tile: columns 4·tx..4·tx+3, then 64 + 4·tx..+3, so that
// the 16 threads of a row store 256 contiguous bytes at a time.
__device__ __forceinline__ int key_col(int tx, int c) { return (c / 4) * 64 + tx * 4 + c % 4; }

// ---------------------------------------------------------------------------------------------
// Kernel 1: S = scale · Q Kᵀ for one T×T tile (query rows i0.., key rows j0..) of one (b, h).
// The whole S is computed, masked or not: the mask is applied in kernel 2 (Algorithm 0 with a mask).

template <typename T>
__global__ void __launch_bounds__(kThreads) attn_naive_scores_kernel(const T* __restrict__ Q, const T* __restrict__ K,
                                                                     float* __restrict__ S, NaiveParams p) {
  const int bh = blockIdx.z, b = bh / p.heads, h = bh % p.heads;
  const int kvh = h / p.group;  // GQA: query head h reads kv head h / group
  const int i0 = blockIdx.y * kTile, j0 = blockIdx.x * kTile;
  const T* Qi = Q + (size_t(b) * p.heads + h) * p.seq_q * size_t(p.d);
  const T* Kj = K + (size_t(b) * p.kv_heads + kvh) * p.seq_kv * size_t(p.d);
  float* Sbh = S + size_t(bh) * p.seq_q * size_t(p.seq_kv);

  // Both slices stored transposed ([k][row]) so that the inner loop reads 8 consecutive rows.
  __shared__ float Qs[kStep][kTile + 4];
  __shared__ float Ks[kStep][kTile + 4];

  const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
  float acc[kPer][kPer] = {};

  for (int k0 = 0; k0 < p.d; k0 += kStep) {
    // Global reads: 16 consecutive elements of a row per 16 threads (32 bytes, one sector).
    for (int e = tid; e < kTile * kStep; e += kThreads) {
      int r = e / kStep, kk = e % kStep;
      int qi = i0 + r, kj = j0 + r, x = k0 + kk;
      Qs[kk][r] = (qi < p.seq_q && x < p.d) ? to_f(Qi[size_t(qi) * p.d + x]) : 0.f;
      Ks[kk][r] = (kj < p.seq_kv && x < p.d) ? to_f(Kj[size_t(kj) * p.d + x]) : 0.f;
    }
    __syncthreads();  // the Q and K slices are complete before any thread multiplies them
#pragma unroll
    for (int kk = 0; kk < kStep; ++kk) {
      float a[kPer], c[kPer];
#pragma unroll
      for (int r = 0; r < kPer; ++r) a[r] = Qs[kk][ty * kPer + r];
#pragma unroll
      for (int c2 = 0; c2 < kPer; ++c2) c[c2] = Ks[kk][key_col(tx, c2)];
#pragma unroll
      for (int r = 0; r < kPer; ++r)
#pragma unroll
        for (int c2 = 0; c2 < kPer; ++c2) acc[r][c2] += a[r] * c[c2];
    }
    __syncthreads();  // everyone is done reading the slices before the next loop overwrites them
  }

  // Each thread writes 2 × 4 consecutive scores of a row with 16-byte stores; the 16 threads of a
  // row cover 256 contiguous bytes per store, so every 32-byte sector is written whole, once.
  const bool vec = (p.seq_kv % 4) == 0;
#pragma unroll
  for (int r = 0; r < kPer; ++r) {
    int i = i0 + ty * kPer + r;
    if (i >= p.seq_q) continue;
    float* srow = Sbh + size_t(i) * p.seq_kv;
#pragma unroll
    for (int c4 = 0; c4 < kPer; c4 += 4) {
      int j = j0 + key_col(tx, c4);
      if (vec && j + 3 < p.seq_kv) {
        *reinterpret_cast<float4*>(srow + j) = make_float4(acc[r][c4] * p.scale, acc[r][c4 + 1] * p.scale,
                                                           acc[r][c4 + 2] * p.scale, acc[r][c4 + 3] * p.scale);
      } else {
        for (int c2 = 0; c2 < 4 && j + c2 < p.seq_kv; ++c2) srow[j + c2] = acc[r][c4 + c2] * p.scale;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Kernel 2: P = softmax(S) for one row, in place. m = max_j S_ij, l = Σ_j exp(S_ij − m),
// P_ij = exp(S_ij − m) / l; masked keys (causal) get P = 0. When the row fits in shared memory
// (Nkv·sizeof(S) bytes; fp32 rows up to 56k keys on an H100) it is read from memory once;
// otherwise twice (max and sum, then the write pass). The simulator uses the same rule.

__device__ __forceinline__ void combine(float& m, float& l, float m2, float l2) {
  float mn = fmaxf(m, m2);
  // exp(−inf − −inf) would be NaN: an empty partial contributes nothing.
  float a = (m == -INFINITY) ? 0.f : l * __expf(m - mn);
  float c = (m2 == -INFINITY) ? 0.f : l2 * __expf(m2 - mn);
  m = mn;
  l = a + c;
}

// (m, l) over the block: warp shuffles, then the 8 warps' partials through shared memory.
__device__ __forceinline__ void block_reduce(float& m, float& l) {
  __shared__ float wm[kThreads / 32], wl[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) {
    float m2 = __shfl_xor_sync(0xffffffffu, m, o), l2 = __shfl_xor_sync(0xffffffffu, l, o);
    combine(m, l, m2, l2);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    wm[warp] = m;
    wl[warp] = l;
  }
  __syncthreads();  // every warp's partial (m, l) is in shared memory before anyone combines them
  m = wm[0];
  l = wl[0];
  for (int w = 1; w < kThreads / 32; ++w) combine(m, l, wm[w], wl[w]);
}

template <typename ST, bool OnePass>
__global__ void __launch_bounds__(kThreads) attn_naive_softmax_kernel(ST* __restrict__ S, NaiveParams p) {
  extern __shared__ float row_smem[];  // the row, when OnePass
  const size_t row = blockIdx.x;       // (b·H + h)·Nq + i
  const int i = int(row % p.seq_q);
  const int len = p.causal ? min(p.seq_kv, i + p.offset + 1) : p.seq_kv;  // visible keys
  ST* x = S + row * p.seq_kv;

  // Pass 1: each thread keeps a running (m, l) over its strided keys (online softmax in miniature).
  float m = -INFINITY, l = 0.f;
  for (int j = threadIdx.x; j < len; j += kThreads) {
    float v = to_f(x[j]);
    if (OnePass) row_smem[j] = v;
    combine(m, l, v, 1.f);
  }
  block_reduce(m, l);
  const float inv_l = 1.f / l;

  // Pass 2: write P over S (each thread rereads the elements it staged itself: no barrier needed).
  for (int j = threadIdx.x; j < len; j += kThreads) {
    float v = OnePass ? row_smem[j] : to_f(x[j]);
    x[j] = from_f<ST>(__expf(v - m) * inv_l);
  }
  for (int j = len + threadIdx.x; j < p.seq_kv; j += kThreads) x[j] = from_f<ST>(0.f);  // masked keys
}

template <typename ST>
cudaError_t softmax_launch(ST* S, const NaiveParams& p, unsigned rows, cudaStream_t stream) {
  int dev = 0, optin = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  const size_t row_bytes = size_t(p.seq_kv) * sizeof(float);
  // Leave room for block_reduce's 64 bytes of static shared memory.
  if (row_bytes + 256 <= size_t(optin)) {
    cudaError_t e = cudaFuncSetAttribute(attn_naive_softmax_kernel<ST, true>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, int(row_bytes));
    if (e != cudaSuccess) return e;
    attn_naive_softmax_kernel<ST, true><<<rows, kThreads, row_bytes, stream>>>(S, p);
  } else {
    attn_naive_softmax_kernel<ST, false><<<rows, kThreads, 0, stream>>>(S, p);
  }
  return cudaGetLastError();
}

// ---------------------------------------------------------------------------------------------
// Kernel 3: O = P V for a T-row × d tile of O (kCols = d/16 columns per thread, 8 rows each).

template <typename T, int kCols>
__global__ void __launch_bounds__(kThreads) attn_naive_pv_kernel(const float* __restrict__ P, const T* __restrict__ V,
                                                                 T* __restrict__ O, NaiveParams p) {
  constexpr int kWidth = 16 * kCols;  // output columns per block (64 or 128)
  const int bh = blockIdx.z, b = bh / p.heads, h = bh % p.heads;
  const int kvh = h / p.group;
  const int i0 = blockIdx.y * kTile, n0 = blockIdx.x * kWidth;
  const float* Pbh = P + size_t(bh) * p.seq_q * size_t(p.seq_kv);
  const T* Vj = V + (size_t(b) * p.kv_heads + kvh) * p.seq_kv * size_t(p.d);
  T* Oi = O + (size_t(b) * p.heads + h) * p.seq_q * size_t(p.d);

  __shared__ float Ps[kStep][kTile + 4];  // P slice, transposed: [key][row]
  __shared__ float Vs[kStep][kWidth + 4];  // V slice: [key][column]

  const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
  float acc[kPer][kCols] = {};
  for (int k0 = 0; k0 < p.seq_kv; k0 += kStep) {
    for (int e = tid; e < kTile * kStep; e += kThreads) {
      int r = e / kStep, kk = e % kStep, i = i0 + r, j = k0 + kk;
      Ps[kk][r] = (i < p.seq_q && j < p.seq_kv) ? Pbh[size_t(i) * p.seq_kv + j] : 0.f;
    }
    for (int e = tid; e < kWidth * kStep; e += kThreads) {
      int kk = e / kWidth, c = e % kWidth, j = k0 + kk, n = n0 + c;
      Vs[kk][c] = (j < p.seq_kv && n < p.d) ? to_f(Vj[size_t(j) * p.d + n]) : 0.f;
    }
    __syncthreads();  // the P and V slices are complete before any thread multiplies them
#pragma unroll
    for (int kk = 0; kk < kStep; ++kk) {
      float a[kPer], c[kCols];
#pragma unroll
      for (int r = 0; r < kPer; ++r) a[r] = Ps[kk][ty * kPer + r];
#pragma unroll
      for (int c2 = 0; c2 < kCols; ++c2) c[c2] = Vs[kk][tx * kCols + c2];
#pragma unroll
      for (int r = 0; r < kPer; ++r)
#pragma unroll
        for (int c2 = 0; c2 < kCols; ++c2) acc[r][c2] += a[r] * c[c2];
    }
    __syncthreads();  // everyone is done reading the slices before the next loop overwrites them
  }
#pragma unroll
  for (int r = 0; r < kPer; ++r) {
    int i = i0 + ty * kPer + r;
    if (i >= p.seq_q) continue;
#pragma unroll
    for (int c2 = 0; c2 < kCols; ++c2) {
      int n = n0 + tx * kCols + c2;
      if (n < p.d) Oi[size_t(i) * p.d + n] = from_f<T>(acc[r][c2]);
    }
  }
}

NaiveParams make_params(const AttnProblem& pr) {
  const AttnShape& s = pr.shape;
  return NaiveParams{s.heads, s.kv_heads, s.group(), s.seq_q, s.seq_kv, s.head_dim, s.causal ? 1 : 0,
                     s.seq_kv - s.seq_q, pr.scale};
}

template <typename T>
cudaError_t naive_launch(const AttnProblem& pr, cudaStream_t stream) {
  const AttnShape& s = pr.shape;
  NaiveParams p = make_params(pr);
  float* S = static_cast<float*>(pr.workspace);
  const int tr = (s.seq_q + kTile - 1) / kTile, tc = (s.seq_kv + kTile - 1) / kTile;
  dim3 g1(tc, tr, s.batch * s.heads);  // key tile fastest: the blocks of one query tile share Qi in L2
  attn_naive_scores_kernel<T><<<g1, kThreads, 0, stream>>>(static_cast<const T*>(pr.q), static_cast<const T*>(pr.k),
                                                           S, p);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
  if (cudaError_t e = softmax_launch<float>(S, p, unsigned(size_t(s.batch) * s.heads * s.seq_q), stream);
      e != cudaSuccess)
    return e;
  if (s.head_dim <= 64) {
    dim3 g3((s.head_dim + 63) / 64, tr, s.batch * s.heads);
    attn_naive_pv_kernel<T, 4><<<g3, kThreads, 0, stream>>>(S, static_cast<const T*>(pr.v), static_cast<T*>(pr.o), p);
  } else {
    dim3 g3((s.head_dim + 127) / 128, tr, s.batch * s.heads);
    attn_naive_pv_kernel<T, 8><<<g3, kThreads, 0, stream>>>(S, static_cast<const T*>(pr.v), static_cast<T*>(pr.o), p);
  }
  return cudaGetLastError();
}

// ---------------------------------------------------------------------------------------------
// naive-cublas: the two GEMMs from cuBLAS, S and P in the input dtype.

cublasHandle_t g_cublas = nullptr;

template <typename T>
cudaError_t cublas_launch(const AttnProblem& pr, cudaStream_t stream) {
  const AttnShape& s = pr.shape;
  if (!g_cublas && cublasCreate(&g_cublas) != CUBLAS_STATUS_SUCCESS) return cudaErrorUnknown;
  if (cublasSetStream(g_cublas, stream) != CUBLAS_STATUS_SUCCESS) return cudaErrorUnknown;
  const cudaDataType_t dt = std::is_same_v<T, __nv_bfloat16> ? CUDA_R_16BF : CUDA_R_16F;
  const long long nq = s.seq_q, nkv = s.seq_kv, d = s.head_dim;
  T* S = static_cast<T*>(pr.workspace);
  const T* Q = static_cast<const T*>(pr.q);
  const T* K = static_cast<const T*>(pr.k);
  const T* V = static_cast<const T*>(pr.v);
  T* O = static_cast<T*>(pr.o);
  const float one = 1.f, zero = 0.f, scale = pr.scale;
  // cuBLAS is column-major: row-major S = Q·Kᵀ is column-major Sᵀ = K·Qᵀ, i.e. op(K) = T (K is a
  // d×Nkv column-major matrix), op(Q) = N. One batched call per kv head: its `group` query heads
  // are consecutive and share K (stride 0), which is how GQA looks to a GEMM.
  const int group = s.group();
  auto ok = [](cublasStatus_t st) { return st == CUBLAS_STATUS_SUCCESS; };
  if (group == 1) {
    // Without GQA every (b, h) is one entry of a single strided batch.
    if (!ok(cublasGemmStridedBatchedEx(g_cublas, CUBLAS_OP_T, CUBLAS_OP_N, int(nkv), int(nq), int(d), &scale, K, dt,
                                       int(d), nkv * d, Q, dt, int(d), nq * d, &zero, S, dt, int(nkv), nq * nkv,
                                       s.batch * s.heads, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)))
      return cudaErrorUnknown;
  } else {
    for (int bk = 0; bk < s.batch * s.kv_heads; ++bk) {
      const T* Kb = K + size_t(bk) * nkv * d;
      const T* Qb = Q + size_t(bk) * group * nq * d;
      T* Sb = S + size_t(bk) * group * nq * nkv;
      if (!ok(cublasGemmStridedBatchedEx(g_cublas, CUBLAS_OP_T, CUBLAS_OP_N, int(nkv), int(nq), int(d), &scale, Kb,
                                         dt, int(d), 0, Qb, dt, int(d), nq * d, &zero, Sb, dt, int(nkv), nq * nkv,
                                         group, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)))
        return cudaErrorUnknown;
    }
  }
  NaiveParams p = make_params(pr);
  if (cudaError_t e = softmax_launch<T>(S, p, unsigned(size_t(s.batch) * s.heads * s.seq_q), stream); e != cudaSuccess)
    return e;
  // Row-major O = P·V is column-major Oᵀ = Vᵀ·Pᵀ: op(V) = N (d×Nkv), op(P) = N (Nkv×Nq).
  if (group == 1) {
    if (!ok(cublasGemmStridedBatchedEx(g_cublas, CUBLAS_OP_N, CUBLAS_OP_N, int(d), int(nq), int(nkv), &one, V, dt,
                                       int(d), nkv * d, S, dt, int(nkv), nq * nkv, &zero, O, dt, int(d), nq * d,
                                       s.batch * s.heads, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)))
      return cudaErrorUnknown;
  } else {
    for (int bk = 0; bk < s.batch * s.kv_heads; ++bk) {
      const T* Vb = V + size_t(bk) * nkv * d;
      const T* Pb = S + size_t(bk) * group * nq * nkv;
      T* Ob = O + size_t(bk) * group * nq * d;
      if (!ok(cublasGemmStridedBatchedEx(g_cublas, CUBLAS_OP_N, CUBLAS_OP_N, int(d), int(nq), int(nkv), &one, Vb, dt,
                                         int(d), 0, Pb, dt, int(nkv), nq * nkv, &zero, Ob, dt, int(d), nq * d, group,
                                         CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)))
        return cudaErrorUnknown;
    }
  }
  return cudaGetLastError();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry points (the same signature in every rung file)

cudaError_t attn_naive_forward(const AttnProblem& p, cudaStream_t stream) {
  if (p.workspace_bytes < attn_workspace_bytes(KernelId::naive, p.shape)) return cudaErrorInvalidValue;
  return p.shape.dtype == ElemType::bf16 ? naive_launch<__nv_bfloat16>(p, stream) : naive_launch<__half>(p, stream);
}

cudaError_t attn_naive_cublas_forward(const AttnProblem& p, cudaStream_t stream) {
  if (p.workspace_bytes < attn_workspace_bytes(KernelId::naive_cublas, p.shape)) return cudaErrorInvalidValue;
  return p.shape.dtype == ElemType::bf16 ? cublas_launch<__nv_bfloat16>(p, stream) : cublas_launch<__half>(p, stream);
}

void attn_release() {
  if (g_cublas) {
    cublasDestroy(g_cublas);
    g_cublas = nullptr;
  }
}

}  // namespace attnlab::kernels
