// A lesson is one chapter file in lessons/: a small front matter (title, chapter number, the
// dashboard panels it shows, a one-line summary) and a Markdown body with live {{templates}}.
// This file loads and lists lessons and finds the lessons folder; lesson_render (render.hpp)
// fills in the numbers.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnlab {

struct Lesson {
  std::string file;                 // the path as given or found (used in every error message)
  std::string stem;                 // "03-flashattention"
  std::string slug;                 // "flashattention" (stem without the "NN-" prefix)
  std::string title;                // front matter `title:`
  int chapter = 0;                  // front matter `chapter:` (1..99), the order in the course
  std::vector<std::string> panels;  // front matter `panels:`, names from lesson_panel_names()
  std::string summary;              // front matter `summary:` (optional, one line)
  std::string body;                 // the Markdown after the front matter
  int body_line = 1;                // file line of body's first line
};

// The dashboard panels a lesson may name (the dashboard maps each to one Draw<Panel>()).
const std::vector<std::string>& lesson_panel_names();

// Parses a lesson from text. `file` names it in errors: "FILE:LINE: what is wrong".
// Throws InputError for a missing or malformed front matter, an unknown key, a bad chapter
// number, an unknown panel. The body is not parsed here (see lesson_render).
Lesson lesson_parse(std::string_view text, std::string_view file);
// Reads and parses one file; InputError when it cannot be read.
Lesson lesson_load(const std::filesystem::path& path);

// Every *.md file in `dir` except README.md, sorted by chapter. Two files with the same chapter
// number are an error naming both.
std::vector<Lesson> lesson_list(const std::filesystem::path& dir);

// Finds a lesson by chapter number ("3", "03"), by file stem ("03-flashattention"), by slug
// ("flashattention") or by a unique slug prefix ("flash" if only one matches). InputError
// listing the choices otherwise.
const Lesson& lesson_find(const std::vector<Lesson>& lessons, std::string_view key);

// Where the lessons live. With `override` (--lessons DIR) that folder, which must exist.
// Otherwise the first of: $ATTNLAB_SOURCE_ROOT/lessons (the source tree this binary was built
// from), <binary dir>/lessons, <binary dir>/../share/attnlab/lessons. InputError when none exists.
std::filesystem::path lessons_dir_find(const std::optional<std::filesystem::path>& override = std::nullopt);

}  // namespace attnlab
