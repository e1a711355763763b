#include "sim/window_tiles.hpp"

#include <algorithm>
#include <climits>
#include <fmt/format.h>

#include "sim/kernel_plan.hpp"
#include "sim/traffic.hpp"
#include "util/errors.hpp"

namespace attnlab {

double WindowTiles::skipped_fraction() const {
  return tiles_total == 0 ? 0.0 : to_double(tiles_skipped) / to_double(tiles_total);
}

WindowTiles window_tiles(const WindowConfig& c, const GpuSpec& gpu) {
  auto need = [](bool ok, const char* what, long long got) {
    if (!ok) throw InputError(fmt::format("{} (got {})", what, got));
  };
  need(c.batch >= 1 && c.heads >= 1, "window batch and heads must be at least 1", 0);
  need(c.kv_heads >= 1 && c.heads % c.kv_heads == 0, "window kv_heads must divide heads", (long long)c.kv_heads);
  need(c.seq_q >= 1 && c.seq_q <= (u64{1} << 24), "window seq_q must be between 1 and 16777216", (long long)c.seq_q);
  need(c.seq_kv >= c.seq_q && c.seq_kv <= (u64{1} << 24), "window seq_kv must be between seq_q and 16777216",
       (long long)c.seq_kv);
  need(c.block_q >= 1 && c.block_kv >= 1, "window block_q and block_kv must be at least 1", 0);
  // Tiles past the sequence change nothing; the bound keeps (j + 1) * bc inside 64 signed bits.
  need(c.block_q <= (u64{1} << 24), "window block_q must be at most 16777216", (long long)std::min<u64>(c.block_q, LLONG_MAX));
  need(c.block_kv <= (u64{1} << 24), "window block_kv must be at most 16777216", (long long)std::min<u64>(c.block_kv, LLONG_MAX));
  need(c.head_dim >= 1, "window head_dim must be at least 1", (long long)c.head_dim);

  need(c.seq_kv == c.seq_q, "window seq_kv must equal seq_q (the simulated attention is self-attention)",
       (long long)std::min<u64>(c.seq_kv, LLONG_MAX));

  // The flash2 plan with the window's mask: its events give the bytes, through the hierarchy and
  // its L2, like every other attention figure.
  AttnConfig a;
  a.batch = c.batch, a.heads = c.heads, a.kv_heads = c.kv_heads, a.seq = c.seq_q, a.head_dim = c.head_dim;
  a.dtype = c.dtype, a.causal = c.causal, a.pass = Pass::fwd;
  a.block_q = c.block_q, a.block_kv = c.block_kv;
  a.window_left = c.window_left, a.window_right = c.window_right;
  const TrafficReport rep = simulate_traffic(a, gpu, {Algo::flash2});
  const AlgoTraffic& r = rep.results.at(0);

  WindowTiles w;
  const u64 tr = (c.seq_q + c.block_q - 1) / c.block_q, tc = (c.seq_kv + c.block_kv - 1) / c.block_kv;
  w.tiles_total = cmul(tr, tc, "tiles");
  const PairSums p = pair_sums(a, c.block_q, c.block_kv);
  w.tiles_visited = p.pairs;
  w.tiles_skipped = csub(w.tiles_total, w.tiles_visited, "skipped tiles");
  // A visited tile is fully visible when every real row sees every real key of it.
  using ll = long long;
  const ll nq = ll(c.seq_q), br = ll(c.block_q), bc = ll(c.block_kv);
  constexpr ll kUnbounded = ll(1) << 40;
  const ll lo = c.window_left >= 0 ? std::min(c.window_left, kUnbounded) : kUnbounded;
  const ll hi = c.causal ? 0 : (c.window_right >= 0 ? std::min(c.window_right, kUnbounded) : kUnbounded);
  for (u64 i = 0; i < tr; ++i) {
    const ll q0 = ll(i) * br, q1 = std::min(nq, q0 + br) - 1;
    const TileRange kv = kv_tiles(a, i, c.block_q, c.block_kv);
    for (u64 j = kv.begin; j < kv.end; ++j) {
      const ll k0 = ll(j) * bc, k1 = std::min(nq, k0 + bc) - 1;
      const bool full = k1 <= q0 + hi && k0 >= q1 - lo && k0 + bc <= nq;
      if (!full) ++w.tiles_masked;
    }
  }
  w.pairs_visible = visible_pairs(a);
  const u128 bh = cmul(c.batch, c.heads, "heads");
  w.keys_loaded = cmul(p.sum_c, bh, "keys");
  w.hbm_read = r.hbm.read;
  w.hbm_write = r.hbm.write;
  w.dram_read = r.dram.read;
  w.dram_write = r.dram.write;
  w.l2_fabric = r.l2_fabric;
  w.flops = r.flops;
  return w;
}

}  // namespace attnlab
