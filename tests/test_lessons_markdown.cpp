#include <doctest/doctest.h>

#include "lessons/markdown.hpp"
#include "util/errors.hpp"

using namespace attnlab;
using namespace attnlab::md;

namespace {
Span plain(std::string t) {
  Span s;
  s.text = std::move(t);
  return s;
}
Span em(std::string t) {
  Span s = plain(std::move(t));
  s.emphasis = true;
  return s;
}
Span strong(std::string t) {
  Span s = plain(std::move(t));
  s.strong = true;
  return s;
}
Span code(std::string t) {
  Span s = plain(std::move(t));
  s.code = true;
  return s;
}
}  // namespace

TEST_CASE("markdown inline spans") {
  SUBCASE("plain text stays one span") { CHECK(parse_inline("just words") == Inline{plain("just words")}); }
  SUBCASE("emphasis, strong and code") {
    CHECK(parse_inline("a *b* c") == Inline{plain("a "), em("b"), plain(" c")});
    CHECK(parse_inline("a **b** c") == Inline{plain("a "), strong("b"), plain(" c")});
    CHECK(parse_inline("a _b_ c") == Inline{plain("a "), em("b"), plain(" c")});
    CHECK(parse_inline("use `x*y` here") == Inline{plain("use "), code("x*y"), plain(" here")});
  }
  SUBCASE("strong with emphasis inside") {
    Span both = plain("c");
    both.strong = both.emphasis = true;
    CHECK(parse_inline("**b *c* d**") == Inline{strong("b "), both, strong(" d")});
  }
  SUBCASE("underscores inside words are not emphasis") {
    CHECK(parse_inline("hbm_bytes and kv_heads") == Inline{plain("hbm_bytes and kv_heads")});
  }
  SUBCASE("a lone star is text") { CHECK(parse_inline("2 * 3 = 6") == Inline{plain("2 * 3 = 6")}); }
  SUBCASE("unmatched backtick is literal") { CHECK(parse_inline("a ` b") == Inline{plain("a ` b")}); }
  SUBCASE("double backticks hold a backtick") { CHECK(parse_inline("``a`b``") == Inline{code("a`b")}); }
  SUBCASE("escapes") { CHECK(parse_inline("\\*not em\\*") == Inline{plain("*not em*")}); }
  SUBCASE("links carry their url") {
    Inline r = parse_inline("see [FlashAttention](https://arxiv.org/abs/2205.14135).");
    REQUIRE(r.size() == 3);
    CHECK(r[1].text == "FlashAttention");
    CHECK(r[1].link == "https://arxiv.org/abs/2205.14135");
    CHECK(r[2].text == ".");
  }
  SUBCASE("templates are literal: no emphasis inside") {
    CHECK(parse_inline("{{kv field=hbm_bytes model=x_y}}") == Inline{plain("{{kv field=hbm_bytes model=x_y}}")});
  }
  SUBCASE("plain_text drops styles") { CHECK(plain_text(parse_inline("a **b** `c`")) == "a b c"); }
}

