// The dashboard's layout, checked without a human: every chapter drawn headless (an ImGui context
// without a window; ImGui builds its draw lists on the CPU) in presenter mode at 1920x1080 and
// 1280x720, and in desk mode at 1280x720.
//  - No legend covers a series: each plot's legend box against the series' pixels, as the plot
//    drew them (gui/plot/plot.hpp's records).
//  - The panel fills its space: the share of the panel's height in which something is drawn (a
//    tile grid of 150 px above an empty half panel scores about 50 %).
#include <doctest/doctest.h>

#if ATTNLAB_HAVE_GUI
#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "frame.hpp"
#include "gui_loaded.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "view.hpp"

using namespace attnlab;
using namespace attnlab::gui;
using namespace attnlab::gui::test;

namespace {

// A context of its own, in the presenter's or the desk's style; the context, fonts and theme that
// were current before (another test file's) come back when it ends.
class Context {
 public:
  Context(bool present, float height) : prev_(ImGui::GetCurrentContext()), prev_fonts_(fonts()), prev_light_(theme().light) {
    ctx_ = ImGui::CreateContext();
    ImGui::SetCurrentContext(ctx_);
    ImGui::GetIO().IniFilename = nullptr;
    ImGui::GetIO().ConfigFlags |= ImGuiConfigFlags_NoMouse;  // as in screenshots: no hover
    Settings s;
    s.present = present;
    const float px = body_font_px(s, height);
    fonts() = fonts_load(px);
    style_apply(present, px);
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    ImGui::GetIO().Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
  }
  ~Context() {
    ImGui::DestroyContext(ctx_);
    ImGui::SetCurrentContext(prev_);
    fonts() = prev_fonts_;
    if (prev_) style_apply(prev_light_, prev_fonts_.px);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

 private:
  ImGuiContext* prev_;
  ImGuiContext* ctx_ = nullptr;
  Fonts prev_fonts_;
  bool prev_light_;
};

// One frame of the whole dashboard at w x h.
void draw_frame(View& v, float w, float h) {
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(w, h);
  io.DeltaTime = 1.0f / 30;
  ImGui::NewFrame();
  FrameRequests req;
  frame_draw(v, req, "");
  ImGui::Render();
}

// The panel column's window ("attnlab/panel_XXXXXXXX") and whether `w` is it or inside it.
ImGuiWindow* panel_window() {
  for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows)
    if (w->Active && std::strncmp(w->Name, "attnlab/panel_", 14) == 0) return w;
  return nullptr;
}
bool inside(const ImGuiWindow* w, const ImGuiWindow* root) {
  for (; w; w = w->ParentWindow)
    if (w == root) return true;
  return false;
}

// The share of the panel's inner height, in bins of `bin` pixels, that any visible triangle drawn
// by the panel (or a child of it) reaches into: 1 = something drawn at every height.
double filled_height(const ImGuiWindow* panel, float bin) {
  const ImRect r = panel->InnerClipRect;
  const int bins = std::max(1, static_cast<int>((r.Max.y - r.Min.y) / bin));
  std::vector<bool> hit(static_cast<size_t>(bins), false);
  for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows) {
    if (!w->Active || !inside(w, panel)) continue;
    const ImDrawList* dl = w->DrawList;
    for (const ImDrawCmd& cmd : dl->CmdBuffer) {
      const float clip_y0 = std::max(cmd.ClipRect.y, r.Min.y), clip_y1 = std::min(cmd.ClipRect.w, r.Max.y);
      const float clip_x0 = std::max(cmd.ClipRect.x, r.Min.x), clip_x1 = std::min(cmd.ClipRect.z, r.Max.x);
      if (clip_y1 <= clip_y0 || clip_x1 <= clip_x0) continue;
      for (unsigned e = 0; e + 2 < cmd.ElemCount; e += 3) {
        float y0 = 1e9f, y1 = -1e9f, x0 = 1e9f, x1 = -1e9f;
        for (unsigned k = 0; k < 3; ++k) {
          const ImDrawVert& vtx = dl->VtxBuffer[cmd.VtxOffset + dl->IdxBuffer[cmd.IdxOffset + e + k]];
          y0 = std::min(y0, vtx.pos.y);
          y1 = std::max(y1, vtx.pos.y);
          x0 = std::min(x0, vtx.pos.x);
          x1 = std::max(x1, vtx.pos.x);
        }
        y0 = std::max(y0, clip_y0);
        y1 = std::min(y1, clip_y1);
        if (y1 <= y0 || x1 <= clip_x0 || x0 >= clip_x1) continue;
        const int b0 = std::clamp(static_cast<int>((y0 - r.Min.y) / bin), 0, bins - 1);
        const int b1 = std::clamp(static_cast<int>((y1 - r.Min.y) / bin), 0, bins - 1);
        for (int b = b0; b <= b1; ++b) hit[static_cast<size_t>(b)] = true;
      }
    }
  }
  return static_cast<double>(std::count(hit.begin(), hit.end(), true)) / bins;
}

