// kernels: measured TFLOP/s vs N for each rung of our kernel ladder and the PyTorch references,
// straight from the measurement files (assets/measurements plus --measurements DIR), for one
// problem shape at a time; where each file came from (device, date, driver, CUDA, torch, command)
// is listed under the plot. Nothing is estimated here: no file, no point. FP8 runs are drawn beside
// the bf16 shape they were timed against (src/measure/fp8_measured: the pairing and the speed-up).
#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>
#include <tuple>

#include "measure/fp8_measured.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

// The shape a curve is drawn for: everything but N, and the kind of run, because the files hold
// runs whose TFLOP/s mean different things (assets/measurements/README.md, "Conventions"): decode
// (1 query against N keys), sliding window (the full attention formula over the window's time: an
// effective rate that can pass the peak) and the selective scan (its own FLOPs; heads = channels,
// d = state size). Mixed on one plot they would read as one kernel family.
enum class RunKind { attention, decode, window, scan };
using ShapeKey = std::tuple<int, u64, u64, u64, u64, bool, std::string, long long, long long>;
// kind, batch, heads, kv_heads, d, causal, dtype, window left/right

RunKind kind_of(const MeasuredRun& r) {
  if (r.kernel.find("scan") != std::string::npos) return RunKind::scan;
  if (r.config.seq_q != r.config.seq_kv) return RunKind::decode;
  if (r.config.window_left >= 0 || r.config.window_right >= 0) return RunKind::window;
  return RunKind::attention;
}

ShapeKey shape_of(const MeasuredRun& r) {
  const MeasuredConfig& c = r.config;
  return {static_cast<int>(kind_of(r)), c.batch, c.heads, c.kv_heads, c.head_dim, c.causal, c.dtype, c.window_left, c.window_right};
}

// Where a run sits on the x axis: its sequence length (keys, for decode).
u64 x_of(const MeasuredRun& r) { return kind_of(r) == RunKind::decode ? r.config.seq_kv : r.config.seq_q; }

std::string window_text(long long left, long long right) {
  auto side = [](long long w) { return w < 0 ? std::string("all") : format_count(u64(w)); };
  return fmt::format("window {} back, {} ahead", side(left), side(right));
}

std::string shape_text(const ShapeKey& k) {
  const auto& [kind, b, h, hkv, d, causal, dtype, wl, wr] = k;
  const std::string heads = fmt::format("H={}{}", h, hkv != h ? fmt::format(" (KV {})", hkv) : "");
  switch (static_cast<RunKind>(kind)) {
    case RunKind::scan: return fmt::format("selective scan: B={} D={} channels, state {} {}", b, h, d, dtype);
    case RunKind::decode: return fmt::format("decode (1 query, N keys): B={} {} d={} {}", b, heads, d, dtype);
    case RunKind::window:
      return fmt::format("sliding window: B={} {} d={} {}{}, {}", b, heads, d, dtype, causal ? " causal" : "", window_text(wl, wr));
    case RunKind::attention: break;
  }
  return fmt::format("B={} {} d={} {}{}", b, heads, d, dtype, causal ? " causal" : "");
}

// The bf16 shapes that have an FP8 run of the same problem beside them (fp8_speed_rows).
std::set<ShapeKey> shapes_with_fp8(const View& v) {
  std::set<ShapeKey> out;
  for (const auto& set : v.measurements)
    for (const auto& row : fp8_speed_rows(set.data))
      if (row.bf16) out.insert(shape_of(*row.bf16));
  return out;
}