TEST_CASE("markdown blocks") {
  SUBCASE("headings and paragraphs with line numbers") {
    Document d = parse("# Title\n\nfirst line\nsecond line\n\n## Sub ##\ntext\n", "f.md", 10);
    REQUIRE(d.blocks.size() == 4);
    CHECK(d.blocks[0].kind == BlockKind::heading);
    CHECK(d.blocks[0].level == 1);
    CHECK(d.blocks[0].line == 10);
    CHECK(plain_text(d.blocks[0].text) == "Title");
    CHECK(d.blocks[1].kind == BlockKind::paragraph);
    CHECK(d.blocks[1].line == 12);
    CHECK(plain_text(d.blocks[1].text) == "first line second line");
    CHECK(d.blocks[2].level == 2);
    CHECK(plain_text(d.blocks[2].text) == "Sub");
    CHECK(d.blocks[3].line == 16);
  }
  SUBCASE("a heading directly after a paragraph ends it") {
    Document d = parse("para\n# H\n");
    REQUIRE(d.blocks.size() == 2);
    CHECK(d.blocks[1].kind == BlockKind::heading);
  }
  SUBCASE("bullet and numbered lists, nested, with continuation lines") {
    Document d = parse("- one\n  more\n- two\n  1. inner\n  2. inner two\n- three\n\nafter\n");
    REQUIRE(d.blocks.size() == 2);
    const Block& l = d.blocks[0];
    CHECK(l.kind == BlockKind::list);
    REQUIRE(l.items.size() == 5);
    CHECK(plain_text(l.items[0].text) == "one more");
    CHECK(l.items[0].depth == 0);
    CHECK(!l.items[0].ordered);
    CHECK(l.items[2].depth == 1);
    CHECK(l.items[2].ordered);
    CHECK(l.items[2].number == 1);
    CHECK(l.items[3].number == 2);
    CHECK(l.items[4].depth == 0);
    CHECK(d.blocks[1].kind == BlockKind::paragraph);
  }
  SUBCASE("numbered list keeps its start number") {
    Document d = parse("3. c\n4. d\n");
    REQUIRE(d.blocks.size() == 1);
    CHECK(d.blocks[0].items[0].number == 3);
  }
  SUBCASE("a loose list (blank lines between items) stays one list") {
    Document d = parse("- a\n\n- b\n");
    REQUIRE(d.blocks.size() == 1);
    CHECK(d.blocks[0].items.size() == 2);
  }
  SUBCASE("fenced code keeps lines verbatim") {
    Document d = parse("```cpp\nint *a = b * c;\n  x_y\n```\n");
    REQUIRE(d.blocks.size() == 1);
    CHECK(d.blocks[0].kind == BlockKind::code);
    CHECK(d.blocks[0].info == "cpp");
    CHECK(d.blocks[0].code == "int *a = b * c;\n  x_y\n");
  }
  SUBCASE("tables with alignment") {
    Document d = parse("| a | b | c |\n|---|:--:|--:|\n| 1 | `x|y` | **3** |\n| 4 | 5 | 6 |\n");
    REQUIRE(d.blocks.size() == 1);
    const Block& t = d.blocks[0];
    CHECK(t.kind == BlockKind::table);
    CHECK(t.header.size() == 3);
    CHECK(t.align == std::vector<Align>{Align::none, Align::center, Align::right});
    REQUIRE(t.rows.size() == 2);
    CHECK(t.rows[0][1] == Inline{code("x|y")});
    CHECK(t.rows[0][2] == Inline{strong("3")});
  }
  SUBCASE("block quotes hold blocks") {
    Document d = parse("> quoted *text*\n> - item\n\nout\n");
    REQUIRE(d.blocks.size() == 2);
    CHECK(d.blocks[0].kind == BlockKind::quote);
    REQUIRE(d.blocks[0].children.size() == 2);
    CHECK(d.blocks[0].children[0].kind == BlockKind::paragraph);
    CHECK(d.blocks[0].children[1].kind == BlockKind::list);
  }
  SUBCASE("rules") {
    Document d = parse("a\n\n---\n\nb\n");
    REQUIRE(d.blocks.size() == 3);
    CHECK(d.blocks[1].kind == BlockKind::rule);
  }
  SUBCASE("quiz blocks become quiz fields") {
    Document d = parse(
        "```quiz\nquestion: Which is *faster*?\n- [ ] A\n- [x] B\n  because\nexplain: B moves\nfewer bytes.\n```\n");
    REQUIRE(d.blocks.size() == 1);
    const Block& b = d.blocks[0];
    CHECK(b.kind == BlockKind::quiz);
    CHECK(b.quiz.question == Inline{plain("Which is "), em("faster"), plain("?")});
    REQUIRE(b.quiz.choices.size() == 2);
    CHECK(!b.quiz.choices[0].correct);
    CHECK(b.quiz.choices[1].correct);
    CHECK(plain_text(b.quiz.choices[1].text) == "B because");
    CHECK(plain_text(b.quiz.explain) == "B moves fewer bytes.");
  }
}

TEST_CASE("markdown errors name file and line") {
  CHECK_THROWS_WITH_AS(parse("a\n\n```\ncode\n", "x.md", 5), "x.md:7: code block opened with ``` is never closed",
                       InputError);
  CHECK_THROWS_WITH_AS(parse("| a | b |\n|---|---|\n| 1 |\n", "t.md", 1), "t.md:3: table row has 1 cells but the header has 2",
                       InputError);
  CHECK_THROWS_WITH_AS(parse("```quiz\nquestion: q\nanswer: 1\n```\n", "q.md", 1), "q.md:2: quiz: missing 'explain:'",
                       InputError);
  CHECK_THROWS_WITH_AS(parse("```quiz\nquestion: q\nhint: x\n```\n", "q.md", 1),
                       doctest::Contains("q.md:3: quiz: unknown field 'hint:'"), InputError);
  CHECK_THROWS_WITH_AS(parse("```quiz\nquestion: q\n- [ ] a\n- [ ] b\nexplain: e\n```\n", "q.md", 1),
                       "q.md:2: quiz: no choice is marked correct with '- [x]'", InputError);
  CHECK_THROWS_WITH_AS(parse("```quiz\nquestion: q\nanswer: 1\n- [x] a\n- [ ] b\nexplain: e\n```\n", "q.md", 1),
                       "q.md:2: quiz: give either 'answer:' or choices, not both", InputError);
}
