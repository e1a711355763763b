#include "frame.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <fmt/format.h>

#include "hw/gpu_file.hpp"
#include "markdown/md_render.hpp"
#include "open_file.hpp"
#include "panels/registry.hpp"
#include "platform.hpp"
#include "style.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

constexpr ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                    ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;

void read_keys(View& v, FrameRequests& req) {
  if (v.headless_capture) return;
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsKeyPressed(GLFW_KEY_F5, false)) req.toggle_present = true;
  if (ImGui::IsKeyPressed(GLFW_KEY_F12, false)) req.screenshot = true;
  if (io.WantTextInput || ImGui::IsAnyItemActive()) return;  // keys belong to the widget being edited
  if (ImGui::IsKeyPressed(GLFW_KEY_ESCAPE, false) && v.settings.present) req.toggle_present = true;
  const bool arrows = v.settings.present || !io.WantCaptureKeyboard;
  if (ImGui::IsKeyPressed(GLFW_KEY_PAGE_DOWN) || (arrows && ImGui::IsKeyPressed(GLFW_KEY_RIGHT)))
    v.set_chapter(v.chapter + 1);
  if (ImGui::IsKeyPressed(GLFW_KEY_PAGE_UP) || (arrows && ImGui::IsKeyPressed(GLFW_KEY_LEFT)))
    v.set_chapter(v.chapter - 1);
  if (ImGui::IsKeyPressed(GLFW_KEY_SPACE, false)) v.playing = !v.playing;
}

void draw_menu_bar(View& v, FrameRequests& req) {
  if (!ImGui::BeginMenuBar()) return;
  const Fonts& F = fonts();
  ImGui::PushFont(F.bold);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(theme().accent), "attnlab");
  ImGui::PopFont();
  ImGui::Separator();
  if (ImGui::ArrowButton("##prev", ImGuiDir_Left)) v.set_chapter(v.chapter - 1);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("previous chapter (PgUp)");
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next", ImGuiDir_Right)) v.set_chapter(v.chapter + 1);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("next chapter (PgDn)");
  if (const Lesson* l = v.current_lesson()) ImGui::Text("Chapter %d  (%d/%zu)", l->chapter, v.chapter + 1, v.lessons.size());
  ImGui::Separator();
  ImGui::TextUnformatted("GPU");
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  if (ImGui::BeginCombo("##gpu", v.gpu.name.c_str())) {
    for (const auto& g : gpu_presets()) {
      if (ImGui::Selectable(g.name.c_str(), g.name == v.gpu.name)) v.set_gpu(g.name);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s, %s", g.full_name.c_str(), g.arch.c_str());
    }
    if (!gpu_session_gpus().empty()) ImGui::Separator();
    for (const auto& g : gpu_session_gpus())
      if (ImGui::Selectable(g.name.c_str(), g.name == v.gpu.name)) v.set_gpu(g.name);
    ImGui::Separator();
    if (ImGui::Selectable("Open a GPU file...")) gui_open_request();
    ImGui::EndCombo();
  }
  gui_open_draw(v);
  ImGui::TextUnformatted("dtype");
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4.5f);
  if (ImGui::BeginCombo("##dtype", std::string(dtype_name(v.settings.dtype)).c_str())) {
    for (DType t : {DType::fp16, DType::bf16, DType::fp32, DType::fp8})
      if (ImGui::Selectable(std::string(dtype_name(t)).c_str(), t == v.settings.dtype)) v.settings.dtype = t;
    ImGui::EndCombo();
  }
  ImGui::Separator();
  if (ImGui::MenuItem(v.show_chapters ? "Hide chapters" : "Chapters")) v.show_chapters = !v.show_chapters;
  if (ImGui::MenuItem("Present", "F5")) req.toggle_present = true;
  if (ImGui::MenuItem("Screenshot", "F12")) req.screenshot = true;
  // The browser has no command line: the learner's measurement file comes through its file picker.
  if (platform::can_pick_files() && ImGui::MenuItem("Your measurements…")) platform::pick_file(".json", "measurements");
  ImGui::EndMenuBar();
}

