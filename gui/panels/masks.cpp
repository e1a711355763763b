// masks: the N×N attention mask of each pattern the course teaches (full, causal, sliding window,
// strided, Longformer, alternating global/local layers), as a grid of query rows and key columns,
// with the exact count of allowed cells. Patterns, grids and counts are src/models/masks'.
#include <algorithm>
#include <fmt/format.h>

#include "models/masks.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

const char* const kPatterns[] = {"full", "sliding window", "strided (Sparse Transformer)", "Longformer (window + global)",
                                 "alternating layers (ModernBERT)"};

struct MaskCache : PanelCache {
  std::string key, error;
  MaskPattern pattern;
  std::vector<bool> grid;
  u128 allowed = 0;
  std::vector<std::vector<bool>> layers;  // alternating: the first few layers
};

MaskPattern make_pattern(const Settings& s) {
  switch (s.mask_kind) {
    case 1: return mask_window(s.mask_window, s.mask_causal);
    case 2: return mask_strided(s.mask_stride, s.mask_causal);
    case 3: return mask_longformer(s.mask_window, s.mask_globals, s.mask_causal);
    case 4: return mask_alternating(s.mask_every_k, s.mask_window, s.mask_causal);
    default: return mask_full(s.mask_causal);
  }
}

void refresh_masks(View& v, MaskCache& c) {
  const Settings& s = v.settings;
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", s.mask_kind, s.mask_n, s.mask_window, s.mask_stride,
                                      s.mask_globals, s.mask_every_k, s.mask_layer, s.mask_causal);
  if (key == c.key) return;
  c.key = key;
  c.error.clear();
  try {
    c.pattern = make_pattern(s);
    c.grid = mask_grid(c.pattern, s.mask_n, s.mask_layer);
    c.allowed = mask_count(c.pattern, s.mask_n, s.mask_layer);
    c.layers.clear();
    if (c.pattern.kind == MaskKind::alternating)
      for (u64 l = 0; l < 6; ++l) c.layers.push_back(mask_grid(c.pattern, s.mask_n, l));
  } catch (const std::exception& e) {
    c.error = e.what();
  }
}

// Draws an n×n grid of cells; returns the hovered (q, k) or (-1, -1).
std::pair<int, int> draw_grid(const std::vector<bool>& grid, u64 n, ImVec2 origin, float side, bool labels) {
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float cell = side / n;
  const float gap = cell >= 7 ? 1.0f : 0.0f;
  const ImU32 on = th.accent, off = color_alpha(th.text_dim, 0.12f);
  dl->AddRectFilled(origin, ImVec2(origin.x + side, origin.y + side), th.panel_bg);
  for (u64 q = 0; q < n; ++q)
    for (u64 k = 0; k < n; ++k) {
      const ImVec2 a(origin.x + k * cell + gap, origin.y + q * cell + gap);
      dl->AddRectFilled(a, ImVec2(a.x + cell - 2 * gap, a.y + cell - 2 * gap), grid[q * n + k] ? on : off);
    }
  dl->AddRect(origin, ImVec2(origin.x + side, origin.y + side), th.grid);
  if (labels) {
    ImFont* f = fonts().small;
    dl->AddText(f, f->FontSize, ImVec2(origin.x, origin.y - f->FontSize * 1.2f), th.text_dim, "keys k →");
  }
  const ImVec2 m = ImGui::GetIO().MousePos;
  if (ImGui::IsWindowHovered() && m.x >= origin.x && m.y >= origin.y && m.x < origin.x + side && m.y < origin.y + side)
    return {static_cast<int>((m.y - origin.y) / cell), static_cast<int>((m.x - origin.x) / cell)};
  return {-1, -1};
}

}  // namespace

void draw_masks(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<MaskCache>("masks");
  panel_header("Attention masks", "mask model (src/models/masks): allowed cells and exact counts");

  ImGui::SetNextItemWidth(control_width(2));
  if (ImGui::BeginCombo("##kind", kPatterns[std::clamp(s.mask_kind, 0, 4)])) {
    for (int i = 0; i < 5; ++i)
      if (ImGui::Selectable(kPatterns[i], i == s.mask_kind)) s.mask_kind = i;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_u64("##n", "N", s.mask_n, 4, 64, "tokens");
  ImGui::SameLine();
  ImGui::Checkbox("causal", &s.mask_causal);
  const int kind = s.mask_kind;
  if (kind == 1 || kind == 3 || kind == 4) {
    ImGui::SetNextItemWidth(control_width(3));
    slider_u64("##w", "window w", s.mask_window, 1, 32);
    ImGui::SameLine();
  }
  if (kind == 2) {
    ImGui::SetNextItemWidth(control_width(3));
    slider_u64("##s", "stride s", s.mask_stride, 1, 16);
    ImGui::SameLine();
  }
  if (kind == 3) {
    ImGui::SetNextItemWidth(control_width(2));
    slider_u64("##g", "global tokens", s.mask_globals, 0, 8);
    ImGui::SameLine();
  }
  if (kind == 4) {
    ImGui::SetNextItemWidth(control_width(2));
    slider_u64("##k", "global every", s.mask_every_k, 1, 6, "layers");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(control_width(1));
    slider_u64("##l", "layer", s.mask_layer, 0, 5);
  } else {
    ImGui::NewLine();
  }

  refresh_masks(v, cache);
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }
  const u64 n = s.mask_n;
  const u128 cells = u128{n} * n;
  ImGui::Text("%s: %s of %s cells allowed (%.1f%%)", mask_describe(cache.pattern).c_str(), format_count(cache.allowed).c_str(),
              format_count(cells).c_str(), 100.0 * to_double(cache.allowed) / to_double(cells));
  if (!mask_paper(cache.pattern.kind).empty()) {
    ImGui::SameLine();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "[%s]", std::string(mask_paper(cache.pattern.kind)).c_str());
  }

  const float thumbs_h = cache.layers.empty() ? 0 : ImGui::GetFontSize() * 5.5f;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float label = fonts().small->FontSize * 1.4f;
  const float side = std::max(40.0f, std::min(avail.x - label, avail.y - thumbs_h - label * 2));
  const ImVec2 origin(ImGui::GetCursorScreenPos().x + label, ImGui::GetCursorScreenPos().y + label);
  const auto [q, k] = draw_grid(cache.grid, n, origin, side, true);
  ImGui::GetWindowDrawList()->AddText(fonts().small, fonts().small->FontSize, ImVec2(origin.x - label, origin.y),
                                      th.text_dim, "q ↓");
  ImGui::Dummy(ImVec2(side + label, side + label));
  if (q >= 0 && k >= 0 && q < static_cast<int>(n) && k < static_cast<int>(n))
    ImGui::SetTooltip("query %d, key %d: %s", q, k, cache.grid[q * n + k] ? "attends" : "masked");

  if (!cache.layers.empty()) {
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "layers 0-5 (global layers see everything):");
    const float t = std::min(ImGui::GetFontSize() * 4.0f, (ImGui::GetContentRegionAvail().x - 6 * 8) / 6);
    for (u64 l = 0; l < cache.layers.size(); ++l) {
      if (l) ImGui::SameLine();
      const ImVec2 p = ImGui::GetCursorScreenPos();
      draw_grid(cache.layers[l], n, p, t, false);
      if (l == s.mask_layer) ImGui::GetWindowDrawList()->AddRect(ImVec2(p.x - 3, p.y - 3), ImVec2(p.x + t + 3, p.y + t + 3), th.text, 2, 0, 2);
      ImGui::Dummy(ImVec2(t, t));
    }
  }
}

}  // namespace attnlab::gui
