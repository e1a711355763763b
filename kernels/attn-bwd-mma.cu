// attn-bwd-mma.cu — backward rung 1: FlashAttention-2's backward pass on tensor cores (mma.sync).
//
// What changes from the forward (attn-mma.cu), and why: training needs dQ, dK, dV, and the
// backward of softmax(QKᵀ)V needs P, an Nq×Nkv matrix per head that the forward never stored. It
// is recomputed, tile by tile, from the forward's per-row log-sum-exp: P = exp(scale·S − lse)
// with no running max and no rescaling, because lse is already the final normaliser. Recomputing
// costs one extra Q Kᵀ per tile (the backward does 5 tile products to the forward's 2: 2.5× its
// FLOPs), while storing P (bf16) would put 2·Nq·Nkv bytes per head in HBM, written by the forward
// and read back here — at N = 4096 that is 8× (d128) to 16× (d64) the bytes of Q, K, V, O.
//   - The loop order flips (FlashAttention-2 §3.2): one block per key/value tile Kj, Vj (Bc rows)
//     streams the query tiles Qi, dOi (Br rows, double-buffered with cp.async). dKj and dVj are
//     sums over i, so they stay in registers for the whole loop and are written once; GQA blocks
//     walk the query tiles of every head of their group, so dK, dV come out summed over the group
//     with no extra pass.
//   - Transposed tiles: Sᵀ = Kj Qiᵀ and dPᵀ = Vj dOiᵀ, so that Pᵀ and dSᵀ are A operands of
//     dVj += Pᵀ dOi and dKj += dSᵀ Qi, and lse, D are per-column values read from shared memory.
//   - dQi = scale·dSi Kj needs every key of the tile for each query row: each block adds its share
//     into an fp32 dQ buffer with atomic adds (red.global.add, 8- or 16-byte vectors on sm_90). A
//     last pass multiplies by scale and rounds to bf16/fp16.
//   - The pre-pass computes D = rowsum(dO ∘ O) (= rowsum(P ∘ dP), the softmax backward's
//     correction), converts lse to base 2 (+inf for a row that sees no key, and for the padding
//     rows past Nq, so their P is 0 without a test), and zeroes the dQ accumulator.
// Two kernels (the variants: attn-bwd.hpp, bwd_dispatch below):
//   - 1-D (variants 1-6, the first version): one warp per 16 keys over all Br queries. Pᵀ, dSᵀ
//     stay in the registers of the warp that made them (the forward's accumulator re-pack trick),
//     but each warp then reads all of Qi and dOi twice (once per layout) for only 16 keys, and the
//     L1/shared-memory unit is the bottleneck (ncu, B4 H16 N4096 d128, Bc 64: L1/TEX 82% busy,
//     tensor pipe 33%).
//   - 2-D (variants 7-9, 12, 13): FlashAttention-2's warp layout. Pᵀ and dSᵀ go through
//     shared memory once, so every product is split over the warps in two dimensions and each
//     fragment a warp loads feeds 2-4 mmas (d128, Br 64, Bc 128: 608 KB of shared-memory traffic
//     per step against 736 KB).
//   - 2-D pipelined (variants 10-11): the same kernel with every tile product's fragment loads
//     software-pipelined (tile_product: two register buffers, the next k-step's A fragments and
//     the next B fragments loaded before this group's mmas).
//   - 2-D with the step's products reordered (variants 14-20; the fastest: 17 at d64, 16 at
//     d128): kFuseSdP computes Sᵀ = Kj Qiᵀ and dPᵀ = Vj dOiᵀ in one loop over d (the K and V
//     fragments of a k-step loaded together: 16 independent mmas per k-step instead of 8, and one
//     product's start-up and drain per step instead of two); kDqFirst runs dQ and its reds before
//     dK/dV, so the step ends on mmas that nothing waits for.
// dQ by atomics rather than a separate pass: a separate dQ kernel (forward-ordered, one block per
// Qi) must recompute S, P, dP once more: 7 tile products instead of 5 (+40% tensor work) to save
// the atomics' L2 traffic; FlashAttention-2 makes the same choice. Only the atomic form is built
// and measured here; the separate pass was not written, so that comparison is not measured.
//
// Run:  attnlab-attn-bwd-mma --check      (fp64 CPU reference, bf16/fp16, d 64/128, causal,
//       ragged, GQA, every variant)
//       attnlab-attn-bwd-mma --time --sweep key --variants 7,8,10,14,16,17,18,19,20 --fastest --json F
//       python3 kernels/torch_backward_reference.py --into F      (kernels/backward-device.sh: all)
//
// Measured (NVIDIA H200, driver 580.159.04, CUDA 13.0, PyTorch 2.11, 2026-12-02T14:53Z; B8 H16
// N4096 bf16, CUDA events, 2 warm-ups, L2 flushed, median of 10; backward = 2.5x forward FLOPs,
// causal at half; VARIANTS=7,8,10,14,16,17,18,19,20 RUNGS=mma kernels/backward-device.sh check time;
// 640 of 640 (config, variant) pairs match the fp64 reference, every variant 1-20):
//                          ours    SDPA FA2       cuDNN          (TFLOP/s, ratio ours / theirs)
//   bwd  d64 (v17)         252.0   256.5 0.98     422.6 0.60
//   bwd  d64 causal (v17)  231.9   211.0 1.10     338.8 0.68
//   bwd  d128 (v16)        282.9   280.9 1.01     531.0 0.53
//   bwd  d128 causal (v16) 262.3   243.4 1.08     450.2 0.58
//   fwd+bwd d64 / causal   260.6 / 240.7 vs FA2 270.4 / 233.8 (0.96 / 1.03)   (3.5x forward FLOPs;
//   fwd+bwd d128 / causal  284.1 / 263.1 vs FA2 300.8 / 270.2 (0.94 / 0.97)    our forward: attn-mma)
// Every variant timed in that call (bwd TFLOP/s: d64, d64 causal, d128, d128 causal):
//   v7  248.9 230.4 266.7 247.9    v8  248.7 231.5 258.0 242.4    v10 245.0 227.8 266.7 247.5
//   v14 245.5 229.4 272.9 253.7    v16 240.1 224.6 280.7 260.0    v17 250.0 231.9 225.4 209.2
//   v18 248.5 230.7 247.4 230.4    v19 240.9 223.9 261.2 240.7    v20 238.6 221.9 272.8 253.5
// The call before (14:42Z, same setup, 544 of 544 checks of variants 1-17; FA2 253.8 / 202.9 /
// 281.4 / 246.8, cuDNN 414.1 / 332.0 / 531.2 / 451.4; chosen: d64 v17 251.7 = 0.99x FA2, d128 v16
// 284.7 = 1.01x, causal 233.3 = 1.15x, 262.2 = 1.06x):
//   v7  248.7 230.6 266.7 247.8    v8  248.6 230.7 256.1 242.7    v10 241.0 229.3 266.2 247.4
//   v12 244.6 228.0 214.3 200.9    v13 202.6 185.4 215.8 203.8    v14 243.3 230.3 272.5 252.9
//   v15 237.5 223.9 272.4 253.1    v16 238.0 223.2 282.5 259.9    v17 251.3 233.3 226.9 208.9
// What each change did:
//   - One Sᵀ/dPᵀ loop (16, on 7's tiles): +5-6% at d128 (266.7 -> 280.7 / 282.5, the first variant
//     level with FA2 there), +5% causal. ptxas (sm_90): 255 registers, no spill. ncu (main kernel,
//     B4 H16 N4096, --clock-control none; v7's figures from the 08:10Z profile in brackets): 4.81 ms
//     (5.07), tensor pipe 45.6% of peak (43.2), L1/TEX 71% (67), issue slots 32.7% (34.5), shared-
//     memory wavefronts 712 M (702 M; 31.6 M of them bank conflicts, 4.4%), stalls per issued
//     instruction: short scoreboard 1.72 (1.14), wait 1.60 (1.60), math-pipe throttle 0.58 (0.68),
//     barrier 0.27 (0.28). Same shared-memory traffic, fewer instructions: the gain is one product's
//     start-up and drain per step fewer, and waiting on shared-memory loads is now the top stall.
//     At d64 on 8's tiles (4 warps, 3 blocks per SM) the same change loses 3-4% (240.1), and on
//     FlashAttention-2's d64 warp layout (18) it ties 8 (248.5).
//   - dQ before dK/dV (15): +2% at d128 (272.4), -4% at d64; with the one loop (14) +2% at d128,
//     not 16's +5%: at d128 the two do not add.
//   - FlashAttention-2's d64 warp layout (12: Br = Bc = 128, 8 warps, a warp's Sᵀ tile 64 keys × 32
//     queries): 244.6 alone, 251.3 / 250.0 with both changes (17: the fastest d64
//     variant of both calls, +0.5-1% over 8). ncu of 18 (that layout, one loop): L1/TEX 66%, tensor
//     41%, issue 33%, stalls wait 1.51, short scoreboard 1.13, math-pipe throttle 0.71, MIO
//     throttle 0.61 (the shared-memory instruction queue full: K, V, Q, dO fragments loaded back to
//     back). Short of FA2 at d64 by 1-2%: not closed.
//   - More warps per SM under a 128-register cap (12 at d128: 16 warps; 13: 2 blocks of 8 warps):
//     ptxas spills (56-200 bytes of stack frame) and they lose 15-20% (13 at d64 202.6; 12, 13 at
//     d128 214-216): the dK/dV accumulators and Sᵀ, dPᵀ do not fit in 128 registers. One loop
//     software-pipelined (20 at d128) 272.8, on 9's dQ layout (19) 261.2: both below 16.
// Earlier (same device, driver, CUDA, PyTorch; 2026-12-02 07:57Z-12:41Z, variants 1-11): the 2-D
// kernel beat the 1-D one by 12% at d64, 7% at d128 (1-D best: d64 220.9 (v4), d128 250.1 (v2));
// 7 (Br = Bc = 128 at d64) and 8 (Br = Bc = 64) tied at d64 although 7 moves half the L2 bytes (ncu,
// B4 H16 N4096: 8 11.4 GB, FA2 6.0 GB), so L2 traffic is not the limit; software-pipelined
// fragment loads (10, 11) moved -2% / +1%, inside the run-to-run spread; the previous defaults (8 at
// d64, 10 at d128) measured 248.7 / 266.6 vs FA2 260.8 / 277.9 at 12:41Z (0.95 / 0.96). Skipping the
// Sᵀ/dPᵀ products of warp tiles that see no key (causal) saved nothing measurable and was taken out.
// Not tried: 12 warps per SM at d128 (at most 168 registers per thread, below what 7's tiles need,
// see 12, 13 above), a 3-stage cp.async for Qi, dOi (long-scoreboard stalls, the global loads, are
// 0.09-0.13 per instruction), a separate dQ pass (above).
//
// Names (the paper's): Br, Bc tile rows; Tc = ceil(Nkv/Bc) blocks per kv head; lse = m + log l of
// the forward (so no m, l are carried here); D the row correction.
//
// Caveats:
//   - mma.sync, not wgmma: the same third of Hopper's tensor peak left unused as attn-mma.
//   - dS and P are rounded to bf16/fp16 before the products that use them, as in FlashAttention.
//   - The dQ atomics make dQ's low bits depend on the order blocks finish (not bitwise
//     reproducible from run to run); dK, dV are.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "attn-bwd.hpp"
#include "mma-ptx.cuh"

