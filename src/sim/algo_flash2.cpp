// FlashAttention-2 (Dao 2023, arXiv 2307.08691) as tile events.
// Forward: one thread block per (head, Q tile i): load Qi once, stream Kj, Vj, keep O, m, l in
// registers, write Oi and the log-sum-exp once. K/V of a head are read Tr times from global memory
// (Tr = ceil(N / Br)): that is the Θ(N²d²/M) term; concurrent blocks of one head share them in L2.
// Backward: one block per (head, K/V tile j): Kj, Vj stay; Qi, dOi, LSEi, Di stream; dQ is
// accumulated in fp32 with atomic adds done by the L2 (sent once per visit), then converted.
#include "sim/kernel_plan.hpp"

namespace attnlab {

namespace {

// On-chip bytes of one (i, j) forward step: S = Qi Kjᵀ, P = softmax(S), O += P Vj.
void fwd_step(BlockEmitter& em, const Shape& s, u64 bh, u64 i, u64 j, u64 r, u64 c) {
  const u64 read = (r + c) * s.d * s.e + r * c * kStatBytes + r * c * s.e + c * s.d * s.e;
  const u64 write = r * c * kStatBytes + r * c * s.e;
  em.compute(Tensor::S, bh, i, j, read, write);
}
// The most K/V tiles one query tile visits: a window's band spans Br + left + right keys, which
// straddle at most span / Bc + 2 tiles. A bound, so that a windowed kernel is not counted as long
// as a full one when the hierarchy decides to sample.
u64 kv_tiles_max(const AttnConfig& c, u64 Br, u64 Bc, u64 Tc) {
  if (!c.windowed()) return Tc;
  const u64 N = c.seq;
  const u64 left = c.window_left < 0 ? N : std::min<u64>(c.window_left, N);
  const u64 right = c.causal ? 0 : c.window_right < 0 ? N : std::min<u64>(c.window_right, N);
  return std::min(Tc, (Br + left + right) / Bc + 2);
}
}  // namespace

// Shared with flash1: the on-chip bytes of one (i, j) backward step (recompute S and P, then
// dV += Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − D), dQ += dS K, dK += dSᵀ Q).
void flash_bwd_step(BlockEmitter& em, const Shape& s, u64 bh, u64 i, u64 j, u64 r, u64 c) {
  const u64 rc = r * c, rd = r * s.d * s.e, cd = c * s.d * s.e;
  const u64 read = (rd + cd) + rc * kStatBytes + (rc * s.e + rd) + (rd + cd) + (rc * s.e + rc * kStatBytes) +
                   (rc * s.e + cd) + (rc * s.e + rd);
  const u64 write = rc * kStatBytes + rc * s.e + rc * kStatBytes + rc * s.e;
  em.compute(Tensor::dS, bh, i, j, read, write);
}

std::vector<KernelPlan> plan_flash2(const AttnConfig& c, const TilePlan& t) {
  std::vector<KernelPlan> plans;
  const Shape s(c);
  const bool causal = c.causal;

  if (c.has_fwd()) {
    const u64 Br = t.Br, Bc = t.Bc, Tr = s.tiles(Br), Tc = s.tiles(Bc);
    const auto k = static_cast<std::uint32_t>(plans.size());
    KernelPlan p;
    p.name = "flash2_fwd";
    p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
    p.smem_bytes = t.smem_fwd;
    p.flops = flops_fwd(c);
    // Per K/V tile: K, V, the step (+ their two scales with FP8); per block: Q, O, stats (+ Q's scale).
    const u64 per_tile = s.sb ? 5 : 3, per_block = s.sb ? 4 : 3;
    p.events_per_block =
        to_u64(cadd(cmul(per_tile, kv_tiles_max(c, Br, Bc, Tc), "events"), per_block, "events"), "events per block");
    p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
      BlockEmitter em{out, k, b, limit};
      const u64 bh = b / Tr, i = b % Tr, r = s.rows(i, Br), kvh = s.kv_head(bh);
      em.load(Tensor::Q, bh, i, 0, r, s.d, s.e);
      em.load_scale(Tensor::Qscale, bh, i, s.sb);
      const TileRange kv = kv_tiles(c, i, Br, Bc);
      for (u64 j = kv.begin; j < kv.end && !em.full(); ++j) {
        const u64 cj = s.rows(j, Bc);
        em.load(Tensor::K, kvh, j, 0, cj, s.d, s.e);
        em.load_scale(Tensor::Kscale, kvh, j, s.sb);
        em.load(Tensor::V, kvh, j, 0, cj, s.d, s.e);
        em.load_scale(Tensor::Vscale, kvh, j, s.sb);
        fwd_step(em, s, bh, i, j, r, cj);
      }
      em.store(Tensor::O, bh, i, 0, r, s.d, s.eo);
      em.store(Tensor::stats, bh, i, 0, r, 1, kStatBytes);  // log-sum-exp, kept for the backward pass
    };
    if (c.windowed()) p.flops = cprod("FLOPs", 4, c.head_dim, visible_pairs(c), c.batch, c.heads);  // the band only
    plans.push_back(std::move(p));
  }

