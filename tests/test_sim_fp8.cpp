// FP8 attention in the simulator (--dtype fp8): Q, K, V one byte, O written in bf16 (two bytes), and
// one fp32 scale read with every Q, K and V tile (sim/config.hpp, AttnConfig::out_type). Checked
// against counts worked out by hand, and the event trace held equal to the closed forms for every
// forward algorithm, mask, raggedness and GQA ratio, as test_sim_closed_form does for the others.
#include <doctest/doctest.h>

#include "sim/closed_form.hpp"
#include "sim/event_counter.hpp"
#include "sim/kernel_plan.hpp"
#include "sim/traffic.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
AttnConfig fp8_config(u64 heads, u64 kv_heads, u64 seq, bool causal) {
  AttnConfig c;
  c.batch = 1;
  c.heads = heads;
  c.kv_heads = kv_heads;
  c.seq = seq;
  c.head_dim = 128;
  c.causal = causal;
  c.dtype = DType::fp8;
  c.block_q = 128;
  c.block_kv = 128;
  return c;
}
std::string bytes(const AlgoTraffic& r, Tensor t) { return to_string_u128(r.hbm_of(t).total()); }

// Global and SRAM bytes per kernel and tensor summed from the events, beside the closed forms.
void check_trace_equals_closed_form(Algo a, const AttnConfig& c) {
  const TilePlan t = tiles_choose(a, c, gpu_find("h100-sxm"));
  const auto plans = plan_algorithm(a, c, t);
  const auto closed = closed_form_counts(a, c, t);
  REQUIRE(plans.size() == closed.size());
  std::vector<TileEvent> ev;
  for (size_t k = 0; k < plans.size(); ++k) {
    EventCounter count(std::nullopt);
    for (u64 b = 0; b < plans[k].grid; ++b) {
      ev.clear();
      plans[k].emit(b, ev, UINT64_MAX);
      CHECK(ev.size() <= plans[k].events_per_block);
      for (const auto& e : ev) count.add(e);
    }
    CAPTURE(plans[k].name);
    for (size_t x = 0; x < kTensorCount; ++x) {
      CAPTURE(tensor_name(static_cast<Tensor>(x)));
      CHECK(to_string_u128(count.hbm()[x].read) == to_string_u128(closed[k].hbm[x].read));
      CHECK(to_string_u128(count.hbm()[x].write) == to_string_u128(closed[k].hbm[x].write));
    }
    CHECK(to_string_u128(count.sram().read) == to_string_u128(closed[k].sram.read));
    CHECK(to_string_u128(count.sram().write) == to_string_u128(closed[k].sram.write));
  }
}
}  // namespace

TEST_CASE("fp8: Q, K, V one byte, O two, a 4-byte scale per tile (flash2, worked out by hand)") {
  // B1 H2 N1024 d128, Br = Bc = 128: Tr = Tc = 8 tiles.
  TrafficOptions no_l2;
  no_l2.l2_model = false;
  const TrafficReport rep = simulate_traffic(fp8_config(2, 2, 1024, false), gpu_find("h200"), {Algo::flash2}, no_l2);
  const AlgoTraffic& r = rep.results[0];
  CHECK(bytes(r, Tensor::Q) == "262144");       // 2 heads x 1024 x 128 x 1 B, read once
  CHECK(bytes(r, Tensor::K) == "2097152");      // each of 8 query tiles reads all of K: 8 x 131072 x 2 heads
  CHECK(bytes(r, Tensor::V) == "2097152");
  CHECK(bytes(r, Tensor::O) == "524288");       // 2 x 1024 x 128 x 2 B: bf16
  CHECK(bytes(r, Tensor::stats) == "8192");     // 2 x 1024 fp32 log-sum-exps
  CHECK(bytes(r, Tensor::Qscale) == "64");      // 2 heads x 8 query tiles x 4 B
  CHECK(bytes(r, Tensor::Kscale) == "512");     // 2 heads x 8 x 8 tile pairs x 4 B
  CHECK(bytes(r, Tensor::Vscale) == "512");
  CHECK(to_string_u128(r.hbm.total()) == "4990016");  // the sum of the above
  CHECK(to_string_u128(r.dram.total()) == to_string_u128(r.hbm.total()));  // no L2: DRAM = global
}

TEST_CASE("fp8 against bf16 on the same problem: inputs halve, O stays, scales appear") {
  TrafficOptions no_l2;
  no_l2.l2_model = false;
  AttnConfig c = fp8_config(4, 1, 1000, true);  // MQA, causal, ragged last tile (1000 = 7 x 128 + 104)
  const AlgoTraffic f8 = simulate_traffic(c, gpu_find("h200"), {Algo::flash2}, no_l2).results[0];
  c.dtype = DType::bf16;
  const AlgoTraffic b16 = simulate_traffic(c, gpu_find("h200"), {Algo::flash2}, no_l2).results[0];
  for (Tensor t : {Tensor::Q, Tensor::K, Tensor::V}) {
    CAPTURE(tensor_name(t));
    CHECK(b16.hbm_of(t).total() == 2 * f8.hbm_of(t).total());
  }
  CHECK(b16.hbm_of(Tensor::O).total() == f8.hbm_of(Tensor::O).total());
  CHECK(b16.hbm_of(Tensor::Qscale).total() == 0);
  CHECK(f8.hbm_of(Tensor::Qscale).total() == 4 * 8 * 4);  // 4 heads x 8 query tiles
  // Causal 8 x 8 tiles: query tile i visits i + 1 K/V tiles, 36 pairs per head, 4 heads.
  CHECK(f8.hbm_of(Tensor::Kscale).total() == 36 * 4 * 4);
  CHECK(f8.hbm_of(Tensor::Vscale).total() == 36 * 4 * 4);
}

TEST_CASE("fp8: trace == closed form for every forward algorithm, mask, raggedness and GQA ratio") {
  for (Algo a : {Algo::naive, Algo::flash1, Algo::flash2})
    for (bool causal : {false, true})
      for (u64 N : {256ull, 777ull})
        for (u64 kvh : {4ull, 1ull}) {
          AttnConfig c = fp8_config(4, kvh, N, causal);
          c.head_dim = 64;
          c.block_q = c.block_kv = 0;  // each algorithm's own tiles
          CAPTURE(algo_name(a));
          CAPTURE(causal);
          CAPTURE(N);
          CAPTURE(kvh);
          check_trace_equals_closed_form(a, c);
        }
}

TEST_CASE("fp8 with the L2 model: the scales are counted in DRAM and L2 bytes") {
  const AttnConfig c = fp8_config(16, 16, 4096, false);
  const AlgoTraffic r = simulate_traffic(c, gpu_find("h200"), {Algo::flash2}).results[0];
  // Every scale is read from DRAM at least once: 16 heads x 32 tiles each of Q, K, V x 4 B.
  CHECK(r.dram_of(Tensor::Qscale).read == 16 * 32 * 4);
  CHECK(r.dram_of(Tensor::Kscale).read >= 16 * 32 * 4);
  CHECK(r.hbm_of(Tensor::Kscale).read == 16 * 32 * 32 * 4);  // SM-side: every visit
  CHECK(r.dram_of(Tensor::O).write == 16 * 4096 * 128 * 2);
}

TEST_CASE("fp8 is a forward-only dtype") {
  AttnConfig c = fp8_config(2, 2, 256, false);
  c.pass = Pass::fwd_bwd;
  CHECK_THROWS_WITH_AS(validate(c),
                       "--dtype fp8 is simulated for the forward pass only (--pass fwd): FP8 attention kernels have no backward",
                       InputError);
}