namespace attnlab::kernels {

namespace {

// The 1-D kernel: Bc = 16 keys per warp × kWarps (4 or 8 warps: Bc = 64 or 128, a template
// parameter) and Br query rows per step; the 2-D kernel takes both as template parameters.
constexpr int Br = 64;  // query rows per step (Qi, dOi) of the 1-D kernel
constexpr float kLog2e = 1.4426950408889634f;

struct BwdParams {
  const void* q;
  const void* k;
  const void* v;
  const void* d_o;
  float* dq_accum;     // [B][H][Nq_pad][d] fp32, zeroed by the pre-pass
  const float* lse2;   // [B][H][Nq_pad] lse·log2 e; +inf for rows that see nothing and pad rows
  const float* dd;     // [B][H][Nq_pad] D = rowsum(dO ∘ O); 0 for pad rows
  void* dk;
  void* dv;
  int heads, kv_heads, group, seq_q, seq_kv, seq_q_pad;
  int causal, offset;  // offset = seq_kv − seq_q (bottom-right causal alignment)
  int stagger;         // 1: block kt starts its walk over the query tiles at step kt (see the loop)
  float scale, scale_log2;
};

// ---------------------------------------------------------------------------------------------
// PTX wrappers: the shared ones (cp.async, ldmatrix, mma, pack2/unpack2, ex2) in mma-ptx.cuh
using namespace ptx;

__device__ __forceinline__ void cp_async_wait_all() { ptx::cp_async_wait<0>(); }
__device__ __forceinline__ void st_shared_u32(uint32_t addr, uint32_t v) {
  asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(addr), "r"(v));
}

__device__ __forceinline__ void add_dq(float* p, float a, float b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  atomicAdd(reinterpret_cast<float2*>(p), make_float2(a, b));  // one 8-byte red instead of two
#else
  atomicAdd(p, a);
  atomicAdd(p + 1, b);
#endif
}

// Adds one m16n8 accumulator pair (n-tiles nt, nt+1 of rows gid, gid+8) into dQ with 16-byte reds:
// the two threads of a lane pair swap halves so that each holds 4 adjacent columns (the even lane
// columns 2·tig..2·tig+3 of tile nt, the odd one those of tile nt+1): half the red instructions of
// the 8-byte form. `row0` points at row gid, column nt·8 of the warp's dQ tile.
__device__ __forceinline__ void add_dq_pair(float* row0, int ld, const float (&a)[4], const float (&b)[4], int tig) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const bool odd = tig & 1;
#pragma unroll
  for (int r = 0; r < 2; ++r) {  // r = 0: row gid (entries 0, 1); r = 1: row gid + 8 (entries 2, 3)
    const float s0 = odd ? a[2 * r] : b[2 * r], s1 = odd ? a[2 * r + 1] : b[2 * r + 1];
    const float g0 = __shfl_xor_sync(0xffffffffu, s0, 1), g1 = __shfl_xor_sync(0xffffffffu, s1, 1);
    const float4 v = odd ? make_float4(g0, g1, b[2 * r], b[2 * r + 1]) : make_float4(a[2 * r], a[2 * r + 1], g0, g1);
    const int col = odd ? 8 + (tig - 1) * 2 : tig * 2;
    atomicAdd(reinterpret_cast<float4*>(row0 + size_t(r * 8) * ld + col), v);
  }
#else
  add_dq(row0 + tig * 2, a[0], a[1]);
  add_dq(row0 + size_t(8) * ld + tig * 2, a[2], a[3]);
  add_dq(row0 + 8 + tig * 2, b[0], b[1]);
  add_dq(row0 + size_t(8) * ld + 8 + tig * 2, b[2], b[3]);
#endif
}

// Rows of COLS 16-bit values in 16-byte chunks; chunk c of row r lives at c ^ (r % 8), so the 8
// rows an ldmatrix reads (or a column of 4-byte stores) fall in 8 different bank groups.
template <int COLS>
__device__ __forceinline__ uint32_t swizzle(int row, int chunk) {
  return uint32_t(row * (COLS / 8) + (chunk ^ (row & 7))) * 16u;
}

template <typename T, int D, int ROWS, int THREADS>
__device__ __forceinline__ void load_tile_async(uint32_t tile, const T* g, int row0, int seq) {
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int c = threadIdx.x; c < ROWS * kChunks; c += THREADS) {
    const int r = c / kChunks, ch = c % kChunks;
    const bool valid = row0 + r < seq;
    const T* src = g + size_t(valid ? row0 + r : 0) * D + ch * 8;
    cp_async_16(tile + swizzle<D>(r, ch), src, valid);
  }
}
// Br fp32 values (lse2 or D of one query tile); the buffers are padded to Br rows, always valid.
__device__ __forceinline__ void load_vec_async(uint32_t dst, const float* g) {
  if (threadIdx.x < Br / 4) cp_async_16(dst + threadIdx.x * 16u, g + threadIdx.x * 4, true);
}

template <int D, int Bc>
struct BwdTile {
  static constexpr uint32_t kTileBytes = Bc * D * 2;      // Kj or Vj
  static constexpr uint32_t kQBytes = Br * D * 2;         // Qi or dOi
  static constexpr uint32_t kStageBytes = 2 * kQBytes + 2 * Br * 4;  // Qi, dOi, lse2, D
  static constexpr uint32_t kDsBytes = Bc * Br * 2;       // dSᵀ [key][query]
  static constexpr uint32_t kSmemBytes = 2 * kTileBytes + 2 * kStageBytes + kDsBytes;
};

// ---------------------------------------------------------------------------------------------
// The 1-D kernel: one block = one key/value tile Kj, Vj of one (b, kv head), one warp per 16 keys.

