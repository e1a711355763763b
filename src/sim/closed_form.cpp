#include "sim/closed_form.hpp"

#include "sim/kernel_plan.hpp"

namespace attnlab {

namespace {

// Accumulates per-head formulas, then scales them by the number of heads.
struct Acc {
  KernelCounts k;
  u128 chip_read = 0, chip_write = 0;  // on-chip work, per head
  void rd(Tensor t, u128 b) { k.hbm[static_cast<size_t>(t)].read = cadd(k.hbm[static_cast<size_t>(t)].read, b); }
  void wr(Tensor t, u128 b) { k.hbm[static_cast<size_t>(t)].write = cadd(k.hbm[static_cast<size_t>(t)].write, b); }
  void on_chip(u128 read, u128 write) {
    chip_read = cadd(chip_read, read);
    chip_write = cadd(chip_write, write);
  }
  // SRAM: on-chip work, plus every load (written into SRAM) and every store (read out of SRAM).
  KernelCounts done(const std::string& name, u128 heads) {
    k.name = name;
    k.sram = {cmul(chip_read, heads, "SRAM bytes"), cmul(chip_write, heads, "SRAM bytes")};
    for (auto& lb : k.hbm) {
      lb.read = cmul(lb.read, heads, "bytes read");
      lb.write = cmul(lb.write, heads, "bytes written");
      k.sram.write = cadd(k.sram.write, lb.read, "SRAM bytes");
      k.sram.read = cadd(k.sram.read, lb.write, "SRAM bytes");
    }
    return k;
  }
};

// The GQA reduction kernel, per K/V head.
KernelCounts gqa_reduce(const Shape& s, u128 kv_heads_total) {
  Acc a;
  const u128 nd = u128{s.N} * s.d * s.e;
  a.rd(Tensor::dKexp, nd * s.group);
  a.rd(Tensor::dVexp, nd * s.group);
  a.wr(Tensor::dK, nd);
  a.wr(Tensor::dV, nd);
  a.on_chip(2 * nd * s.group, 0);
  return a.done("gqa_reduce_dkdv", kv_heads_total);
}

// On-chip bytes of the backward step summed over visible pairs (see flash_bwd_step).
void flash_bwd_on_chip(Acc& a, const Shape& s, const PairSums& p) {
  const u128 de = u128{s.d} * s.e;
  a.on_chip(4 * p.sum_r * de + 3 * p.sum_c * de + p.sum_rc * (8 + 4 * u128{s.e}), p.sum_rc * (8 + 2 * u128{s.e}));
}
}  // namespace

LevelBytes level_sum(const std::array<LevelBytes, kTensorCount>& per_tensor) {
  LevelBytes t;
  for (const auto& lb : per_tensor) t += lb;
  return t;
}

LevelBytes KernelCounts::hbm_total() const { return level_sum(hbm); }

PairSums pair_sums(u64 N, u64 Br, u64 Bc, bool causal) {
  AttnConfig c;
  c.seq = N;
  c.causal = causal;
  return pair_sums(c, Br, Bc);
}

PairSums pair_sums(const AttnConfig& c, u64 Br, u64 Bc) {
  PairSums p;
  const u64 N = c.seq, Tr = (N + Br - 1) / Br, Tc = (N + Bc - 1) / Bc;
  if (!c.causal && !c.windowed()) {
    p.pairs = u128{Tr} * Tc;
    p.sum_r = u128{N} * Tc;
    p.sum_c = u128{N} * Tr;
    p.sum_rc = u128{N} * N;
    return p;
  }
  for (u64 i = 0; i < Tr; ++i) {
    const u64 r = std::min(Br, N - i * Br);
    const TileRange kv = kv_tiles(c, i, Br, Bc);
    const u64 tiles = kv.end - kv.begin;
    const u64 keys = std::min(N, kv.end * Bc) - kv.begin * Bc;  // key rows in the visited tiles
    p.pairs += tiles;
    p.sum_r += u128{r} * tiles;
    p.sum_c += keys;
    p.sum_rc += u128{r} * keys;
  }
  return p;
}

std::vector<KernelCounts> closed_form_counts(Algo algo, const AttnConfig& c, const TilePlan& t) {
  std::vector<KernelCounts> out;
  const Shape s(c);
  const u128 BH = s.BH, BHkv = u128{c.batch} * s.Hkv, N = s.N, e = s.e, se = s.se;
  const u128 nd = N * s.d * e, de = u128{s.d} * e, N2 = N * N;
  const u128 nd_out = N * s.d * s.eo, de_out = u128{s.d} * s.eo, sb = s.sb;  // O; FP8's tile scales
  const bool expand = s.group > 1;

  if (algo == Algo::flash2) {
    if (c.has_fwd()) {
      const PairSums p = pair_sums(c, t.Br, t.Bc);
      Acc a;
      a.rd(Tensor::Q, nd);
      a.rd(Tensor::K, p.sum_c * de);
      a.rd(Tensor::V, p.sum_c * de);
      a.rd(Tensor::Qscale, s.tiles(t.Br) * sb);
      a.rd(Tensor::Kscale, p.pairs * sb);
      a.rd(Tensor::Vscale, p.pairs * sb);
      a.wr(Tensor::O, nd_out);
      a.wr(Tensor::stats, N * kStatBytes);
      a.on_chip((p.sum_r + 2 * p.sum_c) * de + p.sum_rc * (kStatBytes + e), p.sum_rc * (kStatBytes + e));
      out.push_back(a.done("flash2_fwd", BH));
    }
    if (c.has_bwd()) {
      const PairSums p = pair_sums(s.N, t.Br_bwd, t.Bc_bwd, c.causal);
      Acc pre;
      pre.rd(Tensor::O, nd);
      pre.rd(Tensor::dO, nd);
      pre.wr(Tensor::D, N * kStatBytes);
      pre.wr(Tensor::dQacc, N * s.d * kStatBytes);
      pre.on_chip(2 * nd, 0);
      out.push_back(pre.done("flash2_bwd_preprocess", BH));
      Acc a;
      a.rd(Tensor::K, nd);
      a.rd(Tensor::V, nd);
      a.rd(Tensor::Q, p.sum_r * de);
      a.rd(Tensor::dO, p.sum_r * de);
      a.rd(Tensor::stats, p.sum_r * kStatBytes);
      a.rd(Tensor::D, p.sum_r * kStatBytes);
      a.wr(Tensor::dQacc, p.sum_r * s.d * kStatBytes);  // atomic adds: sent once (EventOp::reduce)
      a.wr(expand ? Tensor::dKexp : Tensor::dK, nd);
      a.wr(expand ? Tensor::dVexp : Tensor::dV, nd);
      flash_bwd_on_chip(a, s, p);
      out.push_back(a.done("flash2_bwd", BH));
      Acc cv;
      cv.rd(Tensor::dQacc, N * s.d * kStatBytes);
      cv.wr(Tensor::dQ, nd);
      out.push_back(cv.done("flash2_bwd_convert_dq", BH));
      if (expand) out.push_back(gqa_reduce(s, BHkv));
    }
    return out;
  }

  if (algo == Algo::flash1) {
    const PairSums p = pair_sums(s.N, t.Br, t.Bc, c.causal);
    if (c.has_fwd()) {
      Acc init;
      init.wr(Tensor::O, nd_out);
      init.wr(Tensor::stats, N * 2 * kStatBytes);
      out.push_back(init.done("flash1_init", BH));
      Acc a;
      const u128 Tc = s.tiles(t.Bc);
      a.rd(Tensor::K, nd);
      a.rd(Tensor::V, nd);
      a.rd(Tensor::Kscale, Tc * sb);
      a.rd(Tensor::Vscale, Tc * sb);
      a.rd(Tensor::Q, p.sum_r * de);
      a.rd(Tensor::Qscale, p.pairs * sb);
      a.rd(Tensor::O, p.sum_r * de_out);
      a.rd(Tensor::stats, p.sum_r * 2 * kStatBytes);
      a.wr(Tensor::O, p.sum_r * de_out);
      a.wr(Tensor::stats, p.sum_r * 2 * kStatBytes);
      a.on_chip((p.sum_r + 2 * p.sum_c) * de + p.sum_r * de_out + p.sum_rc * (kStatBytes + e), p.sum_rc * (kStatBytes + e));
      out.push_back(a.done("flash1_fwd", BH));
    }
    if (c.has_bwd()) {
      Acc init;
      init.wr(Tensor::dQ, nd);
      out.push_back(init.done("flash1_bwd_init", BH));
      Acc a;
      a.rd(Tensor::K, nd);
      a.rd(Tensor::V, nd);
      for (Tensor x : {Tensor::Q, Tensor::O, Tensor::dO, Tensor::dQ}) a.rd(x, p.sum_r * de);
      a.rd(Tensor::stats, p.sum_r * 2 * kStatBytes);
      a.wr(Tensor::dQ, p.sum_r * de);
      a.wr(expand ? Tensor::dKexp : Tensor::dK, nd);
      a.wr(expand ? Tensor::dVexp : Tensor::dV, nd);
      flash_bwd_on_chip(a, s, p);
      out.push_back(a.done("flash1_bwd", BH));
      if (expand) out.push_back(gqa_reduce(s, BHkv));
    }
    return out;
  }

  // naive: every GEMM re-reads an operand tile once per output tile: N·Tt rows per head.
  const u128 Tt = s.tiles(t.T), reread = N * Tt * de, passes = t.softmax_passes;
  if (c.has_fwd()) {
    Acc qk;
    qk.rd(Tensor::Q, reread);
    qk.rd(Tensor::K, reread);
    qk.rd(Tensor::Qscale, Tt * Tt * sb);  // FP8: a scale with each operand tile a block loads
    qk.rd(Tensor::Kscale, Tt * Tt * sb);
    qk.wr(Tensor::S, N2 * se);
    qk.on_chip(2 * reread, N2 * 4);
    out.push_back(qk.done("naive_qk", BH));
    // Causal: the softmax reads the N(N+1)/2 visible entries of each head's S, writes all of P.
    const u128 seen = c.causal ? N * (N + 1) / 2 : N2;
    Acc sm;
    sm.rd(Tensor::S, passes * seen * se);
    sm.wr(Tensor::P, N2 * se);
    sm.on_chip(passes * seen * se, N2 * se);
    out.push_back(sm.done("naive_softmax", BH));
    Acc pv;
    pv.rd(Tensor::P, N2 * se);
    pv.rd(Tensor::V, reread);
    pv.rd(Tensor::Vscale, Tt * Tt * sb);
    pv.wr(Tensor::O, nd_out);
    pv.on_chip(N2 * se + reread, 0);
    out.push_back(pv.done("naive_pv", BH));
  }
  if (c.has_bwd()) {
    Acc dv;
    dv.rd(Tensor::P, N2 * se);
    dv.rd(Tensor::dO, reread);
    dv.wr(expand ? Tensor::dVexp : Tensor::dV, nd);
    dv.on_chip(N2 * se + reread, 0);
    out.push_back(dv.done("naive_bwd_dv", BH));
    Acc dp;
    dp.rd(Tensor::dO, reread);
    dp.rd(Tensor::V, reread);
    dp.wr(Tensor::dP, N2 * se);
    dp.on_chip(2 * reread, N2 * 4);
    out.push_back(dp.done("naive_bwd_dp", BH));
    Acc ds;
    ds.rd(Tensor::O, nd);
    ds.rd(Tensor::dO, nd);
    ds.rd(Tensor::P, N2 * se);
    ds.rd(Tensor::dP, N2 * se);
    ds.wr(Tensor::dS, N2 * se);
    ds.on_chip(2 * nd + 2 * N2 * se, N2 * se);
    out.push_back(ds.done("naive_bwd_ds", BH));
    Acc dq;
    dq.rd(Tensor::dS, N2 * se);
    dq.rd(Tensor::K, reread);
    dq.wr(Tensor::dQ, nd);
    dq.on_chip(N2 * se + reread, 0);
    out.push_back(dq.done("naive_bwd_dq", BH));
    Acc dk;
    dk.rd(Tensor::dS, N2 * se);
    dk.rd(Tensor::Q, reread);
    dk.wr(expand ? Tensor::dKexp : Tensor::dK, nd);
    dk.on_chip(N2 * se + reread, 0);
    out.push_back(dk.done("naive_bwd_dk", BH));
    if (expand) out.push_back(gqa_reduce(s, BHkv));
  }
  return out;
}

u128 paper_io_standard_fwd(const AttnConfig& c) {
  const u128 N = c.seq, d = c.head_dim;
  return cprod("paper IO", cadd(4 * N * d, cmul(4 * N, N)), u128{c.batch} * c.heads, dtype_bytes(c.dtype));
}

u128 paper_io_flash_fwd(const AttnConfig& c, u64 sram_bytes) {
  const u128 N = c.seq, d = c.head_dim, M = sram_bytes / dtype_bytes(c.dtype);
  return cprod("paper IO", ceil_div(cmul(N * N, d * d), M), u128{c.batch} * c.heads, dtype_bytes(c.dtype));
}

}  // namespace attnlab
