#include "panels/widgets.hpp"

#include <algorithm>
#include <bit>
#include <fmt/format.h>

#include "platform.hpp"
#include "plot/plot_math.hpp"
#include "style.hpp"
#include "util/units.hpp"

namespace attnlab::gui {

void panel_header(const char* title, const std::string& source) {
  const Fonts& F = fonts();
  ImGui::PushFont(F.h3 ? F.h3 : ImGui::GetFont());
  ImGui::TextUnformatted(title);
  ImGui::PopFont();
  ImGui::PushFont(F.small ? F.small : ImGui::GetFont());
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(theme().text_dim), "numbers: %s", source.c_str());
  ImGui::PopTextWrapPos();
  ImGui::PopFont();
}

bool slider_pow2(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit) {
  int k = static_cast<int>(std::bit_width(std::max<u64>(value, 1)) - 1);
  const int k0 = static_cast<int>(std::bit_width(lo) - 1), k1 = static_cast<int>(std::bit_width(hi) - 1);
  k = std::clamp(k, k0, k1);
  const std::string shown = fmt::format("{} = {}{}{}", name, plot::format_tick(static_cast<double>(u64{1} << k), plot::Unit::tokens),
                                        *unit ? " " : "", unit);
  const bool changed = ImGui::SliderInt(id, &k, k0, k1, shown.c_str(), ImGuiSliderFlags_AlwaysClamp);
  platform::note_widget(id);  // the browser tests drag it
  if (changed) value = u64{1} << k;
  return changed;
}

bool slider_u64(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit) {
  int v = static_cast<int>(std::clamp(value, lo, hi));
  const std::string shown = fmt::format("{} = %d{}{}", name, *unit ? " " : "", unit);
  const bool changed = ImGui::SliderInt(id, &v, static_cast<int>(lo), static_cast<int>(hi), shown.c_str(), ImGuiSliderFlags_AlwaysClamp);
  platform::note_widget(id);
  if (changed) value = static_cast<u64>(v);
  return changed;
}

void caption(const std::string& text) {
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(theme().text_dim), "%s", text.c_str());
  ImGui::PopTextWrapPos();
}

void stat_box(const char* label, const std::string& value, ImU32 color, float width) {
  const Theme& th = theme();
  const Fonts& F = fonts();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float small = F.small ? F.small->FontSize : ImGui::GetFontSize();
  const float big = F.h2 ? F.h2->FontSize : ImGui::GetFontSize();
  const float h = small + big + 14;
  dl->AddRectFilled(p, ImVec2(p.x + width, p.y + h), th.panel_bg, 5);
  dl->AddRectFilled(p, ImVec2(p.x + 5, p.y + h), color, 3);
  dl->AddText(F.small, small, ImVec2(p.x + 12, p.y + 4), th.text_dim, label);
  dl->PushClipRect(p, ImVec2(p.x + width, p.y + h), true);
  dl->AddText(F.h2, big, ImVec2(p.x + 12, p.y + 6 + small), th.text, value.c_str());
  dl->PopClipRect();
  ImGui::Dummy(ImVec2(width, h));
}

void panel_error(const std::string& message) {
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(theme().bad), "%s", message.c_str());
  ImGui::PopTextWrapPos();
}

float control_width(int n) {
  const float avail = ImGui::GetContentRegionAvail().x;
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  return std::max(60.0f, (avail - spacing * (n - 1)) / n);
}

std::string tokens_text(u64 n) {
  const std::string k = plot::format_tick(static_cast<double>(n), plot::Unit::tokens);
  const std::string full = format_count(n);
  return k == full || k == std::to_string(n) ? full : fmt::format("{} ({})", full, k);
}

}  // namespace attnlab::gui