void draw_chapter_list(View& v) {
  const Theme& th = theme();
  ImFont* f = fonts().small;
  ImGui::PushFont(f);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "CHAPTERS");
  // Each title wrapped over as many lines as it needs, the number in a column of its own.
  const float num_w = f->CalcTextSizeA(f->FontSize, 1e9f, 0, "00 ").x;
  const float wrap = ImGui::GetContentRegionAvail().x - num_w;
  for (int i = 0; i < static_cast<int>(v.lessons.size()); ++i) {
    const Lesson& l = v.lessons[i];
    ImGui::PushID(i);
    const ImVec2 sz = f->CalcTextSizeA(f->FontSize, 1e9f, wrap, l.title.c_str());
    const ImVec2 p = ImGui::GetCursorScreenPos();
    if (ImGui::Selectable("##chapter", i == v.chapter, 0, ImVec2(0, sz.y))) v.set_chapter(i);
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const std::string num = std::to_string(l.chapter);
    add_text(dl, f, f->FontSize, p, i == v.chapter ? th.accent : th.text_dim, num.c_str());
    add_text(dl, f, f->FontSize, ImVec2(p.x + num_w, p.y), th.text, l.title.c_str(), nullptr, wrap);
    if (hovered && !l.summary.empty()) {
      ImGui::BeginTooltip();
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 24);
      ImGui::TextUnformatted(l.summary.c_str());
      ImGui::PopTextWrapPos();
      ImGui::EndTooltip();
    }
    ImGui::Dummy(ImVec2(0, 2));
    ImGui::PopID();
  }
  ImGui::PopFont();
}

void draw_lesson(View& v) {
  const md::Document* doc = v.current_document();
  if (!doc) return;
  markdown_draw(*doc, v.chapter);
  ImGui::Dummy(ImVec2(0, ImGui::GetFontSize() * 2));
}

// The chapter's panels: one, or tabs when the lesson names several. A name with no panel in this
// build gets an honest note instead of a stand-in.
void draw_panels(View& v) {
  const Lesson* l = v.current_lesson();
  if (!l || l->panels.empty()) return;
  const Theme& th = theme();
  auto draw_one = [&](const std::string& name) {
    const PanelInfo* p = panel_find(name);
    if (!p) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.warn), "The '%s' panel is not in this build yet.", name.c_str());
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim),
                         "Its numbers must come from a model in the core library, and that model has not "
                         "landed. The lesson text stands on its own meanwhile.");
      ImGui::PopTextWrapPos();
      return;
    }
    ImGui::PushID(p->name.data(), p->name.data() + p->name.size());
    p->draw(v);
    ImGui::PopID();
  };
  if (l->panels.size() == 1) {
    draw_one(l->panels[0]);
    return;
  }
  if (ImGui::BeginTabBar("panels")) {
    for (int i = 0; i < static_cast<int>(l->panels.size()); ++i) {
      const std::string& name = l->panels[i];
      const PanelInfo* p = panel_find(name);
      const std::string tab = p ? std::string(p->title) + "###" + name : name + " (missing)###" + name;
      ImGuiTabItemFlags flags = 0;
      if (!v.first_panel.empty() && v.first_panel == name) {
        flags |= ImGuiTabItemFlags_SetSelected;
        v.first_panel.clear();
      }
      if (ImGui::BeginTabItem(tab.c_str(), nullptr, flags)) {
        v.panel_tab = i;
        ImGui::BeginChild("tab", ImVec2(0, 0), false);
        draw_one(name);
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
}

void draw_status_bar(View& v, const std::string& toast, float height) {
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  dl->AddRectFilled(ImVec2(p.x - 20, p.y - 2), ImVec2(p.x + w + 20, p.y + height + 20), th.panel_bg);
  ImGui::PushFont(fonts().small);
  ImGui::SetCursorScreenPos(ImVec2(p.x, p.y + (height - ImGui::GetFontSize()) * 0.35f));
  if (!toast.empty()) {
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.good), "%s", toast.c_str());
  } else if (!fonts().missing.empty()) {
    // A missing font is not fatal (ImGui's built-in font stands in) but the text looks wrong
    // and non-Latin glyphs are gone: say so where the user looks for the app's state.
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.warn),
                       "Font not found: %s (install fonts-dejavu-core or set ATTNLAB_FONT_DIR); using the built-in font",
                       fonts().missing.c_str());
  } else {
    const std::string text = fmt::format("GPU: {} ({}{})   ·   Measurements: {}   ·   F5 present · F12 screenshot",
                                         v.gpu.full_name, v.gpu.name, v.gpu.overridden ? ", overridden" : "",
                                         v.measurement_summary());
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s", text.c_str());
  }
  ImGui::PopFont();
}

