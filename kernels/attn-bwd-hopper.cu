// attn-bwd-hopper.cu — backward rung 2: FlashAttention-3-style backward on Hopper (sm_90a only):
// wgmma, TMA loads completing on mbarriers, a producer warp and two consumer warpgroups.
//
// Same problem, workspace, pre-pass and dQ conversion as rung 1 (attn-bwd-mma.cu, whose header
// explains what the backward recomputes and why: P = exp2(scale·log2e·S − lse·log2e) from the
// forward's lse, D = rowsum(dO ∘ O), dS = P ∘ (dP − D)). What changes, and why:
//   * wgmma instead of mma.sync (the forward Hopper rung, attn-hopper.cu, says why: mma.sync tops
//     out near two thirds of Hopper's tensor peak, and every operand is first ldmatrix'ed into
//     registers; wgmma reads B, and A where we choose, straight from shared memory and runs
//     asynchronously). All five tile products are wgmmas of one warpgroup (M = 64 rows):
//       Sᵀ  = Kj Qiᵀ       A = Kj (64 keys of this warpgroup, smem, K-major), B = Qi (smem, K-major)
//       dPᵀ = Vj dOiᵀ      A = Vj, B = dOi, alike
//       dVj += Pᵀ dOi      A = Pᵀ from registers (the Sᵀ accumulator re-packed), B = dOi N-major
//       dKj += dSᵀ Qi      A = dSᵀ from registers, B = Qi N-major
//       dQi  = dSi Kj      A = dS from smem (dSᵀ stored [key][query]: M-major), B = Kj N-major
//     The transposed products (Sᵀ, dPᵀ rather than S, dP) make Pᵀ and dSᵀ land in the registers
//     layout that the A operand of dVj, dKj wants (FA2's trick, rung 1 does the same), and lse, D
//     become per-column values. dQ needs every key of the tile for each query: the two warpgroups
//     write their dSᵀ halves to shared memory and each computes dQi for half of d's columns over
//     all Bc keys.
//   * TMA instead of cp.async: one thread issues the copies of Kj, Vj (once) and, per step, of
//     Qi, dOi (tensor copies, 128-byte swizzle as wgmma reads it, zero rows past Nq), completing
//     on an mbarrier by bytes; the producer warp writes the step's lse·log2e and D (Br floats
//     each) with plain stores and adds a second arrival to the same mbarrier.
//   * Warp specialisation: warpgroup 0 is the producer (setmaxnreg.dec to 24: it holds no tiles);
//     warpgroups 1, 2 are consumers of 64 keys each (setmaxnreg.inc to 240: dKj, dVj stay in
//     registers for the whole walk, d/2 + d/2 fp32 per thread, plus Sᵀ, dPᵀ). The Qi, dOi ring has
//     2 stages: the copy of step i+1 runs during step i.
//   * dQ: variant 1 sends the fp32 partial dSi Kj from the wgmma accumulators straight to the dQ
//     accumulator with 16-byte red.global.add (as rung 1). Variant 4 (the default at d128) moves
//     the reds off the consumers, as FA3 does: they store the partial into a shared-memory dQi
//     buffer (fp32, Br × d, two of them: steps alternate) and go on with the next step; warps 1-3
//     of the producer warpgroup, idle otherwise, load it and issue the red.global.add.v4's. (FA3
//     issues one TMA reduce-add from shared memory instead; that needs the tile stored exactly as
//     in global memory, row-major, whose 512-byte rows put the consumers' stores 8-way into the
//     same banks at d128, and a padded layout does not fit twice in 227 KiB: hence swizzled
//     16-byte chunks and the producer warps' own loads.)
//
// Tiles (paper names): Bc = 128 keys per block (2 consumer warpgroups × 64 keys), Br = 64 query
// rows per step (variant 7 at d64: 128); d = 64 or 128. Grid: Tc = ceil(Nkv/Bc) × kv heads × batch; a block walks the
// query tiles of every head of its GQA group (dKj, dVj come out summed over the group), causal
// blocks skip the query tiles that see none of their keys. Shared memory (d128): Kj, Vj 64 KiB,
// 2 stages × (Qi, dOi) 64 KiB, dSᵀ 2 × 16 KiB, 160 KiB in all (variant 4: + 2 × 32 KiB of dQi,
// 226 KiB of the 227 with the alignment slack): one block (384 threads) per SM. Registers: the
// producer warpgroup's 24 per thread (setmaxnreg.dec) are what lets the consumers have 240
// (128·24 + 256·240 = 64512, the 168 per thread the launch allocates). Stack frames
// (cuobjdump --dump-resource-usage): variants 1, 5 (d64), 7, 9 none; 4, 8: 16-24 bytes; 2 at
// d128: 128; 5, 6 at d128: 200, 240 (with C7512: they do not fit).
//
// Barriers and waits, each with its reason: kv_full (Kj, Vj landed: once, before the first Sᵀ);
// full[s] (Qi, dOi, lse, D of a step landed); empty[s] (all 8 consumer warps are done with stage s:
// their last wgmma on Qi, dOi completed and lse, D were read; the producer waits on it before
// refilling the stage); named barrier 1 over the 256 consumer threads (both halves of dSᵀ are in
// shared memory before either warpgroup's dQ product reads them; variant 3: 2 + cw over one
// warpgroup, its own half); variant 4: dq_full[b] (all 8 consumer warps stored their rows of the
// dQi of a step into buffer b: the producer warps wait on it before loading it) and dq_empty[b]
// (producer warps 1-3 loaded all of buffer b: the consumers wait on it before storing the dQi of
// the step two later into it). wgmma waits (variant 1): wait<1> after Sᵀ, dPᵀ (Sᵀ done, dPᵀ may
// run on while Pᵀ = exp2(..) is computed), wait<0> before dS (dPᵀ), wait<0> at the end of a step
// (dV, dK, dQ products done: the stage may be released and dq read). Variants 5, 6 replace the
// named barrier 1 and these waits with their own (the consumer loop).
//
// Variants (attn-bwd.hpp): 1 as above; 2 issues step i+1's Sᵀ, dPᵀ before step i's dQ reds; 3
// lets each warpgroup compute dQi over its own 64 keys and all of d (no barrier between the
// warpgroups, so that one's exp2 can overlap the other's wgmmas; twice the dQ reds). Both are
// slower (below): variant 2 because ptxas then serialises the wgmmas (warning C7515, plus 512
// bytes of spills at d128): a register-defining instruction (the accumulator fences) sits inside
// what it takes for the wgmma pipeline; variant 3 because of its doubled reds. 4 (the dQ reds by
// the producer warps; the default at d128) is the faster at d128, +10-12%: the consumers no
// longer spend a step's tail issuing Br·d/8 16-byte reds per warpgroup; 2-3% slower at d64, where
// a step's products are half as long and the hand-off (st.shared, two mbarriers) costs about
// what the reds it moves did.
//   5 (the faster at d64; the default once compute-sanitizer has run on it), 6 = 1, 4 with the dQ product deferred: step i's dSi Kj is issued in
// step i+1, right after its Sᵀ, dPᵀ, and dVj += Pᵀ dOi is issued as soon as Pᵀ is packed, before
// dSᵀ is computed. Why: in 1 the tensor cores idle while both warpgroups compute Pᵀ and dSᵀ;
// now dQ(i−1) runs under Pᵀ and dSᵀ, and dV(i) under dSᵀ, with no register of an in-flight
// wgmma touched (variant 2's trap): commit groups per step Sᵀ, dPᵀ, dQ(i−1), dV, dK, retired
// by wait<2> three times and wait<0> once. The per-step barrier between the warpgroups becomes
// a hand-over one step ahead (named barriers 1-4, bar.arrive / bar.sync; the consumer loop says
// why its order is safe). Result: d64 +9% over 1 (344.5 vs 315.7), causal +6%; d128 -28%: there
// dKj, dVj (128 registers) + Sᵀ, dPᵀ (64) + the in-flight dQ (32) + the Pᵀ, dSᵀ fragments do
// not fit in 240, and ptxas serialises the wgmmas (C7512) and keeps a 200-byte stack frame (6:
// 240). 6's hand-off to the producer warps costs more than the reds it moves at d64 (-5% vs 5).
//   7 = 1 with Br 128 at d64 (at d128 it runs 5: Sᵀ, dPᵀ of 128 queries do not fit beside dKj,
// dVj): half the steps, so half the per-step waits and barriers, and N = 128 Sᵀ/dPᵀ wgmmas; dSᵀ
// is stored as two [Bc][64] column blocks and dQ is two M = 64 products. +4% over 1 (327.8),
// less than 5; not combined with 5 (Sᵀ, dPᵀ of 128 queries + an in-flight dQ exceed 240 too).
//   8, 9 = 4, 1 with only the early dV (no deferral): no gain, 8 -3% vs 4 at d128 (442.9 vs
// 456.8), 9 -1 to -2% vs 1: dSᵀ is a short stretch (32 FMAs, 16 packs, 16 st.shared a thread),
// and the extra commit group and wait cost about what the overlap saves.
//
// Run: attnlab-attn-bwd-mma --rung hopper --check       (fp64 reference, every variant)
//      attnlab-attn-bwd-mma --rung hopper --time --sweep key --variants 1,4,5,7,8,9 --fastest --json F
//      kernels/backward-device.sh (RUNGS="mma hopper": check, time, sanitize, ncu-ours in one call)
//
// MEASURED (NVIDIA H200, driver 580.159.04, CUDA 13.0, PyTorch 2.11.0+cu130, 2026-12-02T14:53Z;
// B8 H16 N4096 bf16, CUDA events, 2 warm-ups, L2 flushed, median of 10; backward = 2.5x the
// forward's FLOPs, causal at half; RUNGS=hopper HOPPER_VARIANTS=1,4,5,7,8,9 backward-device.sh
// check time). Correctness first, same call: 288 of 288 (config, variant) pairs match the fp64
// reference (variants 1-9; bf16/fp16, d64/d128, causal and not, ragged, GQA/MQA, Nq != Nkv; bf16
// rel-L2 <= 0.02, fp16 <= 0.003).
//                      bwd-hopper   SDPA FA2        cuDNN          (TFLOP/s; ratio ours/theirs)
//   bwd d64 (v5)         343.8      257.5  1.34     417.0  0.82
//   bwd d64 causal (v5)  312.8      211.2  1.48     336.3  0.93
//   bwd d128 (v4)        435.8      278.3  1.57     523.4  0.83
//   bwd d128 causal (v4) 405.4      242.5  1.67     458.8  0.88
//   fwd+bwd d64 / causal   324.8 / 295.7   vs cuDNN 446.1 / 372.8 (0.73 / 0.79)  (our forward: attn-mma,
//   fwd+bwd d128 / causal  380.4 / 344.9   vs cuDNN 537.6 / 497.8 (0.71 / 0.69)   the Hopper one writes no lse)
// Variants, same call (bwd TFLOP/s; d64, d64 causal, d128, d128 causal): v1 315.7 297.4 408.1
// 376.0; v4 321.5 297.0 456.8 406.8; v5 344.5 314.2 295.0 268.9; v7 327.8 302.7 296.3 269.0; v8
// 317.9 292.2 442.9 408.6; v9 313.2 291.3 399.7 370.4 (the rows above are a separate median of
// the fastest: v4's d128 456.8 in the sweep, 435.8 there, shows the 3-5% spread between runs).
// The call a minute before (14:52Z, variants 1, 4-7; 224 of 224 checks of variants 1-7): v5
// 344.9 312.5 296.2 267.7, v6 327.0 298.1 234.6 215.4; its table rows d64 345.1 / 313.0 vs cuDNN
// 414.2 / 322.6, d128 446.6 / 415.4 vs 524.2 / 454.4. Variants 2, 3 (12:41Z, not re-timed): 270.0 246.2 306.2
// 280.4; 297.4 270.4 351.2 330.1; rung 1 (bwd-mma) then: 248.7 231.2 266.6 247.6.
// Short of the goal (>= 1.0x cuDNN): by 18% at d64 (v5) and 17% at d128 (v4), 7% and 12%
// causal; the FA3 paper's ~560 at d128 (H100) is 1.28x ours.
// What limits variant 1 (ncu --clock-control none, 11:52Z, the build with lse/D by bulk copy; main
// kernel, B4 H16 N4096): tensor pipe 43% (d128) / 35% (d64) of peak, issue slots 29% /
// 38% busy, 8.9 warps active per SM (the 8 consumer warps + the producer's thread), DRAM 4%, L2
// 47% / 38%, L1 54%; stalls per issued instruction: long scoreboard 2.02 / 1.31, wait 1.08 / 1.06,
// barrier 0.89 / 0.51, short scoreboard 0.69 / 0.58. Reading: a step of a warpgroup is a chain
// (Sᵀ, dPᵀ -> exp2 -> dS -> dV, dK, then the barrier -> dQ -> wait -> reds) and the two warpgroups,
// tied by the dSᵀ barrier every step, walk it in step: the tensor cores idle while both compute
// Pᵀ and dS and while both issue their reds. FA3 keeps them busy by overlapping the next step's
// products with this step's elementwise work and by moving the dQ reduction to a separate warp
// (dQ through shared memory, TMA reduce-add). Variant 4 is the second half (the reds leave the
// consumers' chain), variant 5 the first (dQ and dV under the elementwise work): each helps
// where registers allow it, 4 at d128, 5 at d64; at d128 5 runs out of registers. Not profiled
// with ncu after variant 4 (no device time left this session). Next to try at d128: 5's
// deferral with room made in registers (dSᵀ from the packed bf16 Pᵀ, so that the fp32 Pᵀ dies
// at packing: 32 registers), or the dQ product moved off the consumers' accumulators.
// ncu bytes, B4 H16 N4096 (whole backward, the 12:41Z build; d128 variant 4, d64 variant 1, not
// re-measured for variant 5):
// d128 DRAM 689 + 413 MB, L2 12.1 GB (rung 1: 11.7 GB); d64 339 + 174 MB, 6.2 GB (rung 1, Bc 64:
// 11.6 GB): the same walk and dQ reds as rung 1. Simulator (attnlab measured --ncu --kernel bwd:
// flash2's backward with Br 64, Bc 128), 6 sizes: within ±20% DRAM / ±25% L2 (the model under ncu).
// At the same tiles (d128) this rung moves 2-6% more L2 bytes than rung 1; where they come from
// (TMA boxes, the fabric between the L2 halves) was not measured.
// compute-sanitizer (3 sizes incl. a ragged GQA one, every variant; sanitizer-h200-backward.txt):
// memcheck and synccheck 0 errors. racecheck reports hazards between plain shared-memory accesses
// that an mbarrier orders: the producer's writes of lse and D into a stage and the consumers'
// ld.shared of them, and (variant 4) the consumers' stores of the dQ tile and the producer warps'
// loads of it. A first build wrote lse and D by bulk copy (12 hazards); a __syncwarp before each
// warp's release changed nothing; the shipped build writes them with st.shared, ordered by the
// full[s] / empty[s] mbarriers alone (release on arrive, acquire on wait, one memory proxy), and
// racecheck reports them all the same (68 with variant 4): it does not follow mbarrier arrive/wait
// as synchronisation. Every fp64 check matched, under each tool too.
//
// Caveats: the dQ atomics make dQ's low bits depend on the order blocks finish; dK, dV are
// bitwise reproducible. P and dS are rounded to bf16/fp16 before the products that use them.
#include <cuda.h>  // CUtensorMap (types only: the encoder is fetched from the driver)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "attn-bwd.hpp"
#include "bwd-hopper-wgmma.cuh"
#include "hopper-sync.cuh"
#include "hopper-wgmma.cuh"
#include "mma-ptx.cuh"
#include "tensor-map.hpp"

