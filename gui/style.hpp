// Look and feel: the DejaVu fonts at a classroom size, two themes (desk: dark, calm; presenter:
// white, black text, thick lines for a projector) and the colours every panel and plot shares, so
// that "HBM" or "flash2" has one colour across the whole app.
#pragma once
#include <imgui.h>
#include <string>

namespace attnlab::gui {

struct Fonts {
  ImFont* body = nullptr;
  ImFont* bold = nullptr;
  ImFont* italic = nullptr;
  ImFont* bold_italic = nullptr;
  ImFont* mono = nullptr;
  ImFont* h1 = nullptr;
  ImFont* h2 = nullptr;
  ImFont* h3 = nullptr;
  ImFont* small = nullptr;
  float px = 0;       // body size in pixels
  bool dejavu = true; // false: DejaVu was missing and ImGui's built-in font stands in
  std::string missing;  // the first font file not found, for the status bar
};

// Colours by meaning. Series colours follow Okabe & Ito's colour-blind-safe set.
struct Theme {
  bool light = false;
  ImU32 bg, panel_bg, text, text_dim, grid, axis, accent, frame;
  ImU32 good, bad, warn;
  ImU32 sram, l2, hbm, dram;     // memory levels
  ImU32 q, k, v, o, s;           // tensors in the tiling view
  ImU32 series[8];
  float line_width = 2.0f;       // plot lines
  float point_radius = 4.5f;
};

// Loads the DejaVu family at `px` pixels into ImGui's atlas (the caller rebuilds the GPU texture).
// Falls back to ImGui's font, scaled, when the files are missing: the app still runs.
Fonts fonts_load(float px);
// The fonts in use (set by the app after fonts_load).
Fonts& fonts();

// Applies the desk or presenter style (sizes scaled from the body font size).
void style_apply(bool presenter, float px);
const Theme& theme();

// Colour helpers.
ImU32 color_alpha(ImU32 c, float alpha);
ImU32 color_mix(ImU32 a, ImU32 b, float t);  // t = 0 -> a, 1 -> b

// Whether the glyph ranges loaded into the atlas hold `codepoint` (lesson text: the body ranges;
// small_label: the smaller set of headings and labels). A character outside them draws as '?'.
bool font_covers(unsigned codepoint, bool small_label = false);

// ImDrawList::AddText that also goes into ImGui's log when it is on (ImGui::LogToClipboard,
// LogToBuffer), the way ImGui::Text does: text we lay out ourselves (lesson words, stat boxes,
// plot labels) is then part of what a copy gets and what the tests read (tests/gui_headless.hpp).
// `font` null: the current font at its size.
void add_text(ImDrawList* dl, ImFont* font, float size, const ImVec2& pos, ImU32 color, const char* text,
              const char* text_end = nullptr, float wrap_width = 0.0f);

// Where the DejaVu fonts live on Debian (fonts-dejavu-core); $ATTNLAB_FONT_DIR overrides.
std::string font_dir();

}  // namespace attnlab::gui
