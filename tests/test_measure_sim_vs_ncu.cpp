// The simulator against the hardware: every Nsight Compute record shipped in
// assets/measurements/*.json is simulated again (src/measure/sim_vs_ncu: the one mapping from a
// measured kernel to a simulator model, also behind `attnlab measured --ncu`). DRAM (read + write)
// must agree within ±20%, L2 traffic within ±25% (sim_vs_ncu's tolerances, never widened).
// What was learned: before the L2 fabric term, naive missed by +27..31% (its lts__t_bytes has
// srcunit_ltcfabric ≈ its DRAM reads on top of the SM traffic, which hbm_* matched within -1..+9%);
// the decode and window models land within 3% (DRAM) and 9% (L2); the scan's B/C reuse in L1 is not
// modelled. Known misses (ncu_known_misses(), with what the counters show) are left out of the
// tolerance cases and checked in a case of their own that asserts each one still misses: when the
// model learns the effect that test fails, and the entry must go (a fixed miss is never hidden).
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

TEST_CASE("the tolerances: DRAM within 20%, L2 within 25%, both ways") {
  // The tolerances, pinned through the functions every comparison uses: widening them to
  // make a record pass fails here.
  struct Case {
    double dram_sim, l2_sim;  // against 100 measured at both levels
    bool within;
  };
  for (const Case c : {Case{119.9, 124.9, true}, Case{120.1, 125.1, false}, Case{79.9, 74.9, false},
                       Case{80.1, 75.1, true}}) {
    SimVsNcu x;
    x.dram_meas = x.l2_meas = 100;
    x.dram_sim = c.dram_sim, x.l2_sim = c.l2_sim;
    CAPTURE(c.dram_sim);
    CHECK(x.dram_within() == c.within);
    CHECK(x.l2_within() == c.within);
  }
}

// One test case, one process: every subcase below reads the same simulations (records(), ~2 s
// in Release, many times that under the sanitizers), which as five test cases CTest ran five times.
TEST_CASE("shipped Nsight Compute records, each simulated again") {
  SUBCASE("shipped Nsight Compute records cover every rung at three or more sizes") {
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
  SUBCASE("simulator DRAM bytes within 20% of Nsight Compute") {
    REQUIRE(!records().empty());
    size_t checked = 0;
    for (const SimVsNcu& r : records()) {
      if (ncu_known_miss(r.record, NcuLevel::dram)) continue;
      ++checked;
      INFO(r.describe());
      CHECK(std::fabs(r.dram_rel()) <= 0.20);
    }
    CHECK(checked >= 40);
  }
  SUBCASE("simulator L2 bytes within 25% of Nsight Compute") {
    size_t checked = 0;
    for (const SimVsNcu& r : records()) {
      if (ncu_known_miss(r.record, NcuLevel::l2)) continue;
      ++checked;
      INFO(r.describe());
      CHECK(std::fabs(r.l2_rel()) <= 0.25);
    }
    CHECK(checked >= 30);
  }
  SUBCASE("a record of the Hopper rung is simulated as flash2 with its tiles") {
    // hopper-h100.json: attn-hopper B8 H16 N4096 d128, Br = Bc = 128. Q, K, V read once and O written
    // once from DRAM: 4 x 8 x 16 x 4096 x 128 x 2 B = 536.9 MB; ncu measured 531.6 MB. Of O's writes,
    // the lines still dirty in the 50 MiB L2 at the end are not counted (ncu does not see them).
    bool seen = false;
    for (const SimVsNcu& r : records()) {
      if (r.record.kernel != "attn-hopper" || r.record.config.head_dim != 128 || r.record.config.seq_q != 4096 ||
          r.record.config.causal)
        continue;
      seen = true;
      CHECK(r.dram_meas == doctest::Approx(531.6e6).epsilon(0.001));
      CHECK(r.dram_sim + r.dram_write_at_end_sim >= 536.8e6);
      CHECK(r.dram_sim + r.dram_write_at_end_sim <= 540e6);
      CHECK(r.dram_write_at_end_sim > 0);
      CHECK(r.dram_write_at_end_sim <= 50.0 * 1024 * 1024);
      CHECK(r.dram_within());
    }
    CHECK(seen);
  }
  // Each listed miss still misses: an entry covers a kernel at a level (some sizes), and at least
  // one shipped record it covers is outside the tolerance there. (An entry may cover records that
  // land inside: the effect grows with size, e.g. the scan's L2 at its largest lengths.) When the
  // model learns the effect, no covered record misses any more: this fails, naming the entry, and
  // the entry must go.
  SUBCASE("simulator bytes, known misses: each one still misses") {
    for (const NcuKnownMiss& k : ncu_known_misses()) {
      const bool dram = k.level == NcuLevel::dram;
      INFO(std::string(k.kernel), dram ? " DRAM: " : " L2: ", std::string(k.why));
      size_t covered = 0, missed = 0;
      for (const SimVsNcu& r : records()) {
        if (ncu_known_miss(r.record, k.level) != &k) continue;
        ++covered;
        missed += !(dram ? r.dram_within() : r.l2_within());
      }
      CAPTURE(covered);
      CHECK(missed >= 1);
    }
  }
}
