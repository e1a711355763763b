// attn-mma.cu — rung 3 of the kernel ladder: FlashAttention-2 on tensor cores.
//
// What changes from rung 2, and why: the two products S = Qi Kjᵀ and O += P Vj move from FP32
// FMAs to the tensor cores (mma.sync m16n8k16, bf16/fp16 in, fp32 accumulate: ~15× the FMA
// rate), so the kernel now has to feed them:
//   - ldmatrix loads the operand fragments straight from shared memory in the layout mma wants;
//     V goes through ldmatrix.trans, so no transpose is ever stored.
//   - Shared memory rows are XOR-swizzled in 16-byte chunks (chunk c of row r lives at c ^ (r % 8)),
//     so the 8 rows an ldmatrix reads hit 8 different bank groups: no conflicts, no padding.
//   - cp.async copies Kj+1, Vj+1 into the second buffer while the warps compute on Kj, Vj
//     (double buffering): loads overlap math instead of stalling it.
//   - FlashAttention-2's split: each of the 4 warps owns 32 query rows of Qi (two 16-row m-tiles),
//     so the softmax statistics m, l of a row live in one warp (quad shuffles only, no shared
//     memory), and P stays in registers: the S accumulator fragment is re-packed as the A operand
//     of P Vj. Two m-tiles per warp let every K/V fragment loaded by ldmatrix feed two mma.
//   - Rescaling is deferred: O is kept unnormalised and divided by l once, at the end; the
//     softmax runs in base 2 with scale·log2(e) folded into one FMA before ex2.
//
// Run:  attnlab-bench --kernels mma --batch 8 --heads 16 --seq 4096 --dim 128 [--causal]
//
// Measured (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, 2026-11-23; B8 H16 N4096 bf16, median of
// 10 with L2 flushed; assets/measurements/h100-key.json, sweeps in h100-ladder.json):
//   d128 3.80 ms 289.1 TFLOP/s (0.84x PyTorch's flash backend, 345.2), d128 causal 2.06 ms 266.7
//   (0.85x), d64 1.92 ms 286.3 (0.95x). 20x rung 2 at d128.
// What limits it: mma.sync. It is a warp-wide 16x8x16 product whose operands every thread first
// pulls into registers (ldmatrix), issued in order with the softmax; on an H100 it reaches about two
// thirds of the tensor cores' peak at best, and 289 TFLOP/s is 29% of the 989 dense bf16 peak. The
// Hopper rung (attn-hopper.cu: wgmma, TMA, warp specialization) reaches 660 at the same size.
//
// Tiles (the simulator's vocabulary, flash2): one block per query tile Qi of Br = 128 rows
// (Tr = ceil(Nq/128) blocks per head), Kj/Vj streamed in Bc = 64-row tiles (Tc = ceil(Nkv/64)
// steps, fewer under the causal mask). Grid (Tr, heads, batch): the blocks of one head (and of
// the heads sharing one kv head under GQA) are adjacent, so they share Kj, Vj through L2.
// Causal: blocks are issued from the last query tile to the first (the longest first), and
// tiles wholly above the diagonal are skipped. The same visible-range test skips the tiles left
// of a sliding window (AttnProblem::window_left/right; rung 6, attn-window.cpp, is this kernel).
// Optional output: the per-row log-sum-exp (AttnProblem::lse), for callers that merge partial
// results over key blocks (ring attention).
//
// Caveats:
//   - mma.sync, not Hopper's wgmma/TMA: on an H100 this leaves roughly a third of the tensor
//     cores' peak unused; "Kernel ladder II" adds the sm_90a rung.
//   - P is rounded to bf16/fp16 before P·Vj (as in FlashAttention); l sums the fp32 P.
//   - d must be 64 or 128; Br = 128, Bc = 64 for both (one choice, not tuned per d). At d = 128
//     Qi's fragments do not fit in registers beside O and S: they are re-read from shared memory
//     every step (96 KiB of shared memory per block; 32 KiB at d = 64, Qi in registers).
//   - O is stored straight from the accumulator fragments (4-byte stores), not staged in smem.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "attn.hpp"
#include "mma-ptx.cuh"

