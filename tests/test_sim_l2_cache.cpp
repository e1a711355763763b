// The L2 model (sim/l2_cache.hpp) by hand: every DRAM figure of the simulator rests on its LRU
// order, write-back and write-allocate. Tiles of 100 bytes in caches of a few tiles, so that each
// expected value can be counted on one's fingers.
#include <doctest/doctest.h>

#include "sim/l2_cache.hpp"

using namespace attnlab;

namespace {
TileEvent tile(Tensor t, u64 row, u64 bytes = 100, u64 head = 0) {
  TileEvent e;
  e.tensor = t;
  e.head = head;
  e.row = row;
  e.rows = 1;
  e.bytes = bytes;
  return e;
}
constexpr size_t kO = static_cast<size_t>(Tensor::O);
constexpr size_t kK = static_cast<size_t>(Tensor::K);
}  // namespace

TEST_CASE("L2: a miss reads DRAM, a hit does not") {
  L2Cache l2(300);
  const L2Outcome first = l2.load(tile(Tensor::K, 0));
  CHECK_FALSE(first.hit);
  CHECK(first.dram_read == 100);
  const L2Outcome again = l2.load(tile(Tensor::K, 0));
  CHECK(again.hit);
  CHECK(again.dram_read == 0);
  // Same row of another tensor, or of another head, is another line.
  CHECK_FALSE(l2.load(tile(Tensor::V, 0)).hit);
  CHECK_FALSE(l2.load(tile(Tensor::K, 0, 100, 1)).hit);
}

TEST_CASE("L2: least recently used goes first, and a hit refreshes a tile") {
  L2Cache l2(300);  // three tiles
  l2.load(tile(Tensor::K, 0));
  l2.load(tile(Tensor::K, 1));
  l2.load(tile(Tensor::K, 2));
  l2.load(tile(Tensor::K, 0));  // hit: K0 becomes the most recent, K1 the least
  l2.load(tile(Tensor::K, 3));  // full: evicts K1
  CHECK(l2.contains(tile(Tensor::K, 0)));
  CHECK_FALSE(l2.contains(tile(Tensor::K, 1)));
  CHECK(l2.contains(tile(Tensor::K, 2)));
  CHECK(l2.contains(tile(Tensor::K, 3)));
  const L2Outcome o = l2.load(tile(Tensor::K, 1));  // miss again; now K2 is the least recent
  CHECK(o.dram_read == 100);
  CHECK_FALSE(l2.contains(tile(Tensor::K, 2)));
  // Clean tiles leave without a write-back.
  for (u64 w : o.written_back) CHECK(w == 0);
}

TEST_CASE("L2: write-allocate without a read, write-back on eviction and at the flush") {
  L2Cache l2(200);
  SUBCASE("a stored tile is resident and dirty: no DRAM read, and a later load hits") {
    const L2Outcome s = l2.store(tile(Tensor::O, 0));
    CHECK(s.dram_read == 0);  // the whole tile is overwritten: nothing is fetched first
    CHECK(l2.load(tile(Tensor::O, 0)).hit);
  }
  SUBCASE("evicting a dirty tile writes it back, charged to its own tensor") {
    l2.store(tile(Tensor::O, 0));
    l2.load(tile(Tensor::K, 0));
    const L2Outcome o = l2.load(tile(Tensor::K, 1));  // evicts O0, the least recent
    CHECK(o.written_back[kO] == 100);
    CHECK(o.written_back[kK] == 0);
    CHECK(l2.flush()[kO] == 0);  // already written
  }
  SUBCASE("a tile re-written while resident is written back once") {
    l2.store(tile(Tensor::O, 0));
    l2.store(tile(Tensor::O, 0));
    l2.store(tile(Tensor::O, 0));
    const auto flushed = l2.flush();
    CHECK(flushed[kO] == 100);
    CHECK(l2.flush()[kO] == 0);  // the flush leaves clean lines behind
    CHECK(l2.contains(tile(Tensor::O, 0)));
  }
  SUBCASE("clear forgets everything, dirty lines included") {
    l2.store(tile(Tensor::O, 0));
    l2.clear();
    CHECK_FALSE(l2.contains(tile(Tensor::O, 0)));
    CHECK(l2.flush()[kO] == 0);
  }
}

TEST_CASE("L2: a tile larger than the whole cache streams through") {
  L2Cache l2(200);
  l2.load(tile(Tensor::K, 0));
  const L2Outcome big = l2.load(tile(Tensor::V, 0, 500));
  CHECK(big.dram_read == 500);
  CHECK_FALSE(l2.contains(tile(Tensor::V, 0, 500)));
  CHECK(l2.contains(tile(Tensor::K, 0)));  // nothing was evicted for it
  const L2Outcome store = l2.store(tile(Tensor::O, 0, 500));
  CHECK(store.written_back[kO] == 500);  // straight to DRAM
  CHECK(l2.capacity() == 200);
}
