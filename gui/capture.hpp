// Screenshots: the back buffer read after rendering and before the swap, saved as a PNG.
#pragma once
#include <string>

namespace attnlab::gui {

// Reads the current framebuffer (width x height) and writes `path`. Returns "" or the error.
std::string capture_png(const std::string& path, int width, int height);

// A file name for F12 in the working directory: "attnlab-<chapter>-YYYYMMDD-HHMMSS.png".
std::string capture_default_name(const std::string& chapter_stem);

}  // namespace attnlab::gui
