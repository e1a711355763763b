// hierarchy_run by hand: blocks per SM, waves, the interleaved order the L2 sees, the cold L2 of
// each kernel, and the paths without an L2 model and with a sample. Small made-up kernels on a
// made-up GPU of 2 SMs, so that every expected byte can be counted.
#include <doctest/doctest.h>

#include "sim/hierarchy.hpp"

using namespace attnlab;

namespace {
constexpr u64 kTile = 1000;

GpuSpec tiny_gpu(u64 sms, u64 l2_bytes) {
  GpuSpec g;
  g.name = "tiny";
  g.sm_count = sms;
  g.smem_per_sm = 100'000;
  g.l2_bytes = l2_bytes;
  return g;
}

// A kernel of `grid` blocks; each loads the K tiles 0 .. tiles-1 (shared by every block) and
// stores its own O tile.
KernelPlan reader(u64 grid, u64 tiles, u64 smem = 40'000, u64 max_per_sm = 1) {
  KernelPlan p;
  p.name = "reader";
  p.grid = grid;
  p.smem_bytes = smem;
  p.max_blocks_per_sm = max_per_sm;
  p.events_per_block = tiles + 1;
  p.emit = [tiles](u64 b, std::vector<TileEvent>& out, u64 limit) {
    BlockEmitter em{out, 0, b, limit};
    for (u64 j = 0; j < tiles && !em.full(); ++j) em.load(Tensor::K, 0, j, 0, 1, kTile, 1);
    em.store(Tensor::O, 0, b, 0, 1, kTile, 1);
  };
  return p;
}

// The closed-form side of `reader`: what every event moves, summed.
KernelCounts reader_exact(u64 grid, u64 tiles) {
  KernelCounts k;
  k.name = "reader";
  k.hbm[static_cast<size_t>(Tensor::K)].read = u128{grid} * tiles * kTile;
  k.hbm[static_cast<size_t>(Tensor::O)].write = u128{grid} * kTile;
  k.sram.write = u128{grid} * tiles * kTile;
  k.sram.read = u128{grid} * kTile;
  return k;
}
}  // namespace

