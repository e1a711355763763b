// The ring panel's "measured" tab: the shipped NCCL measurement (assets/measurements/ring-h200x2.json)
// beside the ring model. The figures are src/measure/ring_measured's; these check that the panel
// asks for them with the same model inputs as `attnlab ring --measured FILE [--calibrate]`, groups
// the rows the way the lesson talks about them, and draws them. Expected values worked by hand from
// the file's figures and the presets (H200 SXM: 989.4 TFLOP/s dense bf16; nvlink4: 450 GB/s).
#include <doctest/doctest.h>

#if ATTNLAB_HAVE_GUI

#include <algorithm>
#include <fmt/format.h>
#include <string>

#include "gui_headless.hpp"
#include "gui_loaded.hpp"
#include "hw/link.hpp"
#include "measure/measurement.hpp"
#include "models/ring.hpp"
#include "panels/registry.hpp"
#include "panels/ring_measured.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

using namespace attnlab;
using namespace attnlab::gui;
using namespace attnlab::gui::test;

namespace {

const RingMeasurements& shipped() {
  static const RingMeasurements m = ring_measured_load(measurement_dir() / "ring-h200x2.json");
  return m;
}

const RingComparedRow* find_row(const RingSeries& s, u64 block) {
  for (const auto& r : s.rows)
    if (r.measured.block == block) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("ring panel: the view finds the shipped NCCL measurement") {
  View v = loaded_view();
  const auto it = std::find_if(v.ring_measurements.begin(), v.ring_measurements.end(),
                               [](const RingMeasurementSet& s) { return s.file.filename() == "ring-h200x2.json"; });
  REQUIRE(it != v.ring_measurements.end());
  CHECK(it->bundled);
  CHECK(it->data.devices == 2);
  CHECK(it->data.device.name == "NVIDIA H200");
  CHECK(it->data.rows.size() == 22);
  // Only files with a "ring" section: the H100 kernel files are not ring files.
  for (const auto& s : v.ring_measurements) CHECK(s.file.filename().string().rfind("ring-", 0) == 0);
}

TEST_CASE("ring panel: model inputs and series as `attnlab ring --measured`") {
  const RingMeasurements& m = shipped();
  const GpuSpec h100 = gpu_find("h100-sxm");

  SUBCASE("uncalibrated: the H200 preset's peak, efficiency 1, nvlink4, no latency") {
    const RingMeasuredData d = ring_measured_data(m, false, h100);
    CHECK(d.gpu_from_file);
    CHECK(d.gpu.name == "h200");  // from the file's device, not the dashboard's H100
    CHECK(d.base.flops_per_s == doctest::Approx(989.4e12));
    CHECK(d.base.efficiency == 1.0);
    CHECK(d.base.link_bytes_per_s == doctest::Approx(450e9));
    CHECK(d.base.link_latency_s == 0.0);
    CHECK_FALSE(d.calibrated);
    // Three series: MHA full (10 blocks 256..16,384), GQA-4 full (10), MHA causal (2).
    REQUIRE(d.series.size() == 3);
    CHECK(d.series[0].heads == 32);
    CHECK(d.series[0].kv_heads == 32);
    CHECK_FALSE(d.series[0].causal);
    CHECK(d.series[0].rows.size() == 10);
    CHECK(d.series[1].kv_heads == 8);
    CHECK(d.series[1].rows.size() == 10);
    CHECK(d.series[2].causal);
    CHECK(d.series[2].rows.size() == 2);
    CHECK(d.series[0].label() == "32 heads / 32 K/V heads (MHA), full mask");
    CHECK(d.series[1].label() == "32 heads / 8 K/V heads (GQA-4), full mask");
    for (const auto& s : d.series)
      for (size_t i = 1; i < s.rows.size(); ++i) CHECK(s.rows[i - 1].measured.block < s.rows[i].measured.block);
    // The model's smallest hiding block, n >= Hkv s F / (2 H B): MHA 989.4e12 / 450e9 = 2198.7 -> 2,199;
    // GQA-4 a quarter of that, 549.7 -> 550.
    CHECK(d.series[0].model_min_block == 2199);
    CHECK(d.series[1].model_min_block == 550);
  }

  SUBCASE("one row, worked by hand: MHA, n = 4,096 per GPU") {
    const RingMeasuredData d = ring_measured_data(m, false, h100);
    const RingComparedRow* r = find_row(d.series[0], 4096);
    REQUIRE(r != nullptr);
    // Model: 4 H n^2 d = 4 * 32 * 4096^2 * 128 = 274,877,906,944 FLOP at 989.4 TFLOP/s = 277.82 us;
    // K and V blocks 2 * 4096 * 32 * 128 * 2 B = 64 MiB at 450 GB/s = 149.13 us (hides).
    CHECK(r->model.compute_s == doctest::Approx(274877906944.0 / 989.4e12));
    CHECK(r->model.transfer_s == doctest::Approx(67108864.0 / 450e9));
    CHECK(r->model_hides);
    // Measured (the file): attention 0.98767 ms, transfer 0.27098 ms, overlapped pass 2.09456 ms.
    CHECK(r->compute_ratio == doctest::Approx(0.9876719900348689e-3 / (274877906944.0 / 989.4e12)));  // 3.555
    CHECK(r->transfer_ratio == doctest::Approx(0.27097606658935547e-3 / (67108864.0 / 450e9)));      // 1.817
    CHECK(r->step_measured_s == doctest::Approx(2.094559907913208e-3 / 2));
    // Model pass: two steps of 277.82 us, the transfer (149.13 us) hidden under the first.
    CHECK(r->step_model_s == doctest::Approx(274877906944.0 / 989.4e12));
    // Hides: the compute streams waited 3.04 us, under 10% of one 271 us transfer.
    CHECK(r->measured.hides());
  }

  SUBCASE("the small block does not hide on the GPUs: MHA, n = 512") {
    const RingMeasuredData d = ring_measured_data(m, false, h100);
    const RingComparedRow* r = find_row(d.series[0], 512);
    REQUIRE(r != nullptr);
    // Waited 56.9 us against a 70.4 us transfer (10% = 7.0 us).
    CHECK_FALSE(r->measured.hides());
    CHECK_FALSE(r->model_hides);  // 512 < 2,199
  }

  SUBCASE("the panel's rows are ring_compare's rows, one for one") {
    const RingMeasuredData d = ring_measured_data(m, false, h100);
    const auto rows = ring_compare(m, d.base);
    size_t n = 0;
    for (const auto& s : d.series) n += s.rows.size();
    CHECK(n == rows.size());
    for (const auto& x : rows) {
      const auto s = std::find_if(d.series.begin(), d.series.end(), [&](const RingSeries& s) {
        return s.heads == x.measured.heads && s.kv_heads == x.measured.kv_heads && s.causal == x.measured.causal;
      });
      REQUIRE(s != d.series.end());
      const RingComparedRow* y = find_row(*s, x.measured.block);
      REQUIRE(y != nullptr);
      CHECK(y->compute_ratio == x.compute_ratio);
      CHECK(y->transfer_ratio == x.transfer_ratio);
      CHECK(y->step_ratio == x.step_ratio);
    }
  }

  SUBCASE("calibrated: the efficiency and link fitted from the file") {
    const RingMeasuredData d = ring_measured_data(m, true, h100);
    const RingCalibration c = ring_calibrate(m, gpu_find("h200"));
    CHECK(d.calibrated);
    CHECK(d.base.efficiency == c.efficiency);
    CHECK(d.base.link_bytes_per_s == c.link_bytes_per_s);
    CHECK(d.base.link_latency_s == c.link_latency_s);
    CHECK(d.base.efficiency < 1.0);
    CHECK(d.inputs.find("calibrated") != std::string::npos);
  }

  SUBCASE("a device no preset stands for: the dashboard's GPU, and it says so") {
    RingMeasurements other = m;
    other.device.name = "Some Accelerator 9000";
    const RingMeasuredData d = ring_measured_data(other, false, h100);
    CHECK_FALSE(d.gpu_from_file);
    CHECK(d.gpu.name == "h100-sxm");
  }
}

TEST_CASE("ring panel: the verdict and the table print the file's and the model's figures") {
  const RingMeasuredData d = ring_measured_data(shipped(), false, gpu_find("h100-sxm"));
  REQUIRE(d.series.size() == 3);
  // The numbers `attnlab ring --measured` prints ("H 32/32: measured 2,048, model 2,199"; GQA-4
  // 1,536 and 550): one ring_series behind both.
  CHECK(ring_measured_verdict(d.series[0]) ==
        "Transfers hide from n = 2,048 tokens per GPU measured (green line); the model says 2,199 tokens (grey).");
  CHECK(ring_measured_verdict(d.series[1]) ==
        "Transfers hide from n = 1,536 tokens per GPU measured (green line); the model says 550 tokens (grey).");
  // MHA, n = 4,096 per GPU, worked by hand above: model attention 277.82 us, K/V transfer 149.13 us
  // (64 MiB at 450 GB/s); measured 0.98767 ms and 0.27098 ms, overlapped pass 2.09456 ms / 2 GPUs.
  const RingComparedRow* r = find_row(d.series[0], 4096);
  REQUIRE(r != nullptr);
  const std::vector<std::string> cells = ring_measured_cells(*r);
  REQUIRE(cells.size() == ring_measured_columns().size());
  CHECK(cells == std::vector<std::string>{"4,096", "64.0 MiB", "988 µs", "278 µs", "3.56", "271 µs", "149 µs", "1.82",
                                          "1.05 ms", "278 µs", "3.77", format_seconds(r->measured.wait_ms() * 1e-3),
                                          "yes", "yes"});
}

TEST_CASE("ring panel: the measured tab draws") {
  View v = loaded_view();
  REQUIRE_FALSE(v.ring_measurements.empty());
  SUBCASE("every series and both model inputs print their verdict and every row") {
    for (int series = 0; series < 3; ++series)
      for (bool cal : {false, true}) {
        CAPTURE(series);
        CAPTURE(cal);
        v.settings.ring_measured_series = series;
        v.settings.ring_calibrated = cal;
        v.settings.ring_measured_row = 0;
        const std::string text = frame_text(1400, 2400, [&] { draw_ring_measured(v); });
        const RingMeasuredData d = ring_measured_data(v.ring_measurements[0].data, cal, v.gpu);
        CHECK(text.find(d.inputs) != std::string::npos);
        CHECK(text.find(ring_measured_verdict(d.series[series])) != std::string::npos);
        for (const auto& row : d.series[series].rows)
          for (const std::string& cell : ring_measured_cells(row)) {
            CAPTURE(cell);
            CHECK(text.find(cell) != std::string::npos);
          }
        frame(130, 90, [&] { draw_ring_measured(v); });  // must not crash or assert
      }
    v.settings.ring_measured_row = 99;  // out of range: the largest block's pass
    const RingMeasuredData d = ring_measured_data(v.ring_measurements[0].data, true, v.gpu);
    const RingSeries& last = d.series[2];
    const std::string text = frame_text(1400, 2400, [&] { draw_ring_measured(v); });
    CHECK(text.find("n = " + format_count(last.rows.back().measured.block) + ": one pass") != std::string::npos);
  }
  SUBCASE("--view measured brings the measured tab to the front once") {
    const RingMeasuredData d = ring_measured_data(v.ring_measurements[0].data, false, v.gpu);
    const std::string verdict = ring_measured_verdict(d.series[0]);
    // Without it the model tab is in front (ImGui selects a tab bar's first tab).
    frame(1000, 780, [&] { panel_find("ring")->draw(v); });
    std::string text = frame_text(1000, 780, [&] { panel_find("ring")->draw(v); });
    CHECK(text.find("Per step: compute") != std::string::npos);
    CHECK(text.find(verdict) == std::string::npos);
    // Asked for: from the next frame on the measured tab is in front, and the request is used up.
    v.settings.ring_measured = true;
    frame(1000, 780, [&] { panel_find("ring")->draw(v); });
    CHECK_FALSE(v.settings.ring_measured);
    text = frame_text(1000, 780, [&] { panel_find("ring")->draw(v); });
    CHECK(text.find(verdict) != std::string::npos);
    CHECK(text.find("Per step: compute") == std::string::npos);
  }
  SUBCASE("no ring file: a note, no table; the panel shows the model alone") {
    v.ring_measurements.clear();
    const std::string text = frame_text(1000, 780, [&] { draw_ring_measured(v); });
    CHECK(text.find("No ring-attention measurement file was found") != std::string::npos);
    CHECK(text.find("Transfers hide") == std::string::npos);
    // The model's verdict for the panel's settings (8 H100s, N = 262,144, 32 heads / 32 K/V heads,
    // d = 128, bf16, NVLink 4), worked by hand: n = 32,768 tokens per GPU; one block pair
    // 4 H n^2 d = 1.759e13 FLOP at 989.4 TFLOP/s = 17.8 ms; one K and V block 2 n Hkv d 2 B = 512 MiB
    // at 450 GB/s = 1.19 ms, so it hides; the smallest hiding block 2,199 (as in the measured tab).
    const Settings& s = v.settings;
    REQUIRE(s.ring_devices == 8);
    REQUIRE(s.ring_seq == 262144);
    REQUIRE(s.ring_kv_heads == 32);
    REQUIRE(v.gpu.name == "h100-sxm");
    const std::string model = frame_text(1000, 780, [&] { panel_find("ring")->draw(v); });
    CHECK(model.find("No ring-attention measurement") == std::string::npos);  // no tab bar, no note
    CHECK(model.find("Per step: compute " + format_seconds(4.0 * 32 * 32768.0 * 32768 * 128 / 989.4e12) + ", transfer " +
                     format_seconds(2.0 * 32768 * 32 * 128 * 2 / 450e9) +
                     " -> transfers hide behind compute. Block n = 32,768 tokens; hidden from n >= 2,199.") !=
          std::string::npos);
    // The pass line: the ring model's own figures for the same inputs.
    RingConfig c;
    c.seq = s.ring_seq;
    c.devices = s.ring_devices;
    c.heads = 32;
    c.kv_heads = s.ring_kv_heads;
    c.head_dim = 128;
    c.flops_per_s = v.gpu.peak_flops(DType::bf16);
    c.efficiency = s.ring_efficiency;
    c.link_bytes_per_s = link_find(s.ring_link).bytes_per_s;
    const RingResult r = ring_analyze(c);
    CHECK(model.find(fmt::format("Pass {} (without overlap {}, ideal {}); memory per device {}.",
                                 format_seconds(r.pass_s), format_seconds(r.no_overlap_s), format_seconds(r.ideal_s),
                                 format_bytes(r.memory.total))) != std::string::npos);
  }
}
#endif
