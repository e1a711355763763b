// Counts at the limits the tool promises (N = 2^24 with B·H = 2^20, N = 10^9 for step counts) and
// past them: every count is exact, or refused with an error naming it; none wraps around.
// Expected values are powers of two and closed forms worked out by hand in the comments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "hw/gpu.hpp"
#include "models/kv_cache.hpp"
#include "models/masks.hpp"
#include "models/model_spec.hpp"
#include "models/ring.hpp"
#include "models/scaling.hpp"
#include "sim/closed_form.hpp"
#include "sim/traffic.hpp"
#include "util/checked.hpp"
#include "util/errors.hpp"
#include "util/units.hpp"

using namespace attnlab;

namespace {
constexpr u128 p2(int k) { return u128{1} << k; }

AttnConfig limit_config(u64 batch, u64 heads, u64 seq, u64 d = 128) {
  AttnConfig c;
  c.batch = batch;
  c.heads = heads;
  c.seq = seq;
  c.head_dim = d;
  c.dtype = DType::fp16;
  return c;
}

TrafficOptions closed_forms_only() {
  TrafficOptions o;
  o.l2_model = false;
  return o;
}
}  // namespace

TEST_CASE("checked arithmetic at the edge of 128 bits") {
  SUBCASE("the largest value is exact and printable") {
    CHECK(to_string_u128(u128_max) == "340282366920938463463374607431768211455");
    CHECK(cmul(u128_max, 1) == u128_max);
    CHECK(cadd(u128_max - 1, 1) == u128_max);
  }
  SUBCASE("one past it throws, naming the count") {
    CHECK_THROWS_WITH_AS(cadd(u128_max, 1, "bytes"),
                         "bytes overflows 128-bit exact arithmetic: the configuration is too large to count exactly",
                         OverflowError);
    CHECK_THROWS_AS(cmul(p2(64), p2(64), "FLOPs"), OverflowError);  // 2^128
    CHECK(cmul(p2(64), p2(63)) == p2(127));
    CHECK_THROWS_AS(cprod("entries", p2(40), p2(40), p2(40), p2(9)), OverflowError);  // 2^129 at the last factor
    CHECK_THROWS_WITH_AS(csub(1, 2, "slots"), "slots (negative) overflows 128-bit exact arithmetic: the configuration "
                                              "is too large to count exactly", OverflowError);
  }
  SUBCASE("narrowing: 2^64 - 1 fits, 2^64 does not") {
    CHECK(to_u64(p2(64) - 1, "grid") == UINT64_MAX);
    CHECK_THROWS_WITH_AS(to_u64(p2(64), "grid"), "grid = 18446744073709551616 does not fit 64 bits", OverflowError);
  }
  SUBCASE("ceil_div near 2^128 (it used to form a + b - 1 and wrap to 0)") {
    CHECK(ceil_div(u128_max, 2) == p2(127));       // (2^128 - 1) / 2 rounded up
    CHECK(ceil_div(u128_max, u128_max) == 1);
    CHECK(ceil_div(u128_max - 1, u128_max) == 1);
    CHECK(ceil_div(p2(127), p2(64)) == p2(63));    // exact quotient: no rounding up
    CHECK(ceil_div(p2(127) + 1, p2(64)) == p2(63) + 1);
    CHECK(ceil_div(0, 7) == 0);
    CHECK(ceil_div(5, 0) == 0);
  }
  SUBCASE("the exact count shown to people keeps every digit") {
    CHECK(format_count(u128_max) == "340,282,366,920,938,463,463,374,607,431,768,211,455");
  }
}

