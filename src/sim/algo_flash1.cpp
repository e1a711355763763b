// FlashAttention-1 (Dao et al. 2022, arXiv 2205.14135) as the paper's Algorithms 1 and 4 write it.
// Forward: outer loop over K/V tiles j (Kj, Vj loaded once), inner loop over Q tiles i: Qi, Oi,
// li, mi are read from HBM, updated and written back on every j: O is re-read and re-written
// Tc = ceil(N / Bc) times. That re-reading is what FlashAttention-2 removed.
// One thread block per head (the paper's loop nest), so only B·H blocks run.
#include "sim/kernel_plan.hpp"

namespace attnlab {

void flash_bwd_step(BlockEmitter& em, const Shape& s, u64 bh, u64 i, u64 j, u64 r, u64 c);  // algo_flash2.cpp

namespace {
constexpr u64 kStatCols = 2;  // m and l, fp32 each

// One tile a kernel stores to initialise: `cols` columns of `elem` bytes, Br rows.
struct InitStore {
  Tensor t;
  u64 cols, elem;
};

// The paper's initialising kernels (Alg. 1 line 2: O = 0, l = 0, m = -inf; Alg. 4 line 3: dQ = 0):
// one block per (head, query tile) stores `stores` of its tile to HBM.
KernelPlan plan_init(const char* name, std::uint32_t k, const Shape& s, u64 Br, std::vector<InitStore> stores) {
  const u64 Tr = s.tiles(Br);
  KernelPlan p;
  p.name = name;
  p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
  p.smem_bytes = Br * s.d * s.e;
  p.max_blocks_per_sm = 8;
  p.events_per_block = stores.size();
  p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
    BlockEmitter em{out, k, b, limit};
    const u64 bh = b / Tr, i = b % Tr, r = s.rows(i, Br);
    for (const InitStore& st : stores) em.store(st.t, bh, i, 0, r, st.cols, st.elem);
  };
  return p;
}

// Where a block of the loop nest of Algorithms 1 and 4 is: head bh (K/V head kvh), K/V tile j
// (cj keys), Q tile i (r rows).
struct Step {
  BlockEmitter& em;
  u64 bh, kvh, j = 0, cj = 0, i = 0, r = 0;
};

// The emitter of that loop nest, one block per head: outer loop over the K/V tiles j, `kv(step)`;
// inner loop over the Q tiles i that see tile j (all, or from the diagonal on when causal),
// `q(step)`; then `kv_done(step)`. Stops once the emitter is full.
template <class Kv, class Q, class KvDone>
std::function<void(u64, std::vector<TileEvent>&, u64)> flash1_emit(std::uint32_t k, const Shape& s, bool causal, u64 Br,
                                                                  u64 Bc, Kv kv, Q q, KvDone kv_done) {
  return [=](u64 bh, std::vector<TileEvent>& out, u64 limit) {
    BlockEmitter em{out, k, bh, limit};
    const u64 Tr = s.tiles(Br), Tc = s.tiles(Bc);
    Step st{em, bh, s.kv_head(bh)};
    for (st.j = 0; st.j < Tc && !em.full(); ++st.j) {
      st.cj = s.rows(st.j, Bc);
      kv(st);
      for (st.i = causal ? causal_q_begin(st.j, Br, Bc) : 0; st.i < Tr && !em.full(); ++st.i) {
        st.r = s.rows(st.i, Br);
        q(st);
      }
      kv_done(st);
    }
  };
}

// A kernel of one block per head (the paper's loop nest), so only B·H blocks run.
KernelPlan plan_per_head(const char* name, const Shape& s, u64 smem, u128 flops) {
  KernelPlan p;
  p.name = name;
  p.grid = s.BH;
  p.smem_bytes = smem;
  p.max_blocks_per_sm = 1;
  p.flops = flops;
  return p;
}
}  // namespace