// The FP8 runs of the chosen bf16 shape as their own series, each point's speed-up over our bf16
// rung (from src) in its note and one caption line per length; the FP8 peak as a second marker.
void add_fp8_beside(const View& v, const ShapeKey& shape, PlotSpec& ps, std::vector<std::string>& lines) {
  const Theme& th = theme();
  // A point on the named series (made on first use), kept in N order: the series is a line.
  auto point = [&](const std::string& name, bool dashed, double n, double flops_per_s, std::string note) {
    auto it = std::find_if(ps.series.begin(), ps.series.end(), [&](const Series& s) { return s.name == name; });
    if (it == ps.series.end()) {
      Series s;
      s.name = name;
      s.style = SeriesStyle::line_points;
      s.color = th.text;  // as the FP8 peak marker: no series of the palette has it
      s.dashed = dashed;
      s.width = th.line_width + 1;
      ps.series.push_back(s);
      it = ps.series.end() - 1;
    }
    const auto at = std::lower_bound(it->x.begin(), it->x.end(), n) - it->x.begin();
    it->x.insert(it->x.begin() + at, n);
    it->y.insert(it->y.begin() + at, flops_per_s);
    it->notes.insert(it->notes.begin() + at, std::move(note));
  };
  bool any = false;
  for (const auto& set : v.measurements)
    for (const auto& row : fp8_speed_rows(set.data, {})) {
      // The rung itself (its tuning variants are in `attnlab measured --fp8`).
      if (!row.bf16 || row.fp8.kernel != fp8_rung_kernel || shape_of(*row.bf16) != shape) continue;
      const std::string yours = set.bundled ? "" : " (yours)";
      const std::string where = fmt::format("{}, {}", set.data.device.name, set.file.filename().string());
      const double n = double(row.fp8.config.seq_q);
      point(fmt::format("rung {}: {} (FP8){}", row.fp8.rung, row.fp8.kernel, yours), false, n, row.fp8.tflops * 1e12,
            fmt::format("FP8 median {:.3f} ms, {:.2f}x our bf16 rung ({:.3f} ms)\n{}", row.fp8.time.median_ms,
                        *row.speedup, row.bf16->time.median_ms, where));
      if (row.e2e && row.speedup_with_quantize)
        point(fmt::format("rung {}: FP8 with its quantization (end to end){}", row.fp8.rung, yours), true, n,
              row.e2e->tflops * 1e12,
              fmt::format("quantize + FP8 attention {:.3f} ms, {:.2f}x our bf16 rung\n{}", row.e2e->time.median_ms,
                          *row.speedup_with_quantize, where));
      // One caption line for all lengths: the plot keeps its height in a small window.
      if (lines.empty()) lines.push_back(fmt::format("FP8 beside our bf16 rung ({}):", set.file.filename().string()));
      lines.back() += fmt::format(" N = {}: {:.2f}x{};", format_count(u64(n)), *row.speedup,
                                  row.speedup_with_quantize
                                      ? fmt::format(" ({:.2f}x with the quantization)", *row.speedup_with_quantize)
                                      : std::string());
      any = true;
    }
  if (!any) return;
  lines.back().pop_back();  // the last ";"
  const double peak8 = v.gpu.peak_flops(DType::fp8);
  ps.markers.push_back({peak8, fmt::format("{} dense FP8 peak", v.gpu.name), th.text, false});
  ps.y_include.push_back(peak8);
}

struct KernelsCache : PanelCache {
  std::vector<ShapeKey> shapes;  // shapes with the most runs first
  int chosen = -1;
};

