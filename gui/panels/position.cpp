// position: RoPE and ALiBi. Left, one 2-D pair of a query and a key drawn as arrows on a circle:
// the query sits at position m, the key at n, each turned by its position times θ_i; sliding both
// positions together (Play) turns both arrows but keeps the angle between them, so the score stays
// the same. Right, the all-ones score against the offset (RoPE's slow decay), and ALiBi's bias
// lines, one per head. Angles, scores and slopes are src/models/position's.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <fmt/format.h>
#include <numbers>
#include <vector>

#include "models/position.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

struct PositionCache : PanelCache {
  double shift = 0;  // both positions advance together while playing
  // rope_ones_score(d, 4096) for the current d: 4096 offsets x d/2 rotations, 13 ms a frame when
  // it was recomputed every frame (the dashboard's heaviest chapter for that alone).
  u64 score_d = 0;
  std::vector<double> score;
};

void arrow(ImDrawList* dl, ImVec2 c, ImVec2 tip, ImU32 col, float w) {
  dl->AddLine(c, tip, col, w);
  const float dx = tip.x - c.x, dy = tip.y - c.y, len = std::sqrt(dx * dx + dy * dy);
  if (len < 1) return;
  const float ux = dx / len, uy = dy / len, h = w * 4.5f;
  dl->AddTriangleFilled(tip, ImVec2(tip.x - ux * h - uy * h * 0.6f, tip.y - uy * h + ux * h * 0.6f),
                        ImVec2(tip.x - ux * h + uy * h * 0.6f, tip.y - uy * h - ux * h * 0.6f), col);
}

}  // namespace