void draw_too_small(const ImVec2& size) {
  const Theme& th = theme();
  const char* msg = "Window too small for attnlab";
  const std::string hint = fmt::format("make it at least {:.0f} x {:.0f}", kMinLayoutWidth, kMinLayoutHeight);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 a = ImGui::CalcTextSize(msg), b = ImGui::CalcTextSize(hint.c_str());
  add_text(dl, nullptr, 0, ImVec2((size.x - a.x) / 2, size.y / 2 - a.y), th.text, msg);
  add_text(dl, nullptr, 0, ImVec2((size.x - b.x) / 2, size.y / 2 + 2), th.text_dim, hint.c_str());
}

}  // namespace

void frame_draw(View& v, FrameRequests& req, const std::string& toast) {
  read_keys(v, req);
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  const bool present = v.settings.present;
  const bool tiny = vp->WorkSize.x < kMinLayoutWidth || vp->WorkSize.y < kMinLayoutHeight;
  ImGuiWindowFlags flags = kFixed | (present || tiny ? 0 : ImGuiWindowFlags_MenuBar);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(ImGui::GetFontSize() * 0.6f, ImGui::GetFontSize() * 0.4f));
  // No background: the app clears the framebuffer to the same colour (gui/app.cpp), and a second
  // full-window quad is a whole screen of blending for the software rasterizer (Mesa llvmpipe).
  ImGui::Begin("attnlab", nullptr, flags | ImGuiWindowFlags_NoBackground);
  ImGui::PopStyleVar();
  if (tiny) {
    draw_too_small(vp->WorkSize);
    ImGui::End();
    return;
  }
  if (!present) draw_menu_bar(v, req);

  const Lesson* l = v.current_lesson();
  const float em = ImGui::GetFontSize();
  const float status_h = present ? 0 : em * 1.5f;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float body_h = avail.y - status_h;
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const bool has_panels = l && !l->panels.empty();

  // Column widths: the chapter list is narrow, the lesson about 40 % of what is left (less in
  // presenter mode, where the panel is what the room looks at), the panels take the rest.
  float list_w = (!present && v.show_chapters) ? std::clamp(avail.x * 0.14f, em * 8, em * 12) : 0;
  float rest = avail.x - list_w - (list_w > 0 ? gap : 0);
  float lesson_w = has_panels ? std::clamp(rest * (present ? 0.34f : 0.37f), std::min(rest, em * 14), rest * 0.6f) : rest;
  float panel_w = has_panels ? rest - lesson_w - gap : 0;

  if (list_w > 0) {
    ImGui::BeginChild("chapters", ImVec2(list_w, body_h), true);
    draw_chapter_list(v);
    ImGui::EndChild();
    ImGui::SameLine();
  }
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(em * 0.8f, em * 0.5f));
  ImGui::BeginChild("lesson", ImVec2(lesson_w, body_h), true);
  draw_lesson(v);
  ImGui::EndChild();
  if (has_panels) {
    ImGui::SameLine();
    ImGui::BeginChild("panel", ImVec2(panel_w, body_h), true);
    draw_panels(v);
    ImGui::EndChild();
  }
  ImGui::PopStyleVar();
  if (!present) draw_status_bar(v, toast, status_h);
  else if (!toast.empty()) add_text(ImGui::GetForegroundDrawList(), nullptr, 0, ImVec2(10, vp->WorkSize.y - em * 1.4f), theme().good, toast.c_str());
  ImGui::End();
}

}  // namespace attnlab::gui
