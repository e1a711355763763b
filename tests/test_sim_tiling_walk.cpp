// The tiling view's replay (sim/tiling_walk.hpp) against the simulator: walking every
// event of one head must end on exactly the bytes simulate_traffic() reports for the same head,
// so the counters a learner watches rise to the simulator's own totals.
#include <doctest/doctest.h>

#include "hw/gpu.hpp"
#include "sim/tiling_walk.hpp"
#include "sim/traffic.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
AttnConfig head(u64 n, u64 d, bool causal) {
  AttnConfig c;
  c.batch = 1;
  c.heads = 1;
  c.seq = n;
  c.head_dim = d;
  c.causal = causal;
  return c;
}
void check_levels_equal(const LevelBytes& a, const LevelBytes& b) {
  CHECK(to_string_u128(a.read) == to_string_u128(b.read));
  CHECK(to_string_u128(a.write) == to_string_u128(b.write));
}
}  // namespace

TEST_CASE("the tiling walk ends on the simulator's totals") {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  for (Algo a : {Algo::naive, Algo::flash1, Algo::flash2})
    for (bool causal : {false, true})
      for (bool gpu_order : {false, true}) {
        CAPTURE(algo_name(a));
        CAPTURE(causal);
        CAPTURE(gpu_order);
        const AttnConfig c = head(1024, 64, causal);
        TileWalk w(a, c, gpu, gpu_order);
        w.seek(w.size());
        const auto rep = simulate_traffic(c, gpu, {a});
        const AlgoTraffic& r = rep.results[0];
        check_levels_equal(w.hbm(), r.hbm);
        check_levels_equal(w.sram(), r.sram);
        // DRAM depends on the order the L2 sees accesses: equal in the simulator's (GPU) order.
        if (gpu_order) check_levels_equal(w.dram(), r.dram);
        CHECK(w.resident().empty());  // every block has finished and freed its SRAM
      }
}

TEST_CASE("the tiling walk's picture") {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  SUBCASE("FlashAttention-2, N = 512, d = 64: 128x128 tiles, a 4x4 grid, Q0 K0 V0 in SRAM after 3 loads") {
    TileWalk w(Algo::flash2, head(512, 64, false), gpu, false);
    CHECK(w.grid_rows() == 4);
    CHECK(w.grid_cols() == 4);
    w.seek(3);  // load Q0, load K0, load V0
    CHECK(w.resident().size() == 3);
    CHECK(w.score(0, 0) == ScoreTile::untouched);
    w.seek(4);  // S00 on chip
    CHECK(w.score(0, 0) == ScoreTile::computed);
    // 3 tiles of 128 x 64 fp16 = 3 * 16 KiB read from global memory so far.
    CHECK(w.hbm().read == u128{3 * 128 * 64 * 2});
    CHECK(w.hbm().write == 0);
  }
  SUBCASE("causal FlashAttention-2 never computes tiles above the diagonal") {
    TileWalk w(Algo::flash2, head(512, 64, true), gpu, false);
    w.seek(w.size());
    CHECK(w.score(0, 1) == ScoreTile::untouched);
    CHECK(w.score(3, 3) == ScoreTile::computed);
    CHECK(w.computes_done() == 10);  // 1 + 2 + 3 + 4 tile pairs
  }
  SUBCASE("naive writes every S tile to HBM, then P, then reads P back") {
    TileWalk w(Algo::naive, head(256, 64, false), gpu, false);
    w.seek(w.size());
    for (u64 i = 0; i < w.grid_rows(); ++i)
      for (u64 j = 0; j < w.grid_cols(); ++j) CHECK(w.score(i, j) == ScoreTile::consumed);
  }
  SUBCASE("seeking back replays from the start") {
    TileWalk w(Algo::flash2, head(512, 64, false), gpu, false);
    w.seek(w.size());
    w.seek(0);
    CHECK(w.position() == 0);
    CHECK(w.hbm().total() == 0);
    CHECK(w.current() == nullptr);
  }
  SUBCASE("more than one head is refused: the picture is one head") {
    AttnConfig c = head(512, 64, false);
    c.heads = 2;
    CHECK_THROWS_AS(TileWalk(Algo::flash2, c, gpu, false), InputError);
  }
}
