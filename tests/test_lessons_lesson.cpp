#include <doctest/doctest.h>

#include <filesystem>

#include "lessons/lesson.hpp"
#include "lessons/render.hpp"
#include "util/errors.hpp"

using namespace attnlab;
namespace fs = std::filesystem;

namespace {
fs::path lesson_dir(const char* dir) { return fs::path(ATTNLAB_TEST_DATA) / dir; }
}  // namespace

TEST_CASE("lesson front matter") {
  SUBCASE("all keys") {
    Lesson l = lesson_parse("---\ntitle: \"A: b\"\nchapter: 07\npanels: [kv, paged]\nsummary: s\n---\n# Body\n", "07-kv-paged.md");
    CHECK(l.title == "A: b");
    CHECK(l.chapter == 7);
    CHECK(l.panels == std::vector<std::string>{"kv", "paged"});
    CHECK(l.summary == "s");
    CHECK(l.body == "# Body\n");
    CHECK(l.body_line == 7);
    CHECK(l.stem == "07-kv-paged");
    CHECK(l.slug == "kv-paged");
  }
  SUBCASE("panels without brackets") {
    Lesson l = lesson_parse("---\ntitle: T\nchapter: 1\npanels: growth, ssm\n---\n", "x.md");
    CHECK(l.panels == std::vector<std::string>{"growth", "ssm"});
    CHECK(l.body.empty());
  }
  SUBCASE("errors name file and line") {
    CHECK_THROWS_WITH_AS(lesson_parse("title: T\n", "a.md"), doctest::Contains("a.md:1: a lesson starts with a front matter"),
                         InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\nchapter: 1\n", "a.md"),
                         "a.md:1: front matter opened with '---' is never closed with '---'", InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\nchapter: 1\nno colon here\n---\n", "a.md"),
                         "a.md:4: front matter: expected 'key: value' (got 'no colon here')", InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\nchapter: 0\n---\n", "a.md"),
                         "a.md:3: front matter: 'chapter' must be between 1 and 99 (got '0')", InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\nchapter: three\n---\n", "a.md"),
                         "a.md:3: front matter: 'chapter' must be between 1 and 99 (got 'three')", InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\nchapter: 1\npanels: [kv, frobs]\n---\n", "a.md"),
                         doctest::Contains("a.md:4: front matter: unknown panel 'frobs' (known: growth, hierarchy"), InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\nchapter: 1\nauthor: me\n---\n", "a.md"),
                         doctest::Contains("a.md:4: front matter: unknown key 'author'"), InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\ntitle: U\nchapter: 1\n---\n", "a.md"),
                         "a.md:3: front matter: 'title' given twice (first on line 2)", InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\nchapter: 1\n---\n", "a.md"), "a.md:1: front matter: missing 'title'", InputError);
    CHECK_THROWS_WITH_AS(lesson_parse("---\ntitle: T\n---\n", "a.md"), "a.md:1: front matter: missing 'chapter'", InputError);
  }
}

TEST_CASE("lesson folders: listing and lookup") {
  SUBCASE("README.md is skipped and lessons come sorted by chapter") {
    auto ls = lesson_list(lesson_dir("lessons_good"));
    REQUIRE(ls.size() == 2);
    CHECK(ls[0].title == "Alpha");
    CHECK(ls[1].title == "Beta: quoted");
    CHECK(lesson_find(ls, "2").slug == "beta");
    CHECK(lesson_find(ls, "02").slug == "beta");
    CHECK(lesson_find(ls, "alpha").chapter == 1);
    CHECK(lesson_find(ls, "01-alpha").chapter == 1);
    CHECK(lesson_find(ls, "BE").chapter == 2);  // unique prefix, any case
    CHECK_THROWS_WITH_AS(lesson_find(ls, "9"), "lesson: no chapter 9 (chapters 1 to 2; see 'attnlab lesson --list')",
                         InputError);
    CHECK_THROWS_WITH_AS(lesson_find(ls, "gamma"), "lesson: no lesson named 'gamma' (known: alpha, beta)", InputError);
  }
  SUBCASE("two lessons with one chapter number") {
    CHECK_THROWS_WITH_AS(lesson_list(lesson_dir("lessons_dup")), doctest::Contains("chapter 1 is also used by"), InputError);
  }
  SUBCASE("a missing folder") {
    CHECK_THROWS_WITH_AS(lessons_dir_find(lesson_dir("no_such_folder")), doctest::Contains("--lessons: no such folder"), InputError);
  }
  SUBCASE("the source tree's lessons are found without --lessons") {
    CHECK(fs::exists(lessons_dir_find() / "03-flashattention.md"));
  }
}

TEST_CASE("lesson rendering fills templates and checks quizzes") {
  auto ls = lesson_list(lesson_dir("lessons_good"));
  RenderedLesson r = lesson_render(ls[0]);
  SUBCASE("templates filled, literal braces kept") {
    CHECK(r.markdown.find("An H100 has 132 SMs and 50.0 MiB of L2.") != std::string::npos);
    CHECK(r.markdown.find("the ratio is 4.00x.") != std::string::npos);
    CHECK(r.markdown.find("A literal {{gpu}} stays as written.") != std::string::npos);
    REQUIRE(r.uses.size() >= 4);
    CHECK(r.uses[0].line == 10);  // 6 lines of front matter, a blank line, a heading, a blank line
  }
  SUBCASE("quizzes") {
    REQUIRE(r.quizzes.size() == 2);
    CHECK(r.quizzes[0].numeric);
    CHECK(r.quizzes[0].line == 14);
    CHECK(r.quizzes[0].answer.value.exact == u128{1000000});
    CHECK(r.quizzes[0].confirmed());
    CHECK(r.quizzes[0].question == "How many scores do 1,000 tokens make?");
    CHECK(!r.quizzes[1].numeric);
    CHECK(r.quizzes[1].confirmed());
  }
  SUBCASE("the document model holds the filled answer") {
    const md::Block* quiz = nullptr;
    for (const auto& b : r.doc.blocks)
      if (b.kind == md::BlockKind::quiz) {
        quiz = &b;
        break;
      }
    REQUIRE(quiz != nullptr);
    CHECK(md::plain_text(quiz->quiz.answer) == "1,000,000");
  }
  SUBCASE("a wrong worked answer is caught") {
    auto bad = lesson_list(lesson_dir("lessons_wrong_quiz"));
    RenderedLesson w = lesson_render(bad[0]);
    REQUIRE(w.quizzes.size() == 1);
    CHECK(!w.quizzes[0].confirmed());
  }
  SUBCASE("an unknown template names file and line") {
    auto bad = lesson_list(lesson_dir("lessons_bad_template"));
    CHECK_THROWS_WITH_AS(lesson_render(bad[0]), doctest::Contains("01-bad.md:7: {{nosuch key=1}}: unknown template 'nosuch'"),
                         InputError);
  }
  SUBCASE("quiz rules") {
    Lesson l = lesson_parse("---\ntitle: T\nchapter: 1\n---\n```quiz\nquestion: q\nanswer: 2\nexplain: e\n```\n", "q.md");
    CHECK_THROWS_WITH_AS(lesson_render(l), doctest::Contains("q.md:5: quiz: a numeric 'answer:' needs 'expect:'"), InputError);
    l = lesson_parse("---\ntitle: T\nchapter: 1\n---\n```quiz\nquestion: q\nanswer: 2\nexpect: 2\ntolerance: 5\nexplain: e\n```\n", "q.md");
    CHECK_THROWS_WITH_AS(lesson_render(l), doctest::Contains("q.md:9: quiz: 'tolerance:' must be"), InputError);
    l = lesson_parse("---\ntitle: T\nchapter: 1\n---\n```quiz\nquestion: q\nanswer: 2.05\nexpect: 2\ntolerance: 0.05\nexplain: e\n```\n", "q.md");
    CHECK(lesson_render(l).quizzes[0].confirmed());
  }
}

TEST_CASE("terminal rendering") {
  auto ls = lesson_list(lesson_dir("lessons_good"));
  RenderedLesson r = lesson_render(ls[0]);
  std::string t = render_terminal(r, {60, false});
  CHECK(t.rfind("Chapter 1 · Alpha\n═════════════════\nDashboard panels: growth, traffic\n", 0) == 0);
  CHECK(t.find("Question 1: How many scores do 1,000 tokens make?") != std::string::npos);
  CHECK(t.find("  a) projections\n  b) the score matrix\n") != std::string::npos);
  // Answers are gathered at the end, after the questions.
  size_t answers = t.find("\nAnswers\n");
  REQUIRE(answers != std::string::npos);
  CHECK(t.find("(1) 1,000,000 — One per (query, key) pair.", answers) != std::string::npos);
  CHECK(t.find("(2) b) the score matrix — N² entries.", answers) != std::string::npos);
  for (size_t start = 0; start < t.size();) {
    size_t end = t.find('\n', start);
    CHECK(display_width(std::string_view(t).substr(start, end - start)) <= 60);
    start = end + 1;
  }
  CHECK(t.find("\x1b[") == std::string::npos);
  CHECK(render_terminal(r, {60, true}).find("\x1b[1m") != std::string::npos);
  CHECK(display_width("µs — ×") == 6);
  CHECK(display_width("\x1b[1mab\x1b[0m") == 2);
  CHECK(render_markdown(r).rfind("# Chapter 1 · Alpha\n\n## Numbers\n\nAn H100 has 132 SMs", 0) == 0);
}
