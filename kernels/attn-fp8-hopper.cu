// attn-fp8-hopper.cu — the FP8 rung: FlashAttention-3's third idea (block quantization) on top of
// the Hopper rung (attn-hopper.cu): Q, K and V in FP8 e4m3 with one fp32 scale per tile, the two
// GEMMs on wgmma's e4m3 path (twice the bf16 rate), fp32 accumulation, O written in bf16.
// sm_90a only. The inputs come from the quantize kernels (fp8-quantize.cu), timed separately.
//
// What changes against the bf16 Hopper rung, and why:
//   * wgmma m64nNk32 .e4m3 instead of m64nNk16 .bf16: one instruction covers 32 values of the
//     reduction dimension (32 bytes, as 16 bf16 did), so the descriptors step 32 bytes along a
//     row exactly as before; each instruction does twice the FLOPs in the same time.
//   * 1-byte shared-memory tiles: a row of Q or K is d bytes. At d = 128 that is one 128-byte
//     swizzle row (the whole tile is one column block, not two); at d = 64 the rows are 64 bytes
//     and use the 64-byte swizzle (TMA SWIZZLE_64B, descriptor mode 2, 8-row groups 512 B apart).
//     Half the bytes per tile: 4 K/V stages fit where the bf16 rung had 2 (d = 128: 144 KiB).
//   * V transposed. For 8-bit types wgmma has no transpose bit: B must be K-major, and for P V
//     the reduction runs over keys, so V must sit in shared memory as V^T [dim][key] with keys
//     contiguous. The quantize kernel writes V^T in global memory (its cost is in that kernel's
//     timed time, not here; the attention kernel then loads V^T tiles with TMA like K tiles).
//   * P converted to e4m3 for the P V GEMM, and the register layout problem this brings: the S
//     accumulator gives a thread, for row g, the keys {2t, 2t+1, 8+2t, 9+2t, 16+2t, ...} of each
//     32 keys, while the 8-bit A fragment wants keys {4t..4t+3, 16+4t..16+4t+3}. Instead of moving
//     bytes between threads (FA3's byte permute + shuffles), the thread packs the values it has
//     into the slots it owns, and V^T's key columns are permuted to match (within every 32 keys,
//     A column 4t+i holds key 2t + (i%2) + 8*(i/2), +16 for the upper half). Chosen because the
//     quantize kernel rewrites V anyway, so the permutation costs nothing at run time, where the
//     shuffles would add instructions to the softmax path, which is the critical path here.
//   * Scales. S = (Q8_i K8_j^T) * sq_i * sk_j * softmax_scale: sq_i (this query tile's) and sk_j
//     fold into the one multiplier the online softmax already applies (c_j = scale*log2e*sq*sk_j),
//     so no extra instruction per element. V's per-tile scale sv_j is not applied to P (P in [0,1]
//     times a small scale would underflow e4m3); instead O is kept in units of the current sv:
//     before P_j V8_j is added, O is multiplied by alpha_j * sv_{j-1} / sv_j, folded into the
//     rescale by alpha the online softmax does anyway; the epilogue multiplies by sv_last / l.
//     The row sums l use P in fp32 (before rounding to e4m3), as FA3 does.
//   Kept from the bf16 rung: TMA loads completing on mbarriers, producer/consumer warp
//   specialization with setmaxnreg, the softmax of S_j overlapped with the P V of step j-1, the
//   ping-pong of the two consumer warpgroups, the persistent grid when not causal: one copy of that
//   pipeline for both rungs, in hopper-pipeline.cuh.
//
// Tiles (paper names): Br = 128 query rows per block (2 consumer warpgroups x 64), Bc = 128 keys
// per step, d = 64 or 128 (d = 256 is not built: S, P and a 64 x 256 O accumulator do not fit a
// consumer's 232 registers with this structure); 4 K/V^T stages.
//
// Run (its program is attn-fp8-main.cpp):
//       attnlab-attn-fp8 --check          (fp64 reference, poisoned output; exit 77: no sm_90 GPU)
//       attnlab-attn-fp8 --json out.json  (check, accuracy table, timings with the bf16 rung beside)
//
// MEASURED (NVIDIA H200, driver 580.159.04, CUDA 13.0, 2026-12-02; median of 10 with L2 flushed,
// PyTorch 2.11 in the same device call; assets/measurements/h200-fp8.json, kernels/fp8-device.sh):
//   B8 H16, TFLOP/s            FP8 (this)  bf16 rung (ratio)  cuDNN bf16  FA2 bf16   FP8 + quantize
//   N4096  d128                  799.9      661.1 (1.21x)      667.9      343.3      711.3
//   N4096  d128 causal           701.5      581.4 (1.21x)      575.8      320.9      563.7
//   N4096  d128 GQA 16/4         803.0      663.3 (1.21x)      641.0      356.4      757.6
//   N4096  d64                   496.4      463.3 (1.07x)      435.8      299.3      455.0
//   N4096  d64 causal            409.4      391.5 (1.05x)      419.7      258.4      353.7
//   N16384 d128                  863.8      620.7 (1.39x)      601.2      354.2      832.7
//   N16384 d128 causal           844.8      604.4 (1.40x)      582.8      347.4      786.0
//   N16384 d64                   524.1      457.8 (1.14x)      464.1      312.0      514.8
// Short of the goal (1.5x the bf16 rung at d128, N >= 4096; stretch 900): 1.21x at N4096, 1.39x
// at N16384, 864 TFLOP/s at best. The FP8 GEMM ceiling on this card is torch._scaled_mm's 1,395
// TFLOP/s (8192^3, same call); PyTorch 2.11 has no FP8 attention (SDPA refuses e4m3 inputs on
// every backend). Why (ncu, d128 N4096): the e4m3 GEMMs of a 128 x 128 tile take as many tensor
// cycles as bf16 ones took at d64, and the softmax of the tile did not shrink: tensor pipe 41.5%
// of elapsed cycles, the MUFU/XU pipe (exp2) 46% of its peak, issue slots 45% busy, 3 warps per
// scheduler (1 block/SM: registers and shared memory). No pipe is saturated, and tensor + exp2
// busy times add up (41.5% + 46%): a step costs about the sum, not the larger. Reading (not
// proven): the ping-pong keeps the two consumer warpgroups out of phase only while one
// warpgroup's softmax fits in the time of the three GEMMs queued behind its S (2 x 64x128x128
// e4m3 wgmmas, ~512 tensor cycles at d128), but the softmax alone needs >= 512 MUFU cycles (8,192
// exp2 at 16 a cycle) plus ~400 issue slots a warp, so the warpgroups drift into phase: both wait
// on GEMMs, then both share the MUFU. The bf16 rung has the same ratio at d64 (47% tensor). At
// d64 the GEMMs are half as long again, so the rung is exp2-bound and gains 5-14% over bf16;
// there the ping-pong costs 10% (d64 496.0 without vs 446.4 with; d128 800.5 vs 799.0, causal
// 688.2 vs 701.8), so it is on at d128 only.
// Softmax variants tried (Fp8Options::exp2 / tree_max; fp8-device.sh variants, two device calls,
// H200, driver 580.159.04, CUDA 13.0, 2026-12-02 08:28 and 08:38 UTC; TFLOP/s, B8 H16, same call
// as the default and the bf16 rung; call 1 / call 2):
//   variant                                 N4096 d128     N4096 causal   GQA 16/4       N16384 d128
//   default (MUFU exp2, chain max)          803.0 / 805.4  701.1 / 703.4  803.1 / 812.4  863.0 / 865.7
//   bf16 rung (attn-hopper)                 659.7 / 673.6  582.1 / 594.2  661.6 / 677.6  620.8 / 621.5
//   poly25 (1/4 of exp2 as a polynomial)    765.9 / 765.1  664.6 / 667.6  759.9 / 768.6  811.5 / 808.3
//   poly50 (1/2 of exp2 as a polynomial)    710.9 / 710.4  626.9 / 627.1  706.3 / 713.3  757.8 / 720.3
//   half2 (ex2.approx.f16x2, P from f16)    801.2 / 799.2  689.9 / 688.6  797.0 / 806.3  802.3 / 843.0
//   tree max (both rows' shuffles together)   -   / 798.9    -   / 685.3    -   / 800.8    -   / 851.9
// None beats the default, which stays (ratio to bf16 at N4096 d128: 1.22x / 1.20x; N16384 1.39x).
// ncu at N4096 d128 (pct of peak, sustained active): default XU 45.9, issue 46.2, FMA 18.6; poly25
// XU 33.3, issue 54.0, FMA 26.6 (1.451 ms vs 1.366); poly50 XU 21.5, issue 59.6, FMA 33.0 (1.563
// ms); half2 XU 45.6, as busy as with one ex2 per value (so the f16x2 form buys no XU time on
// this chip; whether it issues as two MUFU ops was not checked in SASS), issue 50.3; tree max XU 45.3, issue 45.2 (1.376 ms vs 1.355). So no unit's throughput
// is the limit: taking exp2 off the MUFU lowers XU busy but each polynomial costs ~8 issue slots
// and the step gets slower; shortening the max's dependency chain moves nothing either. What is
// left is the serial order inside a warpgroup (S wait -> max -> exp2 -> wait P V -> rescale ->
// pack -> next GEMMs) with only the other warpgroup to fill it; FA3's intra-warpgroup overlap of
// softmax(j) with S(j+1) needs a second 64-register S, beyond the consumers' 232 registers here
// (64 O + 64 S + 16 P + addresses). Not tried: a third consumer warpgroup (registers), Bc > 128
// (V^T tiles would span two swizzle rows), skipping O rescales (sv_j changes every tile).
// The quantize kernels (same call, N4096 d128): per tensor 0.320 ms (bf16 read twice), per tile
// 0.195 ms (3.1 TB/s), per tile + Hadamard 0.280 ms (2.2 TB/s); end to end (quantize + attention)
// the FP8 rung is 1.08x the bf16 rung at N4096 d128 and 1.34x at N16384.
// Accuracy (RMSE of O vs fp64, all rows, N(0,1) inputs; outliers: 0.1% of Q/K entries x10):
//   random inputs: bf16 1.1e-4, FP8 2.7e-3 whatever the scaling (d128 N1024); with outliers
//   (d128 N2048): per tensor 1.48e-2, per tile 1.25e-2 (-15%), per tile + Hadamard 7.55e-3 (-49%,
//   1.95x less; FlashAttention-3's paper: 2.4e-2 -> 9.1e-3, 2.6x). Table: the file's "fp8" section.
// ncu (--clock-control none --cache-control all): DRAM reads = Q8 + K8 + V^T8 once (201.4 MB at
// N4096 d128), writes = O (bf16; 121 MB of 134 leave L2 before the kernel ends).
// SASS: QGMMA.64x128x32.F32.E4M3.E4M3 (S; P V at d128) and QGMMA.64x64x32 (P V at d64), no HGMMA,
// no local memory; 168 registers at entry (setmaxnreg then 40 / 232), no spills, no stack (all 7
// instantiations: d64/d128 x chain/tree max, d128 x poly25/poly50/half2; nvcc -Xptxas -v).
// Sanitizers: memcheck, synccheck, racecheck clean on --check --quick (7 shapes, 3 ragged); racecheck
// sees ordinary shared-memory accesses only, not TMA writes or wgmma reads (async proxy), so the
// mbarrier protocol is covered by the fp64 checks (every stage wrap-around, poisoned outputs).
//
// Limits: forward only; d = 64 or 128; causal needs seq_q <= seq_kv; O stored from registers.
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudaTypedefs.h>

