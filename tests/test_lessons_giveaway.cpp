// The give-away check of `attnlab lesson --check`: a quiz whose answer the text above it already
// prints is reported, with the quiz's line and the line that gives it away; the shipped course has
// none, and the fixture tests/data/lessons_giveaway is caught.
#include <doctest/doctest.h>

#include <filesystem>

#include "lessons/giveaway.hpp"
#include "lessons/lesson.hpp"
#include "lessons/render.hpp"

using namespace attnlab;

TEST_CASE("contains_token: whole numbers and units only") {
  CHECK(contains_token("S and P take 2.00 GiB.", "2.00 GiB"));
  CHECK(contains_token("that is 131,072, the paper's figure", "131,072"));
  CHECK(contains_token("a (16.0x) gap", "16.0x"));
  CHECK_FALSE(contains_token("1,160 entries", "160"));
  CHECK_FALSE(contains_token("16.5 ms", "16"));
  CHECK_FALSE(contains_token("about 100 seconds", "100 s"));
  CHECK_FALSE(contains_token("12.00 GiB", "2.00 GiB"));
  CHECK_FALSE(contains_token("anything", ""));
}

TEST_CASE("quiz_giveaways: numeric answers and correct choices found in the prose above") {
  const std::string text =
      "## A\n\nThe matrix has 16,777,216 cells and the score matrix is quadratic.\n\n"
      "```quiz\nquestion: How many cells?\nanswer: 16,777,216\nexplain: N².\n```\n\n"
      "```quiz\nquestion: Which grows fastest?\n- [ ] the projections\n- [x] the score matrix\nexplain: N².\n```\n\n"
      "```quiz\nquestion: And at 8,192 tokens?\nanswer: 67,108,864\nexplain: 4x.\n```\n";
  const auto g = quiz_giveaways(md::parse(text, "t.md", 1));
  REQUIRE(g.size() == 2);
  CHECK(g[0].quiz_line == 5);
  CHECK(g[0].answer == "16,777,216");
  CHECK(g[0].found_line == 3);
  CHECK(g[1].quiz_line == 11);
  CHECK(g[1].answer == "the score matrix");
}

TEST_CASE("quiz_giveaways: an earlier quiz's explanation is not prose, short answers are skipped") {
  const std::string text =
      "Eight heads.\n\n"
      "```quiz\nquestion: How many?\nanswer: 8\nexplain: There are 64.0x more.\n```\n\n"
      "```quiz\nquestion: Ratio?\nanswer: 64.0x\nexplain: 8².\n```\n";
  CHECK(quiz_giveaways(md::parse(text, "t.md", 1)).empty());
}

TEST_CASE("the fixture that gives its answer away is caught; the shipped course gives none away") {
  const auto bad = lesson_list(std::filesystem::path(ATTNLAB_SOURCE_ROOT) / "tests" / "data" / "lessons_giveaway");
  REQUIRE(bad.size() == 1);
  const auto g = quiz_giveaways(lesson_render(bad.front()).doc);
  REQUIRE(g.size() == 1);
  CHECK(g[0].quiz_line == 10);
  CHECK(g[0].found_line == 8);
  CHECK(g[0].answer == "16,777,216");

  for (const auto& l : lesson_list(lessons_dir_find())) {
    CAPTURE(l.file);
    const auto found = quiz_giveaways(lesson_render(l).doc);
    for (const auto& x : found) {
      CAPTURE(x.quiz_line);
      CAPTURE(x.answer);
      CAPTURE(x.found_line);
      CHECK(false);
    }
  }
}
