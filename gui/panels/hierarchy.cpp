// hierarchy: the chosen GPU's memory levels (SRAM, L2, HBM: sizes and the bandwidth the preset
// gives) and the roofline for the chosen dtype, with its ridge point. On it: where the simulator
// puts naive and FlashAttention-2 for one attention layer, and the measured kernels where the
// measurement files carry Nsight Compute DRAM bytes (src/measure/measured_roofline: intensity =
// FLOPs / measured DRAM bytes). FP8 runs are read against the FP8 roof, drawn beside the chosen
// dtype's when the files hold any.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "measure/measured_roofline.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "sim/traffic.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

struct HierarchyCache : PanelCache {
  std::string key;
  std::string error;
  TrafficReport report;
};

AttnConfig roofline_config(const View& v) {
  AttnConfig c;
  c.batch = v.settings.traffic_batch;
  c.heads = v.settings.traffic_heads;
  c.head_dim = v.settings.traffic_d;
  c.seq = v.settings.roofline_n;
  c.causal = v.settings.traffic_causal;
  c.dtype = v.settings.dtype;
  return c;
}

const TrafficReport* simulate(View& v) {
  auto& cache = v.cache<HierarchyCache>("hierarchy");
  const AttnConfig c = roofline_config(v);
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}", v.gpu.name, c.batch, c.heads, c.head_dim, c.seq, c.causal,
                                      dtype_name(c.dtype));
  if (key != cache.key) {
    cache.key = key;
    cache.error.clear();
    try {
      cache.report = simulate_traffic(c, v.gpu, {Algo::naive, Algo::flash2});
    } catch (const std::exception& e) {
      cache.error = e.what();
    }
  }
  return cache.error.empty() ? &cache.report : nullptr;
}

// One memory level as a bar whose width grows with log2(size): the pyramid read sideways.
void level_bar(const char* name, const std::string& size, const std::string& detail, double bytes, ImU32 color) {
  const Theme& th = theme();
  const Fonts& F = fonts();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float full = ImGui::GetContentRegionAvail().x;
  const float h = ImGui::GetFontSize() * 1.6f;
  // 1 KiB .. 1 TiB across the width (the scale is drawn, not counted).
  const float frac = static_cast<float>(std::clamp((std::log2(std::max(bytes, 1.0)) - 10) / 30, 0.08, 1.0));
  const float label_w = ImGui::GetFontSize() * 4.2f;
  const float bar_w = (full - label_w) * frac;
  dl->AddText(F.bold, F.bold->FontSize, ImVec2(p.x, p.y + (h - F.bold->FontSize) / 2), th.text, name);
  const ImVec2 a(p.x + label_w, p.y), b(p.x + label_w + bar_w, p.y + h);
  dl->AddRectFilled(a, b, color_alpha(color, th.light ? 0.35f : 0.45f), 4);
  dl->AddRect(a, b, color, 4, 0, 1.5f);
  const std::string text = size + "   " + detail;
  dl->AddText(ImVec2(a.x + 8, p.y + (h - ImGui::GetFontSize()) / 2), th.text, text.c_str());
  ImGui::Dummy(ImVec2(full, h + 4));
}

}  // namespace

