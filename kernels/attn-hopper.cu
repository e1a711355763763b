// attn-hopper.cu — rung 4 of the ladder ("Kernel ladder II"): FlashAttention-3 ideas on Hopper
// (sm_90a only): wgmma, TMA loads completing on mbarriers, warp specialization, and the softmax of
// one tile overlapped with a tensor-core GEMM.
//
// What changes against the mma rung (attn-mma.cu), and why:
//   * wgmma instead of mma.sync. mma.sync is a warp-wide 16x8x16 product whose operands every
//     thread must first pull into registers with ldmatrix; on an H100 it reaches about two thirds
//     of the tensor cores' peak at best. wgmma.mma_async is issued by a warpgroup (4 warps) for a
//     64xNx16 product, reads B (and here A of S = Q K^T) straight from shared memory through a
//     64-bit matrix descriptor, and runs asynchronously: the warps keep issuing other work until
//     they wait on it (wgmma.commit_group / wgmma.wait_group). SASS shows HGMMA (check below).
//   * TMA instead of cp.async. One thread issues cp.async.bulk.tensor for a whole 64-column box of
//     a Q, K or V tile; the copy engine computes the addresses, writes the tile into shared memory
//     already in the 128-byte swizzle wgmma reads without bank conflicts, zero-fills rows past the
//     sequence end, and signals completion on an mbarrier by counting bytes (complete_tx).
//   * Warp specialization. Warpgroup 0 is the producer: one of its threads issues every TMA copy,
//     and the warpgroup gives most of its registers away (setmaxnreg.dec to 40 a thread).
//     Warpgroups 1 and 2 are consumers, each owning 64 of the Br = 128 query rows; they hold S, P
//     and O in registers (setmaxnreg.inc to 232; 128 x 40 + 256 x 232 fits the 64 K registers).
//     Producer and consumers meet only at mbarriers: "full" (the tile has landed) and "empty"
//     (every consumer warp is done reading the stage, so the copy engine may overwrite it).
//   * Softmax overlapped with a GEMM, twice over (FA3):
//     - within a warpgroup: in step j a consumer issues S_j = Q K_j^T, then O += P_{j-1} V_{j-1},
//       waits only for S_j, and computes the softmax of S_j (max, exp2, row sums: ALU and MUFU
//       work) while the tensor cores still run P V. The rescale of O by alpha = exp2(m_old - m_new)
//       waits for that P V to finish.
//     - between the two consumer warpgroups ("ping-pong"): named barriers make them take turns
//       issuing their GEMMs, so one warpgroup's softmax runs while the other's GEMMs occupy the
//       tensor cores. A run-time switch (HopperOptions::pingpong) keeps the variant without it
//       measurable: it is worth +21% at d = 64 and +0.5..1% at d = 128 (numbers below).
//   * A persistent grid when not causal: one block per SM loops over query tiles, and a q_empty
//     barrier lets the producer load the next tile's Q (and K/V) while the consumers still finish
//     this tile's last P V and epilogue. Causal keeps one block per tile (see HopperOptions).
//   * P stays in registers as wgmma's A operand (the S accumulator repacked to bf16/fp16, the
//     same register layout as mma.sync's A fragment); V is read as an N-major B operand
//     (imm-trans-b = 1), so V is never transposed in memory.
//   Kept from the mma rung: online softmax in base 2 with scale*log2(e) folded into one FMA; O
//   unnormalised until the end; causal blocks issued longest first; tiles wholly above the
//   diagonal skipped; masks only on tiles that need them.
//   The pipeline itself (barriers, work items, the producer's loop, ping-pong turns, one item's
//   pass over its key tiles, the softmax steps, the epilogue) is shared with the FP8 rung in
//   hopper-pipeline.cuh; this file keeps what is its own: tiles, descriptors, GEMMs, P's packing.
//
// Tiles (paper names): Br = 128 query rows per block (2 consumer warpgroups x 64), Bc = 128 keys
// per step, d = 64 or 128; K/V in 2 shared-memory stages at d = 128 (Q 32 KiB + 2 x (K 32 + V 32)
// KiB = 160 KiB, one block per SM) and 3 at d = 64. A 1-D grid over Tr x heads x batch query tiles
// (or one block per SM), the tiles of one head consecutive so that blocks running at the same time
// share that head's K/V through L2 (91% L2 hit rate).
//
// Run (its program is attn-hopper-main.cpp; attnlab-bench --kernels hopper runs the default variant):
//       attnlab-attn-hopper --check          (fp64 reference, poisoned output; exit 77: no sm_90 GPU)
//       attnlab-attn-hopper --json out.json  (the check, then timings with the mma rung beside)
//
// MEASURED (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, 2026-11-23; bf16 forward, median of 10
// with L2 flushed; PyTorch 2.11 SDPA in the same device call; assets/measurements/hopper-h100.json):
//   B8 H16 N4096            ours TFLOP/s   torch flash (ratio)   cuDNN (ratio)   mma rung
//   d128                       660.0         351.2 (1.88x)        636.8 (1.04x)    286.8
//   d128 causal                585.5         305.4 (1.92x)        589.4 (0.99x)    263.1
//   d64                        461.1         288.6 (1.60x)        453.8 (1.02x)    286.1
//   d64 causal                 392.5         264.2 (1.49x)        399.2 (0.98x)    261.8
//   d128 GQA 16/4              663.3         348.7 (1.90x)        638.9 (1.04x)    284.4
//   d128 fp16                  643.4         353.6 (1.82x)        628.9 (1.02x)    284.4
//   B2 N16384 d128 causal      673.8         329.4 (2.05x)        633.7 (1.06x)    285.1
// What each idea is worth (same run): without ping-pong d64 406.9 (-12%), d64 causal 333.8 (-15%),
// d128 648.1 (-2%); always one block per tile d64 439.8 (-5%), d128 656.6 (-0.5%); always
// persistent d128 causal 549.6 (-6%), N16384 causal 596.2 (-11.5%). PyTorch's figures move a few %
// between device calls (cuDNN d64 causal read 426.9, 364.8 and 399.2 in three calls), so ratios to
// cuDNN near 1.0 are ties, not wins or losses.
// ncu (d128): tensor pipe ~70% of elapsed cycles at a 1.72 GHz SM clock, DRAM ~9% busy (404 MB
// read = Q + K + V once), L2 hit ~91%. d64: tensor pipe ~47%; the rest of the time goes to the
// softmax (exp2 on the MUFU/XU pipe, max/sum shuffles): at d = 64 a 128 x 128 tile costs as many
// exp2 cycles as tensor cycles, and ping-pong hides only part of one behind the other.
// SASS: HGMMA.64x128x16.F32.BF16 (S = Q K^T; P V at d128) and HGMMA.64x64x16 (P V at d64), 32
// HGMMA per d128 kernel, 24 per d64 kernel, no HMMA, no local memory (cuobjdump -sass).
//
// Limits: forward only; d = 64 or 128; bf16 or fp16; causal needs seq_q <= seq_kv (bottom-right
// mask, every row sees a key); the persistent grid is static round-robin (FA3 hands causal tiles
// out dynamically; here causal falls back to one block per tile); O is stored from registers with
// 4-byte stores, not through shared memory + TMA; no FP8 path (FA3's block quantization).
#include <cuda.h>  // CUtensorMap and its enums (types only: the encoder is fetched from the driver)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudaTypedefs.h>

