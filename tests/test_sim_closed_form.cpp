// The event trace and the closed forms are written independently; these tests hold them equal,
// byte for byte and per tensor, across algorithms, passes, causal masks, ragged tiles and GQA.
#include <doctest/doctest.h>

#include "sim/closed_form.hpp"
#include "sim/event_counter.hpp"
#include "sim/hierarchy.hpp"
#include "sim/kernel_plan.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
// Global-memory and SRAM bytes per kernel and tensor, summed straight from the events by the
// simulator's event counter (no L2: only global and SRAM bytes are compared).
std::vector<KernelCounts> trace_counts(const std::vector<KernelPlan>& plans) {
  std::vector<KernelCounts> out(plans.size());
  std::vector<TileEvent> ev;
  for (size_t k = 0; k < plans.size(); ++k) {
    EventCounter count(std::nullopt);
    for (u64 b = 0; b < plans[k].grid; ++b) {
      ev.clear();
      plans[k].emit(b, ev, UINT64_MAX);
      CHECK(ev.size() <= plans[k].events_per_block);
      for (const auto& e : ev) count.add(e);
    }
    out[k].name = plans[k].name;
    out[k].hbm = count.hbm();
    out[k].sram = count.sram();
  }
  return out;
}

void check_equal(Algo a, const AttnConfig& c) {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  const TilePlan t = tiles_choose(a, c, gpu);
  const auto plans = plan_algorithm(a, c, t);
  const auto traced = trace_counts(plans);
  const auto closed = closed_form_counts(a, c, t);
  REQUIRE(traced.size() == closed.size());
  for (size_t k = 0; k < traced.size(); ++k) {
    CAPTURE(closed[k].name);
    CHECK(traced[k].name == closed[k].name);
    for (size_t x = 0; x < kTensorCount; ++x) {
      CAPTURE(tensor_name(static_cast<Tensor>(x)));
      CHECK(to_string_u128(traced[k].hbm[x].read) == to_string_u128(closed[k].hbm[x].read));
      CHECK(to_string_u128(traced[k].hbm[x].write) == to_string_u128(closed[k].hbm[x].write));
    }
    CHECK(to_string_u128(traced[k].sram.read) == to_string_u128(closed[k].sram.read));
    CHECK(to_string_u128(traced[k].sram.write) == to_string_u128(closed[k].sram.write));
  }
}
}  // namespace

TEST_CASE("trace == closed form for every algorithm, pass, mask, raggedness and GQA ratio") {
  for (Algo a : {Algo::naive, Algo::flash1, Algo::flash2})
    for (Pass p : {Pass::fwd, Pass::bwd})
      for (bool causal : {false, true})
        for (u64 N : {256ull, 1000ull, 777ull})
          for (u64 kvh : {4ull, 1ull, 2ull})
            for (u64 d : {64ull, 128ull}) {
              AttnConfig c;
              c.batch = 2;
              c.heads = 4;
              c.kv_heads = kvh;
              c.seq = N;
              c.head_dim = d;
              c.causal = causal;
              c.pass = p;
              CAPTURE(algo_name(a));
              CAPTURE(pass_name(p));
              CAPTURE(causal);
              CAPTURE(N);
              CAPTURE(kvh);
              CAPTURE(d);
              check_equal(a, c);
            }
}

TEST_CASE("trace == closed form for flash2's forward pass under a sliding window") {
  struct W {
    bool causal;
    long long left, right;
  };
  for (W w : {W{true, 127, -1}, W{true, 0, -1}, W{false, 64, 64}, W{false, 300, 5}, W{false, -1, 0}, W{true, 5000, -1}})
    for (u64 N : {256ull, 1000ull, 777ull}) {
      AttnConfig c;
      c.batch = 2;
      c.heads = 4;
      c.kv_heads = 2;
      c.seq = N;
      c.head_dim = 64;
      c.causal = w.causal;
      c.window_left = w.left;
      c.window_right = w.right;
      CAPTURE(N);
      CAPTURE(w.causal);
      CAPTURE(w.left);
      CAPTURE(w.right);
      check_equal(Algo::flash2, c);
    }
}

TEST_CASE("visible pairs under a mask, by hand") {
  AttnConfig c;
  c.seq = 10;
  CHECK(visible_pairs(c) == 100);
  c.causal = true;
  CHECK(visible_pairs(c) == 55);
  c.window_left = 2;  // rows see 1, 2, 3, 3, ... keys
  CHECK(visible_pairs(c) == 1 + 2 + 3 * 8);
  c.causal = false;
  c.window_right = 1;  // rows see 2, 3, 4 x 7, 3 keys (clipped at both ends)
  CHECK(visible_pairs(c) == 2 + 3 + 4 * 7 + 3);
  c.window_left = -1;  // everything left, one to the right
  CHECK(visible_pairs(c) == 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 10);
}

TEST_CASE("a window is refused where it is not simulated") {
  AttnConfig c;
  c.seq = 512;
  c.window_left = 64;
  const TilePlan t = tiles_choose(Algo::flash1, c, gpu_find("h100-sxm"));
  CHECK_THROWS_AS(plan_algorithm(Algo::flash1, c, t), InputError);
  c.pass = Pass::fwd_bwd;
  CHECK_THROWS_AS(plan_algorithm(Algo::flash2, c, t), InputError);
}

TEST_CASE("pair sums: visible tile pairs of the score matrix") {
  SUBCASE("full: every pair, N² entries") {
    PairSums p = pair_sums(1024, 128, 64, false);
    CHECK(p.pairs == 8 * 16);
    CHECK(p.sum_rc == 1024 * 1024);
    CHECK(p.sum_c == 1024 * 8);
  }
  SUBCASE("causal with Br = Bc: the lower triangle of tiles, diagonal included") {
    PairSums p = pair_sums(512, 128, 128, true);
    CHECK(p.pairs == 4 + 3 + 2 + 1);
    CHECK(p.sum_rc == 128 * 128 * 10);
  }
  SUBCASE("causal, ragged last tile: N = 300, 128 x 128 tiles (128, 128, 44 rows)") {
    PairSums p = pair_sums(300, 128, 128, true);
    CHECK(p.pairs == 1 + 2 + 3);
    // row tile 0 sees 128 keys, tile 1 sees 256, tile 2 (44 rows) sees all 300
    CHECK(p.sum_rc == 128 * 128 + 128 * 256 + 44 * 300);
  }
}
