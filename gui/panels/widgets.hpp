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

// A slider over 2^k for k in [log2(lo), log2(hi)]; shows "<name> = 4K <unit>". True when changed.
bool slider_pow2(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit = "");
// An integer slider showing "<name> = 12 <unit>". True when changed.
bool slider_u64(const char* id, const char* name, u64& value, u64 lo, u64 hi, const char* unit = "");

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