View layout_view(bool present) {
  View v = loaded_view(LessonText::rendered);
  v.settings.present = present;
  v.settings.autoplay = true;
  return v;
}

struct Size {
  float w, h;
};

}  // namespace

TEST_CASE("presenter text is the same share of the screen height at every size") {
  Settings s;
  s.present = true;
  CHECK(body_font_px(s, 1080) == 30.0f);
  CHECK(body_font_px(s, 720) == 20.0f);
  CHECK(body_font_px(s, 900) == 25.0f);
  CHECK(body_font_px(s, 100) == 16.0f);   // never below a readable floor
  CHECK(body_font_px(s, 4320) == 60.0f);  // nor past twice the 1080p size
  s.present = false;
  CHECK(body_font_px(s, 720) == s.font_px);  // the desk font does not follow the window
}

TEST_CASE("a slider's label keeps off its value bar and knob, wherever the value is") {
  // The presenter's slider at 30 px: frame 380 x 45 (7.5 px padding), label 210 x 30, knob 27 wide.
  const ImVec2 a(100, 50), b(480, 95);
  for (const double t : {0.0, 0.385, 0.5, 1.0}) {
    CAPTURE(t);
    const SliderLook l = slider_look(a, b, t, 210, 30, 7.5f, 27);
    const plot::Box text{l.text.x, l.text.y, l.text.x + 210, l.text.y + 30};
    CHECK(text.x0 == doctest::Approx(185));  // centred
    CHECK_FALSE(plot::boxes_overlap(text, plot::Box{l.knob_min.x, l.knob_min.y, l.knob_max.x, l.knob_max.y}));
    CHECK_FALSE(plot::boxes_overlap(text, plot::Box{l.bar_min.x, l.bar_min.y, l.bar_max.x, l.bar_max.y}));
    CHECK(l.knob_max.y <= b.y);  // inside the frame
    CHECK(l.knob_min.x >= a.x);
    CHECK(l.knob_max.x <= b.x);
    CHECK((l.knob_min.x + l.knob_max.x) / 2 == doctest::Approx(102 + 13.5 + t * (376 - 27)));  // the knob follows the value
  }
}

TEST_CASE("no legend covers a series, in any chapter, presenter and desk") {
  struct Mode {
    bool present;
    Size size;
  };
  int legends = 0;
  for (const Mode m : {Mode{true, {1920, 1080}}, Mode{true, {1280, 720}}, Mode{false, {1280, 720}}}) {
    const bool present = m.present;
    const Size sz = m.size;
    Context ctx(present, sz.h);
    View v = layout_view(present);
    {
      for (int c = 0; c < static_cast<int>(v.lessons.size()); ++c) {
        v.set_chapter(c);
        for (int tab = 0; tab < 3; ++tab) {  // each of the chapter's panels in front in turn
          const auto& panels = v.lessons[c].panels;
          if (tab >= static_cast<int>(std::max<size_t>(1, panels.size()))) break;
          if (!panels.empty()) v.first_panel = panels[tab];
          for (int k = 0; k < 3; ++k) draw_frame(v, sz.w, sz.h);  // let the layout settle
          plot_records_enable(true);
          draw_frame(v, sz.w, sz.h);
          for (const PlotRecord& r : plot_records()) {
            if (!r.legend) continue;
            CAPTURE(v.lessons[c].file);
            CAPTURE(r.id);
            CAPTURE(present);
            CAPTURE(sz.w);
            ++legends;
            for (size_t s = 0; s < r.data.size(); ++s) {
              CAPTURE(s);
              CHECK_FALSE(plot::box_hits_polyline(r.legend_box, r.data[s]));
            }
          }
          plot_records_enable(false);
        }
      }
    }
  }
  // hierarchy, traffic (chapters 3 and 4), kernels, kv (chapters 5 and 6), ssm, specdec, in 3 modes
  CHECK(legends >= 3 * 7);
}

TEST_CASE("in presenter mode every chapter's panel fills its height, at 1920x1080 and 1280x720") {
  for (const Size sz : {Size{1920, 1080}, Size{1280, 720}}) {
    Context ctx(true, sz.h);
    View v = layout_view(true);
    for (int c = 0; c < static_cast<int>(v.lessons.size()); ++c) {
      v.set_chapter(c);
      for (int k = 0; k < 4; ++k) draw_frame(v, sz.w, sz.h);
      const ImGuiWindow* panel = panel_window();
      if (v.lessons[c].panels.empty()) continue;
      REQUIRE(panel != nullptr);
      const double fill = filled_height(panel, ImGui::GetFontSize() * 0.6f);
      CAPTURE(v.lessons[c].file);
      CAPTURE(sz.w);
      CHECK(fill >= 0.9);
    }
  }
}
#endif
