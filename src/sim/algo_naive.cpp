// Standard attention (FlashAttention paper, Algorithm 0 forward and Algorithm 3 backward), as a
// framework runs it: separate kernels, every intermediate N x N matrix written to HBM and read
// back. Each GEMM is tiled (T x T output tiles, full-d reduction), so its operands are re-read
// once per output tile: every such access is counted in hbm_*; the L2 model shows that most hit.
// Causal masking is applied inside the softmax: the full S is still computed and stored, and P
// written whole (zeros above the diagonal), but the softmax reads only the keys each row sees
// (kernels/attn-naive.cu: len = i + 1), so its S reads are N(N+1)/2 entries per head, not N².
#include "sim/kernel_plan.hpp"

namespace attnlab {

namespace {
constexpr u64 kAcc = 4;  // fp32 accumulators

// Causal: the entries of the rows x cols tile of S at (q0, k0) that the mask lets through
// (query q sees keys 0..q).
u64 causal_visible(u64 q0, u64 rows, u64 k0, u64 cols) {
  u64 n = 0;
  for (u64 q = q0; q < q0 + rows; ++q) n += q + 1 <= k0 ? 0 : std::min(cols, q + 1 - k0);
  return n;
}

struct NaiveBuilder {
  std::vector<KernelPlan>& plans;
  Shape s;
  u64 T, Tt;

