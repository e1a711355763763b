// Ring attention's token placement (the host half of the ring kernel's layouts): the permutation
// worked out by hand, gather/scatter round trips, the launches of a step, and their agreement with
// the model's ring_block_work for every device pair.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "models/ring_placement.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
std::vector<long long> tokens_of(const RingPlacement& p, int dev) {
  std::vector<long long> t;
  for (int l = 0; l < p.block; ++l) t.push_back(ring_token(p, dev, l));
  return t;
}
}  // namespace

TEST_CASE("ring placement: which tokens each device holds, N = 16 on P = 4") {
  RingPlacement p{RingLayout::contiguous, 4, 4};
  CHECK(tokens_of(p, 2) == std::vector<long long>{8, 9, 10, 11});
  p.layout = RingLayout::zigzag;  // chunks of 2: device 1 holds chunks 1 and 6
  CHECK(tokens_of(p, 1) == std::vector<long long>{2, 3, 12, 13});
  CHECK(tokens_of(p, 0) == std::vector<long long>{0, 1, 14, 15});
  p.layout = RingLayout::striped;
  CHECK(tokens_of(p, 3) == std::vector<long long>{3, 7, 11, 15});
}

TEST_CASE("ring placement: every token is held exactly once, and gather then scatter is the identity") {
  for (RingLayout l : kRingLayouts)
    for (int P : {1, 2, 3, 4, 8})
      for (int n : {2, 6, 10}) {
        const RingPlacement p{l, P, n};
        CAPTURE(ring_layout_name(l));
        CAPTURE(P);
        CAPTURE(n);
        std::vector<int> seen(size_t(p.seq()), 0);
        for (int d = 0; d < P; ++d)
          for (long long t : tokens_of(p, d)) ++seen[size_t(t)];
        CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
        // Rows of 3 values, 2 (b, h) rows, 2-byte elements: each value says where it came from.
        const long long rows = 2, width = 3;
        std::vector<std::uint16_t> whole(size_t(rows * p.seq() * width)), back(whole.size(), 0xFFFF);
        std::iota(whole.begin(), whole.end(), std::uint16_t(1));
        std::vector<std::uint16_t> block(size_t(rows * n * width));
        for (int d = 0; d < P; ++d) {
          ring_gather(p, d, whole.data(), block.data(), rows, width, 2);
          ring_scatter(p, d, block.data(), back.data(), rows, width, 2);
        }
        CHECK(back == whole);
      }
  // Chunk-major storage: zigzag device 1 of P = 2 (n = 4) holds tokens 2, 3 then 4, 5, each chunk
  // for every row before the next chunk.
  const RingPlacement z{RingLayout::zigzag, 2, 4};
  std::vector<std::uint16_t> whole(16), block(8);  // 2 rows x 8 tokens, width 1
  std::iota(whole.begin(), whole.end(), std::uint16_t(0));
  ring_gather(z, 1, whole.data(), block.data(), 2, 1, 2);
  CHECK(block == std::vector<std::uint16_t>{2, 3, 10, 11, 4, 5, 12, 13});
}

TEST_CASE("ring placement: the launches of a step, P = 4") {
  SUBCASE("zigzag: the own block is one diagonal launch for both chunks and the late chunk on the early one") {
    const RingPlacement p{RingLayout::zigzag, 4, 8};
    auto own = ring_step_launches(p, true, 1, 1);
    REQUIRE(own.size() == 2);
    CHECK(own[0].diagonal_group);
    CHECK(own[0].mask == RingMask::causal);
    CHECK((own[1].q_chunk == 1 && own[1].kv_chunk == 0 && own[1].mask == RingMask::full));
    // An earlier device's block: both query chunks on its early chunk, fully.
    auto before = ring_step_launches(p, true, 2, 0);
    REQUIRE(before.size() == 2);
    CHECK((before[0].q_chunk == 0 && before[0].kv_chunk == 0 && before[0].mask == RingMask::full));
    CHECK((before[1].q_chunk == 1 && before[1].kv_chunk == 0 && before[1].mask == RingMask::full));
    // A later device's block: the late query chunk on both of its chunks, fully.
    auto after = ring_step_launches(p, true, 0, 3);
    REQUIRE(after.size() == 2);
    CHECK((after[0].q_chunk == 1 && after[0].kv_chunk == 1 && after[0].mask == RingMask::full));
    CHECK((after[1].q_chunk == 1 && after[1].kv_chunk == 0 && after[1].mask == RingMask::full));
    // Half the block pair's work either way: 2 of 4 chunk pairs.
    CHECK(ring_launches_pairs(p, before) == 32.0);
    CHECK(ring_launches_pairs(p, after) == 32.0);
  }
  SUBCASE("striped: the diagonal on earlier or own blocks, the diagonal shifted by one on later ones") {
    const RingPlacement p{RingLayout::striped, 4, 8};
    CHECK(ring_step_launches(p, true, 2, 1).at(0).mask == RingMask::causal);
    CHECK(ring_step_launches(p, true, 2, 2).at(0).mask == RingMask::causal);
    CHECK(ring_step_launches(p, true, 2, 3).at(0).mask == RingMask::causal_strict);
    CHECK(ring_launches_pairs(p, ring_step_launches(p, true, 2, 3)) == 28.0);  // 8 x 7 / 2
  }
  SUBCASE("contiguous: nothing to launch above the diagonal") {
    const RingPlacement p{RingLayout::contiguous, 4, 8};
    CHECK(ring_step_launches(p, true, 1, 2).empty());
    CHECK(ring_step_launches(p, true, 2, 1).at(0).mask == RingMask::full);
  }
  SUBCASE("no mask: every chunk pair, fully") {
    const RingPlacement p{RingLayout::zigzag, 4, 8};
    auto all = ring_step_launches(p, false, 1, 2);
    CHECK(all.size() == 3);  // the (c, c) group and the two crossed pairs
    CHECK(ring_launches_pairs(p, all) == 64.0);
  }
}

TEST_CASE("ring placement: the launches agree with the model's ring_block_work and with the tokens, pair by pair") {
  for (RingLayout l : kRingLayouts)
    for (int P : {1, 2, 3, 4, 8})
      for (int n : {2, 8, 30, 778})
        for (bool causal : {false, true}) {
          CAPTURE(ring_layout_name(l));
          CAPTURE(P);
          CAPTURE(n);
          CAPTURE(causal);
          CHECK_NOTHROW(ring_placement_check({l, P, n}, causal));
        }
}

TEST_CASE("ring placement: zigzag refuses an odd block") {
  CHECK_THROWS_WITH_AS(ring_placement_validate({RingLayout::zigzag, 4, 777}),
                       "--layout zigzag holds two chunks of n / 2 tokens per device: --block must be even (got 777)",
                       InputError);
}