namespace attnlab::kernels {

namespace {

constexpr int Bc = 64;       // key/value rows per step (Kj, Vj); Br = 4 warps × 16·kM rows (MmaTile)
constexpr int kWarps = 4;    // each warp owns 16·kM rows of Qi
// 16-row m-tiles per warp: 2, so each warp owns 32 query rows and Br = 128 (kernel_choose.hpp's
// mma_rows_per_warp, which the simulator and the measurement files read).
constexpr int kM = 2;
static_assert(16 * kM == mma_rows_per_warp(128) && 16 * kM == mma_rows_per_warp(64), "Br must match kernel_choose");
constexpr int kThreads = kWarps * 32;

struct MmaParams {
  const void* q;
  const void* k;
  const void* v;
  void* o;
  float* lse;  // [B][H][Nq] natural-log log-sum-exp of the scaled scores, or nullptr
  int heads, kv_heads, group, seq_q, seq_kv;
  int causal, offset;  // offset = seq_kv − seq_q (bottom-right alignment)
  // Visible keys of query i: i + offset − lo <= j <= i + offset + hi. Full attention: lo = hi =
  // kUnbounded; causal: hi = 0; sliding window (attn-window.cpp): lo = window_left, and so on.
  int lo, hi;
  float scale_log2;    // scale · log2(e): softmax in base 2
};
constexpr int kUnbounded = 1 << 30;  // "no limit" for lo/hi: q0 + offset ± this stays inside int

// PTX wrappers (cp.async, ldmatrix, mma, pack2, ex2): mma-ptx.cuh, shared with the backward rung.
using namespace ptx;

// ---------------------------------------------------------------------------------------------
// Shared-memory tiles: rows of D 16-bit values, i.e. D/8 chunks of 16 bytes; chunk c of row r is
// stored at chunk position c ^ (r % 8).

template <int D>
__device__ __forceinline__ uint32_t swizzle(int row, int chunk) {
  return uint32_t(row * (D / 8) + (chunk ^ (row & 7))) * 16u;
}

// Issues cp.async copies of rows [row0, row0 + ROWS) of a [seq][D] matrix into a swizzled tile.
template <typename T, int D, int ROWS>
__device__ __forceinline__ void load_tile_async(uint32_t tile, const T* g, int row0, int seq) {
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int c = threadIdx.x; c < ROWS * kChunks; c += kThreads) {
    const int r = c / kChunks, ch = c % kChunks;
    const bool valid = row0 + r < seq;
    // A zero-filled copy reads nothing, but keep its address inside the tensor all the same.
    const T* src = g + size_t(valid ? row0 + r : 0) * D + ch * 8;
    cp_async_16(tile + swizzle<D>(r, ch), src, valid);
  }
}

// Tile shapes. kM = 2 m-tiles per warp: every K/V fragment read by ldmatrix feeds two mma instead
// of one (half the shared-memory traffic per FLOP, two independent accumulator chains), at the
// cost of twice the accumulator registers.
template <int D>
struct MmaTile {
  static constexpr int Br = kWarps * 16 * kM;        // query rows per block
  static constexpr int kRowsPerWarp = 16 * kM;
  // Qi's fragments stay in registers for the whole loop when they fit beside O and S
  // (16·kM rows × D/2 registers); otherwise they are re-read from shared memory every step.
  static constexpr bool kQInRegs = D <= 64;
  static constexpr int kStageBytes = 2 * Bc * D * 2;  // one stage = Kj then Vj
  // Qi in registers: it is staged in the second K/V stage, read once, and that stage is then
  // reused; Qi in shared memory: its own region after the two stages.
  static constexpr int kSmemBytes = 2 * kStageBytes + (kQInRegs ? 0 : Br * D * 2);
  static_assert(!kQInRegs || Br * D * 2 <= kStageBytes, "Qi must fit in one K/V stage");
};

// ---------------------------------------------------------------------------------------------
// The kernel: one block = one query tile Qi of one (b, h).

template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 2) attn_mma_kernel(MmaParams p) {
  using Tile = MmaTile<D>;
  constexpr int Br = Tile::Br;
  constexpr int kKSteps = D / 16;  // k-steps of S = Qi Kjᵀ (16 columns of d each)
  constexpr int kSTiles = Bc / 8;  // n-tiles of S (8 keys each)
  constexpr int kOTiles = D / 8;   // n-tiles of O (8 columns each)
  constexpr uint32_t kTileBytes = Bc * D * 2;
  constexpr uint32_t kStageBytes = Tile::kStageBytes;

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t sKV = static_cast<uint32_t>(__cvta_generic_to_shared(smem));  // stage s: Kj at s·kStageBytes, Vj after it
  const uint32_t sQ = Tile::kQInRegs ? sKV + kStageBytes : sKV + 2 * kStageBytes;

  // Causal: issue the longest query tiles (most key tiles) first so the tail of the grid is short.
  const int qt = p.causal ? int(gridDim.x) - 1 - int(blockIdx.x) : int(blockIdx.x);
  const int h = blockIdx.y, b = blockIdx.z;
  const int kvh = h / p.group;  // GQA: query head h reads kv head h / group
  const int q0 = qt * Br;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int gid = lane / 4, tig = lane % 4;  // mma fragment coordinates: row group, thread in group
  const int wrow = warp * Tile::kRowsPerWarp;  // this warp's first row inside Qi

  const T* Q = static_cast<const T*>(p.q) + ((size_t(b) * p.heads + h) * p.seq_q) * D;
  const T* K = static_cast<const T*>(p.k) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  const T* V = static_cast<const T*>(p.v) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  T* O = static_cast<T*>(p.o) + ((size_t(b) * p.heads + h) * p.seq_q) * D;

  // Key tiles outside the block's visible range [first_key, last_key] are never loaded: past the
  // diagonal (causal: Tc' = last_key / Bc + 1) and, with a sliding window, before its left edge
  // (the loop starts at j0). A block whose rows see no key at all runs no step (O = 0, lse = −inf).
  const int last_key = min(p.seq_kv - 1, q0 + Br - 1 + p.offset + p.hi);
  const int first_key = max(0, q0 + p.offset - p.lo);
  const int tc = last_key / Bc + 1;
  const int j0 = first_key / Bc;

  // Prologue: Qi and the first Kj, Vj in one group.
  load_tile_async<T, D, Br>(sQ, Q, q0, p.seq_q);
  load_tile_async<T, D, Bc>(sKV, K, j0 * Bc, p.seq_kv);
  load_tile_async<T, D, Bc>(sKV + kTileBytes, V, j0 * Bc, p.seq_kv);
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();  // Qi, K0, V0 landed (copies by other threads) before any warp ldmatrix-es them

  // Qi as mma A fragments: m-tile mt, k-step kk. Either loaded once here, or per step below.
  uint32_t qf[Tile::kQInRegs ? kM : 1][Tile::kQInRegs ? kKSteps : 1][4];
  auto q_addr = [&](int mt, int kk) { return sQ + swizzle<D>(wrow + mt * 16 + lane % 16, kk * 2 + lane / 16); };
  if constexpr (Tile::kQInRegs) {
#pragma unroll
    for (int mt = 0; mt < kM; ++mt)
#pragma unroll
      for (int kk = 0; kk < kKSteps; ++kk) ldmatrix_x4(qf[mt][kk], q_addr(mt, kk));
    // Qi sits in stage 1, which step 0 refills: the barrier at the top of step 0 (before that
    // prefetch) is what guarantees every warp has read it.
  }

  // Online-softmax state for the two rows per m-tile this thread touches (gid and gid + 8): m in
  // base-2 units, l a partial sum over this thread's columns (the quad adds them up at the end).
  float o[kM][kOTiles][4] = {};
  float m[kM][2], l[kM][2];
#pragma unroll
  for (int mt = 0; mt < kM; ++mt) {
    m[mt][0] = m[mt][1] = -INFINITY;
    l[mt][0] = l[mt][1] = 0.f;
  }

  for (int j = j0; j < tc; ++j) {
    const int stage = (j - j0) & 1;
    cp_async_wait<0>();  // this thread's copies of Kj, Vj (the only group in flight) have landed
    // One barrier per step, for two reasons: every thread's copies of Kj, Vj are visible, and every
    // warp is done with the stage the prefetch below overwrites (step j−1's tiles; at j = 0, Qi
    // staged there when its fragments live in registers).
    __syncthreads();
    // Prefetch Kj+1, Vj+1 into the other stage while this step computes.
    if (j + 1 < tc) {
      load_tile_async<T, D, Bc>(sKV + (stage ^ 1) * kStageBytes, K, (j + 1) * Bc, p.seq_kv);
      load_tile_async<T, D, Bc>(sKV + (stage ^ 1) * kStageBytes + kTileBytes, V, (j + 1) * Bc, p.seq_kv);
      cp_async_commit();
    }
    const uint32_t kj = sKV + stage * kStageBytes, vj = kj + kTileBytes;

    // S = Qi Kjᵀ (16·kM × Bc per warp, fp32 accumulators). One ldmatrix.x4 gives the B fragments
    // of two 8-key n-tiles for one 16-wide k-step; each feeds kM m-tiles.
    float s[kM][kSTiles][4] = {};
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) {
      uint32_t a[kM][4];
      if constexpr (!Tile::kQInRegs) {
#pragma unroll
        for (int mt = 0; mt < kM; ++mt) ldmatrix_x4(a[mt], q_addr(mt, kk));
      }
#pragma unroll
      for (int nb = 0; nb < Bc / 16; ++nb) {
        uint32_t kf[4];
        ldmatrix_x4(kf, kj + swizzle<D>(nb * 16 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2));
#pragma unroll
        for (int mt = 0; mt < kM; ++mt) {
          const uint32_t(&af)[4] = Tile::kQInRegs ? qf[Tile::kQInRegs ? mt : 0][Tile::kQInRegs ? kk : 0] : a[mt];
          mma_16816<T>(s[mt][2 * nb], af, kf[0], kf[1]);
          mma_16816<T>(s[mt][2 * nb + 1], af, kf[2], kf[3]);
        }
      }
    }

    // Mask: keys past the ragged end, after the row (causal, window's right edge) or before the
    // window's left edge. Only tiles that straddle an edge for some row of this warp pay for it.
    const int k0 = j * Bc, row0 = q0 + wrow;
    if (k0 + Bc > p.seq_kv || k0 + Bc - 1 > row0 + p.offset + p.hi ||
        k0 < row0 + Tile::kRowsPerWarp - 1 + p.offset - p.lo) {
#pragma unroll
      for (int mt = 0; mt < kM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kSTiles; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int key = k0 + nt * 8 + tig * 2 + (e & 1);
            const int row = row0 + mt * 16 + gid + (e >= 2 ? 8 : 0);
            if (key >= p.seq_kv || key > row + p.offset + p.hi || key < row + p.offset - p.lo)
              s[mt][nt][e] = -INFINITY;
          }
    }

    // m_new = max(m, rowmax(S)·scale·log2e); P = 2^(S·scale·log2e − m_new);
    // l = l·2^(m − m_new) + rowsum(P); O = diag(2^(m − m_new))·O.  (r = 0: row gid, r = 1: gid + 8.)
#pragma unroll
    for (int mt = 0; mt < kM; ++mt) {
      float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < kSTiles; ++nt) {
        mx[0] = fmaxf(mx[0], fmaxf(s[mt][nt][0], s[mt][nt][1]));
        mx[1] = fmaxf(mx[1], fmaxf(s[mt][nt][2], s[mt][nt][3]));
      }
      float m_use[2], alpha[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        // The 4 threads of a quad hold one row between them.
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float m_new = fmaxf(m[mt][r], mx[r] * p.scale_log2);
        // A row with only masked keys so far keeps m = −inf; subtract 0 instead so exp2 gives 0, not NaN.
        m_use[r] = (m_new == -INFINITY) ? 0.f : m_new;
        alpha[r] = fast_exp2(m[mt][r] - m_use[r]);
        m[mt][r] = m_new;
      }
      float rowsum[2] = {0.f, 0.f};
#pragma unroll
      for (int nt = 0; nt < kSTiles; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[mt][nt][e] = fast_exp2(fmaf(s[mt][nt][e], p.scale_log2, -m_use[e / 2]));
          rowsum[e / 2] += s[mt][nt][e];
        }
#pragma unroll
      for (int r = 0; r < 2; ++r) l[mt][r] = l[mt][r] * alpha[r] + rowsum[r];
#pragma unroll
      for (int dt = 0; dt < kOTiles; ++dt) {
        o[mt][dt][0] *= alpha[0];
        o[mt][dt][1] *= alpha[0];
        o[mt][dt][2] *= alpha[1];
        o[mt][dt][3] *= alpha[1];
      }
    }

    // O += P Vj. The S accumulators of n-tiles 2·kk and 2·kk+1 are exactly the A fragment of the
    // kk-th 16-key slice of P (same rows, same columns per thread): P never touches memory.