void draw_hierarchy(View& v) {
  const Theme& th = theme();
  const GpuSpec& g = v.gpu;
  panel_header("Memory hierarchy and roofline",
               fmt::format("GPU preset {} ({}); roofline points from the simulator (src/sim) and measurement files", g.name,
                           g.source));

  // Levels, smallest and fastest first.
  level_bar("SRAM", format_bytes(u128{g.smem_per_sm}) + " per SM",
            fmt::format("× {} SMs · a block may use {}", g.sm_count, format_bytes(u128{g.smem_per_block})),
            static_cast<double>(g.smem_per_sm), th.sram);
  level_bar("L2", format_bytes(u128{g.l2_bytes}), "shared by all SMs", static_cast<double>(g.l2_bytes), th.l2);
  // Capacity as the data sheet writes it (decimal GB), the binary size beside it.
  level_bar(g.memory_kind.empty() ? "HBM" : g.memory_kind.c_str(),
            fmt::format("{} ({})", format_rate(static_cast<double>(g.hbm_bytes), "B"), format_bytes(u128{g.hbm_bytes})),
            format_rate(g.hbm_bytes_per_s, "B/s"), static_cast<double>(g.hbm_bytes), th.hbm);

  // Controls for the simulated layer.
  ImGui::SetNextItemWidth(control_width(3));
  slider_pow2("##rn", "N", v.settings.roofline_n, 256, 65536, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##rd", "d", v.settings.traffic_d, 32, 256);
  ImGui::SameLine();
  ImGui::Checkbox("causal", &v.settings.traffic_causal);

  const double peak = g.peak_flops(v.settings.dtype), bw = g.hbm_bytes_per_s, ridge = g.ridge_point(v.settings.dtype);
  PlotSpec ps;
  ps.title = fmt::format("Roofline, {} {}", g.name, dtype_name(v.settings.dtype));
  ps.x = plot::Axis{0.25, 16384, plot::Scale::log, 2, plot::Unit::flop_per_byte, "arithmetic intensity (FLOP per DRAM byte)"};
  ps.y = plot::Axis{1e11, 1e15, plot::Scale::log, 10, plot::Unit::flop_rate, "attainable FLOP/s"};
  ps.fit_x = false;
  ps.y.lo = std::pow(10, std::floor(std::log10(peak)) - 3);
  ps.y.hi = std::pow(10, std::ceil(std::log10(peak * 1.05)));
  ps.fit_y = false;
  ps.legend = LegendPos::top_left;  // above the slanted roof nothing is attainable: no point hides there

  // The roof: bandwidth-bound slope, then the flat compute roof from the ridge point on.
  Series roof;
  roof.name = fmt::format("roof: {} × I, capped at {}", format_rate(bw, "B/s"), format_rate(peak, "FLOP/s"));
  roof.x = {ps.x.lo, ridge, ps.x.hi};
  roof.y = {ps.x.lo * bw, peak, peak};
  roof.color = th.text_dim;
  roof.width = th.line_width + 1;
  ps.series.push_back(roof);
  ps.markers.push_back({ridge, fmt::format("ridge {:.0f} FLOP/B", ridge), th.accent, true, true});

  if (const TrafficReport* rep = simulate(v)) {
    int idx = 0;
    for (const auto& r : rep->results) {
      Series s;
      s.name = fmt::format("simulated {} (N = {})", algo_name(r.algo), plot::format_tick(double(v.settings.roofline_n), plot::Unit::tokens));
      s.style = SeriesStyle::points;
      s.color = th.series[idx++ == 0 ? 1 : 0];
      s.x = {r.intensity()};
      s.y = {r.est_time_s > 0 ? to_double(r.flops) / r.est_time_s : 0};
      s.notes = {fmt::format("DRAM {} B, {} FLOP, est. {}", format_count(r.dram.total()), format_count(r.flops),
                             format_seconds(r.est_time_s))};
      ps.series.push_back(s);
    }
  } else {
    panel_error(v.cache<HierarchyCache>("hierarchy").error);
  }

  // Measured kernels with Nsight Compute DRAM counts: their true place on the roofline. One series
  // per kernel; a point needs the timed run of the same launch in the same file.
  int measured = 0;
  bool fp8_points = false;
  std::vector<Series> by_kernel;
  for (const auto& set : v.measurements) {
    for (const MeasuredRooflinePoint& pt : measured_roofline_points(set.data)) {
      const bool fp8 = pt.dtype == DType::fp8;
      fp8_points = fp8_points || fp8;
      const std::string name = fmt::format("measured {}{}", pt.kernel, fp8 ? " (FP8: against the FP8 roof)" : "");
      auto it = std::find_if(by_kernel.begin(), by_kernel.end(), [&](const Series& x) { return x.name == name; });
      if (it == by_kernel.end()) {
        Series s;
        s.name = name;
        s.style = SeriesStyle::points;
        // FP8 points in the FP8 roof's colour, so that a point is read against its own roof.
        s.color = fp8 ? th.text : th.series[(2 + by_kernel.size()) % 8];
        by_kernel.push_back(s);
        it = by_kernel.end() - 1;
      }
      const MeasuredConfig& c = pt.config;
      it->x.push_back(pt.intensity);
      it->y.push_back(pt.flops_per_s);
      it->notes.push_back(fmt::format("B={} H={} N={} d={}{} {}: {} DRAM bytes (ncu), {}\n{}, {}", c.batch, c.heads, c.seq_q,
                                      c.head_dim, c.causal ? " causal" : "", c.dtype, format_count(u128(pt.dram_bytes)),
                                      format_rate(pt.flops_per_s, "FLOP/s"), set.data.device.name,
                                      set.file.filename().string()));
      ++measured;
    }
  }
  // The FP8 roof: the same memory slope, capped at the FP8 tensor-core peak (twice the 16-bit one on
  // Hopper), so the FP8 points are read against the ceiling that applies to them.
  if (fp8_points && v.settings.dtype != DType::fp8) {
    const double peak8 = g.peak_flops(DType::fp8), ridge8 = g.ridge_point(DType::fp8);
    Series roof8;
    roof8.name = fmt::format("FP8 roof: capped at {} (ridge {:.0f} FLOP/B)", format_rate(peak8, "FLOP/s"), ridge8);
    roof8.x = {ridge, ridge8, ps.x.hi};
    roof8.y = {peak, peak8, peak8};
    roof8.color = th.text;
    roof8.dashed = true;
    roof8.width = th.line_width + 1;
    ps.series.push_back(roof8);
    ps.y.hi = std::max(ps.y.hi, std::pow(10, std::ceil(std::log10(peak8 * 1.05))));
  }
  for (auto& s : by_kernel) ps.series.push_back(std::move(s));
  if (!measured)
    caption("No measured kernel with Nsight Compute DRAM bytes in the loaded files: the points are the simulator's.");
  plot_draw("roofline", ps, ImVec2(0, 0));
}

}  // namespace attnlab::gui
