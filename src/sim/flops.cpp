#include "sim/flops.hpp"

namespace attnlab {

u128 attention_forward_flops(const AttentionDims& d) {
  // Half of 4·B·H·Nq·Nkv·d is 2·B·H·Nq·Nkv·d: an integer, so the causal count needs no rounding.
  const u128 half = cprod("FLOPs", flops_per_pair_per_dim / 2, d.batch, d.heads, d.seq_q, d.seq_kv, d.head_dim);
  return d.causal ? half : cmul(half, 2, "FLOPs");
}

u128 attention_backward_flops(const AttentionDims& d, bool recompute) {
  // 2x or 2.5x the forward: 4 or 5 halves (the forward is even, so 2.5x is exact).
  return cmul(attention_forward_flops(d) / 2, recompute ? 5 : 4, "FLOPs");
}

double attention_forward_flops_approx(const AttentionDims& d) {
  const double full = double(flops_per_pair_per_dim) * double(d.batch) * double(d.heads) * double(d.seq_q) *
                      double(d.seq_kv) * double(d.head_dim);
  return d.causal ? full / 2 : full;
}

double attention_pair_flops(double pairs, u64 head_dim) {
  return double(flops_per_pair_per_dim) * double(head_dim) * pairs;
}

}  // namespace attnlab