using namespace attnlab::kernels;
using namespace attnlab::kernels::hopper;

namespace {

constexpr int kBr = 64;            // query rows per step (Qi, dOi); variant 7 at d64: 128
constexpr int Bc = 128;            // keys per block (Kj, Vj): 2 consumer warpgroups × 64
constexpr int kThreads = 384;      // warpgroup 0: producer; 1, 2: consumers
constexpr int kStages = 2;         // the Qi, dOi, lse, D ring
constexpr int kConsumerWarps = 8;  // arrivals on an "empty" barrier
constexpr float kLog2e = 1.4426950408889634f;

// Shared memory, every tile 1024-byte aligned (the 128-byte swizzle's period, 8 rows × 128 B) and
// stored as d/64 column blocks of [rows][64] 16-bit values (128 bytes a row), as TMA writes them.
// kDqBuf (variant 4): two fp32 dQi tiles (Br × d, 32 KiB each at d128) through which the consumers
// hand their dQ partials to the producer warpgroup, and their two pairs of mbarriers.
template <int D, bool kDqBuf = false, int Br = kBr>
struct Smem {
  static constexpr int kv_bytes = Bc * D * 2;
  static constexpr int q_bytes = Br * D * 2;
  static constexpr int ds_bytes = Bc * Br * 2;  // dSᵀ [key][query]: Br/64 column blocks of [Bc][64]
  static constexpr int k_off = 0;
  static constexpr int v_off = k_off + kv_bytes;
  static constexpr int q_off = v_off + kv_bytes;            // kStages Qi tiles
  static constexpr int do_off = q_off + kStages * q_bytes;  // kStages dOi tiles
  static constexpr int ds_off = do_off + kStages * q_bytes; // 2 dSᵀ buffers (steps alternate)
  static constexpr int lse_off = ds_off + 2 * ds_bytes;     // kStages × Br floats
  static constexpr int dd_off = lse_off + kStages * Br * 4;
  static constexpr int dq_bytes = kDqBuf ? Br * D * 4 : 0;  // one fp32 dQi tile, 16-byte chunks swizzled
  static constexpr int dq_off = dd_off + kStages * Br * 4;  // 2 dQi buffers (steps alternate)
  static constexpr int bar_off = dq_off + 2 * dq_bytes;
  static constexpr int bars = 1 + 2 * kStages + (kDqBuf ? 4 : 0);  // kv_full, full[], empty[], dq_full[], dq_empty[]
  static constexpr int bytes = bar_off + bars * 8;
  static constexpr int alloc = bytes + 1024;  // room to align the dynamic base to 1024
  static_assert(alloc <= 227 * 1024, "more shared memory than a Hopper block may have");
};

struct BwdHopperParams {
  float* dq_accum;     // [B][H][Nq_pad][d]
  const float* lse2;   // [B][H][Nq_pad]
  const float* dd;     // [B][H][Nq_pad]
  void* dk;
  void* dv;
  int heads, kv_heads, group, seq_q, seq_kv, seq_q_pad;
  int causal, offset;  // query q sees key k when k <= q + offset (offset = Nkv − Nq)
  float scale, scale_log2;
};

// wgmma shared-memory descriptor, 128-byte swizzle (as attn-hopper.cu's).
__device__ __forceinline__ uint64_t make_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32) | (1ull << 62);
}
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
__device__ __forceinline__ float2 ld_shared_f2(uint32_t addr) {  // ld.shared, not a generic load
  float2 v;
  asm volatile("ld.shared.v2.f32 {%0, %1}, [%2];" : "=f"(v.x), "=f"(v.y) : "r"(addr) : "memory");
  return v;
}
__device__ __forceinline__ void st_shared_u32(uint32_t addr, uint32_t v) {
  asm volatile("st.shared.b32 [%0], %1;" ::"r"(addr), "r"(v) : "memory");
}