#pragma unroll
    for (int kk = 0; kk < Bc / 16; ++kk) {
      uint32_t pa[kM][4];
#pragma unroll
      for (int mt = 0; mt < kM; ++mt) {
        pa[mt][0] = pack2<T>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
        pa[mt][1] = pack2<T>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
        pa[mt][2] = pack2<T>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
        pa[mt][3] = pack2<T>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
      }
#pragma unroll
      for (int db = 0; db < D / 16; ++db) {
        uint32_t vf[4];
        ldmatrix_x4_trans(vf, vj + swizzle<D>(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, db * 2 + lane / 16));
#pragma unroll
        for (int mt = 0; mt < kM; ++mt) {
          mma_16816<T>(o[mt][2 * db], pa[mt], vf[0], vf[1]);
          mma_16816<T>(o[mt][2 * db + 1], pa[mt], vf[2], vf[3]);
        }
      }
    }
  }

  // O = diag(1/l)·O, once. The quad's partial sums of l make the full row sum. A row that saw no
  // key (l = 0) is written as 0 rather than 0/0.
  float* lse = p.lse ? p.lse + (size_t(b) * p.heads + h) * p.seq_q : nullptr;
#pragma unroll
  for (int mt = 0; mt < kM; ++mt) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float lr = l[mt][r];
      lr += __shfl_xor_sync(0xffffffffu, lr, 1);
      lr += __shfl_xor_sync(0xffffffffu, lr, 2);
      const float inv_l = lr > 0.f ? 1.f / lr : 0.f;
      const int row = q0 + wrow + mt * 16 + gid + r * 8;
      if (row >= p.seq_q) continue;
      // ln Σ exp(scale·s) = ln(2^m · l) = (m + log2 l)·ln 2, m in base-2 units (the quad agrees on m).
      if (lse && tig == 0) lse[row] = lr > 0.f ? (m[mt][r] + __log2f(lr)) * 0.6931471805599453f : -INFINITY;
      uint32_t* orow = reinterpret_cast<uint32_t*>(O + size_t(row) * D);
