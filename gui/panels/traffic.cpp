// traffic: bytes moved vs sequence length N for naive / FlashAttention-1 / FlashAttention-2.
// HBM = every global-memory access the kernels make (the closed forms, exact, instant); DRAM =
// what is left after the L2 cache (the simulator's L2 model: a TrafficSweep advanced a few
// milliseconds per frame, so the curve fills in point by point while the panel stays live, on the
// desktop as in the browser, which has no threads). Measured Nsight Compute DRAM bytes appear on top where a measurement file has them for
// the same shape.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "sim/traffic_run.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

constexpr Algo kAlgos[] = {Algo::naive, Algo::flash1, Algo::flash2};
constexpr u64 kTrafficMinN = 256, kTrafficMaxN = 131072;  // HBM curve (closed forms)
constexpr u64 kMaxDramN = 16384;            // DRAM curve: the L2 model takes seconds per point beyond
// The DRAM sweep's share of a frame: a 60 Hz frame keeps room for drawing (and, in the browser,
// for SwiftShader's rasterizing).
constexpr double kDramSliceS = 0.008;

struct Point {
  u64 n = 0;
  u128 bytes[3] = {0, 0, 0};  // per algorithm, kAlgos order
};

struct TrafficCache : PanelCache {
  std::string key;
  std::string error;
  std::vector<Point> hbm;  // closed forms
  TrafficSweep dram;       // L2 model, one run per length
};

AttnConfig traffic_config(const View& v, u64 n) {
  AttnConfig c;
  c.batch = v.settings.traffic_batch;
  c.heads = v.settings.traffic_heads;
  c.head_dim = v.settings.traffic_d;
  c.seq = n;
  c.causal = v.settings.traffic_causal;
  c.dtype = v.settings.dtype;
  return c;
}

std::vector<u64> lengths(u64 hi) {
  std::vector<u64> ns;
  for (u64 n = kTrafficMinN; n <= hi; n *= 2) ns.push_back(n);
  return ns;
}

void refresh_traffic(View& v, TrafficCache& cache) {
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}", v.gpu.name, v.settings.traffic_batch, v.settings.traffic_heads,
                                      v.settings.traffic_d, v.settings.traffic_causal, dtype_name(v.settings.dtype));
  if (key == cache.key) return;
  cache.key = key;
  cache.error.clear();
  cache.hbm.clear();
  try {
    TrafficOptions fast;
    fast.l2_model = false;
    for (u64 n : lengths(kTrafficMaxN)) {
      const auto rep = simulate_traffic(traffic_config(v, n), v.gpu, {std::begin(kAlgos), std::end(kAlgos)}, fast);
      Point p{n, {}};
      for (int a = 0; a < 3; ++a) p.bytes[a] = rep.results[a].hbm.total();
      cache.hbm.push_back(p);
    }
  } catch (const std::exception& e) {
    cache.error = e.what();
    return;
  }
  std::vector<AttnConfig> cfgs;
  for (u64 n : lengths(kMaxDramN)) cfgs.push_back(traffic_config(v, n));
  cache.dram = TrafficSweep(std::move(cfgs), v.gpu, {std::begin(kAlgos), std::end(kAlgos)});
}

}  // namespace

