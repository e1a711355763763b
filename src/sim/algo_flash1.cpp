// FlashAttention-1 (Dao et al. 2022, arXiv 2205.14135) as the paper's Algorithms 1 and 4 write it.
// Forward: outer loop over K/V tiles j (Kj, Vj loaded once), inner loop over Q tiles i: Qi, Oi,
// li, mi are read from HBM, updated and written back on every j: O is re-read and re-written
// Tc = ceil(N / Bc) times. That re-reading is what FlashAttention-2 removed.
// One thread block per head (the paper's loop nest), so only B·H blocks run.
#include "sim/kernel_plan.hpp"

namespace attnlab {

void flash_bwd_step(BlockEmitter& em, const Shape& s, u64 bh, u64 i, u64 j, u64 r, u64 c);  // algo_flash2.cpp

namespace {
constexpr u64 kStat = 4;
constexpr u64 kStatCols = 2;  // m and l, fp32 each
}  // namespace

std::vector<KernelPlan> plan_flash1(const AttnConfig& c, const TilePlan& t) {
  std::vector<KernelPlan> plans;
  const Shape s(c);
  const bool causal = c.causal;
  const u64 Br = t.Br, Bc = t.Bc, Tr = s.tiles(Br), Tc = s.tiles(Bc);

  if (c.has_fwd()) {
    {  // Alg. 1 line 2: initialize O = 0, l = 0, m = -inf in HBM.
      const auto k = static_cast<std::uint32_t>(plans.size());
      KernelPlan p;
      p.name = "flash1_init";
      p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
      p.smem_bytes = Br * s.d * s.e;
      p.max_blocks_per_sm = 8;
      p.events_per_block = 2;
      p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
        BlockEmitter em{out, k, b, limit};
        const u64 bh = b / Tr, i = b % Tr, r = s.rows(i, Br);
        em.store(Tensor::O, bh, i, 0, r, s.d, s.eo);
        em.store(Tensor::stats, bh, i, 0, r, kStatCols, kStat);
      };
      plans.push_back(std::move(p));
    }
    const auto k = static_cast<std::uint32_t>(plans.size());
    KernelPlan p;
    p.name = "flash1_fwd";
    p.grid = s.BH;
    p.smem_bytes = t.smem_fwd;
    p.max_blocks_per_sm = 1;
    p.flops = flops_fwd(c);
    // Tc·Tr passes 2^64 with 1 x 1 tiles at N = 2^32: checked like every count.
    const u64 per_kv = s.sb ? 4 : 2, per_q = s.sb ? 7 : 6;  // FP8: a scale with each K, V and Q tile
    p.events_per_block = to_u64(cmul(Tc, cadd(per_kv, cmul(per_q, Tr, "events"), "events"), "events"), "events per block");
    p.emit = [=](u64 bh, std::vector<TileEvent>& out, u64 limit) {
      BlockEmitter em{out, k, bh, limit};
      const u64 kvh = s.kv_head(bh);
      for (u64 j = 0; j < Tc && !em.full(); ++j) {
        const u64 cj = s.rows(j, Bc);
        em.load(Tensor::K, kvh, j, 0, cj, s.d, s.e);
        em.load_scale(Tensor::Kscale, kvh, j, s.sb);
        em.load(Tensor::V, kvh, j, 0, cj, s.d, s.e);
        em.load_scale(Tensor::Vscale, kvh, j, s.sb);
        for (u64 i = causal ? causal_q_begin(j, Br, Bc) : 0; i < Tr && !em.full(); ++i) {
          const u64 r = s.rows(i, Br);
          em.load(Tensor::Q, bh, i, 0, r, s.d, s.e);
          em.load_scale(Tensor::Qscale, bh, i, s.sb);
          em.load(Tensor::O, bh, i, 0, r, s.d, s.eo);
          em.load(Tensor::stats, bh, i, 0, r, kStatCols, kStat);
          // S = Qi Kjᵀ, m̃, P̃, l̃ (paper lines 9-11), then the rescaled O update (line 12):
          // reads Qi, Kj, S, P̃, Vj and the old Oi; writes S and P̃ on chip.
          const u64 rc = r * cj;
          em.compute(Tensor::S, bh, i, j,
                     (r + cj) * s.d * s.e + rc * kStat + rc * s.e + cj * s.d * s.e + r * s.d * s.eo,
                     rc * kStat + rc * s.e);
          em.store(Tensor::O, bh, i, 0, r, s.d, s.eo);
          em.store(Tensor::stats, bh, i, 0, r, kStatCols, kStat);
        }
      }
    };
    plans.push_back(std::move(p));
  }

  if (c.has_bwd()) {
    const bool expand = s.group > 1;
    {  // Alg. 4 line 3: initialize dQ = 0 in HBM (dK and dV are built on chip and written once).
      const auto k = static_cast<std::uint32_t>(plans.size());
      KernelPlan p;
      p.name = "flash1_bwd_init";
      p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
      p.smem_bytes = Br * s.d * s.e;
      p.max_blocks_per_sm = 8;
      p.events_per_block = 1;
      p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
        BlockEmitter em{out, k, b, limit};
        const u64 bh = b / Tr, i = b % Tr;
        em.store(Tensor::dQ, bh, i, 0, s.rows(i, Br), s.d, s.e);
      };
      plans.push_back(std::move(p));
    }
    const auto k = static_cast<std::uint32_t>(plans.size());
    KernelPlan p;
    p.name = "flash1_bwd";
    p.grid = s.BH;
    p.smem_bytes = t.smem_bwd;
    p.max_blocks_per_sm = 1;
    p.flops = flops_bwd(c, true);
    p.events_per_block = to_u64(cmul(Tc, cadd(4, cmul(7, Tr, "events"), "events"), "events"), "events per block");
    p.emit = [=](u64 bh, std::vector<TileEvent>& out, u64 limit) {
      BlockEmitter em{out, k, bh, limit};
      const u64 kvh = s.kv_head(bh);
      for (u64 j = 0; j < Tc && !em.full(); ++j) {
        const u64 cj = s.rows(j, Bc);
        em.load(Tensor::K, kvh, j, 0, cj, s.d, s.e);
        em.load(Tensor::V, kvh, j, 0, cj, s.d, s.e);
        for (u64 i = causal ? causal_q_begin(j, Br, Bc) : 0; i < Tr && !em.full(); ++i) {
          const u64 r = s.rows(i, Br);
          em.load(Tensor::Q, bh, i, 0, r, s.d, s.e);
          em.load(Tensor::O, bh, i, 0, r, s.d, s.e);
          em.load(Tensor::dO, bh, i, 0, r, s.d, s.e);
          em.load(Tensor::dQ, bh, i, 0, r, s.d, s.e);
          em.load(Tensor::stats, bh, i, 0, r, kStatCols, kStat);
          flash_bwd_step(em, s, bh, i, j, r, cj);
          em.store(Tensor::dQ, bh, i, 0, r, s.d, s.e);
        }
        em.store(expand ? Tensor::dKexp : Tensor::dK, expand ? bh : kvh, j, 0, cj, s.d, s.e);
        em.store(expand ? Tensor::dVexp : Tensor::dV, expand ? bh : kvh, j, 0, cj, s.d, s.e);
      }
    };
    plans.push_back(std::move(p));
    if (expand) plans.push_back(plan_gqa_reduce(c, Bc, static_cast<std::uint32_t>(plans.size())));
  }
  return plans;
}

}  // namespace attnlab
