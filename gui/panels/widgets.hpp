// Small pieces every panel uses: a header with the panel's title and where its numbers come from,
// sliders over powers of two (sequence lengths, tile sizes), big counters, and an error box for a
// configuration the core library refused (its InputError message, verbatim).
#pragma once
#include <imgui.h>
#include <string>

#include "util/checked.hpp"

namespace attnlab::gui {

// Title in bold, then a dim line "numbers: <source>".
void panel_header(const char* title, const std::string& source);

// Every slider here keeps its label clear of its grab. ImGui centres the text over a grab it
// paints first; at the presenter's font a wide grab (an integer slider over a few values) hid half
// the label under a dark block. Ours show the value as a bar along the frame's bottom padding, with
// a knob at its end, below the label's line: the text stays whole wherever the value is.

// A slider over 2^k for k in [log2(lo), log2(hi)]; shows "<name> = 4K <unit>". True when changed.
bool slider_pow2(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit = "");
// An integer slider showing "<name> = 12 <unit>". True when changed.
bool slider_u64(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit = "");
// A float slider; `format` is printf's, as ImGui::SliderFloat takes it ("speed %.2gx").
bool slider_float(const char* id, float& value, float lo, float hi, const char* format, bool logarithmic = false);

// Where a slider's parts go in its frame [x0, x1] x [y0, y1] with the value at t in [0, 1]: the
// label (text_w x text_h) centred on the line above the padding `pad_y`, the value bar in the
// bottom padding from the left end to t, and a knob `knob_w` wide at the bar's end.
struct SliderLook {
  ImVec2 text;                 // top-left of the label
  ImVec2 bar_min, bar_max;     // the filled part of the track
  ImVec2 knob_min, knob_max;
};
SliderLook slider_look(ImVec2 frame_min, ImVec2 frame_max, double t, float text_w, float text_h, float pad_y, float knob_w);

// Dim, wrapped explanatory text.
void caption(const std::string& text);
// A labelled figure in a frame: "HBM read" over "12.5 MiB".
void stat_box(const char* label, const std::string& value, ImU32 color, float width);
// The core refused the configuration: show why (the InputError's one line).
void panel_error(const std::string& message);

// Width for a row of `n` controls sharing the available width.
float control_width(int n);

// Readable sequence length: "4,096 (4K)".
std::string tokens_text(u64 n);

}  // namespace attnlab::gui