void draw_position(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<PositionCache>("position");
  panel_header("Where is each token? RoPE and ALiBi", "position model (src/models/position): RoFormer θ_i = 10000^(−2i/d), ALiBi slopes");

  ImGui::SetNextItemWidth(control_width(4));
  slider_u64("##pair", "pair i", s.pos_dim_pair, 0, s.pos_head_dim / 2 - 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(3));
  slider_u64("##off", "offset m−n", s.pos_offset, 0, 16);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  if (slider_pow2("##d", "d", s.pos_head_dim, 8, 256)) s.pos_dim_pair = std::min(s.pos_dim_pair, s.pos_head_dim / 2 - 1);
  ImGui::SameLine();
  if (ImGui::Button(v.playing ? "Pause" : "Shift both")) v.playing = !v.playing;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("move query and key along the text together (Space)");
  if (v.playing || s.autoplay) cache.shift += v.dt_s * 0.6;

  const double theta = rope_theta(s.pos_dim_pair, s.pos_head_dim);
  const double n = std::fmod(cache.shift, 64.0), m = n + static_cast<double>(s.pos_offset);
  const std::array<double, 2> q0{1.0, 0.0}, k0{1.0, 0.0};
  const auto qr = rope_rotate(q0[0], q0[1], m, theta), kr = rope_rotate(k0[0], k0[1], n, theta);
  const double score = rope_pair_score(q0, k0, m, n, theta);

  // Left: the circle.
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float left_w = std::min(avail.x * 0.42f, avail.y * 0.55f);
  ImGui::BeginGroup();
  {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float r = left_w * 0.40f;
    const ImVec2 c(p.x + left_w / 2, p.y + left_w / 2);
    dl->AddCircle(c, r, th.grid, 96, 2.0f);
    dl->AddLine(ImVec2(c.x - r - 6, c.y), ImVec2(c.x + r + 6, c.y), color_alpha(th.grid, 0.6f));
    dl->AddLine(ImVec2(c.x, c.y - r - 6), ImVec2(c.x, c.y + r + 6), color_alpha(th.grid, 0.6f));
    // Screen y grows downwards: draw counter-clockwise angles with a minus sign.
    const ImVec2 qt(c.x + static_cast<float>(qr[0]) * r, c.y - static_cast<float>(qr[1]) * r);
    const ImVec2 kt(c.x + static_cast<float>(kr[0]) * r, c.y - static_cast<float>(kr[1]) * r);
    const double aq = m * theta, ak = n * theta;
    const int segs = 32;
    for (int i = 0; i < segs; ++i) {  // the angle between them, (m − n)·θ
      const double a0 = ak + (aq - ak) * i / segs, a1 = ak + (aq - ak) * (i + 1) / segs;
      dl->AddLine(ImVec2(c.x + std::cos(a0) * r * 0.35f, c.y - std::sin(a0) * r * 0.35f),
                  ImVec2(c.x + std::cos(a1) * r * 0.35f, c.y - std::sin(a1) * r * 0.35f), th.accent, 3.0f);
    }
    arrow(dl, c, kt, th.k, 4.0f);
    arrow(dl, c, qt, th.q, 4.0f);
    // Labels outside the circle, on the side the arrow points to, kept inside the drawing's box
    // (a label hanging past the right edge ran into the plots).
    auto label = [&](ImVec2 tip, ImU32 col, const std::string& text) {
      ImFont* f = fonts().bold;
      const ImVec2 sz = f->CalcTextSizeA(f->FontSize, FLT_MAX, 0, text.c_str());
      float x = tip.x >= c.x ? tip.x + 6 : tip.x - sz.x - 6;
      float y = tip.y <= c.y ? tip.y - sz.y - 2 : tip.y + 2;
      x = std::clamp(x, p.x, p.x + left_w - sz.x);
      y = std::clamp(y, p.y, p.y + left_w - sz.y);
      dl->AddText(f, f->FontSize, ImVec2(x, y), col, text.c_str());
    };
    label(qt, th.q, fmt::format("q at m = {:.1f}", m));
    label(kt, th.k, fmt::format("k at n = {:.1f}", n));
    ImGui::Dummy(ImVec2(left_w, left_w));
    // θ with the pair index as a subscript (U+2080..2089).
    std::string sub;
    for (char ch : std::to_string(s.pos_dim_pair)) sub += std::string("\xe2\x82") + static_cast<char>(0x80 + (ch - '0'));
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + left_w);
    ImGui::Text("θ%s = %.4g rad per token;", sub.c_str(), theta);
    ImGui::Text("one turn every %.4g tokens", rope_wavelength(s.pos_dim_pair, s.pos_head_dim));
    ImGui::Text("(m − n)·θ = %.3f rad between them", static_cast<double>(s.pos_offset) * theta);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.good), "q·k = %.4f whenever m − n = %llu", score,
                       static_cast<unsigned long long>(s.pos_offset));
    ImGui::PopTextWrapPos();
  }
  ImGui::EndGroup();
  ImGui::SameLine();

  // Right: RoPE's decay with distance, and ALiBi's biases.
  ImGui::BeginGroup();
  // Two plots and the spacing between them: exactly the height left (no scroll bar).
  const float right_h = (ImGui::GetContentRegionAvail().y - ImGui::GetStyle().ItemSpacing.y) / 2 - 1;
  {
    PlotSpec ps;
    ps.title = "RoPE: score of all-ones q, k vs offset";
    ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "offset m − n (tokens)"};
    ps.y = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::none, "q·k"};
    ps.y_from_zero = true;
    ps.legend = LegendPos::none;
    if (cache.score_d != s.pos_head_dim) {
      cache.score = rope_ones_score(s.pos_head_dim, 4096);
      cache.score_d = s.pos_head_dim;
    }
    const auto& sc = cache.score;
    Series ser;
    ser.name = fmt::format("d = {}", s.pos_head_dim);
    for (u64 t = 1; t < sc.size(); t = t < 16 ? t + 1 : t + t / 16) {
      ser.x.push_back(double(t));
      ser.y.push_back(sc[t]);
    }
    ps.series.push_back(ser);
    plot_draw("rope", ps, ImVec2(0, right_h));
  }
  {
    PlotSpec ps;
    ps.title = fmt::format("ALiBi: bias added to the score, {} heads", s.pos_alibi_heads);
    ps.x = plot::Axis{0, 64, plot::Scale::linear, 10, plot::Unit::tokens, "distance q − k (tokens)"};
    ps.y = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::none, "bias"};
    ps.fit_x = false;
    ps.legend = LegendPos::bottom_left;
    const auto slopes = alibi_slopes(s.pos_alibi_heads);
    for (size_t h = 0; h < slopes.size(); ++h) {
      Series ser;
      ser.name = h == 0 || h + 1 == slopes.size() ? fmt::format("head {}: slope {:.4g}", h, slopes[h]) : "";
      ser.color = color_mix(th.series[1], th.series[0], slopes.size() > 1 ? float(h) / float(slopes.size() - 1) : 0.f);
      for (u64 dist = 0; dist <= 64; dist += 4) {
        ser.x.push_back(double(dist));
        ser.y.push_back(alibi_bias(slopes[h], dist, 0));
      }
      ps.series.push_back(ser);
    }
    plot_draw("alibi", ps, ImVec2(0, right_h));
  }
  ImGui::EndGroup();
}

}  // namespace attnlab::gui