template <typename T, int D, int kWarps, int kMinBlocks, bool kRed16>
__global__ void __launch_bounds__(kWarps * 32, kMinBlocks) attn_bwd_kernel(BwdParams p) {
  constexpr int kThreads = kWarps * 32;
  constexpr int Bc = 16 * kWarps;
  // dQi (Br × D) is split over the warps: 4 groups of 16 rows, kColSplit groups of columns.
  constexpr int kColSplit = kWarps / 4;
  constexpr int kDqCols = D / kColSplit;
  using Tile = BwdTile<D, Bc>;
  constexpr int kKSteps = D / 16;  // k-steps of Sᵀ = Kj Qiᵀ and dPᵀ = Vj dOiᵀ
  constexpr int kNT = Br / 8;      // n-tiles of Sᵀ (8 queries each)
  constexpr int kDT = D / 8;       // n-tiles of dK, dV (8 columns of d each)

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t sK = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const uint32_t sV = sK + Tile::kTileBytes;
  const uint32_t sStage0 = sV + Tile::kTileBytes;
  const uint32_t sDs = sStage0 + 2 * Tile::kStageBytes;

  const int kt = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int k0 = kt * Bc;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int gid = lane / 4, tig = lane % 4;
  const int wrow = warp * 16;  // this warp's first key inside Kj

  const T* K = static_cast<const T*>(p.k) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  const T* V = static_cast<const T*>(p.v) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;

  // Query tiles that see at least one key of Kj: causal, query q sees key k when k <= q + offset,
  // so tiles before (k0 − offset)/Br see none and are skipped.
  const int n_qt = (p.seq_q + Br - 1) / Br;
  int qt_begin = 0;
  if (p.causal) {
    const int q_first = max(0, k0 - p.offset);
    qt_begin = q_first >= p.seq_q ? n_qt : q_first / Br;
  }
  const int per_head = n_qt - qt_begin;
  const int total = per_head * p.group;  // steps: every visible query tile of every head of the group

  // Staggered walk: the blocks of one head run at the same time and, walking the query tiles in the
  // same order, would all add into the same dQ rows at once; starting block kt at step kt spreads
  // their atomics over different rows. The sums are the same (only their rounding order moves).
  const int shift = p.stagger && total > 0 ? kt % total : 0;
  auto step_of = [&](int it) { return it + shift < total ? it + shift : it + shift - total; };
  auto stage_addr = [&](int it) { return sStage0 + uint32_t(it & 1) * Tile::kStageBytes; };
  auto prefetch = [&](int it) {
    const int st_it = step_of(it);
    const int h = kvh * p.group + st_it / per_head;
    const int q0 = (qt_begin + st_it % per_head) * Br;
    const size_t bh = size_t(b) * p.heads + h;
    const uint32_t st = stage_addr(it);
    load_tile_async<T, D, Br, kThreads>(st, static_cast<const T*>(p.q) + bh * p.seq_q * D, q0, p.seq_q);
    load_tile_async<T, D, Br, kThreads>(st + Tile::kQBytes, static_cast<const T*>(p.d_o) + bh * p.seq_q * D, q0,
                                        p.seq_q);
    load_vec_async(st + 2 * Tile::kQBytes, p.lse2 + bh * p.seq_q_pad + q0);
    load_vec_async(st + 2 * Tile::kQBytes + Br * 4, p.dd + bh * p.seq_q_pad + q0);
  };

  // Prologue: Kj, Vj (rows past Nkv zero-filled) and the first query tile, one group.
  load_tile_async<T, D, Bc, kThreads>(sK, K, k0, p.seq_kv);
  load_tile_async<T, D, Bc, kThreads>(sV, V, k0, p.seq_kv);
  if (total > 0) prefetch(0);
  cp_async_commit();

  float dk[kDT][4] = {}, dv[kDT][4] = {};
  const int key_lo = k0 + wrow;  // this warp's first key
  // Sᵀ rows: keys key_lo + gid (accumulator entries 0, 1) and key_lo + gid + 8 (entries 2, 3);
  // columns: queries q0 + nt·8 + tig·2 + (e & 1).

  for (int it = 0; it < total; ++it) {
    const int st_it = step_of(it);
    const int h = kvh * p.group + st_it / per_head;
    const int q0 = (qt_begin + st_it % per_head) * Br;
    cp_async_wait_all();  // this thread's copies of step it (the only group in flight) landed
    // Barrier 1: every thread's copies of Qi, dOi, lse2, D (and Kj, Vj at it = 0) are visible;
    // and every warp has finished step it−1 — its reads of the stage the prefetch below refills,
    // and its dQ reads of the dSᵀ tile this step overwrites.
    __syncthreads();
    if (it + 1 < total) {
      prefetch(it + 1);
      cp_async_commit();
    }
    const uint32_t sQ = stage_addr(it), sdO = sQ + Tile::kQBytes;
    const float* sL = reinterpret_cast<const float*>(smem + (sQ - sK) + 2 * Tile::kQBytes);
    const float* sD = sL + Br;

    // Sᵀ = Kj Qiᵀ: A = this warp's 16 keys (ldmatrix), B = Qi rows (ldmatrix, as the forward's K).
    float s[kNT][4] = {};
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) {
      uint32_t a[4];
      ldmatrix_x4(a, sK + swizzle<D>(wrow + lane % 16, kk * 2 + lane / 16));
#pragma unroll
      for (int nb = 0; nb < Br / 16; ++nb) {
        uint32_t bq[4];
        ldmatrix_x4(bq, sQ + swizzle<D>(nb * 16 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2));
        mma_16816<T>(s[2 * nb], a, bq[0], bq[1]);
        mma_16816<T>(s[2 * nb + 1], a, bq[2], bq[3]);
      }
    }
    // Mask keys past the ragged end and (causal) keys after the query; only warps whose keys
    // straddle an edge pay. Query rows past Nq need no test: their lse2 is +inf, so P = 0.
    if (key_lo + 16 > p.seq_kv || (p.causal && key_lo + 15 > q0 + p.offset)) {
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = key_lo + gid + (e >= 2 ? 8 : 0);
          const int q = q0 + nt * 8 + tig * 2 + (e & 1);
          if (key >= p.seq_kv || (p.causal && key > q + p.offset)) s[nt][e] = -INFINITY;
        }
    }
    // Pᵀ = 2^(Sᵀ·scale·log2 e − lse2): the forward's final normaliser, so no max, no rescale.
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
      const float2 l2 = *reinterpret_cast<const float2*>(sL + nt * 8 + tig * 2);
      s[nt][0] = fast_exp2(fmaf(s[nt][0], p.scale_log2, -l2.x));
      s[nt][1] = fast_exp2(fmaf(s[nt][1], p.scale_log2, -l2.y));
      s[nt][2] = fast_exp2(fmaf(s[nt][2], p.scale_log2, -l2.x));
      s[nt][3] = fast_exp2(fmaf(s[nt][3], p.scale_log2, -l2.y));
    }

    // dVj += Pᵀ dOi: the Sᵀ accumulators of n-tiles 2kk, 2kk+1 are the A fragment of the kk-th
    // 16-query slice of Pᵀ; B = dOi read with ldmatrix.trans (as the forward's V).
#pragma unroll
    for (int kk = 0; kk < Br / 16; ++kk) {
      uint32_t pa[4];
      pa[0] = pack2<T>(s[2 * kk][0], s[2 * kk][1]);
      pa[1] = pack2<T>(s[2 * kk][2], s[2 * kk][3]);
      pa[2] = pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]);
      pa[3] = pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
      for (int db = 0; db < D / 16; ++db) {
        uint32_t bf[4];
        ldmatrix_x4_trans(bf, sdO + swizzle<D>(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, db * 2 + lane / 16));
        mma_16816<T>(dv[2 * db], pa, bf[0], bf[1]);
        mma_16816<T>(dv[2 * db + 1], pa, bf[2], bf[3]);
      }
    }

    // dPᵀ = Vj dOiᵀ, then dSᵀ = Pᵀ ∘ (dPᵀ − D) in place.
    float dp[kNT][4] = {};
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) {
      uint32_t a[4];
      ldmatrix_x4(a, sV + swizzle<D>(wrow + lane % 16, kk * 2 + lane / 16));
#pragma unroll
      for (int nb = 0; nb < Br / 16; ++nb) {
        uint32_t bo[4];
        ldmatrix_x4(bo, sdO + swizzle<D>(nb * 16 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2));
        mma_16816<T>(dp[2 * nb], a, bo[0], bo[1]);
        mma_16816<T>(dp[2 * nb + 1], a, bo[2], bo[3]);
      }
    }
#pragma unroll
    for (int nt = 0; nt < kNT; ++nt) {
      const float2 dd = *reinterpret_cast<const float2*>(sD + nt * 8 + tig * 2);
      dp[nt][0] = s[nt][0] * (dp[nt][0] - dd.x);
      dp[nt][1] = s[nt][1] * (dp[nt][1] - dd.y);
      dp[nt][2] = s[nt][2] * (dp[nt][2] - dd.x);
      dp[nt][3] = s[nt][3] * (dp[nt][3] - dd.y);
    }

    // dKj += dSᵀ Qi (scale applied once, at the store), and dSᵀ to shared memory for dQ.
