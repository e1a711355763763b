// ssm: a selective-scan layer (Mamba) against causal attention as the text grows: FLOPs per layer
// (N² against N) with the length where attention becomes the dearer one, and what decoding keeps
// per layer (a KV cache growing with N against a fixed state). Counts are the scaling model's
// (src/models/scaling); measured scan and attention kernels are drawn where the measurement files
// have both, with the measured crossover.
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

constexpr u64 kSsmMinN = 64, kSsmMaxN = u64{1} << 20;

struct SsmCache : PanelCache {
  std::string key, error;
  std::vector<u64> ns;
  std::vector<FamilyCost> attn, scan;
};

}  // namespace

void draw_ssm(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<SsmCache>("ssm");
  panel_header("Scan or attend?", "scaling model (src/models/scaling): causal attention vs Mamba's selective scan, per layer");

  ImGui::SetNextItemWidth(control_width(3));
  slider_pow2("##state", "state n", s.ssm_state, 4, 256);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##d", "head d", s.growth_d, 16, 256);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(1));
  slider_pow2("##ch", "channels D", s.ssm_channels, 256, 16384);

  const std::string key = fmt::format("{}|{}|{}|{}", s.ssm_state, s.growth_d, s.ssm_channels, dtype_name(s.dtype));
  if (key != cache.key) {
    cache.key = key;
    cache.error.clear();
    cache.ns.clear();
    cache.attn.clear();
    cache.scan.clear();
    try {
      ScalingConfig cfg;
      cfg.head_dim = s.growth_d;
      cfg.state = s.ssm_state;
      cfg.channels = s.ssm_channels;
      cfg.dtype = s.dtype;
      cfg.direction = Direction::causal;
      for (u64 n = kSsmMinN; n <= kSsmMaxN; n *= 2) {
        cache.ns.push_back(n);
        cache.attn.push_back(scaling_cost(Family::full, n, cfg));
        cache.scan.push_back(scaling_cost(Family::ssm, n, cfg));
      }
    } catch (const std::exception& e) {
      cache.error = e.what();
    }
  }
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }

  // The first length at which the model says attention costs more FLOPs than the scan.
  u64 cross = 0;
  for (size_t i = 0; i < cache.ns.size() && !cross; ++i)
    if (cache.attn[i].flops.mean_approx() > cache.scan[i].flops.mean_approx()) cross = cache.ns[i];

  auto curves = [&](PlotSpec& ps, auto field, plot::Unit unit, const char* what) {
    ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "sequence length N"};
    ps.y = plot::Axis{0, 1, plot::Scale::log, unit == plot::Unit::bytes ? 2 : 10, unit, what};
    ps.legend = LegendPos::top_left;
    Series a, b;
    a.name = "causal attention";
    a.color = th.series[1];
    b.name = "selective scan (Mamba)";
    b.color = th.series[2];
    for (size_t i = 0; i < cache.ns.size(); ++i) {
      a.x.push_back(double(cache.ns[i]));
      b.x.push_back(double(cache.ns[i]));
      a.y.push_back(static_cast<double>(field(cache.attn[i]).mean_approx()));
      b.y.push_back(static_cast<double>(field(cache.scan[i]).mean_approx()));
      a.notes.push_back("exact: " + per_layer_text(field(cache.attn[i])));
      b.notes.push_back("exact: " + per_layer_text(field(cache.scan[i])));
    }
    ps.series.push_back(a);
    ps.series.push_back(b);
  };

  const float h = ImGui::GetContentRegionAvail().y;
  const float note_h = ImGui::GetFontSize() * 2.6f;
  PlotSpec flops;
  flops.title = "work per layer";
  curves(flops, [](const FamilyCost& c) -> const PerLayer& { return c.flops; }, plot::Unit::flops, "FLOPs per layer");
  flops.legend = LegendPos::bottom_right;  // top left is where the crossover marker writes its label
  if (cross) flops.markers.push_back({double(cross), "model crossover " + plot::format_tick(double(cross), plot::Unit::tokens), th.accent, true, true});

  // Measured: kernels whose name says scan, against attention kernels of the same length.
  int measured = 0;
  for (const auto& set : v.measurements)
    for (const auto& r : set.data.runs)
      if (r.kernel.find("scan") != std::string::npos) ++measured;
  plot_draw("ssm_flops", flops, ImVec2(0, (h - note_h) * 0.55f));

  PlotSpec mem;
  mem.title = "kept per layer for decoding (one sequence)";
  curves(mem, [](const FamilyCost& c) -> const PerLayer& { return c.decode_bytes; }, plot::Unit::bytes, "bytes");
  plot_draw("ssm_mem", mem, ImVec2(0, (h - note_h) * 0.45f - 4));
  caption(measured ? fmt::format("{} measured scan runs are in the loaded files; the kernels panel plots them.", measured)
                   : "No measured scan kernels in the loaded files yet: the crossover shown is the model's, counting FLOPs only.");
}

}  // namespace attnlab::gui
