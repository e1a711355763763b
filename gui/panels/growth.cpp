// growth: how the cost of one attention layer grows with the text length N, for full attention
// (bidirectional N², causal about N²/2), a sliding window w, linear attention and an SSM scan,
// log-log, with sliders for N, w and d. Every figure is the scaling model's (src/models/scaling).
#include <algorithm>
#include <fmt/format.h>

#include "models/scaling.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

constexpr u64 kGrowthMinN = 16, kGrowthMaxN = u64{1} << 20;

struct Curve {
  std::string name;
  Family family;
  Direction direction;
  std::vector<FamilyCost> costs;  // one per length
};

struct GrowthCache : PanelCache {
  std::string key, error;
  std::vector<u64> ns;
  std::vector<Curve> curves;
  std::vector<Curve> at_n;  // the same families at the marked N
};

ScalingConfig growth_config(const View& v) {
  ScalingConfig cfg;
  cfg.head_dim = v.settings.growth_d;
  cfg.window = v.settings.growth_window;
  cfg.dtype = v.settings.dtype;
  return cfg;
}

std::vector<Curve> families() {
  return {{"full (bidirectional) N²", Family::full, Direction::bidirectional, {}},
          {"causal ≈ N²/2", Family::full, Direction::causal, {}},
          {"sliding window", Family::window, Direction::causal, {}},
          {"linear (Performer)", Family::linear, Direction::paper, {}},
          {"SSM scan (Mamba)", Family::ssm, Direction::paper, {}}};
}

void refresh_growth(View& v, GrowthCache& c) {
  const std::string key = fmt::format("{}|{}|{}|{}", v.settings.growth_d, v.settings.growth_window, v.settings.growth_n,
                                      dtype_name(v.settings.dtype));
  if (key == c.key) return;
  c.key = key;
  c.error.clear();
  c.ns.clear();
  c.curves = families();
  c.at_n = families();
  try {
    for (u64 n = kGrowthMinN; n <= kGrowthMaxN; n *= 2) c.ns.push_back(n);
    for (auto& curve : c.curves) {
      ScalingConfig cfg = growth_config(v);
      cfg.direction = curve.direction;
      for (u64 n : c.ns) curve.costs.push_back(scaling_cost(curve.family, n, cfg));
    }
    for (auto& curve : c.at_n) {
      ScalingConfig cfg = growth_config(v);
      cfg.direction = curve.direction;
      curve.costs.push_back(scaling_cost(curve.family, v.settings.growth_n, cfg));
    }
  } catch (const std::exception& e) {
    c.error = e.what();
  }
}

}  // namespace

void draw_growth(View& v) {
  const Theme& th = theme();
  auto& cache = v.cache<GrowthCache>("growth");
  panel_header("How the cost grows with length", "scaling model (src/models/scaling): exact counts per layer, 12 heads");

  ImGui::SetNextItemWidth(control_width(3));
  slider_pow2("##n", "N", v.settings.growth_n, kGrowthMinN, kGrowthMaxN, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##w", "window w", v.settings.growth_window, 64, 65536);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(1));
  slider_pow2("##d", "d", v.settings.growth_d, 16, 256);

  refresh_growth(v, cache);
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }

  // The table at the marked length: FLOPs and what decoding must keep per layer.
  const ImGuiTableFlags tf = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
  ImGui::PushFont(fonts().small);
  if (ImGui::BeginTable("at_n", 3, tf)) {
    ImGui::TableSetupColumn(fmt::format("N = {}", tokens_text(v.settings.growth_n)).c_str(), 0, 2.0f);
    ImGui::TableSetupColumn("FLOPs per layer", 0, 1.4f);
    ImGui::TableSetupColumn("kept for decoding", 0, 1.4f);
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < cache.at_n.size(); ++i) {
      const FamilyCost& fc = cache.at_n[i].costs[0];
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.series[i]), "%s", cache.at_n[i].name.c_str());
      ImGui::TableSetColumnIndex(1);
      ImGui::TextUnformatted(per_layer_text(fc.flops).c_str());
      ImGui::TableSetColumnIndex(2);
      ImGui::TextUnformatted(format_bytes(static_cast<double>(fc.decode_bytes.mean_approx())).c_str());
    }
    ImGui::EndTable();
  }
  ImGui::PopFont();

  PlotSpec ps;
  ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "sequence length N (tokens)"};
  ps.y = plot::Axis{0, 1, plot::Scale::log, 10, plot::Unit::flops, "FLOPs per layer (12 heads)"};
  ps.legend = LegendPos::none;  // the table above names each family in its line colour; a legend hid the lines where they cross
  for (size_t i = 0; i < cache.curves.size(); ++i) {
    const Curve& c = cache.curves[i];
    Series s;
    s.name = c.name;
    s.color = th.series[i];
    s.dashed = c.direction == Direction::causal && c.family == Family::full;
    for (size_t k = 0; k < c.costs.size(); ++k) {
      s.x.push_back(static_cast<double>(cache.ns[k]));
      s.y.push_back(static_cast<double>(c.costs[k].flops.mean_approx()));
      s.notes.push_back(fmt::format("exact: {} FLOPs; {} per head: {}", per_layer_text(c.costs[k].flops),
                                    family_is_attention(c.family) ? "score entries" : "steps", per_layer_text(c.costs[k].work)));
    }
    ps.series.push_back(std::move(s));
  }
  ps.markers.push_back({double(v.settings.growth_n), "N = " + plot::format_tick(double(v.settings.growth_n), plot::Unit::tokens), 0, true});
  ps.markers.push_back({double(v.settings.growth_window), "w", th.series[2], true});
  plot_draw("growth", ps, ImVec2(0, 0));
}

}  // namespace attnlab::gui
