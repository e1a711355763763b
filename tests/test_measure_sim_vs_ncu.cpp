// The simulator against the hardware: every Nsight Compute record shipped in
// assets/measurements/*.json is simulated again (src/measure/sim_vs_ncu: the one mapping from a
// measured kernel to a simulator model, also behind `attnlab measured --ncu`). DRAM (read + write)
// must agree within ±20%, L2 traffic within ±25% (the tolerances, unchanged).
// What was learned: before the L2 fabric term, naive missed by +27..31% (its lts__t_bytes has
// srcunit_ltcfabric ≈ its DRAM reads on top of the SM traffic, which hbm_* matched within -1..+9%);
// the decode and window models land within 3% (DRAM) and 9% (L2); the scan's B/C reuse in L1 is not
// modelled. Known misses (ncu_known_misses(), with what the counters show) are checked in a test
// case of their own marked may_fail, so that they stay visible and start passing when the model
// learns the effect, without hiding a new miss anywhere else.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "measure/measurement.hpp"
#include "measure/sim_vs_ncu.hpp"

using namespace attnlab;

namespace {

// Every shipped ncu record with its simulation (loaded once; the simulations take ~2 s in all).
const std::vector<SimVsNcu>& records() {
  static const std::vector<SimVsNcu> all = sim_vs_ncu_all(measurement_dir());
  return all;
}

}  // namespace

TEST_CASE("shipped Nsight Compute records cover every rung at three or more sizes") {
  std::map<std::string, std::set<u64>> sizes;
  for (const SimVsNcu& r : records()) sizes[r.record.kernel].insert(r.record.config.seq_q);
  for (const char* k : {"attn-naive", "attn-tiled", "attn-mma", "attn-window", "scan-selective", "attn-hopper",
                        "attn-hopper-nopingpong", "attn-hopper-pertile"}) {
    INFO(k);
    CHECK(sizes[k].size() >= 3);
  }
  // Decode: one length, the sizes are the K/V head counts (MHA, GQA-4, GQA-8, MQA), both layouts.
  std::map<std::string, std::set<u64>> kv;
  for (const SimVsNcu& r : records()) kv[r.record.kernel].insert(r.record.config.kv_heads);
  CHECK(kv["attn-decode"].size() >= 3);
  CHECK(kv["attn-decode-paged"].size() >= 3);
  for (const SimVsNcu& r : records()) {
    INFO(r.label);
    CHECK(r.record.options.find("--clock-control none") != std::string::npos);
  }
}

TEST_CASE("simulator DRAM bytes within 20% of Nsight Compute") {
  REQUIRE(!records().empty());
  CHECK(sim_vs_ncu_dram_tolerance == 0.20);  // the issue's, never widened to make a record pass
  size_t checked = 0;
  for (const SimVsNcu& r : records()) {
    if (ncu_known_miss(r.record, NcuLevel::dram)) continue;
    ++checked;
    INFO(r.describe());
    CHECK(std::fabs(r.dram_rel()) <= 0.20);
  }
  CHECK(checked >= 40);
}

TEST_CASE("simulator L2 bytes within 25% of Nsight Compute") {
  CHECK(sim_vs_ncu_l2_tolerance == 0.25);
  size_t checked = 0;
  for (const SimVsNcu& r : records()) {
    if (ncu_known_miss(r.record, NcuLevel::l2)) continue;
    ++checked;
    INFO(r.describe());
    CHECK(std::fabs(r.l2_rel()) <= 0.25);
  }
  CHECK(checked >= 30);
}

TEST_CASE("a record of the Hopper rung is simulated as flash2 with its tiles") {
  // hopper-h100.json: attn-hopper B8 H16 N4096 d128, Br = Bc = 128. Q, K, V read once and O written
  // once from DRAM: 4 x 8 x 16 x 4096 x 128 x 2 B = 536.9 MB; ncu measured 531.6 MB.
  bool seen = false;
  for (const SimVsNcu& r : records()) {
    if (r.record.kernel != "attn-hopper" || r.record.config.head_dim != 128 || r.record.config.seq_q != 4096 ||
        r.record.config.causal)
      continue;
    seen = true;
    CHECK(r.dram_meas == doctest::Approx(531.6e6).epsilon(0.001));
    CHECK(r.dram_sim >= 536.8e6);
    CHECK(r.dram_sim <= 540e6);
    CHECK(r.dram_within());
  }
  CHECK(seen);
}

// Reported, not hidden: fails (without failing the suite) until the model accounts for the effect.
TEST_CASE("simulator bytes, known misses (see ncu_known_misses)" * doctest::may_fail()) {
  for (const SimVsNcu& r : records()) {
    for (NcuLevel level : {NcuLevel::dram, NcuLevel::l2}) {
      const NcuKnownMiss* k = ncu_known_miss(r.record, level);
      if (!k) continue;
      INFO(r.describe());
      INFO(std::string(k->why));
      CHECK((level == NcuLevel::dram ? r.dram_within() : r.l2_within()));
    }
  }
}
