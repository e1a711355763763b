// The shipped course (lessons/*.md): every chapter parses, every live number resolves from the core
// library, every quiz answer is confirmed by the simulator, and every chapter has the parts a
// chapter needs (panels, 2-4 questions, references with arXiv ids).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "lessons/lesson.hpp"
#include "lessons/render.hpp"

using namespace attnlab;

namespace {
bool has_arxiv_link(const md::Document& d) {
  for (const auto& b : d.blocks) {
    const auto check = [](const md::Inline& spans) {
      for (const auto& s : spans)
        if (s.link.rfind("https://arxiv.org/abs/", 0) == 0) return true;
      return false;
    };
    if (check(b.text)) return true;
    for (const auto& i : b.items)
      if (check(i.text)) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("the course: every lesson renders with live numbers and checked quizzes") {
  const auto dir = lessons_dir_find();
  const auto lessons = lesson_list(dir);
  REQUIRE(lessons.size() == 13);
  std::set<std::string> panels_used;
  for (size_t i = 0; i < lessons.size(); ++i) {
    const Lesson& l = lessons[i];
    CAPTURE(l.file);
    CHECK(l.chapter == static_cast<int>(i) + 1);
    CHECK(!l.panels.empty());
    CHECK(!l.summary.empty());
    panels_used.insert(l.panels.begin(), l.panels.end());

    RenderedLesson r = lesson_render(l);  // throws on any unknown template, key or bad value
    CHECK(r.markdown.find("{{") == std::string::npos);
    for (const auto& u : r.uses) {
      CAPTURE(u.line);
      CAPTURE(u.call);
      CHECK(std::isfinite(u.result.value.number));
    }
    CHECK(r.quizzes.size() >= 2);
    CHECK(r.quizzes.size() <= 4);
    for (const auto& q : r.quizzes) {
      CAPTURE(q.line);
      CAPTURE(q.question);
      CAPTURE(q.answer.value.number);
      CAPTURE(q.expect_source);
      CHECK(q.confirmed());
    }
    CHECK(has_arxiv_link(r.doc));
    bool has_references = false;
    for (const auto& b : r.doc.blocks)
      if (b.kind == md::BlockKind::heading && md::plain_text(b.text) == "References") has_references = true;
    CHECK(has_references);
    CHECK(!render_terminal(r).empty());
  }
  // Every dashboard panel is shown by at least one chapter.
  for (const auto& p : lesson_panel_names()) {
    CAPTURE(p);
    CHECK(panels_used.count(p) == 1);
  }
}

TEST_CASE("lessons/README.md documents every template") {
  std::ifstream in(lessons_dir_find() / "README.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  for (const auto& d : template_registry()) {
    CAPTURE(d.name);
    CHECK(readme.find("`" + d.name + "`") != std::string::npos);
  }
}