void draw_traffic(View& v) {
  const Theme& th = theme();
  auto& cache = v.cache<TrafficCache>("traffic");
  panel_header("Bytes moved vs sequence length",
               fmt::format("simulator (src/sim): closed forms for HBM, L2 model of the {} for DRAM; ncu measurements where loaded",
                           v.gpu.name));

  ImGui::SetNextItemWidth(control_width(4));
  slider_pow2("##d", "d", v.settings.traffic_d, 32, 256);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(3));
  slider_u64("##h", "heads", v.settings.traffic_heads, 1, 64);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_u64("##b", "batch", v.settings.traffic_batch, 1, 32);
  ImGui::SameLine();
  ImGui::Checkbox("causal", &v.settings.traffic_causal);
  ImGui::SameLine();
  ImGui::Checkbox("DRAM", &v.settings.traffic_dram);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("also plot DRAM bytes: what is left after the L2 cache catches re-reads");

  refresh_traffic(v, cache);
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }

  PlotSpec ps;
  ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "sequence length N"};
  ps.y = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::bytes, "bytes moved (one layer, forward)"};
  ps.legend = LegendPos::top_left;
  const char* names[] = {"naive", "FlashAttention-1", "FlashAttention-2"};
  const ImU32 colors[] = {th.series[1], th.series[3], th.series[0]};
  for (int a = 0; a < 3; ++a) {
    Series s;
    s.name = std::string(names[a]) + " HBM";
    s.color = colors[a];
    s.style = SeriesStyle::line_points;
    for (const auto& p : cache.hbm) {
      s.x.push_back(double(p.n));
      s.y.push_back(to_double(p.bytes[a]));
      s.notes.push_back(fmt::format("exact: {} B", format_count(p.bytes[a])));
    }
    ps.series.push_back(std::move(s));
  }
  if (v.settings.traffic_dram) {
    // While a slider is held every frame restarts the sweep: no DRAM point is simulated then, and
    // the sweep goes on when the learner lets go. Screenshots wait for the whole curve.
    if (v.headless_capture) cache.dram.step_for(1e300);
    else if (!ImGui::IsAnyItemActive()) cache.dram.step_for(kDramSliceS);
    // Finished runs only: a run under way has no number to show.
    for (int a = 0; a < 3; ++a) {
      Series s;
      s.name = std::string(names[a]) + " DRAM (after L2)";
      s.color = colors[a];
      s.dashed = true;
      for (const auto& r : cache.dram.reports()) {
        if (!r) continue;
        const u128 bytes = r->results[a].dram.total();
        s.x.push_back(double(r->config.seq));
        s.y.push_back(to_double(bytes));
        s.notes.push_back(fmt::format("exact: {} B (L2 model)", format_count(bytes)));
      }
      ps.series.push_back(std::move(s));
    }
  }

  // Measured DRAM bytes (Nsight Compute) for exactly this shape.
  int measured = 0, other_shapes = 0;
  for (const auto& set : v.measurements)
    for (const auto& rec : set.data.ncu) {
      const auto& c = rec.config;
      if (c.batch != v.settings.traffic_batch || c.heads != v.settings.traffic_heads || c.head_dim != v.settings.traffic_d ||
          c.causal != v.settings.traffic_causal || c.seq_q != c.seq_kv) {
        ++other_shapes;
        continue;
      }
      Series s;
      s.name = fmt::format("measured {} DRAM (ncu)", rec.kernel);
      s.style = SeriesStyle::points;
      s.color = th.series[2 + measured % 4];
      s.x = {double(c.seq_q)};
      s.y = {rec.dram_read_bytes + rec.dram_write_bytes};
      s.notes = {fmt::format("{}: read {} B + write {} B", set.data.device.name, format_count(u128(rec.dram_read_bytes)),
                             format_count(u128(rec.dram_write_bytes)))};
      ps.series.push_back(std::move(s));
      ++measured;
    }

  std::string note;
  if (v.settings.traffic_dram && cache.dram.current())
    note = fmt::format("DRAM after L2: simulating N = {} … {:.0f} % ({} of {} lengths done)",
                       plot::format_tick(double(cache.dram.current()->seq), plot::Unit::tokens),
                       100 * cache.dram.current_progress(), cache.dram.done(), cache.dram.size());
  else if (v.settings.traffic_dram && !cache.dram.error().empty())
    note = "DRAM after L2: " + cache.dram.error();
  else if (v.settings.traffic_dram)
    note = fmt::format("DRAM (dashed) simulated up to N = {}: the L2 model takes seconds per point beyond.",
                       plot::format_tick(double(kMaxDramN), plot::Unit::tokens));
  if (measured == 0 && other_shapes > 0) note += fmt::format("  {} measured point(s) are for other shapes.", other_shapes);
  if (!note.empty()) caption(note);

  // The headline at the marked length: how many times fewer bytes.
  const auto at = std::find_if(cache.hbm.begin(), cache.hbm.end(), [&](const Point& p) { return p.n == v.settings.roofline_n; });
  if (at != cache.hbm.end() && at->bytes[2] > 0) {
    ImGui::PushTextWrapPos(0);
    ImGui::Text("At N = %s: naive reads and writes %s of HBM, FlashAttention-2 %s (%s fewer).",
                tokens_text(at->n).c_str(), format_bytes(at->bytes[0]).c_str(), format_bytes(at->bytes[2]).c_str(),
                format_ratio(to_double(at->bytes[0]) / to_double(at->bytes[2])).c_str());
    ImGui::PopTextWrapPos();
  }
  ps.markers.push_back({double(v.settings.roofline_n), "N = " + plot::format_tick(double(v.settings.roofline_n), plot::Unit::tokens),
                        0, true});
  plot_draw("traffic", ps, ImVec2(0, 0));
}

}  // namespace attnlab::gui