#pragma unroll
    for (int kk = 0; kk < Br / 16; ++kk) {
      uint32_t da[4];
      da[0] = pack2<T>(dp[2 * kk][0], dp[2 * kk][1]);
      da[1] = pack2<T>(dp[2 * kk][2], dp[2 * kk][3]);
      da[2] = pack2<T>(dp[2 * kk + 1][0], dp[2 * kk + 1][1]);
      da[3] = pack2<T>(dp[2 * kk + 1][2], dp[2 * kk + 1][3]);
      // Row wrow+gid holds columns (2kk)·8 + tig·2 (da[0]) and (2kk+1)·8 + tig·2 (da[2]).
      st_shared_u32(sDs + swizzle<Br>(wrow + gid, 2 * kk) + tig * 4, da[0]);
      st_shared_u32(sDs + swizzle<Br>(wrow + gid + 8, 2 * kk) + tig * 4, da[1]);
      st_shared_u32(sDs + swizzle<Br>(wrow + gid, 2 * kk + 1) + tig * 4, da[2]);
      st_shared_u32(sDs + swizzle<Br>(wrow + gid + 8, 2 * kk + 1) + tig * 4, da[3]);
#pragma unroll
      for (int db = 0; db < D / 16; ++db) {
        uint32_t bf[4];
        ldmatrix_x4_trans(bf, sQ + swizzle<D>(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, db * 2 + lane / 16));
        mma_16816<T>(dk[2 * db], da, bf[0], bf[1]);
        mma_16816<T>(dk[2 * db + 1], da, bf[2], bf[3]);
      }
    }
    // Barrier 2: dQ's rows need the dSᵀ columns of every warp (all Bc keys of Kj).
    __syncthreads();

    // dQi += dSi Kj, warp w: query rows 16·(w % 4) .. +15, columns kDqCols·(w / 4) .. +kDqCols,
    // over the Bc keys. A = dSi read back from the [key][query] tile with ldmatrix.trans; B = Kj
    // with ldmatrix.trans. 32 columns at a time.
    const int dq_m = warp % 4, dq_c0 = (warp / 4) * kDqCols;
    float* dq_rows = p.dq_accum + ((size_t(b) * p.heads + h) * p.seq_q_pad + q0 + dq_m * 16) * D + dq_c0;
#pragma unroll
    for (int dc = 0; dc < kDqCols / 32; ++dc) {
      float acc[4][4] = {};
#pragma unroll
      for (int kk = 0; kk < Bc / 16; ++kk) {
        uint32_t dsa[4];
        ldmatrix_x4_trans(dsa, sDs + swizzle<Br>(kk * 16 + lane % 8 + (lane / 16) * 8, dq_m * 2 + (lane / 8) % 2));
#pragma unroll
        for (int nb = 0; nb < 2; ++nb) {
          uint32_t bk[4];
          ldmatrix_x4_trans(bk, sK + swizzle<D>(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8,
                                                (dq_c0 / 8) + dc * 4 + nb * 2 + lane / 16));
          mma_16816<T>(acc[2 * nb], dsa, bk[0], bk[1]);
          mma_16816<T>(acc[2 * nb + 1], dsa, bk[2], bk[3]);
        }
      }
      // Pad rows (past Nq) add zeros into the padded accumulator: no test needed.
      if constexpr (kRed16) {
#pragma unroll
        for (int nt = 0; nt < 4; nt += 2) add_dq_pair(dq_rows + size_t(gid) * D + dc * 32 + nt * 8, D, acc[nt], acc[nt + 1], tig);
      } else {
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          const int col = dc * 32 + nt * 8 + tig * 2;
          add_dq(dq_rows + size_t(gid) * D + col, acc[nt][0], acc[nt][1]);
          add_dq(dq_rows + size_t(gid + 8) * D + col, acc[nt][2], acc[nt][3]);
        }
      }
    }
  }

  // dKj = scale·Σ dSᵀ Q, dVj = Σ Pᵀ dO, straight from the fragments (4-byte stores).
  T* dK = static_cast<T*>(p.dk) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  T* dV = static_cast<T*>(p.dv) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int key = key_lo + gid + r * 8;
    if (key >= p.seq_kv) continue;
    uint32_t* krow = reinterpret_cast<uint32_t*>(dK + size_t(key) * D);
    uint32_t* vrow = reinterpret_cast<uint32_t*>(dV + size_t(key) * D);
