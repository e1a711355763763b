// A small Markdown reader for the lessons: it turns chapter text into a document model (blocks
// holding inline spans) that every face draws — the dashboard with ImGui, the CLI as terminal
// text. It knows only the subset the lessons use (see lessons/README.md):
//   # headings, paragraphs, - / * / 1. lists (nested by indentation), > block quotes,
//   ``` fenced code blocks ```, | tables |, --- rules, *emphasis*, **strong**, `code`,
//   [links](url), and ```quiz blocks (a "think about it" question, parsed into fields).
// No ImGui here and no templates: {{...}} are filled in by the lesson layer before parsing.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace attnlab::md {

// One run of text with one style. Emphasis and strong may combine; code is literal.
struct Span {
  std::string text;
  bool emphasis = false;
  bool strong = false;
  bool code = false;
  std::string link;  // target URL when this span is (part of) a link text
  bool operator==(const Span&) const = default;
};
using Inline = std::vector<Span>;

// Plain text of spans (styles dropped): for tests, search and terminal widths.
std::string plain_text(const Inline& spans);

struct ListItem {
  Inline text;
  int depth = 0;      // 0 = top level; each nesting level adds one
  bool ordered = false;
  int number = 0;     // the number written for ordered items ("3." -> 3)
};

enum class Align { none, left, center, right };

// A "think about it" question from a ```quiz block (syntax in lessons/README.md). The lesson
// layer has already filled in templates and evaluated the numeric answer into `answer`.
struct QuizChoice {
  Inline text;
  bool correct = false;
};
struct Quiz {
  Inline question;
  std::vector<QuizChoice> choices;  // empty for a numeric question
  Inline answer;                    // the numeric answer as shown ("4.00x", "2.00 GiB")
  Inline explain;                   // why; shown after the learner has tried
};

enum class BlockKind { heading, paragraph, list, code, table, quote, rule, quiz };

struct Block {
  BlockKind kind = BlockKind::paragraph;
  int line = 0;                  // 1-based line in the source where the block starts
  int level = 0;                 // heading: 1..6
  Inline text;                   // heading, paragraph
  std::vector<ListItem> items;   // list
  std::string info;              // code: the word after ``` ("cpp", "text", ...)
  std::string code;              // code: the lines verbatim, each ending in '\n'
  std::vector<Inline> header;    // table
  std::vector<Align> align;      // table, one per column
  std::vector<std::vector<Inline>> rows;  // table; every row has header.size() cells
  std::vector<Block> children;   // quote
  Quiz quiz;                     // quiz
};

struct Document {
  std::vector<Block> blocks;
};

// Parses `text`; `first_line` is the file line of text's first line (after front matter), so that
// Block::line and error messages name the line in the file. `file` names the source in errors.
// Throws InputError ("FILE:LINE: ...") for what the lessons must not contain: an unclosed code
// fence, a table row with the wrong number of cells, a malformed quiz block.
Document parse(std::string_view text, std::string_view file = "<text>", int first_line = 1);

// Inline parsing alone: *em*, **strong**, `code`, [text](url), \ escapes. {{...}} is kept literal.
Inline parse_inline(std::string_view text);

// The fields of a quiz block body (the lines between ```quiz and ```), parsed as Markdown inline
// text. `line` is the file line of the body's first line, for errors.
Quiz parse_quiz(std::string_view body, std::string_view file, int line);

}  // namespace attnlab::md