using ptx::fast_exp2;
using ptx::pack2;

// Adds the n8 accumulator blocks a, b (columns c0..c0+15 of rows g, g+8; a thread holds columns
// 2t, 2t+1 of each) into dQ with 16-byte reds: lanes t, t^1 swap halves so that each holds 4
// adjacent columns. `row0` points at row g, column c0.
__device__ __forceinline__ void add_dq_pair(float* row0, int ld, const float* a, const float* b, int t) {
  const bool odd = t & 1;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float s0 = odd ? a[2 * r] : b[2 * r], s1 = odd ? a[2 * r + 1] : b[2 * r + 1];
    const float g0 = __shfl_xor_sync(0xffffffffu, s0, 1), g1 = __shfl_xor_sync(0xffffffffu, s1, 1);
    const float4 v = odd ? make_float4(g0, g1, b[2 * r], b[2 * r + 1]) : make_float4(a[2 * r], a[2 * r + 1], g0, g1);
    const int col = odd ? 8 + (t - 1) * 2 : t * 2;
    atomicAdd(reinterpret_cast<float4*>(row0 + size_t(r * 8) * ld + col), v);
  }
}

// Byte offset of the 16-byte chunk `ch` (4 fp32 columns) of row `row` in a dQi buffer of d columns:
// the chunk index is XORed with 2·(row % 8), so that a consumer half-warp's 8-byte stores (4 rows ×
// 2 adjacent chunks) and a producer warp's 16-byte loads (consecutive chunks of a row) each touch
// every bank once.
template <int D>
__device__ __forceinline__ uint32_t dq_chunk(int row, int ch) {
  return uint32_t(row * D * 4 + ((ch ^ ((row & 7) << 1)) << 4));
}