std::vector<KernelPlan> plan_flash1(const AttnConfig& c, const TilePlan& t) {
  std::vector<KernelPlan> plans;
  const Shape s(c);
  const bool causal = c.causal;
  const u64 Br = t.Br, Bc = t.Bc, Tr = s.tiles(Br), Tc = s.tiles(Bc);
  auto next_index = [&] { return static_cast<std::uint32_t>(plans.size()); };

  if (c.has_fwd()) {
    // Alg. 1 line 2: initialize O = 0, l = 0, m = -inf in HBM.
    plans.push_back(plan_init("flash1_init", next_index(), s, Br,
                              {{Tensor::O, s.d, s.eo}, {Tensor::stats, kStatCols, kStatBytes}}));
    const auto k = next_index();
    KernelPlan p = plan_per_head("flash1_fwd", s, t.smem_fwd, flops_fwd(c));
    // Tc·Tr passes 2^64 with 1 x 1 tiles at N = 2^32: checked like every count.
    const u64 per_kv = s.sb ? 4 : 2, per_q = s.sb ? 7 : 6;  // FP8: a scale with each K, V and Q tile
    p.events_per_block = to_u64(cmul(Tc, cadd(per_kv, cmul(per_q, Tr, "events"), "events"), "events"), "events per block");
    p.emit = flash1_emit(
        k, s, causal, Br, Bc,
        [=](Step& at) {
          at.em.load(Tensor::K, at.kvh, at.j, 0, at.cj, s.d, s.e);
          at.em.load_scale(Tensor::Kscale, at.kvh, at.j, s.sb);
          at.em.load(Tensor::V, at.kvh, at.j, 0, at.cj, s.d, s.e);
          at.em.load_scale(Tensor::Vscale, at.kvh, at.j, s.sb);
        },
        [=](Step& at) {
          at.em.load(Tensor::Q, at.bh, at.i, 0, at.r, s.d, s.e);
          at.em.load_scale(Tensor::Qscale, at.bh, at.i, s.sb);
          at.em.load(Tensor::O, at.bh, at.i, 0, at.r, s.d, s.eo);
          at.em.load(Tensor::stats, at.bh, at.i, 0, at.r, kStatCols, kStatBytes);
          // S = Qi Kjᵀ, m̃, P̃, l̃ (paper lines 9-11), then the rescaled O update (line 12):
          // reads Qi, Kj, S, P̃, Vj and the old Oi; writes S and P̃ on chip.
          const u64 r = at.r, cj = at.cj, rc = r * cj;
          at.em.compute(Tensor::S, at.bh, at.i, at.j,
                       (r + cj) * s.d * s.e + rc * kStatBytes + rc * s.e + cj * s.d * s.e + r * s.d * s.eo,
                       rc * kStatBytes + rc * s.e);
          at.em.store(Tensor::O, at.bh, at.i, 0, r, s.d, s.eo);
          at.em.store(Tensor::stats, at.bh, at.i, 0, r, kStatCols, kStatBytes);
        },
        [](Step&) {});
    plans.push_back(std::move(p));
  }

  if (c.has_bwd()) {
    const bool expand = s.group > 1;
    // Alg. 4 line 3: initialize dQ = 0 in HBM (dK and dV are built on chip and written once).
    plans.push_back(plan_init("flash1_bwd_init", next_index(), s, Br, {{Tensor::dQ, s.d, s.e}}));
    const auto k = next_index();
    KernelPlan p = plan_per_head("flash1_bwd", s, t.smem_bwd, flops_bwd(c, true));
    p.events_per_block = to_u64(cmul(Tc, cadd(4, cmul(7, Tr, "events"), "events"), "events"), "events per block");
    p.emit = flash1_emit(
        k, s, causal, Br, Bc,
        [=](Step& at) {
          at.em.load(Tensor::K, at.kvh, at.j, 0, at.cj, s.d, s.e);
          at.em.load(Tensor::V, at.kvh, at.j, 0, at.cj, s.d, s.e);
        },
        [=](Step& at) {
          for (Tensor x : {Tensor::Q, Tensor::O, Tensor::dO, Tensor::dQ}) at.em.load(x, at.bh, at.i, 0, at.r, s.d, s.e);
          at.em.load(Tensor::stats, at.bh, at.i, 0, at.r, kStatCols, kStatBytes);
          flash_bwd_step(at.em, s, at.bh, at.i, at.j, at.r, at.cj);
          at.em.store(Tensor::dQ, at.bh, at.i, 0, at.r, s.d, s.e);
        },
        [=](Step& at) {  // dK_j and dV_j, built on chip, written once (per query head under GQA)
          at.em.store(expand ? Tensor::dKexp : Tensor::dK, expand ? at.bh : at.kvh, at.j, 0, at.cj, s.d, s.e);
          at.em.store(expand ? Tensor::dVexp : Tensor::dV, expand ? at.bh : at.kvh, at.j, 0, at.cj, s.d, s.e);
        });
    plans.push_back(std::move(p));
    if (expand) plans.push_back(plan_gqa_reduce(c, Bc, next_index()));
  }
  return plans;
}

}  // namespace attnlab
