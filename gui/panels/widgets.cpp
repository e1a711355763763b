#include "panels/widgets.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
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
  // In presenter mode (the light theme) one line, cut at the panel's edge: the room reads the
  // figure, and every wrapped line here is a line the figure loses.
  if (!theme().light) ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(theme().text_dim), "numbers: %s", source.c_str());
  if (!theme().light) ImGui::PopTextWrapPos();
  ImGui::PopFont();
}

SliderLook slider_look(ImVec2 frame_min, ImVec2 frame_max, double t, float text_w, float text_h, float pad_y, float knob_w) {
  SliderLook l;
  const float tt = static_cast<float>(std::clamp(t, 0.0, 1.0));
  // The bar sits in the bottom padding, one pixel below the label's line and one above the edge.
  const float bar_h = std::max(3.0f, pad_y - 2);
  const float y1 = frame_max.y - 1, y0 = y1 - bar_h;
  l.text = ImVec2((frame_min.x + frame_max.x - text_w) / 2, std::min(frame_min.y + pad_y, y0 - 1 - text_h));
  const float x0 = frame_min.x + 2, x1 = frame_max.x - 2;
  const float kw = std::min(knob_w, x1 - x0);
  const float centre = x0 + kw / 2 + tt * (x1 - x0 - kw);
  l.bar_min = ImVec2(x0, y0);
  l.bar_max = ImVec2(centre, y1);
  l.knob_min = ImVec2(centre - kw / 2, y0 - 1);
  l.knob_max = ImVec2(centre + kw / 2, y1);
  return l;
}

namespace {

// Draws the slider with no text and no grab of ImGui's, then our label, value bar and knob
// (slider_look). `t` is where the value sits in [0, 1].
template <typename DrawSlider>
bool labelled_slider(const std::string& label, double t, DrawSlider draw) {
  ImGui::PushStyleColor(ImGuiCol_SliderGrab, IM_COL32(0, 0, 0, 0));
  ImGui::PushStyleColor(ImGuiCol_SliderGrabActive, IM_COL32(0, 0, 0, 0));
  const bool changed = draw();
  ImGui::PopStyleColor(2);
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  const ImGuiStyle& st = ImGui::GetStyle();
  const ImVec2 text = ImGui::CalcTextSize(label.c_str());
  const SliderLook l = slider_look(a, b, t, text.x, text.y, st.FramePadding.y, st.GrabMinSize * 1.2f);
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(a, b, true);
  dl->AddRectFilled(l.bar_min, l.bar_max, color_alpha(th.accent, 0.45f), 2);
  dl->AddRectFilled(l.knob_min, l.knob_max, th.accent, 2);
  add_text(dl, nullptr, 0, l.text, th.text, label.c_str());
  dl->PopClipRect();
  return changed;
}

}  // namespace

bool slider_pow2(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit) {
  int k = static_cast<int>(std::bit_width(std::max<u64>(value, 1)) - 1);
  const int k0 = static_cast<int>(std::bit_width(lo) - 1), k1 = static_cast<int>(std::bit_width(hi) - 1);
  k = std::clamp(k, k0, k1);
  const std::string shown = fmt::format("{} = {}{}{}", name, plot::format_tick(static_cast<double>(u64{1} << k), plot::Unit::tokens),
                                        *unit ? " " : "", unit);
  const bool changed = labelled_slider(shown, k1 > k0 ? double(k - k0) / (k1 - k0) : 0, [&] {
    return ImGui::SliderInt(id, &k, k0, k1, "", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_NoInput);
  });
  platform::note_widget(id);  // the browser tests drag it
  if (changed) value = u64{1} << k;
  return changed;
}

bool slider_u64(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit) {
  int v = static_cast<int>(std::clamp(value, lo, hi));
  const std::string shown = fmt::format("{} = {}{}{}", name, v, *unit ? " " : "", unit);
  const bool changed = labelled_slider(shown, hi > lo ? double(v - static_cast<int>(lo)) / double(hi - lo) : 0, [&] {
    return ImGui::SliderInt(id, &v, static_cast<int>(lo), static_cast<int>(hi), "", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_NoInput);
  });
  platform::note_widget(id);
  if (changed) value = static_cast<u64>(v);
  return changed;
}

bool slider_float(const char* id, float& value, float lo, float hi, const char* format, bool logarithmic) {
  char shown[128];
  std::snprintf(shown, sizeof shown, format, static_cast<double>(value));
  const double t = logarithmic && lo > 0 && hi > lo ? std::log(std::max(value, lo) / lo) / std::log(hi / lo)
                                                    : hi > lo ? double(value - lo) / double(hi - lo) : 0;
  return labelled_slider(shown, t, [&] {
    return ImGui::SliderFloat(id, &value, lo, hi, "", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_NoInput |
                                                        (logarithmic ? ImGuiSliderFlags_Logarithmic : 0));
  });
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
  add_text(dl, F.small, small, ImVec2(p.x + 12, p.y + 4), th.text_dim, label);
  dl->PushClipRect(p, ImVec2(p.x + width, p.y + h), true);
  add_text(dl, F.h2, big, ImVec2(p.x + 12, p.y + 6 + small), th.text, value.c_str());
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
