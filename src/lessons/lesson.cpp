// Lesson files: front matter, listing, lookup, and finding the lessons folder.
#include "lessons/lesson.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(std::string_view file, int line, const std::string& what) {
  throw InputError(fmt::format("{}:{}: {}", file, line, what));
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

}  // namespace

const std::vector<std::string>& lesson_panel_names() {
  static const std::vector<std::string> names = {"growth", "hierarchy", "tiling", "traffic", "kernels", "backward", "kv",
                                                 "paged",  "masks",     "ssm",    "position", "ring", "specdec"};
  return names;
}

Lesson lesson_parse(std::string_view text, std::string_view file) {
  Lesson l;
  l.file = std::string(file);
  fs::path p(l.file);
  l.stem = p.stem().string();
  size_t dash = l.stem.find('-');
  bool numbered = dash != std::string::npos && dash > 0 &&
                  std::all_of(l.stem.begin(), l.stem.begin() + static_cast<long>(dash),
                              [](unsigned char c) { return std::isdigit(c); });
  l.slug = numbered ? l.stem.substr(dash + 1) : l.stem;

  // Split into lines, remembering where each starts.
  std::vector<std::string_view> lines;
  std::vector<size_t> starts;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    starts.push_back(pos);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (lines.empty() || trim(lines[0]) != "---")
    fail(file, 1, "a lesson starts with a front matter: a line '---', then 'title:', 'chapter:', 'panels:', then '---'");

  size_t close = 0;
  bool seen_title = false, seen_chapter = false;
  std::map<std::string, int> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    int ln = static_cast<int>(i) + 1;
    std::string_view t = trim(lines[i]);
    if (t == "---") {
      close = i;
      break;
    }
    if (t.empty() || t.front() == '#') continue;
    size_t colon = t.find(':');
    if (colon == std::string_view::npos)
      fail(file, ln, fmt::format("front matter: expected 'key: value' (got '{}')", t));
    std::string key(trim(t.substr(0, colon)));
    std::string_view value = trim(t.substr(colon + 1));
    if (seen.count(key)) fail(file, ln, fmt::format("front matter: '{}' given twice (first on line {})", key, seen[key]));
    seen[key] = ln;
    if (key == "title") {
      l.title = unquote(value);
      if (l.title.empty()) fail(file, ln, "front matter: 'title' is empty");
      seen_title = true;
    } else if (key == "chapter") {
      std::string v(value);
      bool digits = !v.empty() && v.size() <= 2 &&
                    std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); });
      int n = digits ? std::stoi(v) : 0;
      if (n < 1 || n > 99) fail(file, ln, fmt::format("front matter: 'chapter' must be between 1 and 99 (got '{}')", v));
      l.chapter = n;
      seen_chapter = true;
    } else if (key == "panels") {
      std::string_view v = value;
      if (!v.empty() && v.front() == '[') {
        if (v.back() != ']') fail(file, ln, "front matter: 'panels' list opened with '[' is not closed with ']'");
        v = v.substr(1, v.size() - 2);
      }
      std::stringstream ss{std::string(v)};
      std::string item;
      while (std::getline(ss, item, ',')) {
        std::string name = unquote(trim(item));
        if (name.empty()) continue;
        const auto& known = lesson_panel_names();
        if (std::find(known.begin(), known.end(), name) == known.end())
          fail(file, ln, fmt::format("front matter: unknown panel '{}' (known: {})", name, join(known)));
        l.panels.push_back(name);
      }
    } else if (key == "summary") {
      l.summary = unquote(value);
    } else {
      fail(file, ln, fmt::format("front matter: unknown key '{}' (known: title, chapter, panels, summary)", key));
    }
  }
  if (close == 0) fail(file, 1, "front matter opened with '---' is never closed with '---'");
  if (!seen_title) fail(file, 1, "front matter: missing 'title'");
  if (!seen_chapter) fail(file, 1, "front matter: missing 'chapter'");
  if (close + 1 < lines.size()) {
    l.body = std::string(text.substr(starts[close + 1]));
    l.body_line = static_cast<int>(close) + 2;
  } else {
    l.body_line = static_cast<int>(close) + 2;
  }
  return l;
}

Lesson lesson_load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the lesson file", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return lesson_parse(ss.str(), path.string());
}

std::vector<Lesson> lesson_list(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(fmt::format("{}: no such lessons folder", dir.string()));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const fs::path& p = e.path();
    if (p.extension() != ".md" || p.filename() == "README.md") continue;
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  std::vector<Lesson> lessons;
  for (const auto& p : files) lessons.push_back(lesson_load(p));
  std::stable_sort(lessons.begin(), lessons.end(), [](const Lesson& a, const Lesson& b) { return a.chapter < b.chapter; });
  for (size_t i = 1; i < lessons.size(); ++i)
    if (lessons[i].chapter == lessons[i - 1].chapter)
      throw InputError(fmt::format("{}: chapter {} is also used by {}", lessons[i].file, lessons[i].chapter,
                                   lessons[i - 1].file));
  return lessons;
}

const Lesson& lesson_find(const std::vector<Lesson>& lessons, std::string_view key) {
  std::string k(trim(key));
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lessons.empty()) throw InputError("lesson: no lessons found");
  bool digits = !k.empty() && k.size() <= 3 && std::all_of(k.begin(), k.end(), [](unsigned char c) { return std::isdigit(c); });
  if (digits) {
    int n = std::stoi(k);
    for (const auto& l : lessons)
      if (l.chapter == n) return l;
    throw InputError(fmt::format("lesson: no chapter {} (chapters {} to {}; see 'attnlab lesson --list')", n,
                                 lessons.front().chapter, lessons.back().chapter));
  }
  for (const auto& l : lessons)
    if (l.stem == k || l.slug == k) return l;
  const Lesson* found = nullptr;
  std::vector<std::string> matches;
  for (const auto& l : lessons)
    if (!k.empty() && l.slug.compare(0, k.size(), k) == 0) {
      found = &l;
      matches.push_back(l.slug);
    }
  if (matches.size() == 1) return *found;
  if (matches.size() > 1)
    throw InputError(fmt::format("lesson: '{}' matches several lessons ({})", key, join(matches)));
  std::vector<std::string> slugs;
  for (const auto& l : lessons) slugs.push_back(l.slug);
  throw InputError(fmt::format("lesson: no lesson named '{}' (known: {})", key, join(slugs)));
}

fs::path lessons_dir_find(const std::optional<fs::path>& override) {
  std::error_code ec;
  if (override) {
    if (!fs::is_directory(*override, ec))
      throw InputError(fmt::format("--lessons: no such folder '{}'", override->string()));
    return *override;
  }
  std::vector<fs::path> tried;
#ifdef ATTNLAB_SOURCE_ROOT
  tried.push_back(fs::path(ATTNLAB_SOURCE_ROOT) / "lessons");
#endif
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tried.push_back(exe.parent_path() / "lessons");
    tried.push_back(exe.parent_path().parent_path() / "share" / "attnlab" / "lessons");
  }
  for (const auto& p : tried)
    if (fs::is_directory(p, ec)) return p;
  std::string names;
  for (const auto& p : tried) names += (names.empty() ? "" : ", ") + p.string();
  throw InputError(fmt::format("lessons folder not found (looked in: {}); pass --lessons DIR", names));
}

}  // namespace attnlab