// kPipe (variant 2): the next step's Sᵀ, dPᵀ issued before this step's dQ reds. kOwnKeys
// (variant 3): each consumer warpgroup computes dQi over its own 64 keys and all of d, so the two
// warpgroups never wait for each other (no shared dSᵀ), at twice the dQ reds. kSmemDq (variant 4):
// the consumers write their dQi partial into a shared-memory buffer and go on; warps 1-3 of the
// producer warpgroup issue the reds from there. kDefer (variants 5, 6 = 1, 4 with it): step i's dQ
// product is issued in step i+1, after its Sᵀ, dPᵀ, and dV before dSᵀ is computed (the consumer
// loop says why and how the two warpgroups then hand dSᵀ over).
template <int D, typename T, bool kPipe, bool kOwnKeys, bool kSmemDq, bool kDefer = false, int Br = kBr,
          bool kEarlyDv = false>
__global__ void __launch_bounds__(kThreads, 1)
    attn_bwd_hopper_kernel(const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                           const __grid_constant__ CUtensorMap tv, const __grid_constant__ CUtensorMap tdo,
                           const BwdHopperParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using L = Smem<D, kSmemDq, Br>;
  static_assert(Br == 64 || (Br == 128 && !kPipe && !kOwnKeys), "Br 128: variants 1, 4-6's schedules only");
  constexpr int kMh = Br / 64;  // 64-query halves of a step (dQ's M is 64 a wgmma)
  constexpr bool kFp16 = std::is_same_v<T, __half>;
  constexpr int kAtoms = D / 64;  // 128-byte column blocks per row
  // dQ columns per consumer warpgroup and product: d/2 over all keys; kOwnKeys: all of d over its
  // own keys, in parts of 64 columns (d128: two, so that dq takes 32 registers, not 64: with 64,
  // ptxas serialises the wgmmas for want of registers, warning C7512).
  constexpr int kDqParts = kOwnKeys ? D / 64 : 1;
  constexpr int kDqN = kOwnKeys ? 64 : D / 2;
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  const uint32_t base = (smem_u32(smem_raw) + 1023u) & ~1023u;
  const uint32_t sk = base + L::k_off, sv = base + L::v_off;
  auto sq = [&](int s) { return base + L::q_off + s * L::q_bytes; };
  auto sdo = [&](int s) { return base + L::do_off + s * L::q_bytes; };
  auto sds = [&](int s) { return base + L::ds_off + s * L::ds_bytes; };
  auto slse = [&](int s) { return base + L::lse_off + s * Br * 4; };
  auto sdd = [&](int s) { return base + L::dd_off + s * Br * 4; };
  const uint32_t bars = base + L::bar_off;
  const uint32_t kv_full = bars;
  auto full = [&](int s) { return bars + 8 * (1 + s); };
  auto empty = [&](int s) { return bars + 8 * (1 + kStages + s); };
  auto sdq = [&](int s) { return base + L::dq_off + s * L::dq_bytes; };
  auto dq_full = [&](int s) { return bars + 8 * (1 + 2 * kStages + s); };
  auto dq_empty = [&](int s) { return bars + 8 * (3 + 2 * kStages + s); };

  const int kt = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int k0 = kt * Bc;
  // The walk: every query tile that sees a key of Kj, for every query head of the group. Causal:
  // query q sees key k when k <= q + offset, so tiles before (k0 − offset)/Br see none.
  const int n_qt = (p.seq_q + Br - 1) / Br;
  int qt_begin = 0;
  if (p.causal) {
    const int q_first = max(0, k0 - p.offset);
    qt_begin = q_first >= p.seq_q ? n_qt : q_first / Br;
  }
  const int per_head = n_qt - qt_begin;
  const int total = per_head * p.group;
  auto step_head = [&](int i) { return kvh * p.group + i / per_head; };
  auto step_q0 = [&](int i) { return (qt_begin + i % per_head) * Br; };

  const int wg = threadIdx.x / 128;
  const int warp = (threadIdx.x / 32) % 4;
  const int lane = threadIdx.x % 32;

  if (threadIdx.x == 0) {
    mbar_init(kv_full, 1);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(full(s), 2);  // the producer's expect_tx (plus the TMA bytes), then its lse/D stores
      mbar_init(empty(s), kConsumerWarps);    // every consumer warp is done with the stage
    }
    if (kSmemDq) {
      for (int s = 0; s < 2; ++s) {
        mbar_init(dq_full(s), kConsumerWarps);  // every consumer warp wrote its rows of dQi
        mbar_init(dq_empty(s), 3);              // producer warps 1-3 read the whole buffer
      }
    }
    // The copy engine (async proxy) must see initialised barriers before any TMA arrives on one.
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  // Every thread must see initialised barriers before it waits on one.
  __syncthreads();

  if (wg == 0) {
    // ---------------- producer: warp 0; lane 0 issues the TMA copies, the warp copies lse and D
    asm volatile("setmaxnreg.dec.sync.aligned.u32 24;");
    if (warp == 0) {
      const int zkv = b * p.kv_heads + kvh;
      if (lane == 0) {
        mbar_arrive_expect_tx(kv_full, 2 * L::kv_bytes);  // rows past Nkv arrive as zeros and count
        for (int a = 0; a < kAtoms; ++a) {
          tma_load_3d(sk + a * Bc * 128, &tk, a * 64, k0, zkv, kv_full);
          tma_load_3d(sv + a * Bc * 128, &tv, a * 64, k0, zkv, kv_full);
        }
      }
      for (int i = 0; i < total; ++i) {
        const int s = i % kStages;
        const uint32_t ph = (i / kStages) & 1;
        // Stage s held step i − kStages: every consumer warp must be done reading it (its last
        // wgmma on Qi, dOi completed, lse and D read) before it is overwritten.
        mbar_wait(empty(s), ph ^ 1);
        const int h = step_head(i), q0 = step_q0(i);
        const int zq = b * p.heads + h;
        if (lane == 0) {
          mbar_arrive_expect_tx(full(s), 2 * L::q_bytes);
          for (int a = 0; a < kAtoms; ++a) {
            tma_load_3d(sq(s) + a * Br * 128, &tq, a * 64, q0, zq, full(s));
            tma_load_3d(sdo(s) + a * Br * 128, &tdo, a * 64, q0, zq, full(s));
          }
        }
        // lse and D (Br floats each) by ordinary loads and stores rather than a bulk copy: the
        // consumers read them with ld.shared, so writes and reads stay in one memory proxy and the
        // mbarrier's release (arrive) / acquire (wait) alone orders them, in both directions.
        const size_t row = size_t(zq) * p.seq_q_pad + q0;  // the fp32 buffers are padded: always whole
        for (int r = lane; r < Br; r += 32) {
          st_shared_u32(base + L::lse_off + (s * Br + r) * 4, __float_as_uint(p.lse2[row + r]));
          st_shared_u32(base + L::dd_off + (s * Br + r) * 4, __float_as_uint(p.dd[row + r]));
        }
        // Every lane's stores are ordered before lane 0's arrival, the barrier's second one.
        __syncwarp();
        if (lane == 0) mbar_arrive(full(s));
      }
    } else if (kSmemDq) {
      // Warps 1-3: the dQ reduction. Step i's dQi partial sits in buffer i % 2; its 16-byte chunks
      // are added into the fp32 accumulator with red.global.add.v4 (a warp: 32 consecutive chunks,
      // one row at d128, two half rows at d64: whole 128-byte lines).
      const int pt = threadIdx.x - 32;  // 0..95
      for (int i = 0; i < total; ++i) {
        const int buf = i & 1;
        // The consumers' st.shared of step i's dQi (all 8 warps) are complete and visible.
        mbar_wait(dq_full(buf), (i / 2) & 1);
        const int h = step_head(i), q0 = step_q0(i);
        float* dq_tile = p.dq_accum + ((size_t(b) * p.heads + h) * p.seq_q_pad + q0) * D;  // pad rows: whole
#pragma unroll 4
        for (int c = pt; c < Br * D / 4; c += 96) {
          const int row = c / (D / 4), ch = c % (D / 4);
          float4 v;
          asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];"
                       : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
                       : "r"(sdq(buf) + dq_chunk<D>(row, ch))
                       : "memory");
          atomicAdd(reinterpret_cast<float4*>(dq_tile + row * D + ch * 4), v);
        }
        // Every lane's loads of the buffer have returned (their values feed the reds above) before
        // lane 0 releases it: the consumers overwrite it two steps later.
        __syncwarp();
        if (lane == 0) mbar_arrive(dq_empty(buf));
      }
    }
    return;
  }

  // ---------------- consumers: warpgroup cw owns keys k0 + 64·cw .. + 63
  asm volatile("setmaxnreg.inc.sync.aligned.u32 240;");
  const int cw = wg - 1;
  const int g = lane / 4, t = lane % 4;
  const int key_a = k0 + cw * 64 + warp * 16 + g;  // this thread's accumulator rows: key_a, key_a + 8
  float dv[D / 2], dk[D / 2];  // dVj, dKj rows of this warpgroup (64 keys × d)
  float st[Br / 2], dpt[Br / 2];  // Sᵀ then Pᵀ; dPᵀ then dSᵀ (64 keys × Br queries)
  float dq[kMh][kDqN / 2];     // dQi partial, Br queries (64 per wgmma) × kDqN columns
  uint32_t pa[Br / 16][4], da[Br / 16][4];  // Pᵀ, dSᵀ as wgmma A fragments, one per 16 queries
