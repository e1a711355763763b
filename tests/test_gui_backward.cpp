// The dashboard's backward panel, drawn headless: the times, rates, speed-ups and ncu bytes it
// prints are the shipped measurement's (assets/measurements/h200-backward.json), worked out here
// from the file's own runs without the comparison code the panel uses (src/measure/backward_compare).
#include <doctest/doctest.h>

#if ATTNLAB_HAVE_GUI

#include <string>

#include "gui_headless.hpp"
#include "measure/backward_measured.hpp"
#include "panels/registry.hpp"
#include "util/units.hpp"
#include "view.hpp"

using namespace attnlab;
using namespace attnlab::gui;
using namespace attnlab::gui::test;

TEST_CASE("backward panel: prints the measurement's figures") {
  View v;
  v.headless_capture = true;
  v.load_measurements({});
  v.set_gpu("h200");
  const BackwardMeasurements m = backward_measured_load(measurement_dir() / "h200-backward.json");
  REQUIRE_FALSE(m.runs.empty());
  REQUIRE(panel_find("backward") != nullptr);
  const std::string text = frame_text(1400, 2400, [&] { panel_find("backward")->draw(v); });
  CAPTURE(text);

  // The panel opens on the problem of the file's first backward run.
  const MeasuredConfig& shown = m.runs.front().run.config;
  auto reference = [&](const std::string& backend, const std::string& pass) -> const MeasuredRun* {
    for (const auto& r : m.references)
      if (r.run.backend == backend && r.pass == pass && measured_same_problem(r.run.config, shown)) return &r.run;
    return nullptr;
  };
  int checked = 0;
  SUBCASE("every run of that problem: its median time and backward TFLOP/s") {
    for (const auto* list : {&m.runs, &m.references})
      for (const BackwardRun& r : *list) {
        if (!measured_same_problem(r.run.config, shown)) continue;
        CAPTURE(r.run.kernel);
        CAPTURE(r.pass);
        CHECK(prints(text, format_seconds(r.run.time.median_ms * 1e-3)));
        if (r.pass == "bwd") CHECK(prints(text, fmt::format("{:.1f}", r.run.tflops)));
        ++checked;
      }
    CHECK(checked >= 8);  // ours bwd and fwd+bwd, PyTorch's two backends x three passes
  }
  SUBCASE("our backward's speed-ups: PyTorch's median / ours") {
    for (const BackwardRun& r : m.runs) {
      if (!measured_same_problem(r.run.config, shown) || r.pass != "bwd") continue;
      const MeasuredRun* flash = reference("flash", "bwd");
      const MeasuredRun* cudnn = reference("cudnn", "bwd");
      REQUIRE(flash != nullptr);
      REQUIRE(cudnn != nullptr);
      CAPTURE(r.run.kernel);
      CHECK(prints(text, fmt::format("{:.2f}x", flash->time.median_ms / r.run.time.median_ms)));
      CHECK(prints(text, fmt::format("{:.2f}x", cudnn->time.median_ms / r.run.time.median_ms)));
      CHECK(prints(text, r.run.kernel + " (ours)"));
    }
  }
  SUBCASE("every ncu record: DRAM read + write and L2 bytes as measured, with its problem") {
    REQUIRE_FALSE(m.ncu.empty());
    for (const NcuRecord& n : m.ncu) {
      CAPTURE(n.kernel);
      CHECK(prints(text, fmt::format("{:.2f} GB", (n.dram_read_bytes + n.dram_write_bytes) / 1e9)));
      CHECK(prints(text, fmt::format("{:.2f} GB", n.lts_bytes / 1e9)));
      CHECK(prints(text, fmt::format("{} N{} d{}", n.kernel, n.config.seq_q, n.config.head_dim)));
    }
  }
  SUBCASE("where the numbers come from") {
    // The records share their batch and heads (B4 H16): the table's header says so once.
    CHECK(prints(text, fmt::format("whole backward, B{} H{} {}", m.ncu.front().config.batch, m.ncu.front().config.heads,
                                   m.ncu.front().config.dtype)));
    CHECK(prints(text, "h200-backward.json: " + m.file.device.name + ", driver " + m.file.device.driver_version));
  }
}

TEST_CASE("backward panel: without a backward file, a note") {
  View v;
  v.headless_capture = true;
  v.set_gpu("h200");
  const std::string text = frame_text(1000, 700, [&] { panel_find("backward")->draw(v); });
  CHECK(prints(text, "No measurement file with a backward section is loaded"));
  CHECK(frame(120, 90, [&] { panel_find("backward")->draw(v); }) > 0);  // a tiny window: no crash
}

#endif
