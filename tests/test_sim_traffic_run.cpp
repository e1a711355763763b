// TrafficRun: the simulation done in slices (as the dashboard does it, a few milliseconds per
// frame) gives the report of the one-call simulate_traffic, every field equal; and a run that has
// not finished hands out no number.
#include <doctest/doctest.h>

#include <cstring>
#include <fmt/format.h>
#include <stdexcept>

#include "sim/traffic_run.hpp"
#include "util/checked.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {

constexpr Algo kAll[] = {Algo::naive, Algo::flash1, Algo::flash2};

AttnConfig cfg(u64 B, u64 H, u64 N, u64 d) {
  AttnConfig c;
  c.batch = B;
  c.heads = H;
  c.seq = N;
  c.head_dim = d;
  return c;
}

// Every field of a report, doubles to the last bit, as text: two reports are the same simulation
// when their dumps are equal (and a failed CHECK shows where they part).
std::string bits(double x) {
  std::uint64_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  return fmt::format("{:016x}", u);
}
std::string dump(const LevelBytes& b) { return to_string_u128(b.read) + "/" + to_string_u128(b.write); }
std::string dump(const TrafficReport& r) {
  std::string s;
  for (const AlgoTraffic& a : r.results) {
    const TilePlan& t = a.tiles;
    s += fmt::format("{} tiles {} {} {} {} {} {} {} {} | hbm {} dram {} sram {} at_end {} fabric {} flops {} t {} method {} events {} {} paper {}\n",
                     int(a.algo), t.Br, t.Bc, t.Br_bwd, t.Bc_bwd, t.T, t.softmax_passes, t.smem_fwd, t.smem_bwd, dump(a.hbm),
                     dump(a.dram), dump(a.sram), to_string_u128(a.dram_write_at_end), to_string_u128(a.l2_fabric),
                     to_string_u128(a.flops), bits(a.est_time_s), int(a.method), to_string_u128(a.events_total),
                     a.events_simulated, to_string_u128(a.paper_io_fwd));
    for (const KernelTraffic& k : a.kernels) {
      const KernelHierarchy& h = k.bytes;
      s += fmt::format("  {} grid {} smem {} per_sm {} wave {} waves {} sram {} events {} {} method {} at_end {} flops {} t {}:",
                       h.name, h.grid, h.smem_bytes, h.blocks_per_sm, h.wave_blocks, h.waves, dump(h.sram), h.events_simulated,
                       to_string_u128(h.events_total), int(h.method), to_string_u128(h.dram_write_at_end),
                       to_string_u128(k.flops), bits(k.est_time_s));
      for (size_t x = 0; x < kTensorCount; ++x) s += " " + dump(h.hbm[x]) + "," + dump(h.dram[x]);
      s += "\n";
    }
  }
  return s;
}

// Runs `c` in slices of `slice` work units; returns the report and how many slices it took.
TrafficReport sliced(const AttnConfig& c, const GpuSpec& gpu, u64 slice, int& slices, const TrafficOptions& opt,
                     const std::vector<Algo>& algos) {
  TrafficRun run(c, gpu, algos, opt);
  slices = 0;
  double last = 0;
  while (!run.step(slice)) {
    ++slices;
    REQUIRE(run.report() == nullptr);
    REQUIRE(run.progress() >= last);
    REQUIRE(run.progress() < 1.0);
    last = run.progress();
  }
  CHECK(run.progress() == 1.0);
  REQUIRE(run.report() != nullptr);
  return run.take();
}

void check_same(const AttnConfig& c, const GpuSpec& gpu, u64 slice, const TrafficOptions& opt = {},
                const std::vector<Algo>& algos = {std::begin(kAll), std::end(kAll)}) {
  const TrafficReport one = simulate_traffic(c, gpu, algos, opt);
  int slices = 0;
  const TrafficReport many = sliced(c, gpu, slice, slices, opt, algos);
  CHECK(slices > 1);  // it was really cut
  REQUIRE(many.results.size() == algos.size());
  for (size_t a = 0; a < algos.size(); ++a) {
    CAPTURE(a);
    CHECK(many.results[a].dram.read == one.results[a].dram.read);
    CHECK(many.results[a].dram.write == one.results[a].dram.write);
    CHECK(many.results[a].events_simulated == one.results[a].events_simulated);
  }
  CHECK(dump(many) == dump(one));  // every field, per kernel and tensor
  CHECK(many.config == one.config);
}

}  // namespace

