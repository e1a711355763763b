#include "view.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "lessons/render.hpp"
#include "util/errors.hpp"

namespace attnlab::gui {

namespace fs = std::filesystem;

float body_font_px(const Settings& s, float height) {
  if (!s.present || height <= 0) return s.font_px;
  // Whole pixels, so that a window resized by a pixel does not rebuild the font atlas.
  return std::round(std::clamp(s.present_font_px * height / 1080.0f, 16.0f, s.present_font_px * 2));
}

void View::load_lessons(const std::optional<fs::path>& lessons_override) {
  // The folder and every chapter's front matter (a missing folder or a broken header is reported
  // with its file and line); the bodies are rendered by render_lessons.
  lessons_dir = lessons_dir_find(lessons_override);
  lessons = lesson_list(lessons_dir);
  if (lessons.empty())
    throw InputError(fmt::format("no lessons in {} (expected files like 01-why-attention.md)", lessons_dir.string()));
  documents.assign(lessons.size(), {});
  rendered.assign(lessons.size(), false);
}

void View::render_lessons() {
  // Every body's templates filled in by the core (lesson_render), so every number in the text is
  // the library's, and its Markdown parsed: a broken lesson is reported now, with its file and
  // line, rather than as a half-drawn chapter later.
  // The browser renders each lesson when its chapter is first shown instead (lazy_lessons), so the
  // first frame does not wait for every chapter's simulations.
  documents.assign(lessons.size(), {});
  rendered.assign(lessons.size(), false);
  if (lazy_lessons) return;
  for (size_t i = 0; i < lessons.size(); ++i) {
    documents[i] = lesson_render(lessons[i]).doc;
    rendered[i] = true;
  }
}

void View::load_measurements(const std::vector<fs::path>& extra_measurement_dirs) {
  // The bundled files, then the user's folders. Each folder named on the command line must exist;
  // a malformed or foreign file stops us with its name and the JSON path.
  measurements.clear();
  ring_measurements.clear();
  measurement_dirs.clear();
  const fs::path bundled = measurement_dir();
  for (const auto& f : measurement_files(bundled)) measurements.push_back({f, true, measurement_load(f)});
  for (const auto& f : ring_measured_files(bundled)) ring_measurements.push_back({f, true, ring_measured_load(f)});
  for (const auto& dir : extra_measurement_dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw InputError(fmt::format("--measurements: {} is not a folder", dir.string()));
    const auto files = measurement_files(dir);
    if (files.empty()) throw InputError(fmt::format("--measurements: no *.json files in {}", dir.string()));
    for (const auto& f : files) measurements.push_back({f, false, measurement_load(f)});
    for (const auto& f : ring_measured_files(dir)) ring_measurements.push_back({f, false, ring_measured_load(f)});
    measurement_dirs.push_back(dir.string());
  }
}

void View::load(const std::optional<fs::path>& lessons_override, const std::vector<fs::path>& extra_measurement_dirs) {
  load_lessons(lessons_override);
  load_measurements(extra_measurement_dirs);
  set_gpu(settings.gpu);
  render_lessons();
}

void View::set_gpu(const std::string& name) {
  gpu = gpu_find(name);
  settings.gpu = gpu.name;
}

void View::set_chapter(int index) {
  if (lessons.empty()) return;
  const int c = std::clamp(index, 0, static_cast<int>(lessons.size()) - 1);
  if (c != chapter) panel_tab = 0;
  chapter = c;
}

const Lesson* View::current_lesson() const {
  return chapter >= 0 && chapter < static_cast<int>(lessons.size()) ? &lessons[chapter] : nullptr;
}

const md::Document* View::current_document() {
  if (chapter < 0 || chapter >= static_cast<int>(documents.size())) return nullptr;
  if (!rendered[chapter]) {
    rendered[chapter] = true;
    try {
      documents[chapter] = lesson_render(lessons[chapter]).doc;
    } catch (const std::exception& e) {
      md::Block b;
      b.kind = md::BlockKind::paragraph;
      b.text = md::parse_inline(fmt::format("Cannot show this lesson: {}", e.what()));
      documents[chapter].blocks = {std::move(b)};
    }
  }
  return &documents[chapter];
}

std::string View::measurement_summary() const {
  if (measurements.empty()) return "none loaded (simulator only)";
  // Grouped by device and day: "3 bundled files, NVIDIA H100 80GB HBM3 (2026-11-23) + 1 of yours".
  int bundled = 0, user = 0;
  std::vector<std::string> devices;
  for (const auto& m : measurements) {
    (m.bundled ? bundled : user)++;
    const std::string d = fmt::format("{} ({})", m.data.device.name, m.data.date.substr(0, 10));
    if (std::find(devices.begin(), devices.end(), d) == devices.end()) devices.push_back(d);
  }
  std::string out;
  if (bundled) out = fmt::format("{} bundled file{}", bundled, bundled == 1 ? "" : "s");
  if (user) out += fmt::format("{}{} from --measurements", out.empty() ? "" : " + ", user);
  out += ", ";
  for (size_t i = 0; i < devices.size(); ++i) out += (i ? "; " : "") + devices[i];
  return out;
}

}  // namespace attnlab::gui