#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <string>

#include "attn-fp8.hpp"
#include "fp8-wgmma.cuh"
#include "harness-cuda.hpp"
#include "hopper-pipeline.cuh"
#include "mma-ptx.cuh"
#include "tensor-map.hpp"

using namespace attnlab::kernels;
using namespace attnlab::kernels::fp8;
using namespace attnlab::kernels::hopper;

namespace {

constexpr int Br = kFp8Br;         // query rows per block: 2 consumer warpgroups x 64
constexpr int Bc = kFp8Bc;         // keys per step
constexpr int kThreads = 384;      // warpgroup 0: producer; 1, 2: consumers
constexpr int kConsumerWarps = 8;  // arrivals on each "empty" barrier (one per consumer warp)

// Shared memory: [Q][K stages][V^T stages][barriers] (hopper-pipeline.cuh), 4 stages; e4m3: one
// byte a value, so a K tile [Bc][D] and a V^T tile [D][Bc] are Bc * D bytes.
template <int D>
struct Smem : PipelineSmem<4, Br * D, Bc * D> {
  // Q and K rows are D bytes: the 128-byte swizzle at d = 128, the 64-byte one at d = 64.
  static constexpr int qk_swizzle_mode = D == 128 ? 1 : 2;  // descriptor bits 62-63
  static constexpr int qk_sbo = 8 * D;                      // bytes between 8-row groups
};

struct Fp8Params {
  void* o;  // [B, H, seq_q, d] bf16
  const float *sq, *sk, *sv;
  int heads, kv_heads, group, seq_q, seq_kv;
  int causal, offset;  // query i sees key j when j <= i + offset (causal)
  float scale_log2;    // softmax scale * log2(e)
  int batch, q_tiles, kv_tiles;
  int pingpong;
};

// ---------------------------------------------------------------------------------------------
// PTX wrappers: mbarrier, TMA, named barriers and wgmma fences are the bf16 rung's
// (hopper-sync.cuh), and so are the pipeline, the softmax steps and the epilogue built on them
// (hopper-pipeline.cuh, with exp2_poly); the descriptor (two swizzle modes), the e4m3 packing and
// the f16 pair helpers of the half2 variant are this rung's.

// Descriptor: start address, leading / stride byte offsets (>> 4), swizzle mode (1: 128 B, 2: 64 B).
__device__ __forceinline__ uint64_t make_desc(uint32_t addr, uint32_t sbo, int mode) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(16 >> 4) << 16) | (uint64_t(sbo >> 4) << 32) |
         (uint64_t(mode) << 62);
}
// Four floats -> four e4m3 in one register, `a` in the lowest byte (round to nearest, saturating).
__device__ __forceinline__ uint32_t pack4_e4m3(float a, float b, float c, float d) {
  uint16_t lo, hi;
  // cvt...e4m3x2 d, x, y puts x in the upper byte and y in the lower one.
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(lo) : "f"(b), "f"(a));
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(hi) : "f"(d), "f"(c));
  return uint32_t(lo) | (uint32_t(hi) << 16);
}

