#include "sim/kernel_plan.hpp"

#include <fmt/format.h>

#include "util/errors.hpp"
#include "sim/flops.hpp"

namespace attnlab {

Shape::Shape(const AttnConfig& c)
    : BH(c.batch * c.heads), H(c.heads), Hkv(c.kv_heads_eff()), group(c.group()), N(c.seq), d(c.head_dim),
      e(dtype_bytes(c.dtype)), se(dtype_bytes(c.score_type())), eo(dtype_bytes(c.out_type())),
      sb(c.scale_bytes_per_tile()) {}

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

namespace {
// A window side as a key count: unbounded (or wider than the sequence) is N − 1.
u64 window_side(long long w, u64 N) { return w < 0 ? N - 1 : std::min<u64>(static_cast<u64>(w), N - 1); }
u64 right_side(const AttnConfig& c) { return c.causal ? 0 : window_side(c.window_right, c.seq); }
}  // namespace

TileRange kv_tiles(const AttnConfig& c, u64 i, u64 Br, u64 Bc) {
  const u64 N = c.seq, q0 = i * Br, left = window_side(c.window_left, N);
  const u64 last_key = std::min(N - 1, q0 + (Br - 1) + right_side(c));  // sides below 2^32: no wrap
  const u64 first_key = q0 > left ? q0 - left : 0;
  return {first_key / Bc, last_key / Bc + 1};
}

u128 visible_pairs(const AttnConfig& c) {
  // Σ over queries q of (min(N−1, q + R) + 1) − max(0, q − L): every query sees keys up to q + R
  // (capped at the end) minus those left of its band. Σ_q max(0, q − a) = m(m + 1)/2, m = N − 1 − a.
  const u128 N = c.seq, L = window_side(c.window_left, c.seq), R = right_side(c);
  auto tail = [&](u128 a) { const u128 m = N - 1 - a; return m * (m + 1) / 2; };
  return N * (N - 1) / 2 + N * (R + 1) - tail(N - 1 - R) - tail(L);
}

std::vector<KernelPlan> plan_algorithm(Algo a, const AttnConfig& c, const TilePlan& t) {
  if (c.windowed() && (a != Algo::flash2 || c.has_bwd()))
    throw InputError("a sliding window is simulated for flash2's forward pass only");
  switch (a) {
    case Algo::naive: return plan_naive(c, t);
    case Algo::flash1: return plan_flash1(c, t);
    case Algo::flash2: return plan_flash2(c, t);
  }
  return {};
}

}  // namespace attnlab

namespace attnlab {

KernelPlan plan_layout_copy(const AttnConfig& c, Tensor t, u64 Br, std::uint32_t k) {
  const Shape s(c);
  const u64 Tr = s.tiles(Br);
  KernelPlan p;
  p.name = fmt::format("layout_copy_{}", tensor_name(t));
  p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
  p.smem_bytes = Br * s.d * s.e;
  p.max_blocks_per_sm = 8;
  p.events_per_block = 2;
  p.emit = [s, t, Br, Tr, k](u64 b, std::vector<TileEvent>& out, u64 limit) {
    BlockEmitter em{out, k, b, limit};
    const u64 bh = b / Tr, i = b % Tr, r = s.rows(i, Br);
    em.load(t, bh, i, 0, r, s.d, s.e);
    em.store(t, bh, i, 1, r, s.d, s.e);
  };
  return p;
}

KernelCounts closed_form_layout_copy(const AttnConfig& c, Tensor t) {
  const Shape s(c);
  const u128 bytes = cprod("bytes", s.BH, s.N, s.d, s.e);
  KernelCounts k;
  k.name = fmt::format("layout_copy_{}", tensor_name(t));
  k.hbm[static_cast<size_t>(t)] = {bytes, bytes};
  k.sram = {bytes, bytes};
  return k;
}

KernelPlan plan_gqa_reduce(const AttnConfig& c, u64 T, std::uint32_t k) {
  Shape s(c);
  const u64 Tt = s.tiles(T);
  KernelPlan p;
  p.name = "gqa_reduce_dkdv";
  p.grid = to_u64(cprod("thread blocks", c.batch, s.Hkv, Tt), "thread blocks");
  p.smem_bytes = 2 * T * s.d * s.e;
  p.max_blocks_per_sm = 8;
  p.events_per_block = 2 * s.group + 3;
  p.emit = [s, T, Tt, k](u64 b, std::vector<TileEvent>& out, u64 limit) {
    BlockEmitter em{out, k, b, limit};
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
