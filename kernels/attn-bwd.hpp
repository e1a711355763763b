// The backward pass's entry point (FlashAttention-2's backward, kernels/attn-bwd-mma.cu).
//
// Given the forward's inputs Q, K, V, its output O and per-row log-sum-exp (attn_mma_forward
// writes both: AttnProblem::o and ::lse), and the gradient dO of some loss with respect to O:
//   P  = softmax(scale·Q Kᵀ + mask)        recomputed from lse, never stored: P = exp(scale·S − lse)
//   dV = Pᵀ dO                              (GQA: summed over the query heads of one kv head)
//   dP = dO Vᵀ,  D = rowsum(dO ∘ O),  dS = P ∘ (dP − D)
//   dQ = scale · dS K,  dK = scale · dSᵀ Q  (GQA: dK summed over the group as well)
// Layouts as attn.hpp: Q, O, dO, dQ [B][H][Nq][d]; K, V, dK, dV [B][Hkv][Nkv][d]; lse [B][H][Nq].
#pragma once
#include <cstddef>
#include <cuda_runtime_api.h>

#include "kernel_choose.hpp"

namespace attnlab::kernels {

// How dQ is accumulated across the key tiles (see the header of attn-bwd-mma.cu for the measured
// difference): atomics = every K/V block adds its dS·K into an fp32 buffer with atomic adds.
enum class DqMode { atomics };

struct AttnBackwardProblem {
  AttnShape shape;
  const void* q = nullptr;   // device pointers, element type shape.dtype
  const void* k = nullptr;
  const void* v = nullptr;
  const void* o = nullptr;
  const void* d_o = nullptr;
  const float* lse = nullptr;  // natural log, −inf for a row that sees no key (its grads are 0)
  void* dq = nullptr;
  void* dk = nullptr;
  void* dv = nullptr;
  float scale = 0;
  void* workspace = nullptr;  // attn_bwd_workspace_bytes(shape): fp32 dQ accumulator, D, lse·log2 e
  size_t workspace_bytes = 0;
  int variant = 0;  // kernel variant (attn_bwd_variant below); 0 = the default
};

// The variant a problem runs (variant 0 = the default per d: 8 at d64, 10 at d128, the fastest
// measured on the H200 among the variants compute-sanitizer has checked; 17 and 16 measured faster
// and pass every fp64 check, and take over once they have been under the sanitizers) and
// its tiles in the simulator's vocabulary: Br = block_q (query rows per step), Bc = block_kv (keys
// per block). Variants: 1 = Bc 64 (4 warps), 8-byte dQ reds; 2 = Bc 128 (8 warps), 8-byte reds;
// 3 = Bc 128, 16-byte reds; 4 = Bc 64, 16-byte reds; 5, 6 = 2, 4 with each block starting its walk
// over the query tiles at a different tile (1-6: Br 64, one warp per 16 keys); 7, 8, 9 = the 2-D
// kernel (P and dS through shared memory, FlashAttention-2's warp layout): 7 = Br 128 Bc 128 at
// d64, Br 64 Bc 128 at d128; 8 = Br 64 Bc 64 (4 warps, several blocks per SM); 9 = Br 64 Bc 128
// (8 warps; at d128 7 with another dQ warp layout); 10, 11 = the 2-D kernel with its fragment
// loads software-pipelined: 10 = 8's tiles at d64, 7's at d128; 11 = 7's at d64, 8's at d128.
// 12, 13 = the 2-D kernel, other warp counts: 12 = d64 Br 128 Bc 128 with FlashAttention-2's d64
// warp layout (Sᵀ 64 keys × 32 queries per warp), d128 Br 64 Bc 128 with 16 warps; 13 = d64 Br 64
// Bc 128 (8 warps, 2 blocks per SM), d128 Br 64 Bc 64 (8 warps, 2 blocks per SM). 14-17 = the
// 2-D kernel with its products reordered: 14 = Sᵀ and dPᵀ in one loop and dQ before dK/dV, 15 =
// dQ first only, 16 = one Sᵀ/dPᵀ loop only (8's tiles at d64, 7's at d128); 17 = 14's order on
// 12's tiles; 18, 19 = one Sᵀ/dPᵀ loop on 12's tiles (d64) / 8's (d128), on 7's tiles (d64) / 9's
// (d128); 20 = 14's order on 7's tiles (d64), one Sᵀ/dPᵀ loop pipelined on 7's tiles (d128).
// attn-bwd-mma.cu's dispatch follows this table.
inline constexpr int kBwdVariants = 20;
inline int attn_bwd_variant(int head_dim, int variant) { return variant != 0 ? variant : (head_dim == 64 ? 8 : 10); }
struct BwdTiles {
  int block_q, block_kv;
};
inline BwdTiles attn_bwd_tiles(int head_dim, int variant) {
  const int v = attn_bwd_variant(head_dim, variant);
  if (v == 7) return {head_dim == 64 ? 128 : 64, 128};
  if (v == 8) return {64, 64};
  if (v == 9) return {64, 128};
  if (v == 10) return head_dim == 64 ? BwdTiles{64, 64} : BwdTiles{64, 128};
  if (v == 11) return head_dim == 64 ? BwdTiles{128, 128} : BwdTiles{64, 64};
  if (v == 12 || v == 17) return head_dim == 64 ? BwdTiles{128, 128} : BwdTiles{64, 128};
  if (v == 13) return head_dim == 64 ? BwdTiles{64, 128} : BwdTiles{64, 64};
  if (v == 18) return head_dim == 64 ? BwdTiles{128, 128} : BwdTiles{64, 64};
  if (v >= 19) return head_dim == 64 ? BwdTiles{128, 128} : BwdTiles{64, 128};
  if (v >= 14) return head_dim == 64 ? BwdTiles{64, 64} : BwdTiles{64, 128};
  return {64, v == 2 || v == 3 || v == 5 ? 128 : 64};
}

size_t attn_bwd_workspace_bytes(const AttnShape& s);
// d = 64 or 128, bf16 or fp16; three launches (pre-pass, main, dQ conversion) on `stream`.
cudaError_t attn_bwd_mma(const AttnBackwardProblem& p, cudaStream_t stream);

// The workspace's fp32 buffers, rows padded to seq_q_pad (a multiple of 128): dQ accumulator
// [B][H][seq_q_pad][d], D and lse·log2 e [B][H][seq_q_pad] (+inf on pad rows and rows that see no
// key, so their P is 0). Shared by every backward rung, as are the two launches below
// (attn-bwd-mma.cu): the pre-pass (D, lse·log2 e, dQ accumulator zeroed) and the conversion
// dQ = scale · accumulator rounded to bf16/fp16.
struct BwdWorkspace {
  float* dq_accum;
  float* dd;
  float* lse2;
  int seq_q_pad;
};
BwdWorkspace attn_bwd_workspace(const AttnBackwardProblem& p);
cudaError_t attn_bwd_launch_prepass(const AttnBackwardProblem& p, cudaStream_t stream);
cudaError_t attn_bwd_launch_dq_convert(const AttnBackwardProblem& p, cudaStream_t stream);

// Rung 2, attn-bwd-hopper.cu (sm_90a: wgmma, TMA, warp specialisation), built only where nvcc
// assembles sm_90a (ATTNLAB_BWD_HOPPER defined): same problem, same workspace; its tiles are
// Br = 64, Bc = 128 (bwd_hopper_tiles). Returns cudaErrorInvalidValue on a shape it does not take.
// Variants: 1 = one step at a time; 2 = the next step's Sᵀ, dPᵀ issued before
// this step's dQ reds; 3 = each consumer warpgroup's dQ over its own 64 keys (no barrier between
// the two warpgroups, twice the dQ reds); 4 = the dQ partials handed through shared memory to the
// producer warpgroup's idle warps, which issue the reds (the default at d128: the faster there, as
// measured on the H200); 5, 6 = 1, 4 with each step's dQ product deferred into the next step (it
// and dV overlap the computation of Pᵀ and dSᵀ; 5 is the faster at d64 but has not been under
// compute-sanitizer yet, so the d64 default stays 1 until it has);
// 7 = 1 with Br 128 at d64 (half the steps; at d128 the registers do not hold it: 7 runs 5
// there); 8, 9 = 4, 1 with dV issued before dSᵀ is computed (it runs while dSᵀ is).
inline constexpr int kBwdHopperVariants = 9;
inline int bwd_hopper_variant(int head_dim, int variant) { return variant != 0 ? variant : (head_dim == 128 ? 4 : 1); }
inline BwdTiles bwd_hopper_tiles(int head_dim, int variant) {
  return {bwd_hopper_variant(head_dim, variant) == 7 && head_dim == 64 ? 128 : 64, 128};
}
cudaError_t attn_bwd_hopper(const AttnBackwardProblem& p, cudaStream_t stream);

}  // namespace attnlab::kernels