TEST_CASE("traffic at N = 2^24 and B·H = 2^20: exact bytes, 2^77 FLOPs") {
  const GpuSpec& h100 = gpu_find("h100-sxm");
  const AttnConfig c = limit_config(1024, 1024, u64{1} << 24);
  SUBCASE("flash2 forward: Q read and O written once, K and V once per 128-row Q tile") {
    const AlgoTraffic f = simulate_traffic(c, h100, {Algo::flash2}, closed_forms_only()).results[0];
    CHECK(f.tiles.Br == 128);
    // Q: 2^20 heads x 2^24 rows x 128 x 2 B = 2^52 B; O the same, written.
    CHECK(f.hbm_of(Tensor::Q).read == p2(52));
    CHECK(f.hbm_of(Tensor::O).write == p2(52));
    // K and V: 2^24 / 128 = 2^17 Q tiles, each reads all 2^52 B of K (and of V).
    CHECK(f.hbm_of(Tensor::K).read == p2(69));
    CHECK(f.hbm_of(Tensor::V).read == p2(69));
    // 4·B·H·N²·d = 2^2 · 2^20 · 2^48 · 2^7 = 2^77, as an exact integer.
    CHECK(f.flops == p2(77));
    CHECK(f.method == DramMethod::no_l2_model);
    CHECK(f.dram.total() == f.hbm.total());
  }
  SUBCASE("naive forward: the N x N scores written as S and again as P, 2^69 B each") {
    const AlgoTraffic n = simulate_traffic(c, h100, {Algo::naive}, closed_forms_only()).results[0];
    // S: 2^20 heads x 2^48 entries x 2 B (fp16 scores) = 2^69 B.
    CHECK(n.hbm_of(Tensor::S).write == p2(69));
    CHECK(n.hbm_of(Tensor::P).write == p2(69));
    // Every kernel has a real grid: 2^64 or more blocks would wrap the 64-bit grid to nonsense.
    for (const auto& k : n.kernels) {
      CHECK(k.bytes.grid > 0);
      CHECK(std::isfinite(k.est_time_s));
      CHECK(k.est_time_s > 0);
    }
  }
  SUBCASE("bytes scale exactly with B·H: 2^20 x one head") {
    const AttnConfig one = limit_config(1, 1, u64{1} << 24);
    for (Algo a : {Algo::naive, Algo::flash1, Algo::flash2}) {
      CAPTURE(algo_name(a));
      const AlgoTraffic big = simulate_traffic(c, h100, {a}, closed_forms_only()).results[0];
      const AlgoTraffic small = simulate_traffic(one, h100, {a}, closed_forms_only()).results[0];
      CHECK(big.hbm.read == small.hbm.read * p2(20));
      CHECK(big.hbm.write == small.hbm.write * p2(20));
      CHECK(big.sram.total() == small.sram.total() * p2(20));
    }
  }
  SUBCASE("causal tile pairs at N = 2^24") {
    // 2^17 tiles of 128 rows: the lower triangle, diagonal included, T(T+1)/2 = 2^16 (2^17 + 1).
    CHECK(pair_sums(u64{1} << 24, 128, 128, true).pairs == u128{65536} * 131073);
    // 1 x 1 tiles: every allowed cell is a pair, N(N+1)/2 = 2^23 (2^24 + 1) = 140,737,496,743,936.
    const PairSums cells = pair_sums(u64{1} << 24, 1, 1, true);
    CHECK(cells.pairs == u128{140737496743936});
    CHECK(cells.sum_rc == cells.pairs);
  }
}

TEST_CASE("FLOPs past 2^53 are exact integers, not rounded doubles") {
  // 4·B·H·N²·d at H = 3, N = 2^24 + 1, d = 127 is 428,967,915,643,995,636: odd factors, past 2^53,
  // where a double would round it (to ...995,648).
  const GpuSpec h100 = gpu_find("h100-sxm");
  AttnConfig c = limit_config(1, 3, (u64{1} << 24) + 1, 127);
  const u128 fwd = (u128{428967915643995} * 1000) + 636;
  CHECK(static_cast<u128>(static_cast<double>(fwd)) != fwd);  // a double could not hold this count
  SUBCASE("forward") {
    const AlgoTraffic f = simulate_traffic(c, h100, {Algo::flash2}, closed_forms_only()).results[0];
    CHECK(f.flops == fwd);
    CHECK(to_string_u128(f.flops) == "428967915643995636");
  }
  SUBCASE("causal forward + backward (flash2 recomputes: 2.5x the forward)") {
    c.causal = true;
    c.pass = Pass::fwd_bwd;
    const AlgoTraffic f = simulate_traffic(c, h100, {Algo::flash2}, closed_forms_only()).results[0];
    CHECK(f.flops == u128{750693852376992} * 1000 + 363);
  }
  SUBCASE("naive forward + backward (no recomputation: 2x)") {
    c.pass = Pass::fwd_bwd;
    const AlgoTraffic f = simulate_traffic(c, h100, {Algo::naive}, closed_forms_only()).results[0];
    CHECK(f.flops == u128{1286903746931986} * 1000 + 908);
    u128 sum = 0;
    for (const auto& k : f.kernels) sum += k.flops;
    CHECK(sum == f.flops);
  }
}