#pragma unroll
      for (int dt = 0; dt < kOTiles; ++dt)
        orow[dt * 4 + tig] = pack2<T>(o[mt][dt][2 * r] * inv_l, o[mt][dt][2 * r + 1] * inv_l);
    }
  }
}

template <typename T, int D>
cudaError_t mma_launch(const MmaParams& p, const AttnShape& s, cudaStream_t stream) {
  using Tile = MmaTile<D>;
  constexpr int smem = Tile::kSmemBytes;
  cudaError_t e = cudaFuncSetAttribute(attn_mma_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  dim3 grid((s.seq_q + Tile::Br - 1) / Tile::Br, s.heads, s.batch);
  attn_mma_kernel<T, D><<<grid, kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
cudaError_t mma_dispatch(const MmaParams& p, const AttnShape& s, cudaStream_t stream) {
  return s.head_dim == 64 ? mma_launch<T, 64>(p, s, stream) : mma_launch<T, 128>(p, s, stream);
}

}  // namespace

cudaError_t attn_mma_forward(const AttnProblem& pr, cudaStream_t stream) {
  const AttnShape& s = pr.shape;
  if (s.head_dim != 64 && s.head_dim != 128) return cudaErrorInvalidValue;
  MmaParams p{};
  p.q = pr.q, p.k = pr.k, p.v = pr.v, p.o = pr.o, p.lse = pr.lse;
  p.heads = s.heads, p.kv_heads = s.kv_heads, p.group = s.group(), p.seq_q = s.seq_q, p.seq_kv = s.seq_kv;
  p.causal = s.causal ? 1 : 0, p.offset = s.seq_kv - s.seq_q;
  p.lo = pr.window_left >= 0 ? std::min(pr.window_left, kUnbounded) : kUnbounded;
  p.hi = s.causal ? 0 : (pr.window_right >= 0 ? std::min(pr.window_right, kUnbounded) : kUnbounded);
  p.scale_log2 = pr.scale * 1.4426950408889634f;
  return s.dtype == ElemType::bf16 ? mma_dispatch<__nv_bfloat16>(p, s, stream) : mma_dispatch<__half>(p, s, stream);
}

}  // namespace attnlab::kernels