  if (c.has_bwd()) {
    const u64 Br = t.Br_bwd, Bc = t.Bc_bwd, Tr = s.tiles(Br), Tc = s.tiles(Bc);
    {  // D = rowsum(dO ∘ O), and the fp32 dQ accumulator zeroed.
      const auto k = static_cast<std::uint32_t>(plans.size());
      KernelPlan p;
      p.name = "flash2_bwd_preprocess";
      p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
      p.smem_bytes = 2 * Br * s.d * s.e;
      p.max_blocks_per_sm = 8;
      p.events_per_block = 5;
      p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
        BlockEmitter em{out, k, b, limit};
        const u64 bh = b / Tr, i = b % Tr, r = s.rows(i, Br);
        em.load(Tensor::O, bh, i, 0, r, s.d, s.e);
        em.load(Tensor::dO, bh, i, 0, r, s.d, s.e);
        em.compute(Tensor::D, bh, i, 0, 2 * r * s.d * s.e, 0);
        em.store(Tensor::D, bh, i, 0, r, 1, kStatBytes);
        em.store(Tensor::dQacc, bh, i, 0, r, s.d, kStatBytes);
      };
      plans.push_back(std::move(p));
    }
    {
      const auto k = static_cast<std::uint32_t>(plans.size());
      const bool expand = s.group > 1;
      KernelPlan p;
      p.name = "flash2_bwd";
      p.grid = to_u64(cmul(s.BH, Tc, "thread blocks"), "thread blocks");
      p.smem_bytes = t.smem_bwd;
      p.flops = flops_bwd(c, true);
      p.events_per_block = to_u64(cadd(cmul(6, Tr, "events"), 4, "events"), "events per block");
      p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
        BlockEmitter em{out, k, b, limit};
        const u64 bh = b / Tc, j = b % Tc, cj = s.rows(j, Bc), kvh = s.kv_head(bh);
        em.load(Tensor::K, kvh, j, 0, cj, s.d, s.e);
        em.load(Tensor::V, kvh, j, 0, cj, s.d, s.e);
        for (u64 i = causal ? causal_q_begin(j, Br, Bc) : 0; i < Tr && !em.full(); ++i) {
          const u64 r = s.rows(i, Br);
          em.load(Tensor::Q, bh, i, 0, r, s.d, s.e);
          em.load(Tensor::dO, bh, i, 0, r, s.d, s.e);
          em.load(Tensor::stats, bh, i, 0, r, 1, kStatBytes);
          em.load(Tensor::D, bh, i, 0, r, 1, kStatBytes);
          flash_bwd_step(em, s, bh, i, j, r, cj);
          // dQi += dS Kj: fp32 atomic adds (red.global.add), done by the L2: the block sends its
          // share once and reads nothing back. Counted as a read and a write per visit, the model
          // gave 1.12-1.34x the lts__t_bytes of PyTorch's FA2 backward on an H200; counted once,
          // -14..+6% (assets/measurements/h200-backward.json, attnlab measured --ncu).
          em.reduce(Tensor::dQacc, bh, i, 0, r, s.d, kStatBytes);
        }
        em.store(expand ? Tensor::dKexp : Tensor::dK, expand ? bh : kvh, j, 0, cj, s.d, s.e);
        em.store(expand ? Tensor::dVexp : Tensor::dV, expand ? bh : kvh, j, 0, cj, s.d, s.e);
      };
      plans.push_back(std::move(p));
    }
    {  // dQ: fp32 accumulator -> dtype.
      const auto k = static_cast<std::uint32_t>(plans.size());
      KernelPlan p;
      p.name = "flash2_bwd_convert_dq";
      p.grid = to_u64(cmul(s.BH, Tr, "thread blocks"), "thread blocks");
      p.smem_bytes = Br * s.d * kStatBytes;
      p.max_blocks_per_sm = 8;
      p.events_per_block = 2;
      p.emit = [=](u64 b, std::vector<TileEvent>& out, u64 limit) {
        BlockEmitter em{out, k, b, limit};
        const u64 bh = b / Tr, i = b % Tr, r = s.rows(i, Br);
        em.load(Tensor::dQacc, bh, i, 0, r, s.d, kStatBytes);
        em.store(Tensor::dQ, bh, i, 0, r, s.d, s.e);
      };
      plans.push_back(std::move(p));
    }
    if (s.group > 1) plans.push_back(plan_gqa_reduce(c, Bc, static_cast<std::uint32_t>(plans.size())));
  }
  return plans;
}

}  // namespace attnlab
