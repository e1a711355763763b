// Useful FLOPs of attention: the one place the count is written. The simulator's kernel plans, the
// measurement files (tflops = these FLOPs / median time) and the kernels' bench output all call it,
// so a TFLOP/s figure means the same thing wherever it is printed.
//
// Forward: S = QKᵀ and O = PV are two GEMMs of seq_q × seq_kv × head_dim multiply-adds per (batch,
// head), 2 FLOP each: 4·B·H·Nq·Nkv·d. Causal counts half (the convention of the FlashAttention and
// ThunderKittens benchmarks: the masked half of S is not useful work; the exact visible count is a
// little over half). The softmax's exp, max and sum are not counted (they are O(Nq·Nkv), not ·d).
// Backward: 2x the forward (dQ, dK, dV, dP GEMMs), 2.5x when P is recomputed from Q and K.
#pragma once
#include "util/checked.hpp"

namespace attnlab {

// FLOP per visible (query, key) pair and head dimension: q·k and p·v, a multiply and an add each.
inline constexpr u64 flops_per_pair_per_dim = 4;

struct AttentionDims {
  u64 batch = 1, heads = 1, seq_q = 1, seq_kv = 1, head_dim = 1;
  bool causal = false;
};

// Exact (checked 128-bit arithmetic; throws OverflowError past 2^128).
u128 attention_forward_flops(const AttentionDims& d);
u128 attention_backward_flops(const AttentionDims& d, bool recompute);
// The same forward count in floating point, for sizes read from files or the GPU (never throws).
double attention_forward_flops_approx(const AttentionDims& d);
// A mask that is neither full nor causal (sliding window): FLOPs of `pairs` visible pairs.
double attention_pair_flops(double pairs, u64 head_dim);

}  // namespace attnlab