TEST_CASE("blocks per SM: the SRAM limit or the register limit, at least one") {
  const GpuSpec g = tiny_gpu(2, 1'000'000);
  CHECK(hierarchy_blocks_per_sm(reader(1, 1, 40'000, 8), g) == 2);   // 100 000 / 40 000 of SRAM
  CHECK(hierarchy_blocks_per_sm(reader(1, 1, 10'000, 3), g) == 3);   // 10 fit, registers allow 3
  CHECK(hierarchy_blocks_per_sm(reader(1, 1, 200'000, 8), g) == 1);  // too big: still runs, alone
  CHECK(hierarchy_blocks_per_sm(reader(1, 1, 0, 4), g) == 4);        // no SRAM: registers decide
}

TEST_CASE("waves: 5 blocks on 2 SMs, 1 block each, run as 3 waves of 2, 2 and 1") {
  const GpuSpec g = tiny_gpu(2, 1'000'000);
  const auto h = hierarchy_run({reader(5, 1)}, {reader_exact(5, 1)}, g, {});
  REQUIRE(h.size() == 1);
  CHECK(h[0].blocks_per_sm == 1);
  CHECK(h[0].wave_blocks == 2);
  CHECK(h[0].waves == 3);
  CHECK(h[0].events_total == 10);
  CHECK(h[0].events_simulated == 10);
  CHECK(h[0].method == DramMethod::trace);
}

TEST_CASE("the order the L2 sees: blocks of a wave in lockstep, waves one after the other") {
  std::vector<std::pair<u64, Tensor>> seen;
  auto record = [&](const TileEvent& e) {
    seen.emplace_back(e.block, e.tensor);
    return true;
  };
  SUBCASE("one wave of 2 blocks: their events alternate") {
    hierarchy_for_each_event({reader(2, 1)}, tiny_gpu(2, 1'000'000), record);
    CHECK(seen == std::vector<std::pair<u64, Tensor>>{{0, Tensor::K}, {1, Tensor::K}, {0, Tensor::O}, {1, Tensor::O}});
  }
  SUBCASE("one SM: one block after the other") {
    hierarchy_for_each_event({reader(2, 1)}, tiny_gpu(1, 1'000'000), record);
    CHECK(seen == std::vector<std::pair<u64, Tensor>>{{0, Tensor::K}, {0, Tensor::O}, {1, Tensor::K}, {1, Tensor::O}});
  }
  SUBCASE("the visitor stops the walk") {
    hierarchy_for_each_event({reader(2, 1)}, tiny_gpu(2, 1'000'000), [&](const TileEvent& e) {
      seen.emplace_back(e.block, e.tensor);
      return seen.size() < 3;
    });
    CHECK(seen.size() == 3);
  }
}

TEST_CASE("DRAM: K tiles shared by the blocks of a wave come from DRAM once") {
  // 2 blocks, each loads K0, K1, K2 and stores its O tile; an L2 of two tiles.
  const auto exact = std::vector<KernelCounts>{reader_exact(2, 3)};
  const size_t K = static_cast<size_t>(Tensor::K), O = static_cast<size_t>(Tensor::O);
  SUBCASE("together (2 SMs): K0 K0 K1 K1 K2 K2 O O, each K tile misses once") {
    const auto h = hierarchy_run({reader(2, 3)}, exact, tiny_gpu(2, 2 * kTile), {});
    CHECK(h[0].hbm[K].read == 6 * kTile);
    CHECK(h[0].dram[K].read == 3 * kTile);
    // Both O tiles stay resident (the stores evict the clean K tiles) and are written at the flush.
    CHECK(h[0].hbm[O].write == 2 * kTile);
    CHECK(h[0].dram[O].write == 2 * kTile);
    CHECK(h[0].sram.write == 6 * kTile);
    CHECK(h[0].sram.read == 2 * kTile);
  }
  SUBCASE("one after the other (1 SM): block 1 finds K0 evicted by K2 and misses every tile") {
    const auto h = hierarchy_run({reader(2, 3)}, exact, tiny_gpu(1, 2 * kTile), {});
    CHECK(h[0].waves == 2);
    CHECK(h[0].dram[K].read == 6 * kTile);
    CHECK(h[0].dram[O].write == 2 * kTile);
  }
}

TEST_CASE("each kernel starts with a cold L2 and writes its dirty lines back at its end") {
  // Two identical kernels on an L2 that holds everything: the second misses just like the first.
  const auto h = hierarchy_run({reader(2, 1), reader(2, 1)}, {reader_exact(2, 1), reader_exact(2, 1)},
                               tiny_gpu(2, 1'000'000), {});
  REQUIRE(h.size() == 2);
  for (const auto& k : h) {
    CHECK(k.dram[static_cast<size_t>(Tensor::K)].read == kTile);
    CHECK(k.dram[static_cast<size_t>(Tensor::O)].write == 2 * kTile);  // flushed at the kernel's end
    CHECK(k.dram_total().total() == 3 * kTile);
  }
}

TEST_CASE("without the L2 model: closed forms, DRAM = global, nothing simulated") {
  HierarchyOptions o;
  o.l2_model = false;
  const auto h = hierarchy_run({reader(5, 4)}, {reader_exact(5, 4)}, tiny_gpu(2, 1'000'000), o);
  CHECK(h[0].method == DramMethod::no_l2_model);
  CHECK(h[0].events_simulated == 0);
  CHECK(h[0].events_total == 25);
  CHECK(h[0].waves == 3);
  CHECK(h[0].hbm_total().read == 20 * kTile);
  CHECK(h[0].dram_total().read == 20 * kTile);
  CHECK(h[0].dram_total().write == 5 * kTile);
}

TEST_CASE("sampled: the first wave's hit rate applied to the exact totals") {
  // 8 blocks reading 10 shared K tiles each, 2 per wave: every wave reads the 10 tiles from DRAM
  // once for 2 blocks (hit rate 1/2). With a budget of 30 events one wave (22 events) is simulated.
  HierarchyOptions o;
  o.max_events_per_kernel = 30;
  o.sample_events = 30;
  const auto h = hierarchy_run({reader(8, 10)}, {reader_exact(8, 10)}, tiny_gpu(2, 1'000'000), o);
  CHECK(h[0].method == DramMethod::sampled);
  CHECK(h[0].events_simulated == 22);
  CHECK(h[0].hbm[static_cast<size_t>(Tensor::K)].read == 80 * kTile);  // exact, not the sample's
  CHECK(h[0].dram[static_cast<size_t>(Tensor::K)].read == 40 * kTile);  // 80 x (10 / 20)
  SUBCASE("a wave larger than the budget: the first steps of each block") {
    o.sample_events = 16;  // 8 per block (the floor): 8 K loads of each of the 2 blocks
    const auto s = hierarchy_run({reader(8, 10)}, {reader_exact(8, 10)}, tiny_gpu(2, 1'000'000), o);
    CHECK(s[0].events_simulated == 16);
    CHECK(s[0].dram[static_cast<size_t>(Tensor::K)].read == 40 * kTile);  // 8 of 16 missed: 80 / 2
  }
}