TEST_CASE("past the simulator's limits: a clear error") {
  const GpuSpec& h100 = gpu_find("h100-sxm");
  SUBCASE("one past each size limit is refused, naming the option") {
    CHECK_THROWS_WITH_AS(validate(limit_config(1, 1, kMaxSeq + 1)),
                         "--seq must be between 1 and 4294967296 (got 4294967297)", InputError);
    CHECK_THROWS_WITH_AS(validate(limit_config(kMaxBatch + 1, 1, 1)),
                         "--batch must be between 1 and 16777216 (got 16777217)", InputError);
    CHECK_THROWS_WITH_AS(validate(limit_config(1, kMaxHeads + 1, 1)),
                         "--heads must be between 1 and 1048576 (got 1048577)", InputError);
    CHECK_THROWS_WITH_AS(validate(limit_config(1, 1, 1, kMaxHeadDim + 1)),
                         "--head-dim must be between 1 and 1024 (got 1025)", InputError);
  }
  SUBCASE("every size at its maximum: the byte counts stay exact (2^44 heads of 2^32 tokens)") {
    // Q alone: 2^44 heads x 2^32 rows x 1024 x 2 B = 2^87 B, far below 2^128.
    const AttnConfig c = limit_config(kMaxBatch, kMaxHeads, kMaxSeq, kMaxHeadDim);
    const TilePlan t = tiles_choose(Algo::flash2, c, h100);
    const auto counts = closed_form_counts(Algo::flash2, c, t);
    REQUIRE(!counts.empty());
    CHECK(counts[0].hbm[static_cast<size_t>(Tensor::Q)].read == p2(87));
  }
}

// The thread-block grid is a u64 in src/sim; B·H·(N/128)² blocks pass 2^64 at N = 2^32 and
// B·H = 2^14, and used to wrap to 0 (est. time inf/NaN, "grid 0"). Grids and events per block
// are now checked products: past 64 bits they are refused with an OverflowError naming them.
TEST_CASE("a grid of 2^64 thread blocks is refused, not wrapped") {
  const GpuSpec& h100 = gpu_find("h100-sxm");
  SUBCASE("naive_qk: 2^14 x (2^32 / 128)^2 = 2^64 blocks") {
    const AttnConfig c = limit_config(16384, 1, kMaxSeq);
    CHECK_THROWS_WITH_AS(simulate_traffic(c, h100, {Algo::naive}, closed_forms_only()),
                         "thread blocks = 18446744073709551616 does not fit 64 bits", OverflowError);
    CHECK_THROWS_AS(simulate_traffic(c, h100, {Algo::naive}), OverflowError);
  }
  SUBCASE("one head fewer: 2^14 - 1 heads give 2^64 - 2^50 blocks, a real grid") {
    // (2^14 - 1) x 2^25 x 2^25 = 2^64 - 2^50 < 2^64: counted, not refused.
    const AttnConfig c = limit_config(16383, 1, kMaxSeq);
    const AlgoTraffic n = simulate_traffic(c, h100, {Algo::naive}, closed_forms_only()).results[0];
    REQUIRE(n.kernels.size() >= 1);
    CHECK(n.kernels[0].bytes.grid == (p2(64) - p2(50)));
    // waves = ceil(grid / wave_blocks): wave_blocks is not a power of two on the H100 (132 SMs).
    const u64 wb = n.kernels[0].bytes.wave_blocks;
    REQUIRE(wb > 0);
    CHECK(n.kernels[0].bytes.waves == ceil_div(p2(64) - p2(50), wb));
    CHECK(std::isfinite(n.kernels[0].est_time_s));
  }
  SUBCASE("flash2 with 1-row Q tiles: B·H x N = 2^44 x 2^32 = 2^76 blocks") {
    AttnConfig c = limit_config(kMaxBatch, kMaxHeads, kMaxSeq);
    c.block_q = 1;
    c.block_kv = 1;
    CHECK_THROWS_AS(simulate_traffic(c, h100, {Algo::flash2}, closed_forms_only()), OverflowError);
  }
  SUBCASE("flash1, one block per head, 1 x 1 tiles: Tc (2 + 6 Tr) = 2^32 (2 + 6·2^32) events per block") {
    AttnConfig c = limit_config(1, 1, kMaxSeq);
    c.block_q = 1;
    c.block_kv = 1;
    // 2^32 x (2 + 6 x 2^32) = 6 x 2^64 + 2^33 = 110,680,464,450,847,244,288.
    CHECK_THROWS_WITH_AS(simulate_traffic(c, h100, {Algo::flash1}, closed_forms_only()),
                         "events per block = 110680464450847244288 does not fit 64 bits", OverflowError);
  }
}