void collect_shapes(const View& v, KernelsCache& c) {
  if (!c.shapes.empty() || v.measurements.empty()) return;
  // Plain attention first (the chapters that show this panel are about it), then the shapes
  // measured at the most lengths (a curve vs N needs several), then the most runs.
  std::map<ShapeKey, std::pair<std::set<u64>, size_t>> runs;
  for (const auto& set : v.measurements)
    for (const auto* list : {&set.data.runs, &set.data.references})
      for (const auto& r : *list) {
        if (r.tflops <= 0) continue;
        auto& e = runs[shape_of(r)];
        e.first.insert(x_of(r));
        ++e.second;
      }
  // (plain attention first, then a shape with FP8 runs beside it, then lengths, then runs)
  const std::set<ShapeKey> fp8 = shapes_with_fp8(v);
  std::vector<std::pair<std::tuple<bool, bool, size_t, size_t>, ShapeKey>> ranked;
  for (const auto& [k, e] : runs)
    ranked.push_back({{std::get<0>(k) == static_cast<int>(RunKind::attention), fp8.count(k) > 0, e.first.size(), e.second}, k});
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
  const RunKind kind = static_cast<RunKind>(std::get<0>(shape));
  if (kind == RunKind::window) {
    ImGui::PushFont(fonts().small);
    caption("Window runs count the full N x N attention formula over the window kernel's time (the files' convention): "
            "an effective rate that passes the peak when the window skips most of the score matrix.");
    ImGui::PopFont();
  } else if (kind == RunKind::scan) {
    ImGui::PushFont(fonts().small);
    caption("The scan counts its own FLOPs (7 per channel, step and state element) on ordinary FP32 units: "
            "no tensor-core peak applies.");
    ImGui::PopFont();
  }

  // One series per kernel (ours: solid, by rung; references: dashed), per origin (bundled or yours).
  PlotSpec ps;
  ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "sequence length N"};
  ps.y = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::flop_rate, "forward TFLOP/s (median)"};
  if (kind == RunKind::decode) ps.x.label = "keys in the cache N (one new query per sequence)";
  ps.legend = LegendPos::top_left;
  std::map<std::string, size_t> index;
  auto add = [&](const MeasurementSet& set, const MeasuredRun& r, bool reference) {
    if (shape_of(r) != shape || r.tflops <= 0) return;
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
    s.x.push_back(double(x_of(r)));
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
    // Several runs at one length (tile or variant sweeps of one kernel): points, not a zig-zag line.
    if (std::adjacent_find(s.x.begin(), s.x.end()) != s.x.end()) s.style = SeriesStyle::points;
  }
  std::vector<std::string> fp8_lines;
  add_fp8_beside(v, shape, ps, fp8_lines);
  const std::string dt(std::get<6>(shape));
  double peak = 0;
  try {
    peak = v.gpu.peak_flops(parse_dtype(dt, "dtype", {DType::fp16, DType::bf16, DType::fp32, DType::fp8}));
  } catch (const std::exception&) {
  }
  if (peak > 0 && kind != RunKind::scan) {
    ps.markers.push_back({peak, fmt::format("{} dense {} peak", v.gpu.name, dt), th.text_dim, false});
    ps.y_include.push_back(peak);  // the distance to the peak is part of the story
  }

  // Where the numbers come from, one line per file that has this shape.
  std::vector<std::string> origins;
  for (const auto& set : v.measurements) {
    const bool has = std::any_of(set.data.runs.begin(), set.data.runs.end(), [&](const MeasuredRun& r) { return shape_of(r) == shape; }) ||
                     std::any_of(set.data.references.begin(), set.data.references.end(),
                                 [&](const MeasuredRun& r) { return shape_of(r) == shape; });
    if (!has) continue;
    const auto& d = set.data.device;
    origins.push_back(fmt::format("{}{}: {}, driver {}, CUDA {}{}, {}", set.file.filename().string(), set.bundled ? "" : " (yours)", d.name,
                                  d.driver_version.empty() ? "?" : d.driver_version, d.cuda_runtime,
                                  set.data.torch_version.empty() ? "" : ", torch " + set.data.torch_version, set.data.date.substr(0, 10)));
  }
  // The lines' true height (font plus item spacing): an estimate in font sizes left the last line
  // under the panel's edge at the presenter's font.
  for (auto& l : fp8_lines) origins.insert(origins.begin(), std::move(l));
  const float lines = static_cast<float>(origins.size()) * (fonts().small->FontSize + ImGui::GetStyle().ItemSpacing.y) + 2;
  plot_draw("kernels", ps, ImVec2(0, -lines));
  ImGui::PushFont(fonts().small);
  for (const auto& o : origins) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s", o.c_str());
  ImGui::PopFont();
}

}  // namespace attnlab::gui
