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
//   ping-pong of the two consumer warpgroups, the persistent grid when not causal.
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
#include "hopper-sync.cuh"
#include "tensor-map.hpp"
#include "harness-cuda.hpp"
#include "mma-ptx.cuh"

using namespace attnlab::kernels;
using namespace attnlab::kernels::fp8;
using namespace attnlab::kernels::hopper;

namespace {

constexpr int Br = kFp8Br;         // query rows per block: 2 consumer warpgroups x 64
constexpr int Bc = kFp8Bc;         // keys per step
constexpr int kThreads = 384;      // warpgroup 0: producer; 1, 2: consumers
constexpr int kConsumerWarps = 8;  // arrivals on each "empty" barrier (one per consumer warp)

// Shared memory: [Q][K stages][V^T stages][barriers], every tile 1024-byte aligned (the 128-byte
// swizzle's period; the 64-byte swizzle's is 512).
template <int D>
struct Smem {
  static constexpr int stages = 4;
  static constexpr int q_bytes = Br * D;   // e4m3: one byte a value
  static constexpr int kv_bytes = Bc * D;  // a K tile [Bc][D], or a V^T tile [D][Bc]
  static constexpr int q_off = 0;
  static constexpr int k_off = q_bytes;
  static constexpr int v_off = k_off + stages * kv_bytes;
  static constexpr int bar_off = v_off + stages * kv_bytes;
  static constexpr int bars = 2 + 4 * stages;  // q_full, k_full[], v_full[], k_empty[], v_empty[], q_empty
  static constexpr int bytes = bar_off + bars * 8;
  static constexpr int alloc = bytes + 1024;
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
// (hopper-sync.cuh); the descriptor (two swizzle modes) and the e4m3 packing are this rung's.

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

// exp2 on the FMA pipe (FlashAttention-4's idea): 2^x = 2^floor(x) * 2^f, f in [0, 1), 2^f by a
// degree-3 polynomial (max rel. error 1.7e-4). Adding 1.5 * 2^23 rounding down leaves floor(x) in
// the low mantissa bits of t; shifted into the exponent field (+127) they make 2^floor(x). x >= -127
// keeps that field valid; x = -127 (and a masked -inf) gives exactly 0. The last step is a float
// multiply, not an integer add into the exponent: with the integer add writing into S's registers,
// ptxas serialized the wgmmas (C7511, "insufficient register resources for the wgmma pipeline").
__device__ __forceinline__ float exp2_poly(float x) {
  x = fmaxf(x, -127.f);
  const float t = __fadd_rd(x, 12582912.f);
  const float f = x - (t - 12582912.f);
  float p = fmaf(f, 0.078024523f, 0.226564340f);
  p = fmaf(p, f, 0.695146833f);
  p = fmaf(p, f, 1.f);
  return p * __int_as_float((__float_as_int(t) << 23) + 0x3f800000);
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

using ptx::fast_exp2;
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
  const uint32_t bars = base + L::bar_off;
  const uint32_t q_full = bars;
  auto k_full = [&](int s) { return bars + 8 * (1 + s); };
  auto v_full = [&](int s) { return bars + 8 * (1 + L::stages + s); };
  auto k_empty = [&](int s) { return bars + 8 * (1 + 2 * L::stages + s); };
  auto v_empty = [&](int s) { return bars + 8 * (1 + 3 * L::stages + s); };
  const uint32_t q_empty = bars + 8 * (1 + 4 * L::stages);

  const int wg = threadIdx.x / 128;
  const int warp = (threadIdx.x / 32) % 4;
  const int lane = threadIdx.x % 32;
  // Work items as in the bf16 rung: the query tiles of one head consecutive, causal longest first.
  const int n_items = p.q_tiles * p.heads * p.batch;
  struct Item {
    int qt, h, b, q0, n_tiles;
  };
  auto item_of = [&](int w) {
    Item it;
    const int x = w % p.q_tiles, bh = w / p.q_tiles;
    it.qt = p.causal ? p.q_tiles - 1 - x : x;
    it.h = bh % p.heads;
    it.b = bh / p.heads;
    it.q0 = it.qt * Br;
    const int last_key = p.causal ? min(p.seq_kv - 1, it.q0 + Br - 1 + p.offset) : p.seq_kv - 1;
    it.n_tiles = last_key / Bc + 1;
    return it;
  };

  if (threadIdx.x == 0) {
    mbar_init(q_full, 1);  // one arrival: the producer's expect_tx (plus the bytes)
    for (int s = 0; s < L::stages; ++s) {
      mbar_init(k_full(s), 1);
      mbar_init(v_full(s), 1);
      mbar_init(k_empty(s), kConsumerWarps);  // every consumer warp says it is done with the stage
      mbar_init(v_empty(s), kConsumerWarps);
    }
    mbar_init(q_empty, kConsumerWarps);  // every consumer warp's last S GEMM of an item is done
    // The copy engine (async proxy) must see initialised barriers before the first TMA.
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  // Every thread must see initialised barriers before it waits on one or a copy arrives on one.
  __syncthreads();

  if (wg == 0) {
    // ---------------- producer warpgroup: one thread issues every copy
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (warp == 0 && lane == 0) {
      int kv_count = 0, local = 0;
      for (int w = blockIdx.x; w < n_items; w += gridDim.x, ++local) {
        const Item it = item_of(w);
        const int zq = it.b * p.heads + it.h;
        const int zkv = it.b * p.kv_heads + it.h / p.group;
        // The previous item's Q may be overwritten only once every consumer warp's last S GEMM
        // on it has completed.
        if (local > 0) mbar_wait(q_empty, (local - 1) & 1);
        mbar_arrive_expect_tx(q_full, L::q_bytes);
        tma_load_3d(sq, &tq, 0, it.q0, zq, q_full);
        for (int j = 0; j < it.n_tiles; ++j, ++kv_count) {
          const int s = kv_count % L::stages;
          const uint32_t ph = (kv_count / L::stages) & 1;
          // Stage s last held the tile loaded `stages` loads ago: wait until every consumer warp's
          // S GEMM on that K completed before the copy engine overwrites it.
          mbar_wait(k_empty(s), ph ^ 1);
          mbar_arrive_expect_tx(k_full(s), L::kv_bytes);
          tma_load_3d(sk(s), &tk, 0, j * Bc, zkv, k_full(s));
          // Same for V^T (its P V GEMM completed).
          mbar_wait(v_empty(s), ph ^ 1);
          mbar_arrive_expect_tx(v_full(s), L::kv_bytes);
          tma_load_3d(svt(s), &tvt, j * Bc, 0, zkv, v_full(s));
        }
      }
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
    const int k0 = j * Bc;
    if (k0 + Bc > p.seq_kv || (p.causal && k0 + Bc - 1 > q0 + p.offset)) {
#pragma unroll
      for (int i = 0; i < Bc / 2; ++i) {
        const int key = k0 + 8 * (i / 4) + 2 * t + (i % 2);
        const int row = row_a + 8 * ((i % 4) / 2);
        if (key >= p.seq_kv || (p.causal && key > row + p.offset)) s_acc[i] = -INFINITY;
      }
    }
    // Row maxima. kTreeMax: both rows' maxima as trees (depth 5 instead of a chain of 32 dependent
    // FMNMX), then both rows' quad shuffles side by side; the chain (the first version) is kept as
    // a variant. Same result either way (max is exact in any order).
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
      float mx = -INFINITY;
      if constexpr (kTreeMax) {
        mx = mx_tree[r];
      } else {
#pragma unroll
        for (int i = 0; i < Bc / 8; ++i) mx = fmaxf(mx, fmaxf(s_acc[4 * i + 2 * r], s_acc[4 * i + 2 * r + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));  // the 4 threads of a quad share a row
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
      }
      const float m_new = fmaxf(m[r], mx * c);
      const float base_m = m_new == -INFINITY ? 0.f : m_new;  // all masked so far: exp2 gives 0
      alpha[r] = fast_exp2(m[r] - base_m);
      m[r] = m_new;
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
#pragma unroll
        for (int i = 0; i < Bc / 8; ++i) {
          float& x0 = s_acc[4 * i + 2 * r];
          float& x1 = s_acc[4 * i + 2 * r + 1];
          // poly25: every 4th pair of keys on the FMA pipe; poly50: every 2nd.
          const bool poly = (kExp == 1 && i % 4 == 3) || (kExp == 2 && i % 2 == 1);
          if (poly) {
            x0 = exp2_poly(fmaf(x0, c, -base_m));
            x1 = exp2_poly(fmaf(x1, c, -base_m));
          } else {
            x0 = fast_exp2(fmaf(x0, c, -base_m));
            x1 = fast_exp2(fmaf(x1, c, -base_m));
          }
          sum += x0 + x1;
        }
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
  auto rescale_o = [&](const float (&f)[2]) {
#pragma unroll
    for (int i = 0; i < D / 2; ++i) o[i] *= f[(i % 4) / 2];
  };

  // Ping-pong as in the bf16 rung: the two consumer warpgroups alternate issuing their GEMMs.
  const int my_bar = 1 + cw, other_bar = 2 - cw;
  auto turn_begin = [&]() {
    if (p.pingpong) named_sync(my_bar);  // the other warpgroup has issued its GEMMs: my turn
  };
  auto turn_end = [&]() {
    if (p.pingpong) named_arrive(other_bar);  // my GEMMs are issued: the other's turn
  };
  if (p.pingpong && cw == 1) named_arrive(1);

  int kv_count = 0, local = 0;
  for (int w = blockIdx.x; w < n_items; w += gridDim.x, ++local) {
    const Item it = item_of(w);
    const int n_tiles = it.n_tiles;
    q0 = it.q0;
    row_a = q0 + cw * 64 + warp * 16 + g;
    const int zq = it.b * p.heads + it.h;
    const int zkv = it.b * p.kv_heads + it.h / p.group;
    const float* sk_row = p.sk + size_t(zkv) * p.kv_tiles;
    const float* sv_row = p.sv + size_t(zkv) * p.kv_tiles;
    const float c_q = p.scale_log2 * __ldg(p.sq + size_t(zq) * p.q_tiles + it.qt);
#pragma unroll
    for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
    m[0] = m[1] = -INFINITY;
    l[0] = l[1] = 0.f;
    auto stage = [&](int j) { return (kv_count + j) % L::stages; };
    auto parity = [&](int j) { return uint32_t((kv_count + j) / L::stages) & 1u; };

    float sv_prev = __ldg(sv_row);  // V scale of the tile whose P V was issued last
    float c_j = c_q * __ldg(sk_row);
    mbar_wait(q_full, local & 1);            // Q of this item landed
    mbar_wait(k_full(stage(0)), parity(0));  // K_0 landed
    turn_begin();
    wgmma_fence();  // S and O were last touched by ordinary instructions
    issue_s(stage(0));
    wgmma_commit();
    turn_end();
    wgmma_wait<0>();
    fence_regs(s_acc);
    if (lane == 0) {
      mbar_arrive(k_empty(stage(0)));          // this warp no longer reads K_0
      if (n_tiles == 1) mbar_arrive(q_empty);  // ... nor Q: the producer may load the next item's
    }
    {
      float alpha[2];
      softmax(0, c_j, alpha);  // O is 0: nothing to rescale
    }
    pack_p();

    for (int j = 1; j < n_tiles; ++j) {
      const int s = stage(j), sp = stage(j - 1);
      // This step's scales, loaded before the waits so that their latency hides behind them.
      const float sk_j = __ldg(sk_row + j), sv_j = __ldg(sv_row + j);
      mbar_wait(k_full(s), parity(j));       // K_j landed
      mbar_wait(v_full(sp), parity(j - 1));  // V^T_{j-1} landed
      turn_begin();
      wgmma_fence();  // S and O were last written by ordinary instructions (softmax, rescale)
      issue_s(s);
      wgmma_commit();
      issue_pv(sp);
      wgmma_commit();
      turn_end();
      wgmma_wait<1>();  // S_j done; P_{j-1} V_{j-1} may still run
      fence_regs(s_acc);
      if (lane == 0) {
        mbar_arrive(k_empty(s));
        if (j == n_tiles - 1) mbar_arrive(q_empty);  // the item's last S GEMM is done: Q is free
      }
      float alpha[2];
      softmax(j, c_q * sk_j, alpha);  // overlaps the P V GEMM on the tensor cores
      wgmma_wait<0>();                // P V done: O is valid and P's registers may be overwritten
      fence_regs(o);
      if (lane == 0) mbar_arrive(v_empty(sp));
      // O so far is in units of sv_{j-1}; P_j V8_j will be added in units of sv_j.
      const float ratio = sv_prev / sv_j;
      const float f[2] = {alpha[0] * ratio, alpha[1] * ratio};
      rescale_o(f);
      sv_prev = sv_j;
      pack_p();
    }
    {
      const int sp = stage(n_tiles - 1);
      mbar_wait(v_full(sp), parity(n_tiles - 1));  // V^T of the last tile landed
      turn_begin();
      wgmma_fence();
      issue_pv(sp);
      wgmma_commit();
      turn_end();
      wgmma_wait<0>();
      fence_regs(o);
      if (lane == 0) mbar_arrive(v_empty(sp));
    }
    kv_count += n_tiles;

    // ---------------- epilogue: full row sums, O * sv_last / l, store rows inside the sequence
    __nv_bfloat16* out = static_cast<__nv_bfloat16*>(p.o) + size_t(zq) * size_t(p.seq_q) * D;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float lr = l[r] + __shfl_xor_sync(0xffffffff, l[r], 1);
      const float lsum = lr + __shfl_xor_sync(0xffffffff, lr, 2);
      const float mul = lsum > 0.f ? sv_prev / lsum : 0.f;
      const int row = row_a + 8 * r;
      if (row < p.seq_q) {
#pragma unroll
        for (int i = 0; i < D / 8; ++i) {
          const int col = 8 * i + 2 * t;
          *reinterpret_cast<uint32_t*>(out + size_t(row) * D + col) =
              pack2<__nv_bfloat16>(o[4 * i + 2 * r] * mul, o[4 * i + 2 * r + 1] * mul);
        }
      }
    }
  }
  if (p.pingpong && cw == 0) named_sync(1);  // pairs with warpgroup 2's last arrive
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
  auto kern = attn_fp8_kernel<D, kExp, kTreeMax>;
  static bool attr_set = false;
  if (!attr_set) {
    cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, Smem<D>::alloc);
    if (e != cudaSuccess) return e;
    attr_set = true;
  }
  static int sm_count = 0;
  if (sm_count == 0) {
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, dev);
    if (e != cudaSuccess) return e;
  }
  const long long items = (long long)p.q_tiles * s.heads * s.batch;
  const bool persistent = !s.causal && !opt.per_tile;
  const int grid = int(persistent ? std::min<long long>(items, sm_count) : items);
  kern<<<grid, kThreads, Smem<D>::alloc, st>>>(tq, tk, tvt, p);
  return cudaGetLastError();
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
