// Ring attention measured on two H200s (assets/measurements/ring-h200x2.json, written by
// kernels/ring-attention.cpp) against the ring model (src/models/ring.hpp).
//
// Two systematic differences, both expected, are asserted as such rather than hidden in a wide
// tolerance:
//   1. Compute: the model at efficiency 1 assumes the H200's dense bf16 peak (989.4 TFLOP/s). Our
//      block kernel (attn-mma: mma.sync, FlashAttention-2 style, not Hopper's wgmma) reaches
//      ~291 TFLOP/s on a 16384-token block, 29% of it: measured compute is ~3.4x the model's.
//      Small blocks are slower still: n = 256 gives 2 query tiles x 32 heads = 64 blocks for
//      132 SMs, and launch costs a few microseconds.
//   2. Link: NVLink 4 is 450 GB/s per direction on paper; NCCL send/recv between the two GPUs
//      moved 358 GB/s for 1 GiB alone and ~300 GB/s for a ring step's 268 MB, and every transfer
//      costs ~26-44 us however small (the model without --link-latency-us has no such term).
// With both taken from the file (ring_calibrate: efficiency at the largest block, link latency and
// bandwidth fitted to the transfers) the model matches within the tolerances below from n = 2048.
// What the model cannot see: when the attention grid takes every SM slot (n = 1024 at H = 32:
// 256 blocks, 2 per SM on 132 SMs), an NCCL kernel issued after it waits for a free SM, so the
// transfer does not overlap although compute > transfer. That is why the measured smallest block
// that hides (2048 MHA, 1536 GQA-4) is one sweep point above the calibrated model's (1477, 1011).
#include <doctest/doctest.h>

#include <cmath>

#include "hw/gpu.hpp"
#include "hw/link.hpp"
#include "measure/measurement.hpp"
#include "measure/ring_measured.hpp"
#include "models/ring.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
const RingMeasurements& shipped_ring() {
  static const RingMeasurements m = ring_measured_load(measurement_dir() / "ring-h200x2.json");
  return m;
}
const RingMeasuredRow& row(u64 heads, u64 kv_heads, u64 block, bool causal = false) {
  for (const auto& r : shipped_ring().rows)
    if (r.heads == heads && r.kv_heads == kv_heads && r.block == block && r.causal == causal) return r;
  static const RingMeasuredRow none;
  FAIL_CHECK("no row " << heads << "/" << kv_heads << " n=" << block);
  return none;
}
RingConfig datasheet() {
  RingConfig c;
  c.dtype = DType::bf16;
  c.flops_per_s = gpu_find("h200").peak_flops(DType::bf16);
  c.link_bytes_per_s = link_find("nvlink4").bytes_per_s;
  return c;
}
}  // namespace

TEST_CASE("the shipped ring measurement: two H200s, every shape checked against one GPU and fp64") {
  const RingMeasurements& m = shipped_ring();
  CHECK(m.devices == 2);
  CHECK(m.device.name.find("H200") != std::string::npos);
  CHECK(m.device_names.size() == 2);
  CHECK(m.kernel == "attn-mma");
  CHECK(!m.nccl_version.empty());
  CHECK(!m.command.empty());
  REQUIRE(m.rows.size() == 22);  // MHA and GQA-4 at 10 block sizes, 2 causal points
  for (const auto& r : m.rows) {
    INFO(r.heads << "/" << r.kv_heads << " n=" << r.block);
    CHECK(r.check_ok);
    // The ring rounds each block's O to bf16 once more before its fp32 merge: it differs from the
    // single-GPU output by at most one bf16 step at |O| < 1 (2^-8), never more.
    CHECK(r.vs_single_max_abs <= 0.00390625);
    CHECK(r.max_abs_error < 0.01);  // the harness's bf16 bound against the fp64 reference
    CHECK(r.seq == 2 * r.block);
    CHECK(r.compute_only.has_value());
    CHECK(r.overlap_compute_first.has_value());
    CHECK(r.overlap.timeline.size() == 4);  // P x P events
  }
  SUBCASE("sizes worked out by hand") {
    const auto& r = row(32, 32, 16384);
    CHECK(r.kv_bytes_per_step == 268435456);         // 2 x 32 heads x 16384 x 128 x 2 bytes
    CHECK(r.flops_per_block() == 4398046511104.0);   // 4 x 32 x 16384^2 x 128 = 2^42
    CHECK(row(32, 8, 16384).kv_bytes_per_step == 67108864);  // a quarter: 8 K/V heads
  }
  SUBCASE("the timeline is one real pass: step 1 starts after step 0, the send ends before step 1") {
    for (const auto& e : row(32, 32, 4096).overlap_compute_first->timeline) {
      if (e.step != 1) continue;
      for (const auto& f : row(32, 32, 4096).overlap_compute_first->timeline)
        if (f.step == 0 && f.device == e.device) {
          CHECK(e.compute_start_ms >= f.compute_end_ms);
          CHECK(e.compute_start_ms >= f.send_end_ms);  // the compute waited for its block
        }
    }
  }
  SUBCASE("large blocks hide their transfers, small ones do not") {
    CHECK(row(32, 32, 16384).hides());
    CHECK(row(32, 8, 4096).hides());
    CHECK_FALSE(row(32, 32, 256).hides());
    CHECK_FALSE(row(32, 32, 1024).hides());
    CHECK(ring_measured_min_block(m, 32, 32, false) == 2048);
    CHECK(ring_measured_min_block(m, 32, 8, false) == 1536);
  }
}