#pragma unroll
  for (int i = 0; i < D / 2; ++i) dv[i] = dk[i] = 0.f;

  // acc = A Bᵀ over d (Sᵀ = Kj Qiᵀ, dPᵀ = Vj dOiᵀ): A = this warpgroup's 64 rows of Kj or Vj, B = Qi
  // or dOi, both K-major; 16 columns of d a k-step, the next 64 one column block further.
  auto kloop_d = [&](float(&acc)[Br / 2], uint32_t a_tile, uint32_t b_tile) {
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint32_t off = (kk / 4) * Bc * 128 + cw * 64 * 128 + (kk % 4) * 32;
      const uint32_t qoff = (kk / 4) * Br * 128 + (kk % 4) * 32;
      wgmma_ss<Br, kFp16>(acc, make_desc(a_tile + off, 16, 1024), make_desc(b_tile + qoff, 16, 1024), kk > 0);
    }
  };
  // Sᵀ = Kj Qiᵀ, dPᵀ = Vj dOiᵀ of step i: two commit groups.
  auto issue_sdp = [&](int i) {
    const int s = i % kStages;
    // Qi, dOi, lse, D of step i have landed.
    mbar_wait(full(s), (i / kStages) & 1);
    wgmma_fence();  // Sᵀ, dPᵀ registers were last touched by ordinary instructions
    kloop_d(st, sk, sq(s));
    wgmma_commit();
    kloop_d(dpt, sv, sdo(s));
    wgmma_commit();
  };
  // Pᵀ = exp2(Sᵀ·scale·log2e − lse·log2e) in place. Register r holds key key_a + 8·((r%4)/2), query
  // q0 + 8·(r/4) + 2t + (r%2). Pad query rows have lse = +inf: P = 0.
  auto compute_p = [&](int s, int q0) {
    const uint32_t lse = slse(s);
    const bool mask = (p.causal && k0 + Bc - 1 > q0 + p.offset) || k0 + Bc > p.seq_kv;
#pragma unroll
    for (int nb = 0; nb < Br / 8; ++nb) {
      const float2 l2 = ld_shared_f2(lse + (nb * 8 + 2 * t) * 4);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = 4 * nb + e;
        float x = fast_exp2(fmaf(st[r], p.scale_log2, -((e & 1) ? l2.y : l2.x)));
        if (mask) {
          const int key = key_a + 8 * (e / 2), q = q0 + nb * 8 + 2 * t + (e & 1);
          if (key >= p.seq_kv || (p.causal && key > q + p.offset)) x = 0.f;
        }
        st[r] = x;
      }
    }
  };
  // Pᵀ packed into A fragments (16 queries each): rows g, g+8 × queries 2t.. and 2t+8.. of the slice.
  auto pack_p = [&] {
#pragma unroll
    for (int nb = 0; nb < Br / 8; ++nb) {
      pa[nb / 2][(nb % 2) * 2 + 0] = pack2<T>(st[4 * nb], st[4 * nb + 1]);
      pa[nb / 2][(nb % 2) * 2 + 1] = pack2<T>(st[4 * nb + 2], st[4 * nb + 3]);
    }
  };
  // dSᵀ = Pᵀ ∘ (dPᵀ − D), D per query (column), in place; packed into A fragments and stored into
  // the [key][query] buffer ds_buf (128-byte swizzle, as wgmma reads it; queries 64.. in the second
  // column block). with_pa: Pᵀ is packed in the same pass (each Pᵀ register dies as it is used:
  // fewer live registers than packing it first).
  auto compute_ds = [&](int s, uint32_t ds_buf, bool with_pa) {
    const uint32_t dd = sdd(s);
#pragma unroll
    for (int nb = 0; nb < Br / 8; ++nb) {
      const float2 d2 = ld_shared_f2(dd + (nb * 8 + 2 * t) * 4);
#pragma unroll
      for (int e = 0; e < 4; ++e) dpt[4 * nb + e] = st[4 * nb + e] * (dpt[4 * nb + e] - ((e & 1) ? d2.y : d2.x));
      const int row = cw * 64 + warp * 16 + g;  // key row inside the tile (and row + 8)
      const uint32_t lo = pack2<T>(dpt[4 * nb], dpt[4 * nb + 1]), hi = pack2<T>(dpt[4 * nb + 2], dpt[4 * nb + 3]);
      const uint32_t blk = ds_buf + (nb / 8) * Bc * 128;
      st_shared_u32(blk + row * 128 + (((nb % 8) ^ (row & 7)) << 4) + t * 4, lo);
      st_shared_u32(blk + (row + 8) * 128 + (((nb % 8) ^ ((row + 8) & 7)) << 4) + t * 4, hi);
      da[nb / 2][(nb % 2) * 2 + 0] = lo;
      da[nb / 2][(nb % 2) * 2 + 1] = hi;
      if (with_pa) {
        pa[nb / 2][(nb % 2) * 2 + 0] = pack2<T>(st[4 * nb], st[4 * nb + 1]);
        pa[nb / 2][(nb % 2) * 2 + 1] = pack2<T>(st[4 * nb + 2], st[4 * nb + 3]);
      }
    }
  };
  // dVj += Pᵀ dOi (a = pa, b = dOi) or dKj += dSᵀ Qi (a = da, b = Qi): B as stored ([query][d]:
  // N-major), 16 queries a k-step; the next 64-column block of d is Br·128 bytes further (LBO).
  auto kloop_q = [&](float(&acc)[D / 2], uint32_t(&a)[Br / 16][4], uint32_t b_tile) {
#pragma unroll
    for (int kk = 0; kk < Br / 16; ++kk) wgmma_rs_tb<D, kFp16>(acc, a[kk], make_desc(b_tile + kk * 16 * 128, Br * 128, 1024));
  };
  // dQi[:, cw·d/2 ..] = dSi Kj: A = dS, M-major (dSᵀ rows are keys = the k dimension), B = Kj
  // N-major; 16 keys a k-step. d64: the 32 columns start 64 bytes into the swizzled row. Br 128:
  // one product per 64 queries (a column block of dSᵀ).
  auto issue_dq_half = [&](uint32_t ds_buf) {
#pragma unroll
    for (int mh = 0; mh < kMh; ++mh)
#pragma unroll
      for (int kk = 0; kk < Bc / 16; ++kk) {
        const uint32_t kb = sk + (kDqN == 64 ? cw * Bc * 128 : cw * 64) + kk * 16 * 128;
        wgmma_ss_tt<kDqN, kFp16>(dq[mh], make_desc(ds_buf + mh * Bc * 128 + kk * 16 * 128, Bc * 128, 1024),
                                make_desc(kb, Bc * 128, 1024), kk > 0);
      }
  };
  auto fence_dq = [&] {
#pragma unroll
    for (int mh = 0; mh < kMh; ++mh) fence_regs(dq[mh]);
  };
  // Step j's dQ partial (columns col0 ..): variant 4's hand-off through shared memory to the
  // producer warps, or 16-byte reds into the fp32 accumulator (pad rows add zeros into the padded
  // buffer).
  auto dq_out = [&](int j, int col0) {
    if constexpr (kSmemDq) {
      // The producer's warps 1-3 are done reading this buffer's previous tile (step j − 2).
      mbar_wait(dq_empty(j & 1), ((j / 2) & 1) ^ 1);
      const uint32_t dbuf = sdq(j & 1);
#pragma unroll
      for (int mh = 0; mh < kMh; ++mh) {
        const int row = mh * 64 + warp * 16 + g;  // query rows row, row + 8 of the tile
#pragma unroll
        for (int nb = 0; nb < kDqN / 8; ++nb) {
          const int col = col0 + nb * 8 + 2 * t;  // fp32 columns col, col + 1: half a chunk
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            const uint32_t a = dbuf + dq_chunk<D>(row + 8 * r, col / 4) + (col % 4) * 4;
            asm volatile("st.shared.v2.f32 [%0], {%1, %2};" ::"r"(a), "f"(dq[mh][4 * nb + 2 * r]),
                         "f"(dq[mh][4 * nb + 2 * r + 1])
                         : "memory");
          }
        }
      }
      // Every lane's stores are ordered before lane 0's arrival (the release the producer acquires).
      __syncwarp();
      if (lane == 0) mbar_arrive(dq_full(j & 1));
    } else {
#pragma unroll
      for (int mh = 0; mh < kMh; ++mh) {
        float* dq_rows = p.dq_accum +
                         ((size_t(b) * p.heads + step_head(j)) * p.seq_q_pad + step_q0(j) + mh * 64 + warp * 16 + g) * D +
                         col0;
#pragma unroll
        for (int nb = 0; nb < kDqN / 8; nb += 2)
          add_dq_pair(dq_rows + nb * 8, D, &dq[mh][4 * nb], &dq[mh][4 * nb + 4], t);
      }
    }
  };
  // This warp is done with stage s (its wgmmas on Qi, dOi completed): every lane's ld.shared of
  // the stage's lse and D is ordered before lane 0's release (the producer's next stores overwrite
  // them): the warp converges first.
  auto release = [&](int s) {
    __syncwarp();
    if (lane == 0) mbar_arrive(empty(s));
  };

  // Kj and Vj must have landed before the first Sᵀ, dPᵀ read them.
  mbar_wait(kv_full, 0);
  if constexpr (kDefer) {
    // Variants 5, 6: step i's dQ product runs during step i+1 (issued right after its Sᵀ, dPᵀ), and
    // dVj += Pᵀ dOi is issued as soon as Pᵀ is packed, before dSᵀ is computed: the tensor cores run
    // dQ(i−1) while this warpgroup computes Pᵀ and dSᵀ, and dV(i) while it computes dSᵀ. Commit
    // groups per step, oldest first: Sᵀ, dPᵀ, dQ(i−1) (empty at i = 0), dV, dK.
    // The two warpgroups no longer meet at one barrier each step: warpgroup w announces its dSᵀ
    // half of step i on named barrier half_bar(w, i) (bar.arrive, 128 threads) and the other waits
    // on it (bar.sync, its 128: 256 in all) only before the dQ(i) product, one step later. The
    // arrival comes after w's own dQ(i−1) completed, so the other warpgroup, which overwrites buffer
    // (i+1) % 2 = (i−1) % 2 only after that wait, never writes under a read. Two ids per warpgroup
    // (by step parity): a warpgroup's next arrival on an id comes two steps later, after the other
    // warpgroup's wait on its previous one (else 2 × 128 arrivals would complete it alone).
    auto half_bar = [](int w, int i) { return 1 + 2 * w + (i & 1); };
    for (int i = 0; i < total; ++i) {
      const int s = i % kStages;
      issue_sdp(i);
      if (i > 0) {
        named_sync(half_bar(1 - cw, i - 1));  // the other half of dSᵀ(i−1) is in shared memory
        issue_dq_half(sds((i - 1) & 1));
      }
      wgmma_commit();
      wgmma_wait<2>();  // Sᵀ done; dPᵀ, dQ(i−1) may still run
      fence_regs(st);
      compute_p(s, step_q0(i));
      pack_p();
      wgmma_fence();  // pa, dv were written by ordinary instructions
      kloop_q(dv, pa, sdo(s));
      wgmma_commit();
      wgmma_wait<2>();  // dPᵀ done; dQ(i−1), dV may still run
      fence_regs(dpt);
      compute_ds(s, sds(i & 1), false);
      fence_proxy_async();  // the dQ wgmmas (async proxy) read what these ordinary stores wrote
      wgmma_fence();        // da, dk were written by ordinary instructions
      kloop_q(dk, da, sq(s));
      wgmma_commit();
      wgmma_wait<2>();  // dQ(i−1) done: it no longer reads dSᵀ(i−1); dV, dK may still run
      fence_dq();
      named_arrive(half_bar(cw, i));
      if (i > 0) dq_out(i - 1, cw * kDqN);  // overlaps dV, dK
      wgmma_wait<0>();
      fence_regs(dv);
      fence_regs(dk);
      release(s);
    }
    if (total > 0) {
      named_sync(half_bar(1 - cw, total - 1));
      wgmma_fence();
      issue_dq_half(sds((total - 1) & 1));
      wgmma_commit();
      wgmma_wait<0>();
      fence_dq();
      dq_out(total - 1, cw * kDqN);
    }
  } else {
    // kPipe: step i+1's Sᵀ, dPᵀ are issued before step i's dQ reds (below); without it, each step
    // starts only once the previous one is done.
    if (kPipe && total > 0) issue_sdp(0);
    for (int i = 0; i < total; ++i) {
      const int s = i % kStages;
      if (!kPipe) issue_sdp(i);
      wgmma_wait<1>();  // Sᵀ done (groups complete in order); dPᵀ may still run
      fence_regs(st);
      compute_p(s, step_q0(i));  // overlaps the dPᵀ wgmma
      if constexpr (kEarlyDv) {
        // dVj += Pᵀ dOi goes out now and runs while dSᵀ is computed.
        pack_p();
        wgmma_fence();  // pa, dv were written by ordinary instructions
        kloop_q(dv, pa, sdo(s));
        wgmma_commit();
        wgmma_wait<1>();  // dPᵀ done; dV may still run
      } else {
        wgmma_wait<0>();  // dPᵀ done
      }
      fence_regs(dpt);
      const uint32_t ds_buf = sds(i & 1);
      compute_ds(s, ds_buf, !kEarlyDv);
      fence_proxy_async();  // the dQ wgmma (async proxy) reads what these ordinary stores wrote
      wgmma_fence();        // pa, da, dv, dk, dq were written by ordinary instructions
      if (!kEarlyDv) kloop_q(dv, pa, sdo(s));
      kloop_q(dk, da, sq(s));
      wgmma_commit();
      // Both warpgroups' dSᵀ halves are in shared memory (named barrier 1, the 256 consumer
      // threads; kOwnKeys: this warpgroup's half, barrier 2 + cw over its 128 threads). The other
      // buffer (step i−1) is not rewritten before the next step's barrier, which each warpgroup
      // reaches only after its own dQ wgmma of step i−1 completed (the wait at the end of step i−1
      // covers it, pipelined or not).
      if (kOwnKeys)
        asm volatile("bar.sync %0, 128;" ::"r"(2 + cw) : "memory");
      else
        named_sync(1);
#pragma unroll
      for (int part = 0; part < kDqParts; ++part) {
        if (part > 0) wgmma_fence();  // dq was read by the reds of the previous part
        if constexpr (kOwnKeys) {
          // dQi[:, part] = dSi[:, own keys] Kj[own keys, part]: 4 k-steps of 16 keys from row 64·cw;
          // the part's 64 columns are one 128-byte column block of Kj.
#pragma unroll
          for (int kk = 0; kk < 64 / 16; ++kk) {
            const uint32_t row = (cw * 64 + kk * 16) * 128;
            wgmma_ss_tt<kDqN, kFp16>(dq[0], make_desc(ds_buf + row, Br * 128, 1024),
                                    make_desc(sk + part * Bc * 128 + row, Bc * 128, 1024), kk > 0);
          }
        } else {
          issue_dq_half(ds_buf);
        }
        wgmma_commit();
        wgmma_wait<0>();  // dV, dK, dQ products done: Qi, dOi no longer read; dq valid
        fence_regs(dv);
        fence_regs(dk);
        fence_dq();
        if (part == 0) release(s);
        // kPipe: the tensor cores run step i+1's Sᵀ, dPᵀ while the reds below go out. (Issuing them
        // before the wait above, so that they also overlap the dQ product, makes ptxas serialise the
        // wgmmas: warning C7515, the fences on dv, dk, dq count as writes inside the pipeline.)
        if (kPipe && part == kDqParts - 1 && i + 1 < total) issue_sdp(i + 1);
        dq_out(i, kOwnKeys ? part * kDqN : cw * kDqN);
      }
    }
  }
  // dKj = scale · Σ dSᵀ Q, dVj = Σ Pᵀ dO: rows inside Nkv, 4-byte stores.
  T* dK = static_cast<T*>(p.dk) + (size_t(b) * p.kv_heads + kvh) * size_t(p.seq_kv) * D;
  T* dV = static_cast<T*>(p.dv) + (size_t(b) * p.kv_heads + kvh) * size_t(p.seq_kv) * D;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int key = key_a + 8 * r;
    if (key >= p.seq_kv) continue;