#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "attn-hopper.hpp"
#include "harness-cuda.hpp"
#include "hopper-pipeline.cuh"
#include "hopper-wgmma.cuh"
#include "mma-ptx.cuh"
#include "tensor-map.hpp"

using namespace attnlab::kernels;
using namespace attnlab::kernels::hopper;

namespace {

constexpr int Br = 128;            // query rows per block: 2 consumer warpgroups x 64
constexpr int Bc = 128;            // keys per step
constexpr int kThreads = 384;      // warpgroup 0: producer; 1, 2: consumers
constexpr int kConsumerWarps = 8;  // arrivals on each "empty" barrier (one per consumer warp)

// Shared memory: [Q][K stage 0][K stage 1][V stage 0][V stage 1][barriers] (hopper-pipeline.cuh).
// A tile of R rows of d is stored as d/64 column blocks of [R][64] 16-bit values (128 bytes a
// row): the 128-byte swizzle of TMA and wgmma works on rows of exactly 128 bytes. K/V stages:
// d = 128 fills 160 KiB with 2; d = 64 tiles are half the size, so 3 fit easily and give the copy
// engine one more tile of lead.
template <int D>
using Smem = PipelineSmem<D == 64 ? 3 : 2, Br * D * 2, Bc * D * 2>;

struct HopperParams {
  void* o;  // [B, H, seq_q, d]
  int heads, kv_heads, group, seq_q, seq_kv;
  int causal, offset;  // query i sees key j when j <= i + offset (causal; offset = seq_kv - seq_q)
  float scale_log2;    // scale * log2(e): the softmax runs in base 2
  int batch, q_tiles;  // work items ("tiles" of Br query rows): q_tiles * heads * batch of them
  int pingpong;        // 1: the two consumer warpgroups take turns issuing GEMMs (FA3 ping-pong)
  int plant_race;      // 1: the producer skips its "empty" waits (a planted bug, for the sanitizer study)
};

// ---------------------------------------------------------------------------------------------
// PTX wrappers: mbarrier, TMA, named barriers and wgmma fences are shared with the FP8 rung
// (hopper-sync.cuh), and so is the pipeline built on them (hopper-pipeline.cuh); the descriptor
// is this rung's.

// wgmma shared-memory matrix descriptor: start address, leading / stride byte offsets (all >> 4),
// swizzle mode 1 = 128-byte swizzle (bits 62-63).
__device__ __forceinline__ uint64_t make_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32) | (1ull << 62);
}