TEST_CASE("ring model with datasheet inputs vs the H200 measurements: the systematic differences") {
  const auto rows = ring_compare(shipped_ring(), datasheet());
  REQUIRE(rows.size() == 22);
  for (const auto& x : rows) {
    INFO(x.measured.heads << "/" << x.measured.kv_heads << " n=" << x.measured.block);
    // 1. The kernel at ~29% of peak: the ratio is 1 / efficiency at full occupancy.
    if (x.measured.block >= 4096) CHECK(x.compute_ratio == doctest::Approx(3.45).epsilon(0.05));
    CHECK(x.compute_ratio > 3.3);  // never faster than the datasheet allows
    // 2. The link below its datasheet figure, and latency-bound for small messages.
    CHECK(x.transfer_ratio > 1.4);
  }
  // 268 MB in 0.905 ms: 297 GB/s against 450: ratio 1.52.
  CHECK(ring_compare(shipped_ring(), datasheet())[9].transfer_ratio == doctest::Approx(1.52).epsilon(0.03));
  // The paper's n >= F/B at peak: 989.4e12 / 450e9 = 2198.7 -> 2199 (MHA); GQA-4: 8 x 2 x 989.4e12 /
  // (2 x 32 x 450e9) = 549.7 -> 550. Measured: 2048 and 1536. The model's MHA figure lands near the
  // measurement only because its two errors (compute 3.4x too fast, link 1.5x too fast) half cancel.
  RingConfig c = datasheet();
  c.heads = 32, c.kv_heads = 32, c.head_dim = 128, c.batch = 1;
  CHECK(ring_min_block(c) == 2199);
  c.kv_heads = 8;
  CHECK(ring_min_block(c) == 550);
}

TEST_CASE("ring model calibrated from the measurement: within 12% (compute) and 25% (link) from n = 2048") {
  const GpuSpec gpu = gpu_find("h200");
  const RingCalibration cal = ring_calibrate(shipped_ring(), gpu);
  // 4 x 32 x 16384^2 x 128 FLOPs in 15.134 ms = 290.6 TFLOP/s = 0.2937 of 989.4.
  CHECK(cal.efficiency_block == 16384);
  CHECK(cal.efficiency == doctest::Approx(0.2937).epsilon(0.01));
  // Least squares over the 22 transfers: ~44 us + bytes / ~307 GB/s.
  CHECK(cal.link_bytes_per_s == doctest::Approx(306.7e9).epsilon(0.02));
  CHECK(cal.link_latency_s == doctest::Approx(44.1e-6).epsilon(0.05));
  RingConfig base = datasheet();
  base.efficiency = cal.efficiency;
  base.link_bytes_per_s = cal.link_bytes_per_s;
  base.link_latency_s = cal.link_latency_s;
  int agree = 0;
  for (const auto& x : ring_compare(shipped_ring(), base)) {
    const auto& r = x.measured;
    INFO(r.heads << "/" << r.kv_heads << " n=" << r.block << (r.causal ? " causal" : ""));
    if (r.block >= 2048) CHECK(std::fabs(x.compute_ratio - 1) <= 0.12);
    // The overlapped pass per step: also the merges, the launches and the attention slowed by the
    // NCCL kernel's SMs (17% at n = 2048), none of which the model has; within 12% from n = 4096
    // (the causal diagonal block takes ~0.64 of a full one at n = 4096, not the model's 0.5).
    if (r.block >= 4096 && (!r.causal || r.block >= 16384)) CHECK(std::fabs(x.step_ratio - 1) <= 0.12);
    MESSAGE(r.heads << "/" << r.kv_heads << " n=" << r.block << (r.causal ? "C" : "") << " compute " << x.compute_ratio
                    << " transfer " << x.transfer_ratio << " step " << x.step_ratio);
    if (r.kv_bytes_per_step >= 8u << 20) CHECK(std::fabs(x.transfer_ratio - 1) <= 0.25);
    CHECK(std::fabs(x.transfer_ratio - 1) <= 0.40);  // every row, 1 MB to 268 MB
    if (r.hides() == x.model_hides) ++agree;
    // The two rows where they disagree sit at the SM-slot limit described at the top of this file.
    const bool slot_bound = (r.kv_heads == 8 && r.block == 1024) || (r.kv_heads == 32 && r.block == 1536);
    CHECK((r.hides() != x.model_hides) == slot_bound);
  }
  CHECK(agree == 20);
  RingConfig c = base;
  c.heads = 32, c.kv_heads = 32, c.head_dim = 128, c.batch = 1;
  // 4 b H d n^2 / (F e) = a + 2 b Hkv d s n / B, solved by hand with the figures above: 1477, 1011.
  CHECK(ring_min_block(c) == doctest::Approx(1477).epsilon(0.01));
  c.kv_heads = 8;
  CHECK(ring_min_block(c) == doctest::Approx(1011).epsilon(0.01));
}

