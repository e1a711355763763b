// The measurement writer (src/measure/measurement_write.cpp) and the FLOP count the measuring
// programs and the simulator share (src/sim/flops.cpp).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "measure/measurement_write.hpp"
#include "sim/decode_traffic.hpp"
#include "sim/flops.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {

MeasuredRun mma_run() {
  MeasuredRun r;
  r.kernel = "attn-mma", r.rung = 3, r.source = "attnlab";
  r.config.batch = 1, r.config.heads = 2, r.config.kv_heads = 2, r.config.seq_q = 128, r.config.seq_kv = 128;
  r.config.head_dim = 64, r.config.dtype = "bf16", r.config.block_q = 128, r.config.block_kv = 64;
  r.time = measured_time({0.03, 0.02, 0.019});
  r.tflops = measurement_forward_flops(r.config) / (r.time.median_ms * 1e-3) / 1e12;
  r.max_abs_error = 0.001;
  return r;
}

MeasuredDevice h100() {
  MeasuredDevice d;
  d.name = "NVIDIA H100 80GB HBM3", d.compute_capability = "9.0", d.sm_count = 132, d.l2_bytes = 52428800;
  d.driver_version = "580.159.04", d.cuda_driver = "13.0", d.cuda_runtime = "13.0";
  return d;
}

}  // namespace

TEST_CASE("forward FLOPs: 4·B·H·Nq·Nkv·d, causal half, exact and in floating point alike") {
  const AttentionDims d{8, 16, 4096, 4096, 128, false};
  CHECK(attention_forward_flops(d) == u128(1099511627776ull));  // 4·8·16·4096²·128 = 2^40
  CHECK(attention_forward_flops_approx(d) == 1099511627776.0);
  const AttentionDims c{8, 16, 4096, 4096, 128, true};
  CHECK(attention_forward_flops(c) == u128(549755813888ull));
  CHECK(attention_forward_flops_approx(c) == 549755813888.0);
  // Decode: one query row against 32768 keys, 32 heads: 4·32·32768·128.
  CHECK(attention_forward_flops({1, 32, 1, 32768, 128, false}) == u128(536870912ull));
  // Backward: 2x the forward, 2.5x with recomputation (B1 H1 N4 d2 non-causal: forward 128).
  CHECK(attention_backward_flops({1, 1, 4, 4, 2, false}, false) == 256);
  CHECK(attention_backward_flops({1, 1, 4, 4, 2, false}, true) == 320);
  CHECK(attention_pair_flops(129.0, 128) == 4.0 * 128 * 129);
  // Past 128 bits the exact count refuses; the floating-point one still answers.
  const AttentionDims huge{1ull << 40, 1ull << 40, 1ull << 40, 1ull << 40, 1ull << 40, false};
  CHECK_THROWS_AS(attention_forward_flops(huge), OverflowError);
  CHECK(attention_forward_flops_approx(huge) > 1e60);
}

TEST_CASE("decode's fewest bytes: K and V once, Q read, O written") {
  DecodeConfig c;  // B1 H32, 8 kv heads, L32768, d128, bf16
  c.kv_heads = 8;
  CHECK(decode_min_bytes(c) == 134234112);  // 2·8·32768·128·2 + 2 · 32·128·2
  c.kv_heads = 32;
  CHECK(decode_min_bytes(c) == 2ull * 32 * 32768 * 128 * 2 + 2ull * 32 * 128 * 2);
}

TEST_CASE("measured_time: median, min, max and count of the repeats") {
  const MeasuredTime odd = measured_time({3.0, 1.0, 2.0});
  CHECK(odd.median_ms == 2.0);
  CHECK(odd.min_ms == 1.0);
  CHECK(odd.max_ms == 3.0);
  CHECK(odd.repeats == 3);
  CHECK(measured_time({4.0, 1.0, 2.0, 3.0}).median_ms == 2.5);
  CHECK_THROWS_AS(measured_time({}), InputError);
}

TEST_CASE("command_line names the program, not where its binary lives") {
  const char* argv[] = {"/tmp/x/build/attnlab-attn-decode", "--sweep", "key", "--json", "d.json"};
  CHECK(command_line("attnlab-attn-decode", 5, argv) == "attnlab-attn-decode --sweep key --json d.json");
  CHECK(command_line("attnlab-bench", 1, argv) == "attnlab-bench");
}

TEST_CASE("measurement_write: the header once, and only what the reader accepts") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "attnlab_test_measure_write";
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "out.json";
  std::filesystem::remove(path);

  Measurements m = measurement_begin(h100(), "attnlab-bench --sweep key", "attnlab-bench 0.2.0");
  CHECK(m.date.size() == 20);  // 2026-12-02T04:30:00Z
  CHECK(m.date[4] == '-');
  CHECK(m.date.back() == 'Z');
  m.runs.push_back(mma_run());
  measurement_write(m, path);
  const Measurements back = measurement_load(path);
  CHECK(back.device.name == "NVIDIA H100 80GB HBM3");
  CHECK(back.command == "attnlab-bench --sweep key");
  CHECK(back.tool == "attnlab-bench 0.2.0");
  REQUIRE(back.runs.size() == 1);
  CHECK(back.runs[0].time.median_ms == 0.02);
  CHECK(back.runs[0].time.repeats == 3);
  CHECK(back.runs[0].tflops == doctest::Approx(8388608.0 / 0.02e-3 / 1e12));

  // A run the reader would refuse (a zero time) is refused before anything is written.
  std::filesystem::remove(path);
  m.runs[0].time.min_ms = 0;
  CHECK_THROWS_AS(measurement_write(m, path), InputError);
  CHECK(!std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}