#pragma unroll
    for (int dt = 0; dt < kDT; ++dt) {
      krow[dt * 4 + tig] = pack2<T>(dk[dt][2 * r] * p.scale, dk[dt][2 * r + 1] * p.scale);
      vrow[dt * 4 + tig] = pack2<T>(dv[dt][2 * r], dv[dt][2 * r + 1]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The 2-D kernel (FlashAttention-2's warp layout): P and dS go through shared memory, so that every
// product is split over the warps in two dimensions and each fragment a warp loads feeds 2-4 mmas.
// The kernel above keeps Pᵀ, dSᵀ in the registers of the warp that made them (no shared-memory
// round trip), but then each warp must read all of Qi and dOi twice (once per layout) for only 16
// keys: per step its shared-memory reads are 4·Br·d + 32·d elements for 16 keys. Here a warp's tile
// of Sᵀ is SK keys × SQ queries, of dK, dV KK keys × KD columns, of dQ QQ rows × QD columns:
//   Sᵀ = Kj Qiᵀ, dPᵀ = Vj dOiᵀ   warps kSM (keys) × kWarps/kSM (queries); Pᵀ, dSᵀ -> shared memory
//   dVj += Pᵀ dOi, dKj += dSᵀ Qi  warps kKM (keys) × kWarps/kKM (columns of d), A from shared memory
//   dQi += dSi Kj                 warps kQM (queries) × kWarps/kQM (columns), reds into fp32 dQ
// (B8 H16 N4096: d128, Br 64, Bc 128: 608 KB of shared-memory reads and writes per step against
// 736 KB; d64, Br = Bc = 128 as FA2: 640 KB per 10.5 MFLOP against 736 KB, and half the L2 traffic
// of Bc = 64.) dK, dV stay in registers as before (the block's Bc × d × 2 fp32 spread over its warps).
template <int D, int Bc, int BrT>
struct Bwd2dTile {
  static constexpr uint32_t kTileBytes = Bc * D * 2;                  // Kj or Vj
  static constexpr uint32_t kQBytes = BrT * D * 2;                    // Qi or dOi
  static constexpr uint32_t kStageBytes = 2 * kQBytes + 2 * BrT * 4;  // Qi, dOi, lse2, D
  static constexpr uint32_t kPBytes = Bc * BrT * 2;                   // Pᵀ or dSᵀ [key][query]
  static constexpr uint32_t kSmemBytes = 2 * kTileBytes + 2 * kStageBytes + 2 * kPBytes;
};

template <int BrT>
__device__ __forceinline__ void load_vec_async_n(uint32_t dst, const float* g) {
  if (threadIdx.x < BrT / 4) cp_async_16(dst + threadIdx.x * 16u, g + threadIdx.x * 4, true);
}

// One warp's tile product over KS k-steps of NB B-fragment groups each. kPipe: software pipelined
// (two register buffers of each fragment): the A fragments of k-step kk+1 are loaded when step kk
// starts and the B fragments of group j+1 before group j's mmas, so every ldmatrix has a group of
// mmas to hide behind, even with the 8-12 warps per SM the register file allows (ncu: stalls on
// short scoreboard and wait). Otherwise each fragment is loaded just before its mmas (ptxas may
// still move the loads up where registers allow).
template <int KS, int NB, bool kPipe, typename LoadA, typename LoadB, typename Mma>
__device__ __forceinline__ void tile_product(LoadA&& load_a, LoadB&& load_b, Mma&& mma) {
  if (kPipe) {
    load_a(0, 0);
    load_b(0, 0, 0);
  }
#pragma unroll
  for (int j = 0; j < KS * NB; ++j) {
    const int kk = j / NB, nb = j % NB;
    if (kPipe) {
      if (nb == 0 && kk + 1 < KS) load_a(kk + 1, (kk + 1) & 1);
      if (j + 1 < KS * NB) load_b((j + 1) / NB, (j + 1) % NB, (j + 1) & 1);
      mma(nb, kk & 1, j & 1);
    } else {
      if (nb == 0) load_a(kk, 0);
      load_b(kk, nb, 0);
      mma(nb, 0, 0);
    }
  }
}

// kOpt (variants 14-17): which order the step's products run in.
constexpr int kFuseSdP = 1;  // Sᵀ and dPᵀ in one loop over d (16 independent mmas per k-step, not 8)
constexpr int kDqFirst = 2;  // dQ (and its reds) before dK/dV, so the step ends on mmas nothing waits for

template <typename T, int D, int Bc, int BrT, int kWarps, int kSM, int kKM, int kQM, int kMinBlocks, bool kPipe,
          int kOpt>
__global__ void __launch_bounds__(kWarps * 32, kMinBlocks) attn_bwd_kernel_2d(BwdParams p) {
  constexpr int kThreads = kWarps * 32;
  using Tile = Bwd2dTile<D, Bc, BrT>;
  constexpr int SK = Bc / kSM, SQ = BrT / (kWarps / kSM);    // Sᵀ, dPᵀ warp tile
  constexpr int KK = Bc / kKM, KD = D / (kWarps / kKM);      // dK, dV warp tile
  constexpr int QQ = BrT / kQM, QD = D / (kWarps / kQM);     // dQ warp tile
  constexpr int kSMT = SK / 16, kSNT = SQ / 8;
  constexpr int kKMT = KK / 16, kKNT = KD / 8;
  constexpr int kQMT = QQ / 16, kQNT = QD / 8;
  static_assert(SK % 16 == 0 && SQ % 16 == 0 && KK % 16 == 0 && KD % 16 == 0 && QQ % 16 == 0 && QD % 16 == 0,
                "warp tiles must be whole 16x16 pairs of mma tiles");

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t sK = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const uint32_t sV = sK + Tile::kTileBytes;
  const uint32_t sStage0 = sV + Tile::kTileBytes;
  const uint32_t sP = sStage0 + 2 * Tile::kStageBytes;
  const uint32_t sDs = sP + Tile::kPBytes;

  const int kt = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int k0 = kt * Bc;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int gid = lane / 4, tig = lane % 4;
  // This warp's tiles (offsets inside the block's Kj × Qi, Kj × d and Qi × d).
  const int s_k0 = (warp % kSM) * SK, s_q0 = (warp / kSM) * SQ;
  const int kv_k0 = (warp % kKM) * KK, kv_d0 = (warp / kKM) * KD;
  const int dq_q0 = (warp % kQM) * QQ, dq_d0 = (warp / kQM) * QD;

  const T* K = static_cast<const T*>(p.k) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  const T* V = static_cast<const T*>(p.v) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;

  const int n_qt = (p.seq_q + BrT - 1) / BrT;
  int qt_begin = 0;
  if (p.causal) {  // query tiles before (k0 − offset)/Br see no key of Kj
    const int q_first = max(0, k0 - p.offset);
    qt_begin = q_first >= p.seq_q ? n_qt : q_first / BrT;
  }
  const int per_head = n_qt - qt_begin;
  const int total = per_head * p.group;  // every visible query tile of every head of the group

  auto stage_addr = [&](int it) { return sStage0 + uint32_t(it & 1) * Tile::kStageBytes; };
  auto prefetch = [&](int it) {
    const int h = kvh * p.group + it / per_head;
    const int q0 = (qt_begin + it % per_head) * BrT;
    const size_t bh = size_t(b) * p.heads + h;
    const uint32_t st = stage_addr(it);
    load_tile_async<T, D, BrT, kThreads>(st, static_cast<const T*>(p.q) + bh * p.seq_q * D, q0, p.seq_q);
    load_tile_async<T, D, BrT, kThreads>(st + Tile::kQBytes, static_cast<const T*>(p.d_o) + bh * p.seq_q * D, q0,
                                         p.seq_q);
    load_vec_async_n<BrT>(st + 2 * Tile::kQBytes, p.lse2 + bh * p.seq_q_pad + q0);
    load_vec_async_n<BrT>(st + 2 * Tile::kQBytes + BrT * 4, p.dd + bh * p.seq_q_pad + q0);
  };

  load_tile_async<T, D, Bc, kThreads>(sK, K, k0, p.seq_kv);
  load_tile_async<T, D, Bc, kThreads>(sV, V, k0, p.seq_kv);
  if (total > 0) prefetch(0);
  cp_async_commit();

  float dk[kKMT][kKNT][4] = {}, dv[kKMT][kKNT][4] = {};
  const int key_lo = k0 + s_k0;  // the first key of this warp's Sᵀ tile

  for (int it = 0; it < total; ++it) {
    const int h = kvh * p.group + it / per_head;
    const int q0 = (qt_begin + it % per_head) * BrT;
    cp_async_wait_all();
    // Barrier 1: this step's Qi, dOi, lse2, D (and Kj, Vj at it = 0) are visible, and every warp
    // has finished step it−1: its reads of the stage the prefetch refills and of Pᵀ, dSᵀ.
    __syncthreads();
    if (it + 1 < total) {
      prefetch(it + 1);
      cp_async_commit();
    }
    const uint32_t sQ = stage_addr(it), sdO = sQ + Tile::kQBytes;
    const float* sL = reinterpret_cast<const float*>(smem + (sQ - sK) + 2 * Tile::kQBytes);
    const float* sD = sL + BrT;

    // Sᵀ = Kj Qiᵀ on this warp's SK keys × SQ queries (kFuseSdP: and dPᵀ = Vj dOiᵀ in the same loop,
    // the K and V fragments of a k-step loaded together, so a warp has twice the independent mmas
    // between two groups of loads and one product's start-up and drain instead of two).
    float s[kSMT][kSNT][4] = {};
    float dp[kSMT][kSNT][4] = {};
    if constexpr ((kOpt & kFuseSdP) != 0) {
      uint32_t ak[2][kSMT][4], av[2][kSMT][4], bq[2][4], bo[2][4];
      tile_product<D / 16, SQ / 16, kPipe>(
          [&](int kk, int buf) {
#pragma unroll
            for (int mt = 0; mt < kSMT; ++mt) {
              const uint32_t off = swizzle<D>(s_k0 + mt * 16 + lane % 16, kk * 2 + lane / 16);
              ldmatrix_x4(ak[buf][mt], sK + off);
              ldmatrix_x4(av[buf][mt], sV + off);
            }
          },
          [&](int kk, int nb, int buf) {
            const uint32_t off = swizzle<D>(s_q0 + nb * 16 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2);
            ldmatrix_x4(bq[buf], sQ + off);
            ldmatrix_x4(bo[buf], sdO + off);
          },
          [&](int nb, int ab, int bb) {
#pragma unroll
            for (int mt = 0; mt < kSMT; ++mt) {
              mma_16816<T>(s[mt][2 * nb], ak[ab][mt], bq[bb][0], bq[bb][1]);
              mma_16816<T>(s[mt][2 * nb + 1], ak[ab][mt], bq[bb][2], bq[bb][3]);
              mma_16816<T>(dp[mt][2 * nb], av[ab][mt], bo[bb][0], bo[bb][1]);
              mma_16816<T>(dp[mt][2 * nb + 1], av[ab][mt], bo[bb][2], bo[bb][3]);
            }
          });
    } else {
      uint32_t a[2][kSMT][4], bq[2][4];
      tile_product<D / 16, SQ / 16, kPipe>(
          [&](int kk, int buf) {
#pragma unroll
            for (int mt = 0; mt < kSMT; ++mt)
              ldmatrix_x4(a[buf][mt], sK + swizzle<D>(s_k0 + mt * 16 + lane % 16, kk * 2 + lane / 16));
          },
          [&](int kk, int nb, int buf) {
            ldmatrix_x4(bq[buf], sQ + swizzle<D>(s_q0 + nb * 16 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2));
          },
          [&](int nb, int ab, int bb) {
#pragma unroll
            for (int mt = 0; mt < kSMT; ++mt) {
              mma_16816<T>(s[mt][2 * nb], a[ab][mt], bq[bb][0], bq[bb][1]);
              mma_16816<T>(s[mt][2 * nb + 1], a[ab][mt], bq[bb][2], bq[bb][3]);
            }
          });
    }
    // Masks: keys past the ragged end, and (causal) keys after the query. Only warps whose tile
    // straddles an edge pay; query rows past Nq have lse2 = +inf, so their P is 0 with no test.
    if (key_lo + SK > p.seq_kv || (p.causal && key_lo + SK - 1 > q0 + s_q0 + p.offset)) {
#pragma unroll
      for (int mt = 0; mt < kSMT; ++mt)
#pragma unroll
        for (int nt = 0; nt < kSNT; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int key = key_lo + mt * 16 + gid + (e >= 2 ? 8 : 0);
            const int q = q0 + s_q0 + nt * 8 + tig * 2 + (e & 1);
            if (key >= p.seq_kv || (p.causal && key > q + p.offset)) s[mt][nt][e] = -INFINITY;
          }
    }
    // Pᵀ = 2^(Sᵀ·scale·log2 e − lse2), then to shared memory ([key][query], 4-byte stores).
#pragma unroll
    for (int nt = 0; nt < kSNT; ++nt) {
      const float2 l2 = *reinterpret_cast<const float2*>(sL + s_q0 + nt * 8 + tig * 2);
#pragma unroll
      for (int mt = 0; mt < kSMT; ++mt) {
        s[mt][nt][0] = fast_exp2(fmaf(s[mt][nt][0], p.scale_log2, -l2.x));
        s[mt][nt][1] = fast_exp2(fmaf(s[mt][nt][1], p.scale_log2, -l2.y));
        s[mt][nt][2] = fast_exp2(fmaf(s[mt][nt][2], p.scale_log2, -l2.x));
        s[mt][nt][3] = fast_exp2(fmaf(s[mt][nt][3], p.scale_log2, -l2.y));
        const int row = s_k0 + mt * 16 + gid, chunk = (s_q0 + nt * 8) / 8;
        st_shared_u32(sP + swizzle<BrT>(row, chunk) + tig * 4, pack2<T>(s[mt][nt][0], s[mt][nt][1]));
        st_shared_u32(sP + swizzle<BrT>(row + 8, chunk) + tig * 4, pack2<T>(s[mt][nt][2], s[mt][nt][3]));
      }
    }

    // dPᵀ = Vj dOiᵀ on the same tile (unless fused above), then dSᵀ = Pᵀ ∘ (dPᵀ − D) to shared memory.
    {
      if constexpr ((kOpt & kFuseSdP) == 0) {
        uint32_t a[2][kSMT][4], bo[2][4];
        tile_product<D / 16, SQ / 16, kPipe>(
            [&](int kk, int buf) {
#pragma unroll
              for (int mt = 0; mt < kSMT; ++mt)
                ldmatrix_x4(a[buf][mt], sV + swizzle<D>(s_k0 + mt * 16 + lane % 16, kk * 2 + lane / 16));
            },
            [&](int kk, int nb, int buf) {
              ldmatrix_x4(bo[buf], sdO + swizzle<D>(s_q0 + nb * 16 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2));
            },
            [&](int nb, int ab, int bb) {
#pragma unroll
              for (int mt = 0; mt < kSMT; ++mt) {
                mma_16816<T>(dp[mt][2 * nb], a[ab][mt], bo[bb][0], bo[bb][1]);
                mma_16816<T>(dp[mt][2 * nb + 1], a[ab][mt], bo[bb][2], bo[bb][3]);
              }
            });
      }
#pragma unroll
      for (int nt = 0; nt < kSNT; ++nt) {
        const float2 dd = *reinterpret_cast<const float2*>(sD + s_q0 + nt * 8 + tig * 2);
#pragma unroll
        for (int mt = 0; mt < kSMT; ++mt) {
          const float d0 = s[mt][nt][0] * (dp[mt][nt][0] - dd.x), d1 = s[mt][nt][1] * (dp[mt][nt][1] - dd.y);
          const float d2 = s[mt][nt][2] * (dp[mt][nt][2] - dd.x), d3 = s[mt][nt][3] * (dp[mt][nt][3] - dd.y);
          const int row = s_k0 + mt * 16 + gid, chunk = (s_q0 + nt * 8) / 8;
          st_shared_u32(sDs + swizzle<BrT>(row, chunk) + tig * 4, pack2<T>(d0, d1));
          st_shared_u32(sDs + swizzle<BrT>(row + 8, chunk) + tig * 4, pack2<T>(d2, d3));
        }
      }
    }
    // Barrier 2: the products below read the Pᵀ, dSᵀ tiles of every warp.
    __syncthreads();

    // dVj += Pᵀ dOi and dKj += dSᵀ Qi on this warp's KK keys × KD columns, over the Br queries:
    // A = Pᵀ / dSᵀ rows (ldmatrix), B = dOi / Qi read with ldmatrix.trans.
    auto dkdv_product = [&] {
      uint32_t pa[2][kKMT][4], da[2][kKMT][4], bo[2][4], bq[2][4];
      tile_product<BrT / 16, KD / 16, kPipe>(
          [&](int kk, int buf) {
#pragma unroll
            for (int mt = 0; mt < kKMT; ++mt) {
              ldmatrix_x4(pa[buf][mt], sP + swizzle<BrT>(kv_k0 + mt * 16 + lane % 16, kk * 2 + lane / 16));
              ldmatrix_x4(da[buf][mt], sDs + swizzle<BrT>(kv_k0 + mt * 16 + lane % 16, kk * 2 + lane / 16));
            }
          },
          [&](int kk, int db, int buf) {
            const int row = kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, chunk = kv_d0 / 8 + db * 2 + lane / 16;
            ldmatrix_x4_trans(bo[buf], sdO + swizzle<D>(row, chunk));
            ldmatrix_x4_trans(bq[buf], sQ + swizzle<D>(row, chunk));
          },
          [&](int db, int ab, int bb) {
#pragma unroll
            for (int mt = 0; mt < kKMT; ++mt) {
              mma_16816<T>(dv[mt][2 * db], pa[ab][mt], bo[bb][0], bo[bb][1]);
              mma_16816<T>(dv[mt][2 * db + 1], pa[ab][mt], bo[bb][2], bo[bb][3]);
              mma_16816<T>(dk[mt][2 * db], da[ab][mt], bq[bb][0], bq[bb][1]);
              mma_16816<T>(dk[mt][2 * db + 1], da[ab][mt], bq[bb][2], bq[bb][3]);
            }
          });
    };

    // dQi += dSi Kj on this warp's QQ rows × QD columns, over the Bc keys: A = dSi read from the
    // [key][query] tile with ldmatrix.trans, B = Kj with ldmatrix.trans; 16-byte reds on sm_90.
    auto dq_product = [&] {
      float acc[kQMT][kQNT][4] = {};
      uint32_t dsa[2][kQMT][4], bk[2][4];
      tile_product<Bc / 16, QD / 16, kPipe>(
          [&](int kk, int buf) {
#pragma unroll
            for (int mt = 0; mt < kQMT; ++mt)
              ldmatrix_x4_trans(dsa[buf][mt], sDs + swizzle<BrT>(kk * 16 + lane % 8 + (lane / 16) * 8,
                                                                 (dq_q0 + mt * 16) / 8 + (lane / 8) % 2));
          },
          [&](int kk, int nb, int buf) {
            ldmatrix_x4_trans(bk[buf], sK + swizzle<D>(kk * 16 + lane % 8 + ((lane / 8) % 2) * 8, dq_d0 / 8 + nb * 2 + lane / 16));
          },
          [&](int nb, int ab, int bb) {
#pragma unroll
            for (int mt = 0; mt < kQMT; ++mt) {
              mma_16816<T>(acc[mt][2 * nb], dsa[ab][mt], bk[bb][0], bk[bb][1]);
              mma_16816<T>(acc[mt][2 * nb + 1], dsa[ab][mt], bk[bb][2], bk[bb][3]);
            }
          });
      // Pad rows (past Nq) add zeros into the padded accumulator: no test needed.
      float* dq_rows = p.dq_accum + ((size_t(b) * p.heads + h) * p.seq_q_pad + q0 + dq_q0) * D + dq_d0;
#pragma unroll
      for (int mt = 0; mt < kQMT; ++mt)
#pragma unroll
        for (int nt = 0; nt < kQNT; nt += 2)
          add_dq_pair(dq_rows + size_t(mt * 16 + gid) * D + nt * 8, D, acc[mt][nt], acc[mt][nt + 1], tig);
    };
    if constexpr ((kOpt & kDqFirst) != 0) {
      dq_product();
      dkdv_product();
    } else {
      dkdv_product();
      dq_product();
    }
  }

  // dKj = scale·Σ dSᵀ Q, dVj = Σ Pᵀ dO, from this warp's fragments (4-byte stores).
  T* dK = static_cast<T*>(p.dk) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
  T* dV = static_cast<T*>(p.dv) + ((size_t(b) * p.kv_heads + kvh) * p.seq_kv) * D;
#pragma unroll
  for (int mt = 0; mt < kKMT; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int key = k0 + kv_k0 + mt * 16 + gid + r * 8;
      if (key >= p.seq_kv) continue;
      uint32_t* krow = reinterpret_cast<uint32_t*>(dK + size_t(key) * D + kv_d0);
      uint32_t* vrow = reinterpret_cast<uint32_t*>(dV + size_t(key) * D + kv_d0);
#pragma unroll
      for (int nt = 0; nt < kKNT; ++nt) {
        krow[nt * 4 + tig] = pack2<T>(dk[mt][nt][2 * r] * p.scale, dk[mt][nt][2 * r + 1] * p.scale);
        vrow[nt * 4 + tig] = pack2<T>(dv[mt][nt][2 * r], dv[mt][nt][2 * r + 1]);
      }
    }
}

// ---------------------------------------------------------------------------------------------
// Pre-pass: D = rowsum(dO ∘ O), lse2 = lse·log2 e (+inf where lse = −inf or the row is padding),
// dQ accumulator row = 0. D/8 threads per row, 16-byte loads; rows over [B][H][Nq_pad].

template <typename T, int D>
__global__ void attn_bwd_prepass(const T* __restrict__ o, const T* __restrict__ d_o, const float* __restrict__ lse,
                                 float* __restrict__ dd, float* __restrict__ lse2, float* __restrict__ dq_accum,
                                 int seq_q, int seq_q_pad, long long rows) {
  constexpr int kLanes = D / 8;  // threads per row
  const long long gthread = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  const long long row = gthread / kLanes;
  const int part = int(gthread % kLanes);
  // No early return: the shuffles below need every lane of the warp (the grid's tail is padding).
  const bool in = row < rows;
  const long long bh = row / seq_q_pad;
  const int i = int(row % seq_q_pad);
  float acc = 0.f;
  if (in && i < seq_q) {
    const size_t off = (size_t(bh) * seq_q + i) * D + part * 8;
    const uint4 ov = *reinterpret_cast<const uint4*>(o + off);
    const uint4 gv = *reinterpret_cast<const uint4*>(d_o + off);
    const uint32_t* ow = reinterpret_cast<const uint32_t*>(&ov);
    const uint32_t* gw = reinterpret_cast<const uint32_t*>(&gv);
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      const float2 a = unpack2<T>(ow[w]), g = unpack2<T>(gw[w]);
      acc = fmaf(a.x, g.x, fmaf(a.y, g.y, acc));
    }
  }
  // kLanes consecutive lanes of one warp hold one row (kLanes divides 32).
#pragma unroll
  for (int m = kLanes / 2; m >= 1; m /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, m, kLanes);
  if (!in) return;
  float4* dq = reinterpret_cast<float4*>(dq_accum + size_t(row) * D + part * 8);
  dq[0] = make_float4(0.f, 0.f, 0.f, 0.f);
  dq[1] = make_float4(0.f, 0.f, 0.f, 0.f);
  if (part == 0) {
    dd[row] = acc;
    float l = INFINITY;
    if (i < seq_q) {
      const float x = lse[size_t(bh) * seq_q + i];
      if (x != -INFINITY) l = x * kLog2e;
    }
    lse2[row] = l;
  }
}

// dQ = scale · accumulator, rounded to T; 8 elements per thread.
template <typename T, int D>
__global__ void attn_bwd_dq_convert(const float* __restrict__ dq_accum, T* __restrict__ dq, int seq_q, int seq_q_pad,
                                    long long chunks, float scale) {
  const long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (c >= chunks) return;
  constexpr int kChunks = D / 8;
  const long long row = c / kChunks;  // over [B][H][Nq]
  const int part = int(c % kChunks);
  const long long bh = row / seq_q;
  const int i = int(row % seq_q);
  const float4* src = reinterpret_cast<const float4*>(dq_accum + (size_t(bh) * seq_q_pad + i) * D + part * 8);
  const float4 x = src[0], y = src[1];
  uint4 out;
  out.x = pack2<T>(x.x * scale, x.y * scale);
  out.y = pack2<T>(x.z * scale, x.w * scale);
  out.z = pack2<T>(y.x * scale, y.y * scale);
  out.w = pack2<T>(y.z * scale, y.w * scale);
  *reinterpret_cast<uint4*>(dq + size_t(row) * D + part * 8) = out;
}

size_t align256(size_t x) { return (x + 255) / 256 * 256; }
// The fp32 buffers (dQ accumulator, lse2, D) are padded to a whole number of the largest query
// tile any variant uses (128), so every variant reads and adds whole tiles with no row test.
constexpr int kPadRows = 128;
int padded_seq_q(const AttnShape& s) { return (s.seq_q + kPadRows - 1) / kPadRows * kPadRows; }

template <typename T, int D>
cudaError_t launch_prepass(const AttnBackwardProblem& pr, const BwdWorkspace& w, cudaStream_t stream) {
  const AttnShape& s = pr.shape;
  const size_t rows = size_t(s.batch) * s.heads * w.seq_q_pad;
  const long long n = (long long)rows * (D / 8);
  const int block = 256;
  attn_bwd_prepass<T, D><<<unsigned((n + block - 1) / block), block, 0, stream>>>(
      static_cast<const T*>(pr.o), static_cast<const T*>(pr.d_o), pr.lse, w.dd, w.lse2, w.dq_accum, s.seq_q,
      w.seq_q_pad, (long long)rows);
  return cudaGetLastError();
}
template <typename T, int D>
cudaError_t launch_dq_convert(const AttnBackwardProblem& pr, const BwdWorkspace& w, cudaStream_t stream) {
  const AttnShape& s = pr.shape;
  const long long chunks = (long long)s.batch * s.heads * s.seq_q * (D / 8);
  attn_bwd_dq_convert<T, D><<<unsigned((chunks + 255) / 256), 256, 0, stream>>>(
      w.dq_accum, static_cast<T*>(pr.dq), s.seq_q, w.seq_q_pad, chunks, pr.scale);
  return cudaGetLastError();
}
template <typename T>
cudaError_t prepass_of(const AttnBackwardProblem& pr, cudaStream_t stream) {
  const BwdWorkspace w = attn_bwd_workspace(pr);
  return pr.shape.head_dim == 64 ? launch_prepass<T, 64>(pr, w, stream) : launch_prepass<T, 128>(pr, w, stream);
}
template <typename T>
cudaError_t dq_convert_of(const AttnBackwardProblem& pr, cudaStream_t stream) {
  const BwdWorkspace w = attn_bwd_workspace(pr);
  return pr.shape.head_dim == 64 ? launch_dq_convert<T, 64>(pr, w, stream) : launch_dq_convert<T, 128>(pr, w, stream);
}

// Pre-pass, the main kernel (`kernel`, Bc keys per block, `smem` bytes, `threads`), dQ conversion.
template <typename T, int D, typename Kernel>
cudaError_t bwd_run(const AttnBackwardProblem& pr, cudaStream_t stream, Kernel kernel, int Bc, int threads, int smem,
                    int stagger) {
  const AttnShape& s = pr.shape;
  const BwdWorkspace w = attn_bwd_workspace(pr);
  cudaError_t e = launch_prepass<T, D>(pr, w, stream);
  if (e != cudaSuccess) return e;
  BwdParams p{};
  p.q = pr.q, p.k = pr.k, p.v = pr.v, p.d_o = pr.d_o;
  p.dq_accum = w.dq_accum, p.lse2 = w.lse2, p.dd = w.dd, p.dk = pr.dk, p.dv = pr.dv;
  p.heads = s.heads, p.kv_heads = s.kv_heads, p.group = s.group(), p.seq_q = s.seq_q, p.seq_kv = s.seq_kv;
  p.seq_q_pad = w.seq_q_pad, p.causal = s.causal ? 1 : 0, p.offset = s.seq_kv - s.seq_q;
  p.scale = pr.scale, p.scale_log2 = pr.scale * kLog2e;
  p.stagger = stagger;
  e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  dim3 grid((s.seq_kv + Bc - 1) / Bc, s.kv_heads, s.batch);
  kernel<<<grid, threads, smem, stream>>>(p);
  e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  return launch_dq_convert<T, D>(pr, w, stream);
}

template <typename T, int D, int kWarps, int kMinBlocks, bool kRed16>
cudaError_t bwd_launch(const AttnBackwardProblem& pr, cudaStream_t stream) {
  constexpr int Bc = 16 * kWarps;
  const int stagger = attn_bwd_variant(pr.shape.head_dim, pr.variant) == 5 ||
                      attn_bwd_variant(pr.shape.head_dim, pr.variant) == 6;
  return bwd_run<T, D>(pr, stream, attn_bwd_kernel<T, D, kWarps, kMinBlocks, kRed16>, Bc, kWarps * 32,
                       BwdTile<D, Bc>::kSmemBytes, stagger);
}

template <typename T, int D, int Bc, int BrT, int kWarps, int kSM, int kKM, int kQM, int kMinBlocks, bool kPipe = false,
          int kOpt = 0>
cudaError_t bwd_launch_2d(const AttnBackwardProblem& pr, cudaStream_t stream) {
  return bwd_run<T, D>(pr, stream, attn_bwd_kernel_2d<T, D, Bc, BrT, kWarps, kSM, kKM, kQM, kMinBlocks, kPipe, kOpt>, Bc,
                       kWarps * 32, Bwd2dTile<D, Bc, BrT>::kSmemBytes, 0);
}

// Variants (attn_bwd_variant in attn-bwd.hpp): 1 = Bc 64 (4 warps, 2 blocks per SM at d128, 3 at
// d64), 8-byte dQ reds; 2 = Bc 128 (8 warps, 1 block per SM), 8-byte reds; 3 = Bc 128 with 16-byte
// reds; 4 = Bc 64 with 16-byte reds; 5, 6 = 2, 4 with the staggered walk; 7, 8 = the 2-D kernel
// (warp layouts: keys × queries for Sᵀ, keys × d for dK/dV, queries × d for dQ):
//   7, d64:  Br = Bc = 128, 8 warps, Sᵀ 4×2 (32 keys × 64 queries), dK/dV 4×2, dQ 4×2 (FA2's tiles)
//   7, d128: Br 64, Bc 128, 8 warps, Sᵀ 4×2 (32 × 32), dK/dV 4×2 (32 keys × 64 columns), dQ 2×4
//   8, d64:  Br 64, Bc 64, 4 warps, Sᵀ 2×2 (32 × 32), dK/dV 2×2 (32 × 32), dQ 2×2; 3 blocks per SM
//   8, d128: Br 64, Bc 64, 4 warps, Sᵀ 2×2 (32 × 32), dK/dV 2×2 (32 × 64), dQ 2×2; 2 blocks per SM
//   9, d64:  Br 64, Bc 128, 8 warps, Sᵀ 4×2 (32 × 32), dK/dV 4×2 (32 × 32), dQ 4×2 (16 × 32)
//   9, d128: as 7 with dQ 4×2 (16 queries × 64 columns per warp)
//   10, 11: the fragment loads software-pipelined (tile_product); 10 = 8's tiles at d64, 7's at
//   d128; 11 = 7's tiles at d64, 8's at d128
//   12, d64:  Br = Bc = 128, 8 warps, Sᵀ 2×4 (64 keys × 32 queries), dK/dV 4×2, dQ 4×2 (FA2's d64)
//   12, d128: Br 64, Bc 128, 16 warps (128 registers), Sᵀ 4×4 (32 × 16), dK/dV 4×4, dQ 4×4
//   13, d64:  as 9, 2 blocks per SM (128 registers); 13, d128: Br = Bc = 64, 8 warps, 2 blocks per SM
//   14-20 (kOpt: kFuseSdP one Sᵀ/dPᵀ loop, kDqFirst dQ before dK/dV): 14 = both, 15 = kDqFirst,
//   16 = kFuseSdP on 8's tiles (d64) / 7's (d128, the fastest at d128); 17 = both on 12's tiles (the
//   fastest at d64); 18 = kFuseSdP on 12's tiles (d64) / 8's (d128); 19 = kFuseSdP on 7's (d64) / 9's
//   (d128); 20 = both on 7's tiles (d64) / kFuseSdP pipelined on 7's (d128)
// The default per d (8 at d64, 10 at d128) is the fastest measured on the H200 of the variants that
// have been under compute-sanitizer (memcheck, racecheck, synccheck); 17 and 16 are faster by 1% and
// 6% and pass every fp64 check, but no sanitizer has run on them yet: they become the defaults
// after that run (kernels/backward-device.sh sanitize).
template <typename T>
cudaError_t bwd_dispatch(const AttnBackwardProblem& p, cudaStream_t stream) {
  int v = attn_bwd_variant(p.shape.head_dim, p.variant);
  if (p.shape.head_dim == 64) {
    if (v == 7) return bwd_launch_2d<T, 64, 128, 128, 8, 4, 4, 4, 1>(p, stream);
    if (v == 8) return bwd_launch_2d<T, 64, 64, 64, 4, 2, 2, 2, 3>(p, stream);
    if (v == 9) return bwd_launch_2d<T, 64, 128, 64, 8, 4, 4, 4, 1>(p, stream);
    if (v == 10) return bwd_launch_2d<T, 64, 64, 64, 4, 2, 2, 2, 3, true>(p, stream);
    if (v == 11) return bwd_launch_2d<T, 64, 128, 128, 8, 4, 4, 4, 1, true>(p, stream);
    if (v == 12) return bwd_launch_2d<T, 64, 128, 128, 8, 2, 4, 4, 1>(p, stream);
    if (v == 13) return bwd_launch_2d<T, 64, 128, 64, 8, 4, 4, 4, 2>(p, stream);
    if (v == 14) return bwd_launch_2d<T, 64, 64, 64, 4, 2, 2, 2, 3, false, kFuseSdP | kDqFirst>(p, stream);
    if (v == 15) return bwd_launch_2d<T, 64, 64, 64, 4, 2, 2, 2, 3, false, kDqFirst>(p, stream);
    if (v == 16) return bwd_launch_2d<T, 64, 64, 64, 4, 2, 2, 2, 3, false, kFuseSdP>(p, stream);
    if (v == 17) return bwd_launch_2d<T, 64, 128, 128, 8, 2, 4, 4, 1, false, kFuseSdP | kDqFirst>(p, stream);
    if (v == 18) return bwd_launch_2d<T, 64, 128, 128, 8, 2, 4, 4, 1, false, kFuseSdP>(p, stream);
    if (v == 19) return bwd_launch_2d<T, 64, 128, 128, 8, 4, 4, 4, 1, false, kFuseSdP>(p, stream);
    if (v == 20) return bwd_launch_2d<T, 64, 128, 128, 8, 4, 4, 4, 1, false, kFuseSdP | kDqFirst>(p, stream);
  } else {
    if (v == 7) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 2, 1>(p, stream);
    if (v == 8) return bwd_launch_2d<T, 128, 64, 64, 4, 2, 2, 2, 2>(p, stream);
    if (v == 9) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 4, 1>(p, stream);
    if (v == 10) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 2, 1, true>(p, stream);
    if (v == 11) return bwd_launch_2d<T, 128, 64, 64, 4, 2, 2, 2, 2, true>(p, stream);
    if (v == 12) return bwd_launch_2d<T, 128, 128, 64, 16, 4, 4, 4, 1>(p, stream);
    if (v == 13) return bwd_launch_2d<T, 128, 64, 64, 8, 2, 2, 2, 2>(p, stream);
    if (v == 14) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 2, 1, false, kFuseSdP | kDqFirst>(p, stream);
    if (v == 15) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 2, 1, false, kDqFirst>(p, stream);
    if (v == 16) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 2, 1, false, kFuseSdP>(p, stream);
    if (v == 17) return bwd_launch_2d<T, 128, 128, 64, 16, 4, 4, 4, 1, false, kFuseSdP | kDqFirst>(p, stream);
    if (v == 18) return bwd_launch_2d<T, 128, 64, 64, 4, 2, 2, 2, 2, false, kFuseSdP>(p, stream);
    if (v == 19) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 4, 1, false, kFuseSdP>(p, stream);
    if (v == 20) return bwd_launch_2d<T, 128, 128, 64, 8, 4, 4, 2, 1, true, kFuseSdP>(p, stream);
  }
  if (v >= 5) v = v == 5 ? 2 : 4;  // 5, 6 = 2, 4 with the staggered walk (bwd_launch sets it)
  if (p.shape.head_dim == 64) {
    if (v == 2) return bwd_launch<T, 64, 8, 1, false>(p, stream);
    if (v == 3) return bwd_launch<T, 64, 8, 1, true>(p, stream);
    if (v == 4) return bwd_launch<T, 64, 4, 3, true>(p, stream);
    return bwd_launch<T, 64, 4, 3, false>(p, stream);
  }
  if (v == 2) return bwd_launch<T, 128, 8, 1, false>(p, stream);
  if (v == 3) return bwd_launch<T, 128, 8, 1, true>(p, stream);
  if (v == 4) return bwd_launch<T, 128, 4, 2, true>(p, stream);
  return bwd_launch<T, 128, 4, 2, false>(p, stream);
}

}  // namespace

BwdWorkspace attn_bwd_workspace(const AttnBackwardProblem& p) {
  const AttnShape& s = p.shape;
  const int nq_pad = padded_seq_q(s);
  const size_t rows = size_t(s.batch) * s.heads * nq_pad;
  unsigned char* ws = static_cast<unsigned char*>(p.workspace);
  BwdWorkspace w;
  w.dq_accum = reinterpret_cast<float*>(ws);
  w.dd = reinterpret_cast<float*>(ws + align256(rows * s.head_dim * 4));
  w.lse2 = reinterpret_cast<float*>(ws + align256(rows * s.head_dim * 4) + align256(rows * 4));
  w.seq_q_pad = nq_pad;
  return w;
}

cudaError_t attn_bwd_launch_prepass(const AttnBackwardProblem& p, cudaStream_t stream) {
  return p.shape.dtype == ElemType::bf16 ? prepass_of<__nv_bfloat16>(p, stream) : prepass_of<__half>(p, stream);
}
cudaError_t attn_bwd_launch_dq_convert(const AttnBackwardProblem& p, cudaStream_t stream) {
  return p.shape.dtype == ElemType::bf16 ? dq_convert_of<__nv_bfloat16>(p, stream) : dq_convert_of<__half>(p, stream);
}

size_t attn_bwd_workspace_bytes(const AttnShape& s) {
  const size_t rows = size_t(s.batch) * s.heads * padded_seq_q(s);
  return align256(rows * s.head_dim * 4) + 2 * align256(rows * 4);
}

cudaError_t attn_bwd_mma(const AttnBackwardProblem& p, cudaStream_t stream) {
  const AttnShape& s = p.shape;
  if (s.head_dim != 64 && s.head_dim != 128) return cudaErrorInvalidValue;
  if (s.kv_heads <= 0 || s.heads % s.kv_heads != 0) return cudaErrorInvalidValue;
  if (p.workspace_bytes < attn_bwd_workspace_bytes(s)) return cudaErrorInvalidValue;
  const bool bf = s.dtype == ElemType::bf16;
  return bf ? bwd_dispatch<__nv_bfloat16>(p, stream) : bwd_dispatch<__half>(p, stream);
}

}  // namespace attnlab::kernels
