#include "sim/kernel_plan.hpp"

#include "sim/flops.hpp"

namespace attnlab {

Shape::Shape(const AttnConfig& c)
    : BH(c.batch * c.heads), H(c.heads), Hkv(c.kv_heads_eff()), group(c.group()), N(c.seq), d(c.head_dim),
      e(dtype_bytes(c.dtype)), se(dtype_bytes(c.score_type())) {}

u64 causal_kv_end(u64 i, u64 Br, u64 Bc, u64 N) {
  u64 last_row = std::min(N, (i + 1) * Br) - 1;  // the last query of tile i sees keys 0..last_row
  return last_row / Bc + 1;
}

u64 causal_q_begin(u64 j, u64 Br, u64 Bc) { return (j * Bc) / Br; }

u128 flops_fwd(const AttnConfig& c) {
  return attention_forward_flops({c.batch, c.heads, c.seq, c.seq, c.head_dim, c.causal});
}
u128 flops_bwd(const AttnConfig& c, bool recompute) {
  return attention_backward_flops({c.batch, c.heads, c.seq, c.seq, c.head_dim, c.causal}, recompute);
}

std::vector<KernelPlan> plan_algorithm(Algo a, const AttnConfig& c, const TilePlan& t) {
  switch (a) {
    case Algo::naive: return plan_naive(c, t);
    case Algo::flash1: return plan_flash1(c, t);
    case Algo::flash2: return plan_flash2(c, t);
  }
  return {};
}

}  // namespace attnlab

namespace attnlab {

KernelPlan plan_gqa_reduce(const AttnConfig& c, u64 T, std::uint32_t k) {
  Shape s(c);
  const u64 Tt = s.tiles(T);
  KernelPlan p;
  p.name = "gqa_reduce_dkdv";
  p.grid = to_u64(cprod("thread blocks", c.batch, s.Hkv, Tt), "thread blocks");
  p.smem_bytes = 2 * T * s.d * s.e;
  p.max_blocks_per_sm = 8;
  p.events_per_block = 2 * s.group + 3;
  p.emit = [s, T, Tt, k](u64 b, std::vector<TileEvent>& out) {
    BlockEmitter em{out, k, b};
    const u64 kvh = b / Tt, j = b % Tt, cj = s.rows(j, T);
    const u64 batch = kvh / s.Hkv, kv_in_batch = kvh % s.Hkv;
    for (u64 g = 0; g < s.group; ++g) {
      const u64 bh = batch * s.H + kv_in_batch * s.group + g;
      em.load(Tensor::dKexp, bh, j, 0, cj, s.d, s.e);
      em.load(Tensor::dVexp, bh, j, 0, cj, s.d, s.e);
    }
    em.compute(Tensor::dK, kvh, j, 0, 2 * s.group * cj * s.d * s.e, 0);
    em.store(Tensor::dK, kvh, j, 0, cj, s.d, s.e);
    em.store(Tensor::dV, kvh, j, 0, cj, s.d, s.e);
  };
  return p;
}

}  // namespace attnlab