#pragma unroll
    for (int nb = 0; nb < D / 8; ++nb) {
      const int col = nb * 8 + 2 * t;
      *reinterpret_cast<uint32_t*>(dK + size_t(key) * D + col) =
          pack2<T>(dk[4 * nb + 2 * r] * p.scale, dk[4 * nb + 2 * r + 1] * p.scale);
      *reinterpret_cast<uint32_t*>(dV + size_t(key) * D + col) = pack2<T>(dv[4 * nb + 2 * r], dv[4 * nb + 2 * r + 1]);
    }
  }
#endif
}

// [z][rows][d] 16-bit tensor, boxes of 64 columns (128 bytes: the swizzle span) × box_rows × 1.
CUtensorMap make_map(const void* ptr, ElemType t, int d, int rows, int z, int box_rows) {
  return tensor_map_3d(ptr, t == ElemType::bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2,
                       d, rows, z, 64, box_rows, CU_TENSOR_MAP_SWIZZLE_128B);
}

template <int D, typename T>
cudaError_t launch(const AttnBackwardProblem& pr, cudaStream_t st) {
  const AttnShape& s = pr.shape;
  const BwdWorkspace w = attn_bwd_workspace(pr);
  cudaError_t e = attn_bwd_launch_prepass(pr, st);
  if (e != cudaSuccess) return e;
  const int v = bwd_hopper_variant(D, pr.variant);
  const int br = bwd_hopper_tiles(D, v).block_q;
  const CUtensorMap tq = make_map(pr.q, s.dtype, D, s.seq_q, s.batch * s.heads, br);
  const CUtensorMap tdo = make_map(pr.d_o, s.dtype, D, s.seq_q, s.batch * s.heads, br);
  const CUtensorMap tk = make_map(pr.k, s.dtype, D, s.seq_kv, s.batch * s.kv_heads, Bc);
  const CUtensorMap tv = make_map(pr.v, s.dtype, D, s.seq_kv, s.batch * s.kv_heads, Bc);
  BwdHopperParams p{};
  p.dq_accum = w.dq_accum, p.lse2 = w.lse2, p.dd = w.dd, p.dk = pr.dk, p.dv = pr.dv;
  p.heads = s.heads, p.kv_heads = s.kv_heads, p.group = s.group(), p.seq_q = s.seq_q, p.seq_kv = s.seq_kv;
  p.seq_q_pad = w.seq_q_pad, p.causal = s.causal ? 1 : 0, p.offset = s.seq_kv - s.seq_q;
  p.scale = pr.scale, p.scale_log2 = pr.scale * kLog2e;
  auto kern = v == 2   ? attn_bwd_hopper_kernel<D, T, true, false, false>
              : v == 3 ? attn_bwd_hopper_kernel<D, T, false, true, false>
              : v == 4 ? attn_bwd_hopper_kernel<D, T, false, false, true>
              : v == 5 ? attn_bwd_hopper_kernel<D, T, false, false, false, true>
              : v == 6 ? attn_bwd_hopper_kernel<D, T, false, false, true, true>
              : v == 8 ? attn_bwd_hopper_kernel<D, T, false, false, true, false, kBr, true>
              : v == 9 ? attn_bwd_hopper_kernel<D, T, false, false, false, false, kBr, true>
                       : attn_bwd_hopper_kernel<D, T, false, false, false>;
  int alloc = v == 4 || v == 6 || v == 8 ? Smem<D, true>::alloc : Smem<D>::alloc;
  // Variant 7: Br 128 at d64. At d128, Sᵀ and dPᵀ of 128 queries beside dKj, dVj do not fit in 240
  // registers (nor the tiles in shared memory): there it runs variant 5.
  if (v == 7) {
    if constexpr (D == 64) {
      kern = attn_bwd_hopper_kernel<D, T, false, false, false, false, 128>;
      alloc = Smem<D, false, 128>::alloc;
    } else {
      kern = attn_bwd_hopper_kernel<D, T, false, false, false, true>;
    }
  }
  e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, alloc);
  if (e != cudaSuccess) return e;
  dim3 grid((s.seq_kv + Bc - 1) / Bc, s.kv_heads, s.batch);
  kern<<<grid, kThreads, alloc, st>>>(tq, tk, tv, tdo, p);
  e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  return attn_bwd_launch_dq_convert(pr, st);
}

}  // namespace

namespace attnlab::kernels {

cudaError_t attn_bwd_hopper(const AttnBackwardProblem& p, cudaStream_t stream) {
  const AttnShape& s = p.shape;
  if (s.head_dim != 64 && s.head_dim != 128) return cudaErrorInvalidValue;
  if (s.kv_heads <= 0 || s.heads % s.kv_heads != 0) return cudaErrorInvalidValue;
  if (p.workspace_bytes < attn_bwd_workspace_bytes(s)) return cudaErrorInvalidValue;
  const bool bf = s.dtype == ElemType::bf16;
  if (s.head_dim == 64) return bf ? launch<64, __nv_bfloat16>(p, stream) : launch<64, __half>(p, stream);
  return bf ? launch<128, __nv_bfloat16>(p, stream) : launch<128, __half>(p, stream);
}

}  // namespace attnlab::kernels