TEST_CASE("link latency in the ring model: a transfer costs a + bytes / B") {
  RingConfig c = datasheet();
  c.seq = 2048, c.devices = 2, c.batch = 1, c.heads = 32, c.kv_heads = 32, c.head_dim = 128;
  const RingResult without = ring_analyze(c);
  c.link_latency_s = 25e-6;
  const RingResult with = ring_analyze(c);
  // 2 x 1024 x 32 x 128 x 2 bytes = 16,777,216 bytes / 450e9 = 37.28 us; + 25 us.
  CHECK(without.transfer_s == doctest::Approx(16777216.0 / 450e9));
  CHECK(with.transfer_s == doctest::Approx(16777216.0 / 450e9 + 25e-6));
  // The smallest hiding block grows: A n^2 = a + C n with A = 16384 / 989.4e12, C = 16384 / 450e9:
  // n = (C + sqrt(C^2 + 4 A a)) / 2A: 2198.7 without latency; with 25 us, C = 3.641e-8, 4 A a = 1.656e-15,
  // sqrt(1.3256e-15 + 1.656e-15) = 5.460e-8, n = 9.101e-8 / 3.312e-11 = 2748.0 -> 2749.
  const double A = 16384.0 / 989.4e12, C = 16384.0 / 450e9, a = 25e-6;
  const double n = (C + std::sqrt(C * C + 4 * A * a)) / (2 * A);
  CHECK(ring_min_block(c) == static_cast<u64>(std::ceil(n)));
  CHECK(A * double(ring_min_block(c)) * double(ring_min_block(c)) >= a + C * double(ring_min_block(c)));
  CHECK(ring_min_block(c) == 2749);
  c.link_latency_s = -1e-6;
  CHECK_THROWS_WITH(ring_analyze(c), doctest::Contains("--link-latency-us must be between 0 and 1000000"));
}

TEST_CASE("ring measurement files: bad input is refused with the JSON path") {
  const std::string good = R"({"schema":"attnlab-measurements","schema_version":1,
    "device":{"name":"NVIDIA H200","compute_capability":"9.0","sm_count":132,"l2_bytes":52428800,
              "driver_version":"580","cuda_driver":"13.0","cuda_runtime":"13.0"},
    "date":"2026-11-23T07:00:00Z","command":"attnlab-ring-attention","runs":[],
    "ring":{"devices":2,"rows":[{"config":{"devices":2,"batch":1,"heads":4,"kv_heads":4,"seq":128,"block":64,
      "head_dim":64,"causal":false,"dtype":"bf16"},"kv_bytes_per_step":65536,
      "check":{"ok":true,"vs_single_max_abs":0.001,"vs_single_rel_l2":0.001,"max_abs_error":0.002,"rel_l2_error":0.001},
      "serial":{"pass_ms":{"median":1,"min":0.9,"max":1.1,"repeats":3},"compute_ms":0.4,"attn_ms":0.3,"transfer_ms":0.1,"idle_ms":0.1},
      "overlap":{"pass_ms":{"median":0.9,"min":0.8,"max":1.0,"repeats":3},"compute_ms":0.4,"attn_ms":0.3,"transfer_ms":0.1,"idle_ms":0.0}}]}})";
  const RingMeasurements m = ring_measured_parse(good, "t.json");
  REQUIRE(m.rows.size() == 1);
  // No compute_only schedule: the floor is serial minus its one transfer, 0.9 ms: nothing exposed.
  CHECK(m.rows[0].exposed_ms() == doctest::Approx(0.0));
  CHECK(m.rows[0].hides());  // overlap waited 0 ms
  CHECK(m.rows[0].link_gbps() == doctest::Approx(0.65536));  // 65536 bytes in 0.1 ms
  auto bad = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
  };
  CHECK_THROWS_WITH(ring_measured_parse(bad("\"ring\":{", "\"ringx\":{"), "t.json"),
                    doctest::Contains("t.json: has no \"ring\" section"));
  CHECK_THROWS_WITH(ring_measured_parse(bad("\"kv_bytes_per_step\":65536", "\"kv_bytes_per_step\":65537"), "t.json"),
                    doctest::Contains("ring.rows[0].kv_bytes_per_step must be 2 b Hkv n d x 2 bytes = 65536"));
  CHECK_THROWS_WITH(ring_measured_parse(bad("\"seq\":128", "\"seq\":100"), "t.json"),
                    doctest::Contains("ring.rows[0].config.seq must be devices x block = 128"));
  CHECK_THROWS_WITH(ring_measured_parse(bad("\"median\":1,", "\"median\":2,"), "t.json"),
                    doctest::Contains("ring.rows[0].serial.pass_ms must have min <= median <= max"));
  CHECK_THROWS_WITH(ring_measured_parse(bad("\"overlap\":{", "\"overlapx\":{"), "t.json"),
                    doctest::Contains("ring.rows[0].overlap is missing"));
  CHECK_THROWS_AS(ring_measured_load("/nonexistent/ring.json"), InputError);
}