// Two floats -> one f16 pair (a in the low half); two exp2 in one MUFU instruction; f16 pair add;
// an f16 pair -> an e4m3 pair (low half -> low byte).
__device__ __forceinline__ uint32_t pack_h2(float a, float b) {
  uint32_t r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(b), "f"(a));
  return r;
}
__device__ __forceinline__ uint32_t ex2_h2(uint32_t x) {
  uint32_t r;
  asm("ex2.approx.f16x2 %0, %1;" : "=r"(r) : "r"(x));
  return r;
}
__device__ __forceinline__ uint32_t add_h2(uint32_t a, uint32_t b) {
  uint32_t r;
  asm("add.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
__device__ __forceinline__ float sum_h2(uint32_t x) {
  const __half2 h = *reinterpret_cast<const __half2*>(&x);
  return __low2float(h) + __high2float(h);
}
__device__ __forceinline__ uint32_t e4m3x2_of_h2(uint32_t x) {
  uint16_t r;
  asm("cvt.rn.satfinite.e4m3x2.f16x2 %0, %1;" : "=h"(r) : "r"(x));
  return r;
}

using ptx::pack2;

// ---------------------------------------------------------------------------------------------
// The kernel

// kExp: Fp8Options::Exp2 as an int (0 mufu, 1 poly25, 2 poly50, 3 half2); kTreeMax:
// Fp8Options::tree_max.
template <int D, int kExp, bool kTreeMax>
__global__ void __launch_bounds__(kThreads, 1)
    attn_fp8_kernel(const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                    const __grid_constant__ CUtensorMap tvt, const Fp8Params p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using L = Smem<D>;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  const uint32_t base = (smem_u32(smem_raw) + 1023u) & ~1023u;
  const uint32_t sq = base + L::q_off;
  auto sk = [&](int s) { return base + L::k_off + s * L::kv_bytes; };
  auto svt = [&](int s) { return base + L::v_off + s * L::kv_bytes; };
  const PipelineBarriers<L::stages> bar{base + L::bar_off};

  const int wg = threadIdx.x / 128;
  const int warp = (threadIdx.x / 32) % 4;
  const int lane = threadIdx.x % 32;
  // Work items as in the bf16 rung (work_item): the query tiles of one head consecutive, causal
  // longest first.
  const int n_items = p.q_tiles * p.heads * p.batch;

  bar.init_block(kConsumerWarps);

  if (wg == 0) {
    // ---------------- producer warpgroup: one thread issues every copy
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (warp == 0 && lane == 0) {
      // One box a tile: Q and K rows are D bytes, a V^T tile is [D][Bc] (keys along the row).
      produce_items<Br, Bc, L>(
          bar, p, n_items, true,
          [&](const WorkItem& it, uint32_t b) { tma_load_3d(sq, &tq, 0, it.q0, it.zq, b); },
          [&](int s, int j, const WorkItem& it, uint32_t b) { tma_load_3d(sk(s), &tk, 0, j * Bc, it.zkv, b); },
          [&](int s, int j, const WorkItem& it, uint32_t b) { tma_load_3d(svt(s), &tvt, j * Bc, 0, it.zkv, b); });
    }
    return;
  }

  // ---------------- consumer warpgroups: 64 query rows each
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
  const int cw = wg - 1;
  const int g = lane / 4, t = lane % 4;
  int q0 = 0, row_a = 0;
  float o[D / 2];           // O (unnormalised, in units of the current tile's V scale), 64 x d
  float s_acc[Bc / 2];      // S of the current tile, then P (fp32) in place
  uint32_t pa[Bc / 32][4];  // P as e4m3 A fragments, one per 32 keys
  uint32_t ph[2][Bc / 8];   // half2 only: P as f16 pairs, [row half][pair]
  float m[2], l[2];

  // S = Q K_j^T: d/32 wgmmas of 64 x Bc x 32, both operands K-major from shared memory.
  auto issue_s = [&](int s) {
#pragma unroll
    for (int kk = 0; kk < D / 32; ++kk) {
      const uint32_t qa = sq + cw * 64 * D + kk * 32;
      const uint32_t kb = sk(s) + kk * 32;
      wgmma_ss_e4m3<Bc>(s_acc, make_desc(qa, L::qk_sbo, L::qk_swizzle_mode),
                        make_desc(kb, L::qk_sbo, L::qk_swizzle_mode), kk > 0 ? 1 : 0);
    }
  };
  // O += P V_j: Bc/32 wgmmas of 64 x d x 32. B: the V^T tile [d][Bc], keys contiguous (K-major),
  // 128-byte rows: the k-th 32 keys start 32 bytes further.
  auto issue_pv = [&](int s) {
#pragma unroll
    for (int kk = 0; kk < Bc / 32; ++kk) wgmma_rs_e4m3<D>(o, pa[kk], make_desc(svt(s) + kk * 32, 1024, 1));
  };
  // Online softmax of S_j in place; `c` = softmax scale * log2(e) * sq * sk_j turns the raw e4m3
  // product into base-2 scaled scores.
  auto softmax = [&](int j, float c, float (&alpha)[2]) {
    mask_tile<Bc>(s_acc, j * Bc, q0, row_a, t, p);
    // Row maxima. kTreeMax: both rows' maxima as trees (depth 5 instead of a chain of 32 dependent
    // FMNMX), then both rows' quad shuffles side by side; the chain (row_max, the first version)
    // is kept as a variant. Same result either way (max is exact in any order).
    float mx_tree[2];
    if constexpr (kTreeMax) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float v[Bc / 8];
#pragma unroll
        for (int i = 0; i < Bc / 8; ++i) v[i] = fmaxf(s_acc[4 * i + 2 * r], s_acc[4 * i + 2 * r + 1]);
        static_assert(Bc == 128, "the tree below has log2(Bc / 8) = 4 levels");
#pragma unroll
        for (int i = 0; i < 8; ++i) v[i] = fmaxf(v[i], v[i + 8]);
#pragma unroll
        for (int i = 0; i < 4; ++i) v[i] = fmaxf(v[i], v[i + 4]);
        v[0] = fmaxf(fmaxf(v[0], v[2]), fmaxf(v[1], v[3]));
        mx_tree[r] = v[0];
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) mx_tree[r] = fmaxf(mx_tree[r], __shfl_xor_sync(0xffffffff, mx_tree[r], 1));
#pragma unroll
      for (int r = 0; r < 2; ++r) mx_tree[r] = fmaxf(mx_tree[r], __shfl_xor_sync(0xffffffff, mx_tree[r], 2));
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float mx;
      if constexpr (kTreeMax) {
        mx = mx_tree[r];
      } else {
        mx = row_max<Bc>(s_acc, r);
      }
      const float base_m = running_max(m[r], mx * c, alpha[r]);
      float sum = 0.f;
      if constexpr (kExp == 3) {
        uint32_t part[4];
#pragma unroll
        for (int i = 0; i < Bc / 8; ++i) {
          ph[r][i] = ex2_h2(pack_h2(fmaf(s_acc[4 * i + 2 * r], c, -base_m), fmaf(s_acc[4 * i + 2 * r + 1], c, -base_m)));
          part[i % 4] = i < 4 ? ph[r][i] : add_h2(part[i % 4], ph[r][i]);
        }
        sum = sum_h2(add_h2(add_h2(part[0], part[1]), add_h2(part[2], part[3])));
      } else {
        // poly25: every 4th pair of keys on the FMA pipe (exp2_poly); poly50: every 2nd.
        sum = exp_row<Bc, kExp == 1 ? 4 : kExp == 2 ? 2 : 0>(s_acc, r, c, base_m);
      }
      l[r] = l[r] * alpha[r] + sum;
    }
  };
  // S accumulator -> e4m3 A fragments. For the 32 keys of k-step kk the thread holds, in row g,
  // keys 2t, 2t+1 (accumulators 16kk+0, 1), 8+2t, 9+2t (+4, +5), 16+2t.. (+8, +9), 24+2t.. (+12,
  // +13); rows g+8 the next two of each. They go, in that order, into the A slots the thread owns
  // (k 4t..4t+3 and 16+4t..16+4t+3): V^T's columns are permuted the same way (fp8-quantize.cu).
  auto pack_p = [&]() {
#pragma unroll
    for (int kk = 0; kk < Bc / 32; ++kk) {
      if constexpr (kExp == 3) {  // pair (i, r) holds accumulators 4i+2r, 4i+2r+1: the same slots
        pa[kk][0] = e4m3x2_of_h2(ph[0][4 * kk]) | (e4m3x2_of_h2(ph[0][4 * kk + 1]) << 16);
        pa[kk][1] = e4m3x2_of_h2(ph[1][4 * kk]) | (e4m3x2_of_h2(ph[1][4 * kk + 1]) << 16);
        pa[kk][2] = e4m3x2_of_h2(ph[0][4 * kk + 2]) | (e4m3x2_of_h2(ph[0][4 * kk + 3]) << 16);
        pa[kk][3] = e4m3x2_of_h2(ph[1][4 * kk + 2]) | (e4m3x2_of_h2(ph[1][4 * kk + 3]) << 16);
        continue;
      }
      const float* x = s_acc + 16 * kk;
      pa[kk][0] = pack4_e4m3(x[0], x[1], x[4], x[5]);
      pa[kk][1] = pack4_e4m3(x[2], x[3], x[6], x[7]);
      pa[kk][2] = pack4_e4m3(x[8], x[9], x[12], x[13]);
      pa[kk][3] = pack4_e4m3(x[10], x[11], x[14], x[15]);
    }
  };

  // Ping-pong as in the bf16 rung: the two consumer warpgroups alternate issuing their GEMMs.
  const PingPong pp{p.pingpong != 0, cw};
  pp.start();

  int kv_count = 0, local = 0;
  for (int w = blockIdx.x; w < n_items; w += gridDim.x, ++local) {
    const WorkItem it = work_item<Br, Bc>(w, p);
    q0 = it.q0;
    row_a = q0 + cw * 64 + warp * 16 + g;
    const float* sk_row = p.sk + size_t(it.zkv) * p.kv_tiles;
    const float* sv_row = p.sv + size_t(it.zkv) * p.kv_tiles;
    const float c_q = p.scale_log2 * __ldg(p.sq + size_t(it.zq) * p.q_tiles + it.qt);
    softmax_start<D>(o, m, l);

    float sk_j = 0.f, sv_j = 0.f;  // this step's K and V tile scales
    float sv_prev = 0.f;           // V scale of the tile whose P V was issued last
    // The scales are loaded before each step's waits, so that their latency hides behind them.
    auto load_scales = [&](int j) {
      sk_j = __ldg(sk_row + j);
      sv_j = __ldg(sv_row + j);
      if (j == 0) sv_prev = sv_j;
    };
    // O so far is in units of sv_{j-1}; P_j V8_j will be added in units of sv_j.
    auto rescale = [&](const float (&alpha)[2]) {
      const float ratio = sv_prev / sv_j;
      const float f[2] = {alpha[0] * ratio, alpha[1] * ratio};
      rescale_o<D>(o, f);
      sv_prev = sv_j;
    };
    consume_item<L>(
        bar, pp, kv_count, local, it.n_tiles, lane, s_acc, o, issue_s, issue_pv, load_scales,
        [&](int j, float (&alpha)[2]) { softmax(j, c_q * sk_j, alpha); }, rescale, pack_p);
    kv_count += it.n_tiles;

    // ---------------- epilogue: full row sums, O * sv_last / l, store rows inside the sequence
    __nv_bfloat16* out = static_cast<__nv_bfloat16*>(p.o) + size_t(it.zq) * size_t(p.seq_q) * D;
    store_o<D>(out, o, l, sv_prev, row_a, t, p.seq_q);
  }
  pp.finish();
#endif
}

