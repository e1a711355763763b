// Ring attention's causal layouts: the visible pairs of every block pair worked out by hand for a
// 16-token sequence on 4 devices, the work each device does over a pass, and the efficiency of the
// schedule against the ideal (the imbalance of contiguous blocks, removed by zigzag and striped).
#include <doctest/doctest.h>

#include <numeric>

#include "models/ring.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
RingConfig causal_ring(u64 seq, u64 devices, RingLayout layout) {
  RingConfig c;
  c.seq = seq;
  c.devices = devices;
  c.heads = 32;
  c.kv_heads = 32;
  c.head_dim = 128;
  c.dtype = DType::bf16;
  c.causal = true;
  c.layout = layout;
  c.flops_per_s = 989e12;
  c.link_bytes_per_s = 1e18;  // transfers free: the pass is decided by the work alone
  return c;
}
// Work of each device over the whole pass, in full block pairs.
std::vector<double> work_per_device(const RingConfig& c) {
  std::vector<double> w(c.devices, 0.0);
  for (u64 i = 0; i < c.devices; ++i)
    for (u64 j = 0; j < c.devices; ++j) w[i] += ring_block_work(c, i, j);
  return w;
}
}  // namespace

TEST_CASE("ring layouts: names parse both ways, unknown names are refused") {
  for (RingLayout l : kRingLayouts) CHECK(ring_layout_parse(ring_layout_name(l)) == l);
  CHECK_THROWS_WITH_AS(ring_layout_parse("diagonal"), "--layout must be contiguous, zigzag or striped (got 'diagonal')",
                       InputError);
}

TEST_CASE("ring layouts: visible pairs of a block pair, N = 16 on P = 4 (n = 4)") {
  SUBCASE("contiguous: full below the diagonal, n(n+1)/2 = 10 of 16 on it, none above") {
    const RingConfig c = causal_ring(16, 4, RingLayout::contiguous);
    CHECK(ring_block_work(c, 2, 1) == 1.0);
    CHECK(ring_block_work(c, 2, 2) == 10.0 / 16);
    CHECK(ring_block_work(c, 2, 3) == 0.0);
  }
  SUBCASE("zigzag: device i holds chunks i and 7-i of 2 tokens") {
    const RingConfig c = causal_ring(16, 4, RingLayout::zigzag);
    // Own chunks: two diagonal chunks of 3 pairs and the late chunk over the early one, 4 pairs.
    CHECK(ring_block_work(c, 1, 1) == 10.0 / 16);
    // Any other device: exactly two of the four chunk pairs are fully visible.
    CHECK(ring_block_work(c, 1, 0) == 8.0 / 16);
    CHECK(ring_block_work(c, 1, 3) == 8.0 / 16);
    CHECK(ring_block_work(c, 0, 3) == 8.0 / 16);
  }
  SUBCASE("striped: tokens dealt round-robin, n(n+1)/2 keys at or before, n(n-1)/2 after") {
    const RingConfig c = causal_ring(16, 4, RingLayout::striped);
    CHECK(ring_block_work(c, 2, 0) == 10.0 / 16);
    CHECK(ring_block_work(c, 2, 2) == 10.0 / 16);
    CHECK(ring_block_work(c, 2, 3) == 6.0 / 16);
  }
  SUBCASE("without a mask every layout computes full block pairs") {
    RingConfig c = causal_ring(16, 4, RingLayout::zigzag);
    c.causal = false;
    CHECK(ring_block_work(c, 0, 3) == 1.0);
  }
}

TEST_CASE("ring layouts: every layout does the same total work, N(N+1)/2 pairs") {
  for (RingLayout l : kRingLayouts) {
    CAPTURE(ring_layout_name(l));
    const auto w = work_per_device(causal_ring(16, 4, l));
    CHECK(std::accumulate(w.begin(), w.end(), 0.0) * 16 == doctest::Approx(16.0 * 17 / 2));
  }
  // Contiguous: device 0 has one diagonal block, device 3 three full blocks and a diagonal one.
  const auto contiguous = work_per_device(causal_ring(16, 4, RingLayout::contiguous));
  CHECK(contiguous[0] == 10.0 / 16);
  CHECK(contiguous[3] == 3 + 10.0 / 16);
  // Zigzag: every device the same, 10/16 + 3 x 8/16.
  for (double w : work_per_device(causal_ring(16, 4, RingLayout::zigzag))) CHECK(w == 34.0 / 16);
  // Striped: (i+1) pairs of 10/16 and (3-i) of 6/16: 28/16 on device 0 up to 40/16 on device 3.
  const auto striped = work_per_device(causal_ring(16, 4, RingLayout::striped));
  CHECK(striped[0] == 28.0 / 16);
  CHECK(striped[3] == 40.0 / 16);
}

TEST_CASE("ring layouts: the pass against the ideal on 8 devices, causal, transfers free") {
  const u64 P = 8, N = P * 4096;
  const RingResult contiguous = ring_analyze(causal_ring(N, P, RingLayout::contiguous));
  const RingResult zigzag = ring_analyze(causal_ring(N, P, RingLayout::zigzag));
  const RingResult striped = ring_analyze(causal_ring(N, P, RingLayout::striped));
  // The last contiguous device works 7.5 block pairs while the mean is 4.0 (N(N+1)/2 over P n^2).
  CHECK(contiguous.busiest_work == doctest::Approx(7 + 4097.0 / 8192));
  CHECK(contiguous.idlest_work == doctest::Approx(4097.0 / 8192));
  CHECK(contiguous.efficiency == doctest::Approx(contiguous.ideal_s / contiguous.pass_s));
  CHECK(contiguous.efficiency == doctest::Approx((N * (N + 1.0) / 2 / (P * 4096.0 * 4096)) / (7 + 4097.0 / 8192)).epsilon(1e-6));
  CHECK(contiguous.efficiency < 0.54);
  // Zigzag: every device 4 + 1/(2n) pairs: the ideal, up to the 2 chunks' diagonals.
  CHECK(zigzag.busiest_work == doctest::Approx(zigzag.idlest_work));
  CHECK(zigzag.efficiency == doctest::Approx(1.0).epsilon(1e-9));
  // Striped: within 7 n/2 pairs of the mean (the keys after each query on later devices).
  CHECK(striped.busiest_work - striped.idlest_work == doctest::Approx(7.0 / 4096));
  CHECK(striped.efficiency > 0.999);
  // The same FLOPs whichever device holds which token.
  CHECK(zigzag.flops_total == contiguous.flops_total);
  CHECK(striped.flops_total == contiguous.flops_total);
}

TEST_CASE("ring layouts: zigzag needs N divisible by 2P, striped by P") {
  CHECK_THROWS_WITH_AS(ring_analyze(causal_ring(100, 8, RingLayout::zigzag)),
                       "--layout zigzag splits the sequence into 2 x --devices chunks: --seq must be a multiple of 16 (got 100)",
                       InputError);
  CHECK_THROWS_WITH_AS(ring_analyze(causal_ring(100, 8, RingLayout::striped)),
                       "--layout striped deals the tokens round-robin: --seq must be a multiple of --devices 8 (got 100)",
                       InputError);
  CHECK_NOTHROW(ring_analyze(causal_ring(100, 8, RingLayout::contiguous)));
}
