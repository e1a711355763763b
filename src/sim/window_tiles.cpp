#include "sim/window_tiles.hpp"

#include <algorithm>
#include <climits>
#include <fmt/format.h>

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

  using ll = long long;
  const ll nq = ll(c.seq_q), nk = ll(c.seq_kv), br = ll(c.block_q), bc = ll(c.block_kv), off = nk - nq;
  constexpr ll kUnbounded = ll(1) << 40;
  // A window wider than 2^40 keys is unbounded for sequences of at most 2^24: clamping keeps
  // q0 + off + hi from overflowing (window_right = LLONG_MAX would have).
  const ll lo = c.window_left >= 0 ? std::min(c.window_left, kUnbounded) : kUnbounded;
  const ll hi = c.causal ? 0 : (c.window_right >= 0 ? std::min(c.window_right, kUnbounded) : kUnbounded);
  const ll tr = (nq + br - 1) / br, tc_all = (nk + bc - 1) / bc;

  WindowTiles w;
  w.tiles_total = cmul(u128(tr), u128(tc_all), "tiles");
  u128 keys_per_head = 0;
  for (ll qt = 0; qt < tr; ++qt) {
    const ll q0 = qt * br, q1 = std::min(nq, q0 + br) - 1;  // the tile's real rows
    // The kernel's range uses the tile's nominal last row (q0 + Br − 1), as attn-mma.cu does.
    const ll last_key = std::min(nk - 1, q0 + br - 1 + off + hi);
    const ll first_key = std::max(ll(0), q0 + off - lo);
    if (first_key > last_key) continue;
    const ll j0 = first_key / bc, j1 = last_key / bc;
    w.tiles_visited += u128(j1 - j0 + 1);
    keys_per_head += u128(std::min(nk, (j1 + 1) * bc) - j0 * bc);
    for (ll j = j0; j <= j1; ++j) {
      const ll k0 = j * bc, k1 = std::min(nk, k0 + bc) - 1;
      // Fully visible when every real row sees every real key of the tile.
      const bool full = k1 <= q0 + off + hi && k0 >= q1 + off - lo && k0 + bc <= nk;
      if (!full) ++w.tiles_masked;
    }
  }
  w.tiles_skipped = csub(w.tiles_total, w.tiles_visited, "skipped tiles");
  for (ll i = 0; i < nq; ++i) {
    const ll a = std::max(ll(0), i + off - lo), b = std::min(nk - 1, i + off + hi);
    if (b >= a) w.pairs_visible += u128(b - a + 1);
  }
  const u128 bh = cmul(c.batch, c.heads, "heads");
  const u128 e = dtype_bytes(c.dtype);
  const u128 row_bytes = cmul(c.head_dim, e, "bytes");
  w.keys_loaded = cmul(keys_per_head, bh, "keys");
  const u128 q_bytes = cprod("window bytes", bh, c.seq_q, row_bytes);
  // Distinct keys any block loads (tile-granular): from the first row's band to the last row's.
  const ll first_any = std::max(ll(0), off - lo), last_any = std::min(nk - 1, nq - 1 + off + hi);
  const ll distinct = first_any > last_any ? 0 : std::min(nk, (last_any / bc + 1) * bc) - (first_any / bc) * bc;
  const u128 kv_once = cprod("window bytes", 2, c.batch, c.kv_heads, u128(distinct), row_bytes);
  w.hbm_read = cadd(q_bytes, cprod("window bytes", 2, w.keys_loaded, row_bytes), "window bytes");
  w.hbm_write = q_bytes;
  // DRAM: a K/V tile is read by the few query tiles whose band covers it; those blocks are
  // adjacent in the grid and run together, so it comes from DRAM once.
  w.dram_read = cadd(q_bytes, kv_once, "window bytes");
  w.dram_write = q_bytes;
  // K/V tiles are read by the neighbouring query tiles (shared); Q and O by one block each.
  w.l2_fabric = l2_fabric_bytes(kv_once, cadd(q_bytes, w.dram_write, "window bytes"), gpu);
  w.flops = cprod("window FLOPs", 4, c.head_dim, w.pairs_visible, bh);
  return w;
}

}  // namespace attnlab