// ring_min_block solves n >= Hkv s F e / (2 H B) in doubles; a link of 1e-300 GB/s asks for a
// block of ~3e305 tokens, which used to be cast to u64 (undefined behaviour; 0 on x86).
TEST_CASE("ring: no block hides a link that slow, said in words instead of 0") {
  RingConfig c;
  c.seq = 1 << 20;
  c.devices = 8;
  c.heads = c.kv_heads = 32;
  c.head_dim = 128;
  c.dtype = DType::fp16;
  c.flops_per_s = 312e12;
  SUBCASE("1e-291 B/s: n = 2 B x 312e12 / (2 x 1e-291) = 3.12e305 tokens, past 2^64") {
    c.link_bytes_per_s = 1e-291;
    CHECK_THROWS_AS(ring_min_block(c), InputError);
    CHECK_THROWS_AS(ring_analyze(c), InputError);
    c.link_latency_s = 1e-6;  // the other branch (latency in the model) too
    CHECK_THROWS_AS(ring_min_block(c), InputError);
  }
  SUBCASE("n = 312e12 / B = 2^62 tokens still fits: a real (huge) block") {
    c.link_bytes_per_s = 312e12 / std::ldexp(1.0, 62);
    const u64 n = ring_min_block(c);
    CHECK(n > (u64{1} << 61));
    CHECK(n <= (u64{1} << 62));
  }
}

// The step-by-step ring schedule has P x P events: at --devices 65536 that is 2^32 of them, and
// ring_analyze, which kept them all, ended as std::bad_alloc ("internal error") after a minute.
// It now keeps one step; both it and ring_timeline refuse more than 4096 devices.
TEST_CASE("ring: thousands of devices are analysed without the P x P timeline") {
  RingConfig c;
  c.heads = c.kv_heads = 32;
  c.head_dim = 128;
  c.dtype = DType::fp16;
  c.flops_per_s = 312e12;
  c.link_bytes_per_s = 1e18;  // transfers far faster than compute: every step is compute-bound
  SUBCASE("4096 devices of 256 tokens: the pass is 4096 steps of one full block") {
    c.seq = u64{1} << 20;
    c.devices = 4096;
    // One block: 4 x 32 heads x 256 x 256 x 128 FLOPs = 1,073,741,824 FLOPs / 312e12 FLOP/s.
    const double full = 1073741824.0 / 312e12;
    const RingResult r = ring_analyze(c);
    CHECK(r.block == 256);
    CHECK(r.pass_s == doctest::Approx(4096 * full));
    CHECK(r.no_overlap_s == doctest::Approx(4096 * full + 4095 * r.transfer_s));
  }
  SUBCASE("the schedule a step at a time gives the timeline's figures (causal, 8 devices)") {
    c.seq = 8192;
    c.devices = 8;
    c.causal = true;
    c.link_bytes_per_s = 50e9;
    const RingResult r = ring_analyze(c);
    const RingTimeline t = ring_timeline(c);
    REQUIRE(t.events.size() == 64);
    CHECK(r.pass_s == t.total_s);
    double no_overlap = 0;
    for (u64 s = 0; s < 8; ++s) {
      double worst = 0;
      for (u64 i = 0; i < 8; ++i) worst = std::max(worst, t.events[s * 8 + i].work);
      no_overlap += worst * r.compute_s + (s + 1 < 8 ? r.transfer_s : 0.0);
    }
    CHECK(r.no_overlap_s == doctest::Approx(no_overlap));
  }
  SUBCASE("the full timeline: 1024 devices (2^20 events); 4097 devices refused, naming the option") {
    c.seq = u64{1} << 20;
    c.devices = 1024;
    CHECK(ring_timeline(c).events.size() == (u64{1} << 20));
    c.devices = 4097;
    const char* msg = "--devices 4097: the ring schedule is simulated step by step (P x P = 16,785,409 device-steps); "
                      "at most 4096 devices";
    CHECK_THROWS_WITH_AS(ring_timeline(c), msg, InputError);
    CHECK_THROWS_WITH_AS(ring_analyze(c), msg, InputError);
  }
}