// pack2: the PTX wrapper every tensor-core rung shares (mma-ptx.cuh).
using ptx::pack2;

// ---------------------------------------------------------------------------------------------
// The kernel

template <int D, typename T>
__global__ void __launch_bounds__(kThreads, 1)
    attn_hopper_kernel(const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                       const __grid_constant__ CUtensorMap tv, const HopperParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using L = Smem<D>;
  constexpr bool kFp16 = std::is_same_v<T, __half>;
  constexpr int kAtoms = D / 64;  // 128-byte column blocks per row
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  // TMA with the 128-byte swizzle and wgmma's descriptors both assume 1024-byte aligned tiles.
  const uint32_t base = (smem_u32(smem_raw) + 1023u) & ~1023u;
  const uint32_t sq = base + L::q_off;
  auto sk = [&](int s) { return base + L::k_off + s * L::kv_bytes; };
  auto sv = [&](int s) { return base + L::v_off + s * L::kv_bytes; };
  const PipelineBarriers<L::stages> bar{base + L::bar_off};

  const int wg = threadIdx.x / 128;
  const int warp = (threadIdx.x / 32) % 4;  // warp within the warpgroup
  const int lane = threadIdx.x % 32;
  // Work items (work_item): the query tiles of one head consecutive, causal longest first; one
  // block per item (Grid::per_tile), or one block per SM looping over them (persistent).
  const int n_items = p.q_tiles * p.heads * p.batch;

  bar.init_block(kConsumerWarps);

  if (wg == 0) {
    // ---------------- producer warpgroup: one thread issues every copy
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (warp == 0 && lane == 0) {
      // A tile is d/64 boxes of 64 columns; K and V go to kv_head zkv (GQA).
      produce_items<Br, Bc, L>(
          bar, p, n_items, !p.plant_race,
          [&](const WorkItem& it, uint32_t b) {
            for (int a = 0; a < kAtoms; ++a) tma_load_3d(sq + a * Br * 128, &tq, a * 64, it.q0, it.zq, b);
          },
          [&](int s, int j, const WorkItem& it, uint32_t b) {
            for (int a = 0; a < kAtoms; ++a) tma_load_3d(sk(s) + a * Bc * 128, &tk, a * 64, j * Bc, it.zkv, b);
          },
          [&](int s, int j, const WorkItem& it, uint32_t b) {
            for (int a = 0; a < kAtoms; ++a) tma_load_3d(sv(s) + a * Bc * 128, &tv, a * 64, j * Bc, it.zkv, b);
          });
    }
    return;
  }

  // ---------------- consumer warpgroups: 64 query rows each
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
  const int cw = wg - 1;
  const int g = lane / 4, t = lane % 4;
  int q0 = 0, row_a = 0;  // the item's first query row; this thread's two rows: row_a, row_a + 8
  float o[D / 2];          // O (unnormalised), 64 x d per warpgroup
  float s_acc[Bc / 2];     // S of the current tile, then P (fp32) in place
  uint32_t pa[Bc / 16][4]; // P as wgmma A fragments (bf16/fp16), one per 16 keys
  float m[2], l[2];        // running row max (scaled, base-2 units); row sum of this thread's columns

  // S = Q K_j^T: d/16 wgmmas of 64 x Bc x 16. A: this warpgroup's 64 rows of Q; B: K_j, K-major.
  // Within a 128-byte swizzled row, the k-th 16-column slice starts 32 bytes further (the
  // hardware applies the swizzle to the final address, as TMA did when it wrote the tile).
  auto issue_s = [&](int s) {
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint32_t qa = sq + (kk / 4) * Br * 128 + cw * 64 * 128 + (kk % 4) * 32;
      const uint32_t kb = sk(s) + (kk / 4) * Bc * 128 + (kk % 4) * 32;
      wgmma_ss<Bc, kFp16>(s_acc, make_desc(qa, 16, 1024), make_desc(kb, 16, 1024), kk > 0 ? 1 : 0);
    }
  };
  // O += P V_j: Bc/16 wgmmas of 64 x d x 16. B: V_j as stored, [key][dim] with dims contiguous,
  // i.e. N-major: LBO = distance between 64-dim column blocks, SBO = between groups of 8 keys.
  auto issue_pv = [&](int s) {
#pragma unroll
    for (int kk = 0; kk < Bc / 16; ++kk)
      wgmma_rs_tb<D, kFp16>(o, pa[kk], make_desc(sv(s) + kk * 16 * 128, Bc * 128, 1024));
  };
  // Online softmax of S_j in place: new row max, P = exp2(S*scale - m), row sums, and the factor
  // alpha by which the O accumulated so far must shrink.
  auto softmax = [&](int j, float (&alpha)[2]) {
    mask_tile<Bc>(s_acc, j * Bc, q0, row_a, t, p);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float base_m = running_max(m[r], row_max<Bc>(s_acc, r) * p.scale_log2, alpha[r]);
      l[r] = l[r] * alpha[r] + exp_row<Bc>(s_acc, r, p.scale_log2, base_m);
    }
  };
  // S accumulator (n8 blocks 2kk, 2kk+1) -> A fragment of k-step kk: rows g / g+8, keys 2t.. / 2t+8..
  auto pack_p = [&]() {
#pragma unroll
    for (int kk = 0; kk < Bc / 16; ++kk) {
      pa[kk][0] = pack2<T>(s_acc[8 * kk + 0], s_acc[8 * kk + 1]);
      pa[kk][1] = pack2<T>(s_acc[8 * kk + 2], s_acc[8 * kk + 3]);
      pa[kk][2] = pack2<T>(s_acc[8 * kk + 4], s_acc[8 * kk + 5]);
      pa[kk][3] = pack2<T>(s_acc[8 * kk + 6], s_acc[8 * kk + 7]);
    }
  };

  // Ping-pong: the two consumer warpgroups alternate issuing their GEMMs (PingPong).
  const PingPong pp{p.pingpong != 0, cw};
  pp.start();

  int kv_count = 0;  // K/V tiles consumed by this block before the current item
  int local = 0;     // items done by this block
  for (int w = blockIdx.x; w < n_items; w += gridDim.x, ++local) {
    const WorkItem it = work_item<Br, Bc>(w, p);
    q0 = it.q0;
    row_a = q0 + cw * 64 + warp * 16 + g;
    softmax_start<D>(o, m, l);
    consume_item<L>(
        bar, pp, kv_count, local, it.n_tiles, lane, s_acc, o, issue_s, issue_pv, [](int) {}, softmax,
        [&](const float (&alpha)[2]) { rescale_o<D>(o, alpha); }, pack_p);
    kv_count += it.n_tiles;

    // ---------------- epilogue: full row sums, O / l, store rows inside the sequence
    T* out = static_cast<T*>(p.o) + (size_t(it.b) * p.heads + it.h) * size_t(p.seq_q) * D;
    store_o<D>(out, o, l, 1.f, row_a, t, p.seq_q);
  }
  pp.finish();
