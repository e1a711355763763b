// kernels: measured TFLOP/s vs N for each rung of our kernel ladder and the PyTorch references,
// straight from the measurement files (assets/measurements plus --measurements DIR), for one
// problem shape at a time; where each file came from (device, date, driver, CUDA, torch, command)
// is listed under the plot. Nothing is estimated here: no file, no point.
#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <tuple>

#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

// The shape a curve is drawn for: everything but N.
using ShapeKey = std::tuple<u64, u64, u64, u64, bool, std::string>;  // batch, heads, kv_heads, d, causal, dtype

ShapeKey shape_of(const MeasuredConfig& c) { return {c.batch, c.heads, c.kv_heads, c.head_dim, c.causal, c.dtype}; }

std::string shape_text(const ShapeKey& k) {
  const auto& [b, h, hkv, d, causal, dtype] = k;
  return fmt::format("B={} H={}{} d={} {}{}", b, h, hkv != h ? fmt::format(" (KV {})", hkv) : "", d, dtype, causal ? " causal" : "");
}

struct KernelsCache : PanelCache {
  std::vector<ShapeKey> shapes;  // shapes with the most runs first
  int chosen = -1;
};

void collect_shapes(const View& v, KernelsCache& c) {
  if (!c.shapes.empty() || v.measurements.empty()) return;
  // Shapes with the most timed runs (kernels and references, all lengths) first.
  std::map<ShapeKey, size_t> runs;
  for (const auto& set : v.measurements) {
    for (const auto& r : set.data.runs) ++runs[shape_of(r.config)];
    for (const auto& r : set.data.references) ++runs[shape_of(r.config)];
  }
  std::vector<std::pair<size_t, ShapeKey>> ranked;
  for (const auto& [k, n] : runs) ranked.push_back({n, k});
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& r : ranked) c.shapes.push_back(r.second);
  c.chosen = 0;
}

}  // namespace

void draw_kernels(View& v) {
  const Theme& th = theme();
  auto& cache = v.cache<KernelsCache>("kernels");
  panel_header("Measured kernels", "measurement files (assets/measurements and --measurements): timed on a real GPU");
  collect_shapes(v, cache);
  if (cache.shapes.empty()) {
    caption("No measurement files are loaded. Run attnlab-bench on a GPU and open its output folder with "
            "--measurements DIR; the bundled H100 files live in assets/measurements.");
    return;
  }
  ImGui::SetNextItemWidth(control_width(1));
  if (ImGui::BeginCombo("##shape", shape_text(cache.shapes[cache.chosen]).c_str())) {
    for (int i = 0; i < static_cast<int>(cache.shapes.size()); ++i)
      if (ImGui::Selectable(shape_text(cache.shapes[i]).c_str(), i == cache.chosen)) cache.chosen = i;
    ImGui::EndCombo();
  }
  const ShapeKey shape = cache.shapes[cache.chosen];

  // One series per kernel (ours: solid, by rung; references: dashed), per origin (bundled or yours).
  PlotSpec ps;
  ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "sequence length N"};
  ps.y = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::flop_rate, "forward TFLOP/s (median)"};
  ps.legend = LegendPos::top_left;
  std::map<std::string, size_t> index;
  auto add = [&](const MeasurementSet& set, const MeasuredRun& r, bool reference) {
    if (shape_of(r.config) != shape || r.tflops <= 0) return;
    const std::string name = (reference ? fmt::format("torch {}", r.backend.empty() ? r.kernel : r.backend)
                                        : fmt::format("rung {}: {}", r.rung, r.kernel)) +
                             (set.bundled ? "" : " (yours)");
    auto it = index.find(name);
    if (it == index.end()) {
      Series s;
      s.name = name;
      s.style = set.bundled ? SeriesStyle::line_points : SeriesStyle::points;
      s.dashed = reference;
      s.color = th.series[index.size() % 8];
      ps.series.push_back(s);
      it = index.emplace(name, ps.series.size() - 1).first;
    }
    Series& s = ps.series[it->second];
    s.x.push_back(double(r.config.seq_q));
    s.y.push_back(r.tflops * 1e12);
    s.notes.push_back(fmt::format("median {:.3f} ms over {} runs (min {:.3f}, max {:.3f}){}\n{}, {}", r.time.median_ms, r.time.repeats,
                                  r.time.min_ms, r.time.max_ms,
                                  r.rel_l2_error ? fmt::format(", rel. L2 error {:.1e}", *r.rel_l2_error) : std::string(),
                                  set.data.device.name, set.file.filename().string()));
  };
  for (const auto& set : v.measurements) {
    for (const auto& r : set.data.runs) add(set, r, false);
    for (const auto& r : set.data.references) add(set, r, true);
  }
  // Sorted by N so the lines join neighbours.
  for (auto& s : ps.series) {
    std::vector<size_t> order(s.x.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
    Series t = s;
    for (size_t i = 0; i < order.size(); ++i) {
      t.x[i] = s.x[order[i]];
      t.y[i] = s.y[order[i]];
      t.notes[i] = s.notes[order[i]];
    }
    s = std::move(t);
  }
  const std::string dt(std::get<5>(shape));
  double peak = 0;
  try {
    peak = v.gpu.peak_flops(parse_dtype(dt, "dtype", {DType::fp16, DType::bf16, DType::fp32, DType::fp8}));
  } catch (const std::exception&) {
  }
  if (peak > 0) {
    ps.markers.push_back({peak, fmt::format("{} dense {} peak", v.gpu.name, dt), th.text_dim, false});
    ps.y_include.push_back(peak);  // the distance to the peak is part of the story
  }

  // Where the numbers come from, one line per file that has this shape.
  std::vector<std::string> origins;
  for (const auto& set : v.measurements) {
    const bool has = std::any_of(set.data.runs.begin(), set.data.runs.end(), [&](const MeasuredRun& r) { return shape_of(r.config) == shape; }) ||
                     std::any_of(set.data.references.begin(), set.data.references.end(),
                                 [&](const MeasuredRun& r) { return shape_of(r.config) == shape; });
    if (!has) continue;
    const auto& d = set.data.device;
    origins.push_back(fmt::format("{}{}: {}, driver {}, CUDA {}{}, {}", set.file.filename().string(), set.bundled ? "" : " (yours)", d.name,
                                  d.driver_version.empty() ? "?" : d.driver_version, d.cuda_runtime,
                                  set.data.torch_version.empty() ? "" : ", torch " + set.data.torch_version, set.data.date.substr(0, 10)));
  }
  const float lines = static_cast<float>(origins.size()) * fonts().small->FontSize * 1.25f + 6;
  plot_draw("kernels", ps, ImVec2(0, -lines));
  ImGui::PushFont(fonts().small);
  for (const auto& o : origins) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s", o.c_str());
  ImGui::PopFont();
}

}  // namespace attnlab::gui