TEST_CASE("TrafficRun in slices = simulate_traffic in one call, byte for byte") {
  const GpuSpec h100 = gpu_find("h100-sxm"), h200 = gpu_find("h200");
  SUBCASE("one head, N = 1000 (ragged tiles), one event per slice") { check_same(cfg(1, 1, 1000, 64), h100, 1); }
  SUBCASE("causal, slices that end inside waves and between algorithms") {
    AttnConfig c = cfg(2, 4, 2048, 64);
    c.causal = true;
    check_same(c, h100, 7);
    check_same(c, h100, 1000);
  }
  SUBCASE("forward and backward, GQA 4:1, fp32 scores") {
    AttnConfig c = cfg(1, 8, 1024, 128);
    c.kv_heads = 2;
    c.pass = Pass::fwd_bwd;
    c.score_dtype = DType::fp32;
    check_same(c, h200, 4099);
  }
  SUBCASE("the dashboard's longest DRAM point (N = 16K, 16 heads): millions of events traced") {
    check_same(cfg(1, 16, 16384, 128), h100, 65536);
  }
  SUBCASE("N = 64K: kernels past the event budget, sampled") {
    const AttnConfig c = cfg(1, 16, 65536, 128);
    const TrafficReport one = simulate_traffic(c, h100, {std::begin(kAll), std::end(kAll)});
    CHECK(one.results[0].method == DramMethod::sampled);
    CHECK(one.results[2].method == DramMethod::sampled);
    check_same(c, h100, 65536);
  }
  SUBCASE("a sliding window (flash2), fp8, PyTorch's layout copies") {
    AttnConfig c = cfg(1, 4, 4096, 128);
    c.window_left = 1000;
    c.window_right = 0;
    c.causal = true;
    check_same(c, h100, 2000, {}, {Algo::flash2});
    AttnConfig f = cfg(1, 4, 2048, 128);
    f.dtype = DType::fp8;
    check_same(f, h200, 2000);
    AttnConfig b = cfg(1, 4, 2048, 64);
    b.pass = Pass::fwd_bwd;
    TrafficOptions copies;
    copies.torch_layout_copies = true;
    check_same(b, h200, 2000, copies);
  }
  SUBCASE("no L2 model: nothing to slice, done in the first step") {
    TrafficOptions fast;
    fast.l2_model = false;
    TrafficRun run(cfg(1, 16, 8192, 128), h100, {std::begin(kAll), std::end(kAll)}, fast);
    CHECK(run.step(0));
    REQUIRE(run.report() != nullptr);
    CHECK(dump(*run.report()) == dump(simulate_traffic(cfg(1, 16, 8192, 128), h100, {std::begin(kAll), std::end(kAll)}, fast)));
  }
}

TEST_CASE("TrafficRun: an unfinished run gives no number") {
  const GpuSpec gpu = gpu_find("h100-sxm");
  TrafficRun run(cfg(1, 16, 4096, 128), gpu, {std::begin(kAll), std::end(kAll)});
  CHECK(run.progress() == 0.0);
  CHECK_FALSE(run.step(5000));
  CHECK_FALSE(run.done());
  CHECK(run.report() == nullptr);
  CHECK(run.progress() > 0.0);
  CHECK(run.progress() < 1.0);
  CHECK_THROWS_AS(run.take(), std::logic_error);
  // A time budget of nothing still moves it on by one slice, and no further than that.
  const double before = run.progress();
  CHECK_FALSE(run.step_for(0.0));
  CHECK(run.progress() > before);
  CHECK(run.report() == nullptr);
  CHECK(run.error().empty());
  // Taken to the end with time budgets, as the dashboard does: the one-call report.
  while (!run.step_for(0.002)) {
  }
  REQUIRE(run.report() != nullptr);
  CHECK(dump(*run.report()) == dump(simulate_traffic(cfg(1, 16, 4096, 128), gpu, {std::begin(kAll), std::end(kAll)})));
}

TEST_CASE("TrafficRun: bad input is refused before anything runs, as simulate_traffic does") {
  AttnConfig c = cfg(1, 16, 4096, 128);
  c.head_dim = 0;
  CHECK_THROWS_AS(TrafficRun(c, gpu_find("h100-sxm"), {Algo::flash2}), InputError);
  c = cfg(1, 16, 4096, 128);
  c.block_q = 4096;
  c.block_kv = 4096;  // tiles that do not fit the SRAM of a block
  CHECK_THROWS_AS(TrafficRun(c, gpu_find("h100-sxm"), {Algo::flash2}), InputError);
}