#endif
}

// ---------------------------------------------------------------------------------------------
// Host side: tensor maps and the launch

// [z][rows][d] 16-bit tensor, boxes of 64 columns (128 bytes: the swizzle span) x box_rows rows x 1.
CUtensorMap make_map(const void* ptr, ElemType t, int d, int rows, int z, int box_rows) {
  return tensor_map_3d(ptr, t == ElemType::bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2,
                       d, rows, z, 64, box_rows, CU_TENSOR_MAP_SWIZZLE_128B);
}

template <int D, typename T>
cudaError_t launch_d(const AttnProblem& pr, const HopperOptions& opt, cudaStream_t st) {
  const AttnShape& s = pr.shape;
  const CUtensorMap tq = make_map(pr.q, s.dtype, D, s.seq_q, s.batch * s.heads, Br);
  const CUtensorMap tk = make_map(pr.k, s.dtype, D, s.seq_kv, s.batch * s.kv_heads, Bc);
  const CUtensorMap tv = make_map(pr.v, s.dtype, D, s.seq_kv, s.batch * s.kv_heads, Bc);
  HopperParams p{pr.o, s.heads, s.kv_heads, s.group(), s.seq_q, s.seq_kv, s.causal ? 1 : 0, s.seq_kv - s.seq_q,
                 float(pr.scale * 1.4426950408889634), s.batch, (s.seq_q + Br - 1) / Br,
                 opt.pingpong ? 1 : 0, opt.plant_race ? 1 : 0};
  const long long items = (long long)p.q_tiles * s.heads * s.batch;
  const bool persistent = opt.grid == HopperOptions::Grid::persistent ||
                          (opt.grid == HopperOptions::Grid::automatic && !s.causal);
  return launch_items<attn_hopper_kernel<D, T>, Smem<D>>(kThreads, items, persistent, st, tq, tk, tv, p);
}

}  // namespace