TEST_CASE("step counts at N = 10^9 and at the scaling model's limit") {
  ScalingConfig cfg;  // d 64, 12 heads, Mamba D = 1536, n = 16
  SUBCASE("SSM: 10^9 steps x 1536 channels x 16 states = 24,576,000,000,000 updates per layer") {
    const FamilyCost s = scaling_cost(Family::ssm, 1'000'000'000, cfg);
    CHECK(s.work.mean_exact() == u128{1'000'000'000});
    CHECK(s.scan_updates.mean_exact() == u128{24'576'000'000'000});
    CHECK(s.flops.mean_exact() == u128{6} * 24'576'000'000'000);  // 6 FLOPs per update
  }
  SUBCASE("sliding window w = 4096 at N = 10^9: 4096·10^9 - 4096·4095/2 = 4,095,991,613,440 entries") {
    CHECK(causal_band_count(1'000'000'000, 4096) == u128{4'095'991'613'440});
  }
  SUBCASE("N = 10^18, causal full: N(N+1)/2 = 500000000000000000500000000000000000, exact") {
    const u128 e18 = 1'000'000'000'000'000'000ull;
    CHECK(to_string_u128(mask_count(mask_full(true), mask_max_seq)) == "500000000000000000500000000000000000");
    CHECK(mask_count(mask_full(false), mask_max_seq) == e18 * e18);
  }
  SUBCASE("one token past the limit is refused") {
    CHECK_THROWS_AS(scaling_cost(Family::full, mask_max_seq + 1, cfg), InputError);
  }
}

TEST_CASE("KV cache and ring attention at their option limits") {
  SUBCASE("Llama 2 7B, 2^30 tokens x 2^20 sequences: 2^19 B per token -> 2^69 B, exact") {
    const KvResult r = kv_cache_size(model_find("llama-2-7b"), DType::fp16, u64{1} << 30, u64{1} << 20);
    CHECK(r.bytes_per_token == p2(19));  // 2 x 32 heads x 128 x 2 B x 32 layers = 512 KiB
    CHECK(r.bytes_total == p2(69));
  }
  SUBCASE("ring: every option at its maximum") {
    RingConfig c;
    c.seq = u64{1} << 36;
    c.devices = 65536;
    c.batch = u64{1} << 20;
    c.heads = c.kv_heads = c.head_dim = 65536;
    c.dtype = DType::bf16;
    // block n = 2^36 / 2^16 = 2^20 tokens; Q: 2^20 x 2^20 x 2^16 x 2^16 x 2 B = 2^73 B.
    const RingMemory m = ring_memory(c, u64{1} << 20);
    CHECK(m.q == p2(73));
    CHECK(m.kv_own == p2(74));
    // 2^20 batch x 2^20 rows x 2^16 heads x (m, l) x 4 B = 2^59 B.
    CHECK(m.softmax_stats == p2(59));
    CHECK(m.total == p2(73) * 2 + p2(74) * 2 + p2(59));
  }
}
