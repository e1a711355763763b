// A lesson made ready to show: templates filled in from the core library, quiz answers computed
// and checked, the Markdown parsed into the document model. The dashboard draws
// RenderedLesson::doc with ImGui; the CLI prints render_terminal() or render_markdown().
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "lessons/lesson.hpp"
#include "lessons/markdown.hpp"
#include "lessons/templates.hpp"

namespace attnlab {

// One "think about it" question as the checks see it.
struct QuizCheck {
  int line = 0;                  // file line of the ```quiz fence
  std::string question;          // plain text, for messages
  bool numeric = false;          // answer: (else multiple choice)
  TemplateResult answer;         // numeric: the value the simulator gives
  std::optional<double> expect;  // numeric: the value the lesson works out by hand
  double tolerance = 1e-9;       // relative tolerance of the check
  std::string expect_source;     // the expect: expression as written
  // True when the simulator confirms the worked answer (always true for multiple choice).
  bool confirmed() const;
};

struct RenderedLesson {
  Lesson lesson;
  std::string markdown;            // the body with every template filled in and answers computed
  md::Document doc;                // markdown, parsed
  std::vector<TemplateUse> uses;   // every template of the body, with its line and value
  std::vector<QuizCheck> quizzes;  // in order of appearance
};

// Fills in and parses a lesson. InputError ("FILE:LINE: ...") for an unknown template or key, a
// bad value, a malformed quiz or Markdown error. A quiz whose worked answer disagrees with the
// simulator is not an error here: QuizCheck::confirmed() says so (the tests and `attnlab lesson
// --check` look at it).
RenderedLesson lesson_render(const Lesson& lesson);

// "Chapter 3 · FlashAttention: same math, smarter memory"
std::string lesson_heading(const Lesson& lesson);

// The lesson as filled-in Markdown: a "# " heading line, then the body.
std::string render_markdown(const RenderedLesson& r);

// The lesson for a terminal: wrapped to `width` columns, lists and tables laid out, quizzes
// numbered with their answers gathered at the end (so a reader can think first). `color` adds
// ANSI bold/italic/colour; without it the text is plain.
struct TerminalStyle {
  int width = 88;
  bool color = false;
};
std::string render_terminal(const RenderedLesson& r, const TerminalStyle& style = {});
// Just the document (no heading, no answers section): for tests and other callers.
std::string render_terminal_doc(const md::Document& doc, const TerminalStyle& style = {});

// Display width of UTF-8 text (code points; ANSI escape sequences count zero).
int display_width(std::string_view s);

}  // namespace attnlab