  // A kernel whose grid is heads x Tt (x Tt when `square`); `body(em, bh, i, j)` emits one block.
  template <typename F>
  void add(const char* name, bool square, u128 flops, u64 events, F body) {
    const auto k = static_cast<std::uint32_t>(plans.size());
    KernelPlan p;
    p.name = name;
    // B·H·Tt² passes 2^64 at N = 2^32 (B·H = 2^14): refused rather than wrapped to grid 0.
    p.grid = to_u64(cprod("thread blocks", s.BH, Tt, square ? Tt : 1), "thread blocks");
    p.smem_bytes = 2 * T * s.d * s.e;
    p.flops = flops;
    p.events_per_block = events;
    const u64 tt = Tt;
    p.emit = [k, square, tt, body](u64 b, std::vector<TileEvent>& out, u64 limit) {
      BlockEmitter em{out, k, b, limit};
      const u64 per_head = square ? tt * tt : tt;
      const u64 bh = b / per_head, rest = b % per_head;
      body(em, bh, square ? rest / tt : rest, square ? rest % tt : 0);
    };
    plans.push_back(std::move(p));
  }
};
}  // namespace

std::vector<KernelPlan> plan_naive(const AttnConfig& c, const TilePlan& t) {
  std::vector<KernelPlan> plans;
  const Shape s(c);
  const u64 T = t.T, Tt = s.tiles(T), passes = t.softmax_passes;
  NaiveBuilder nb{plans, s, T, Tt};
  const bool expand = s.group > 1;

  if (c.has_fwd()) {
    const u128 half = flops_fwd(c) / 2;  // QK^T and PV: even split, exact
    // S = Q Kᵀ: one block per T x T tile of S.
    nb.add("naive_qk", true, half, s.sb ? 6 : 4, [s, T](BlockEmitter& em, u64 bh, u64 i, u64 j) {
      const u64 r = s.rows(i, T), cj = s.rows(j, T);
      em.load(Tensor::Q, bh, i, 0, r, s.d, s.e);
      em.load_scale(Tensor::Qscale, bh, i, s.sb);
      em.load(Tensor::K, s.kv_head(bh), j, 0, cj, s.d, s.e);
      em.load_scale(Tensor::Kscale, s.kv_head(bh), j, s.sb);
      em.compute(Tensor::S, bh, i, j, (r + cj) * s.d * s.e, r * cj * kAcc);
      em.store(Tensor::S, bh, i, j, r, cj, s.se);
    });
    // P = softmax(S), row by row: one pass if a row of S fits in SRAM, else two. Causal: only
    // the visible part of each row is read (tiles above the diagonal not at all); P is written whole.
    const bool causal = c.causal;
    nb.add("naive_softmax", false, 0, (passes + 2) * Tt, [s, T, Tt, passes, causal](BlockEmitter& em, u64 bh, u64 i, u64) {
      const u64 r = s.rows(i, T);
      auto seen = [&](u64 j) { return causal ? causal_visible(i * T, r, j * T, s.rows(j, T)) : r * s.rows(j, T); };
      for (u64 pass = 1; pass < passes; ++pass)
        for (u64 j = 0; j < Tt && !em.full(); ++j) {
          const u64 v = seen(j);
          if (v == 0) continue;
          em.load_part(Tensor::S, bh, i, j, r, s.rows(j, T), v * s.se);
          em.compute(Tensor::S, bh, i, j, v * s.se, 0);
        }
      for (u64 j = 0; j < Tt && !em.full(); ++j) {
        const u64 rc = r * s.rows(j, T), v = seen(j);
        if (v > 0) em.load_part(Tensor::S, bh, i, j, r, s.rows(j, T), v * s.se);
        em.compute(Tensor::P, bh, i, j, v * s.se, rc * s.se);
        em.store(Tensor::P, bh, i, j, r, s.rows(j, T), s.se);
      }
    });
    // O = P V: one block per T-row tile of O.
    nb.add("naive_pv", false, half, (s.sb ? 4 : 3) * Tt + 1, [s, T, Tt](BlockEmitter& em, u64 bh, u64 i, u64) {
      const u64 r = s.rows(i, T);
      for (u64 j = 0; j < Tt && !em.full(); ++j) {
        const u64 cj = s.rows(j, T);
        em.load(Tensor::P, bh, i, j, r, cj, s.se);
        em.load(Tensor::V, s.kv_head(bh), j, 0, cj, s.d, s.e);
        em.load_scale(Tensor::Vscale, s.kv_head(bh), j, s.sb);
        em.compute(Tensor::O, bh, i, j, r * cj * s.se + cj * s.d * s.e, 0);
      }
      em.store(Tensor::O, bh, i, 0, r, s.d, s.eo);
    });
  }

  if (c.has_bwd()) {
    const u128 quarter = flops_bwd(c, false) / 4;  // dV, dP, dQ, dK: 2·B·H·N²·d each (half causal), exact
    // dV = Pᵀ dO: one block per T-row tile j of dV, reducing over query tiles i.
    nb.add("naive_bwd_dv", false, quarter, 3 * Tt + 1, [s, T, Tt, expand](BlockEmitter& em, u64 bh, u64 j, u64) {
      const u64 cj = s.rows(j, T);
      for (u64 i = 0; i < Tt && !em.full(); ++i) {
        const u64 r = s.rows(i, T);
        em.load(Tensor::P, bh, i, j, r, cj, s.se);
        em.load(Tensor::dO, bh, i, 0, r, s.d, s.e);
        em.compute(Tensor::dV, bh, j, i, r * cj * s.se + r * s.d * s.e, 0);
      }
      em.store(expand ? Tensor::dVexp : Tensor::dV, expand ? bh : s.kv_head(bh), j, 0, cj, s.d, s.e);
    });
    // dP = dO Vᵀ: one block per T x T tile.
    nb.add("naive_bwd_dp", true, quarter, 4, [s, T](BlockEmitter& em, u64 bh, u64 i, u64 j) {
      const u64 r = s.rows(i, T), cj = s.rows(j, T);
      em.load(Tensor::dO, bh, i, 0, r, s.d, s.e);
      em.load(Tensor::V, s.kv_head(bh), j, 0, cj, s.d, s.e);
      em.compute(Tensor::dP, bh, i, j, (r + cj) * s.d * s.e, r * cj * kAcc);
      em.store(Tensor::dP, bh, i, j, r, cj, s.se);
    });
    // dS = P ∘ (dP − D) with D = rowsum(dO ∘ O): one block per T-row panel.
    nb.add("naive_bwd_ds", false, 0, 4 * Tt + 3, [s, T, Tt](BlockEmitter& em, u64 bh, u64 i, u64) {
      const u64 r = s.rows(i, T);
      em.load(Tensor::O, bh, i, 0, r, s.d, s.e);
      em.load(Tensor::dO, bh, i, 0, r, s.d, s.e);
      em.compute(Tensor::D, bh, i, 0, 2 * r * s.d * s.e, 0);
      for (u64 j = 0; j < Tt && !em.full(); ++j) {
        const u64 cj = s.rows(j, T), rc = r * cj;
        em.load(Tensor::P, bh, i, j, r, cj, s.se);
        em.load(Tensor::dP, bh, i, j, r, cj, s.se);
        em.compute(Tensor::dS, bh, i, j, 2 * rc * s.se, rc * s.se);
        em.store(Tensor::dS, bh, i, j, r, cj, s.se);
      }
    });
    // dQ = dS K: one block per T-row tile of dQ.
    nb.add("naive_bwd_dq", false, quarter, 3 * Tt + 1, [s, T, Tt](BlockEmitter& em, u64 bh, u64 i, u64) {
      const u64 r = s.rows(i, T);
      for (u64 j = 0; j < Tt && !em.full(); ++j) {
        const u64 cj = s.rows(j, T);
        em.load(Tensor::dS, bh, i, j, r, cj, s.se);
        em.load(Tensor::K, s.kv_head(bh), j, 0, cj, s.d, s.e);
        em.compute(Tensor::dQ, bh, i, j, r * cj * s.se + cj * s.d * s.e, 0);
      }
      em.store(Tensor::dQ, bh, i, 0, r, s.d, s.e);
    });
    // dK = dSᵀ Q: one block per T-row tile j of dK.
    nb.add("naive_bwd_dk", false, quarter, 3 * Tt + 1, [s, T, Tt, expand](BlockEmitter& em, u64 bh, u64 j, u64) {
      const u64 cj = s.rows(j, T);
      for (u64 i = 0; i < Tt && !em.full(); ++i) {
        const u64 r = s.rows(i, T);
        em.load(Tensor::dS, bh, i, j, r, cj, s.se);
        em.load(Tensor::Q, bh, i, 0, r, s.d, s.e);
        em.compute(Tensor::dK, bh, j, i, r * cj * s.se + r * s.d * s.e, 0);
      }
      em.store(expand ? Tensor::dKexp : Tensor::dK, expand ? bh : s.kv_head(bh), j, 0, cj, s.d, s.e);
    });
    if (expand) plans.push_back(plan_gqa_reduce(c, T, static_cast<std::uint32_t>(plans.size())));
  }
  return plans;
}

}  // namespace attnlab
