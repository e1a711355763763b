// The dashboard's font atlas holds only the Unicode ranges gui/style.cpp lists (a full atlas would
// be tens of MB); a character outside them draws as '?'. Chapter 4 once showed "the division by ?"
// for ℓ. This checks every character of every lesson against the ranges its text is drawn with:
// headings with the heading fonts' ranges, everything else with the body ranges.
#include <doctest/doctest.h>

#if ATTNLAB_HAVE_GUI
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/lesson.hpp"
#include "style.hpp"

using namespace attnlab;
using namespace attnlab::gui;

namespace {

// Code points of a UTF-8 string (lessons are UTF-8; a malformed byte is returned as itself).
std::vector<unsigned> code_points(const std::string& s) {
  std::vector<unsigned> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    unsigned cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

}  // namespace

TEST_CASE("font ranges: what they hold") {
  CHECK(font_covers('A'));
  CHECK(font_covers(0x00D7));         // ×
  CHECK(font_covers(0x2113));         // ℓ
  CHECK(font_covers(0x0304));         // combining macron (B̄)
  CHECK(font_covers(0x2113, true));   // ℓ in a heading
  CHECK_FALSE(font_covers(0x4E2D));   // 中: not loaded
  CHECK_FALSE(font_covers(0x1F600));  // an emoji: not loaded
  CHECK_FALSE(font_covers(0x2713, true));  // ✓ only in the body fonts
}

TEST_CASE("font ranges: every character of every lesson is in the atlas") {
  const auto dir = lessons_dir_find(std::nullopt);
  const auto lessons = lesson_list(dir);
  REQUIRE(lessons.size() >= 12);
  int checked = 0;
  for (const auto& l : lessons) {
    std::ifstream f(l.file);
    REQUIRE(f);
    std::string line;
    int no = 0;
    while (std::getline(f, line)) {
      ++no;
      const bool heading = !line.empty() && line[0] == '#';
      for (unsigned cp : code_points(line)) {
        if (cp < 0x80) continue;
        ++checked;
        INFO(fmt::format("{}:{}: U+{:04X}", l.file, no, cp));
        CHECK(font_covers(cp, heading));
      }
    }
  }
  CHECK(checked > 100);  // the lessons do use non-ASCII text: the loop ran over something
}
#endif