// ---------------------------------------------------------------------------------------------
// Host side

// [z][rows][cols] bytes, boxes of box_cols x box_rows x 1; box_cols * 1 byte is the swizzle span.
CUtensorMap make_map(const void* ptr, int cols, int rows, int z, int box_cols, int box_rows, CUtensorMapSwizzle sw) {
  return tensor_map_3d(ptr, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, cols, rows, z, box_cols, box_rows, sw);
}

template <int D, int kExp, bool kTreeMax>
cudaError_t launch_d(const Fp8Problem& pr, const Fp8Options& opt, cudaStream_t st) {
  const AttnShape& s = pr.shape;
  const CUtensorMapSwizzle qk_sw = D == 128 ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_64B;
  const CUtensorMap tq = make_map(pr.q8, D, s.seq_q, s.batch * s.heads, D, Br, qk_sw);
  const CUtensorMap tk = make_map(pr.k8, D, s.seq_kv, s.batch * s.kv_heads, D, Bc, qk_sw);
  const CUtensorMap tvt = make_map(pr.vt8, fp8_vt_cols(s), D, s.batch * s.kv_heads, Bc, D, CU_TENSOR_MAP_SWIZZLE_128B);
  Fp8Params p{pr.o, pr.sq, pr.sk, pr.sv, s.heads, s.kv_heads, s.group(), s.seq_q, s.seq_kv,
              s.causal ? 1 : 0, s.seq_kv - s.seq_q, float(pr.scale * 1.4426950408889634), s.batch,
              fp8_q_tiles(s), fp8_kv_tiles(s),
              opt.pingpong == Fp8Options::PingPong::on || (opt.pingpong == Fp8Options::PingPong::automatic && D == 128)};
  const long long items = (long long)p.q_tiles * s.heads * s.batch;
  const bool persistent = !s.causal && !opt.per_tile;
  return launch_items<attn_fp8_kernel<D, kExp, kTreeMax>, Smem<D>>(kThreads, items, persistent, st, tq, tk, tvt, p);
}

}  // namespace

