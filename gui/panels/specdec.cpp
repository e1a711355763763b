// specdec: speculative decoding pass by pass. Each row is one pass of the target model: the γ draft
// tokens (accepted, rejected, or thrown away after the first rejection) and the token the target
// adds itself; below, the expected speed-up against γ for the chosen acceptance rate α and draft
// cost c. The passes come from the model's seeded simulation, the curves from its closed forms
// (src/models/specdec).
#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <memory>

#include "models/specdec.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

constexpr std::uint64_t kSeed = 2023;  // the same passes every run, for screenshots and the classroom
constexpr double kSecondsPerPass = 0.7;
constexpr size_t kRows = 8;

struct SpecCache : PanelCache {
  std::string key, error;
  std::unique_ptr<SpecDecSim> sim;
  std::deque<SpecDecStep> rows;  // newest last
  SpecDecStep last;
  double clock = 0;
};

}  // namespace

void draw_specdec(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<SpecCache>("specdec");
  panel_header("Speculative decoding", "speculative decoding model (src/models/specdec): Leviathan et al. 2023, seeded simulation");

  ImGui::SetNextItemWidth(control_width(3));
  slider_float("##alpha", s.spec_alpha, 0.0f, 0.98f, "acceptance α = %.2f");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_u64("##gamma", "draft γ", s.spec_gamma, 1, 12, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(1));
  slider_float("##c", s.spec_c, 0.0f, 0.5f, "draft cost c = %.2f");

  SpecDecParams p;
  p.alpha = s.spec_alpha;
  p.gamma = s.spec_gamma;
  p.c = s.spec_c;
  const std::string key = fmt::format("{}|{}|{}", p.alpha, p.gamma, p.c);
  if (key != cache.key) {
    cache.key = key;
    cache.error.clear();
    cache.rows.clear();
    cache.clock = 0;
    try {
      specdec_validate(p);
      cache.sim = std::make_unique<SpecDecSim>(p, kSeed);
      cache.rows.push_back(cache.last = cache.sim->step());  // one pass to look at from the start
    } catch (const std::exception& e) {
      cache.error = e.what();
      cache.sim.reset();
    }
  }
  if (!cache.sim) {
    panel_error(cache.error);
    return;
  }
  if (ImGui::Button(v.playing ? "Pause" : "Play")) v.playing = !v.playing;
  ImGui::SameLine();
  if (ImGui::Button("Next pass")) {
    cache.rows.push_back(cache.last = cache.sim->step());
    v.playing = false;
  }
  if (v.playing || s.autoplay) {
    cache.clock += v.dt_s;
    while (cache.clock >= kSecondsPerPass) {
      cache.clock -= kSecondsPerPass;
      cache.rows.push_back(cache.last = cache.sim->step());
    }
  }
  while (cache.rows.size() > kRows) cache.rows.pop_front();
  const double expected = specdec_speedup(p);
  const double so_far = cache.last.cost_so_far > 0 ? cache.last.tokens_so_far / cache.last.cost_so_far : 0;
  ImGui::PushTextWrapPos(0);
  ImGui::Text("%llu %s, %llu tokens: %.2fx so far; expected %.2fx (%.2f tokens per pass)",
              static_cast<unsigned long long>(cache.sim->passes()), cache.sim->passes() == 1 ? "pass" : "passes",
              static_cast<unsigned long long>(cache.sim->tokens()), so_far,
              expected, specdec_expected_tokens(p.alpha, p.gamma));
  ImGui::PopTextWrapPos();

  // The passes: γ draft boxes, then the target's own token.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float em = ImGui::GetFontSize();
  const float box = std::min(em * 1.6f, (ImGui::GetContentRegionAvail().x - em * 6) / (p.gamma + 2));
  ImFont* small = fonts().small;
  for (const auto& row : cache.rows) {
    const ImVec2 o = ImGui::GetCursorScreenPos();
    dl->AddText(small, small->FontSize, ImVec2(o.x, o.y + (box - small->FontSize) / 2), th.text_dim,
                fmt::format("pass {}", row.index + 1).c_str());
    float x = o.x + em * 4;
    for (size_t i = 0; i < row.drafts.size(); ++i) {
      const DraftOutcome d = row.drafts[i];
      const ImU32 col = d == DraftOutcome::accepted ? th.good : d == DraftOutcome::rejected ? th.bad : color_alpha(th.text_dim, 0.25f);
      dl->AddRectFilled(ImVec2(x, o.y), ImVec2(x + box - 3, o.y + box - 3), col, 3);
      const char* mark = d == DraftOutcome::accepted ? "✓" : d == DraftOutcome::rejected ? "✗" : "";
      dl->AddText(ImVec2(x + box * 0.25f, o.y + (box - 3 - em) / 2), th.bg, mark);
      x += box;
    }
    x += box * 0.3f;
    dl->AddRectFilled(ImVec2(x, o.y), ImVec2(x + box - 3, o.y + box - 3), th.accent, 3);
    dl->AddText(small, small->FontSize, ImVec2(x + box + 4, o.y + (box - small->FontSize) / 2), th.text,
                fmt::format("{}: {} token{} this pass", row.bonus ? "bonus" : "target's", row.emitted, row.emitted == 1 ? "" : "s").c_str());
    ImGui::Dummy(ImVec2(0, box));
  }
  ImGui::PushFont(small);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim),
                     "green: draft accepted · red: first rejection · grey: thrown away · blue: the target's token");
  ImGui::PopFont();

  // Speed-up against γ for this α and a few others, with the best γ marked.
  PlotSpec ps;
  ps.x = plot::Axis{0, 12, plot::Scale::linear, 10, plot::Unit::none, "draft tokens per pass γ"};
  ps.y = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::ratio, "expected speed-up"};
  ps.fit_x = false;
  ps.legend = LegendPos::top_left;
  const double alphas[] = {p.alpha, 0.6, 0.8, 0.9};
  for (int a = 0; a < 4; ++a) {
    if (a > 0 && std::abs(alphas[a] - p.alpha) < 0.005) continue;
    Series ser;
    ser.name = fmt::format("α = {:.2f}{}", alphas[a], a == 0 ? " (chosen)" : "");
    ser.color = a == 0 ? th.series[0] : color_alpha(th.series[a], 0.8f);
    ser.dashed = a > 0;
    ser.style = a == 0 ? SeriesStyle::line_points : SeriesStyle::line;
    for (const auto& r : specdec_gamma_table(alphas[a], p.c, 12)) {
      ser.x.push_back(double(r.gamma));
      ser.y.push_back(r.speedup);
      ser.notes.push_back(fmt::format("{:.3f} tokens per pass", r.tokens));
    }
    ps.series.push_back(ser);
  }
  const u64 best = specdec_best_gamma(p.alpha, p.c, 12);
  ps.markers.push_back({double(best), fmt::format("best γ = {}", best), th.good, true, true});
  ps.markers.push_back({1.0, "no speed-up", th.text_dim, false});
  plot_draw("specdec", ps, ImVec2(0, 0));
}

}  // namespace attnlab::gui