namespace attnlab::kernels {

std::string hopper_refuses(const AttnShape& s) {
  if (s.head_dim != 64 && s.head_dim != 128) return "head_dim must be 64 or 128";
  if (s.kv_heads <= 0 || s.heads % s.kv_heads != 0) return "kv_heads must divide heads";
  if (s.causal && s.seq_q > s.seq_kv) return "causal needs seq_q <= seq_kv (every row must see a key)";
  if ((long long)((s.seq_q + Br - 1) / Br) * s.heads * s.batch > 0x7fffffffLL) return "too many query tiles for one grid";
  return "";
}

cudaError_t attn_hopper_forward(const AttnProblem& pr, const HopperOptions& opt, cudaStream_t st) {
  const AttnShape& s = pr.shape;
  if (!hopper_refuses(s).empty()) return cudaErrorInvalidValue;
  const bool bf = s.dtype == ElemType::bf16;
  if (s.head_dim == 64) return bf ? launch_d<64, __nv_bfloat16>(pr, opt, st) : launch_d<64, __half>(pr, opt, st);
  return bf ? launch_d<128, __nv_bfloat16>(pr, opt, st) : launch_d<128, __half>(pr, opt, st);
}

cudaError_t attn_hopper_forward(const AttnProblem& p, cudaStream_t stream) {
  return attn_hopper_forward(p, HopperOptions{}, stream);
}

}  // namespace attnlab::kernels