namespace attnlab::kernels {

std::string fp8_refuses(const AttnShape& s) {
  if (s.head_dim != 64 && s.head_dim != 128) return "head_dim must be 64 or 128";
  if (s.kv_heads <= 0 || s.heads % s.kv_heads != 0) return "kv_heads must divide heads";
  if (s.causal && s.seq_q > s.seq_kv) return "causal needs seq_q <= seq_kv (every row must see a key)";
  if ((long long)fp8_q_tiles(s) * s.heads * s.batch > 0x7fffffffLL) return "too many query tiles for one grid";
  return "";
}

cudaError_t attn_fp8_forward(const Fp8Problem& pr, const Fp8Options& opt, cudaStream_t st) {
  if (!fp8_refuses(pr.shape).empty()) return cudaErrorInvalidValue;
  if (pr.shape.head_dim == 64)
    return opt.tree_max ? launch_d<64, 0, true>(pr, opt, st) : launch_d<64, 0, false>(pr, opt, st);
  // The exp2 variants were measured with the chain max only (they lost: the header's table).
  switch (opt.exp2) {
    case Fp8Options::Exp2::poly25: return launch_d<128, 1, false>(pr, opt, st);
    case Fp8Options::Exp2::poly50: return launch_d<128, 2, false>(pr, opt, st);
    case Fp8Options::Exp2::half2: return launch_d<128, 3, false>(pr, opt, st);
    default: return opt.tree_max ? launch_d<128, 0, true>(pr, opt, st) : launch_d<128, 0, false>(pr, opt, st);
  }
}

const char* fp8_exp2_name(Fp8Options::Exp2 e) {
  switch (e) {
    case Fp8Options::Exp2::poly25: return "poly25";
    case Fp8Options::Exp2::poly50: return "poly50";
    case Fp8Options::Exp2::half2: return "half2";
    default: return "mufu";
  }
}

}  // namespace attnlab::kernels
