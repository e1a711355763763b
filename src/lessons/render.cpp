// Filling a lesson in: templates line by line (so each error names its line), quiz answers
// evaluated as expressions and checked against the worked answer, then the Markdown parse.
#include "lessons/render.hpp"

#include <cmath>
#include <fmt/format.h>

#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {

bool is_fence(std::string_view l) { return trim(l).substr(0, 3) == "```"; }

// "answer: ..." -> the value after the key, when the line starts with that key.
std::optional<std::string_view> field_value(std::string_view line, std::string_view key) {
  std::string_view t = trim(line);
  if (t.size() <= key.size() || t.substr(0, key.size()) != key || t[key.size()] != ':') return std::nullopt;
  return trim(t.substr(key.size() + 1));
}

void collect_questions(const std::vector<md::Block>& blocks, std::vector<std::string>& out) {
  for (const auto& b : blocks) {
    if (b.kind == md::BlockKind::quiz) out.push_back(md::plain_text(b.quiz.question));
    if (b.kind == md::BlockKind::quote) collect_questions(b.children, out);
  }
}

}  // namespace

bool QuizCheck::confirmed() const {
  if (!numeric) return true;
  if (!expect) return false;
  const double a = answer.value.number, e = *expect;
  return std::fabs(a - e) <= tolerance * std::max(std::fabs(e), 1e-300) || a == e;
}

std::string lesson_heading(const Lesson& l) { return fmt::format("Chapter {} · {}", l.chapter, l.title); }

RenderedLesson lesson_render(const Lesson& lesson) {
  RenderedLesson r;
  r.lesson = lesson;
  const std::string_view file = lesson.file;
  std::string_view body = lesson.body;

  bool in_fence = false, in_quiz = false;
  QuizCheck quiz;
  size_t pos = 0;
  int line = lesson.body_line;
  std::string out;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    std::string_view l = body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? body.size() : end + 1;
    std::string filled;
    if (is_fence(l)) {
      if (!in_fence) {
        in_fence = true;
        in_quiz = trim(trim(l).substr(3)) == "quiz";
        if (in_quiz) {
          quiz = QuizCheck{};
          quiz.line = line;
        }
      } else if (trim(l).find_first_not_of('`') == std::string_view::npos) {
        if (in_quiz) {
          if (quiz.expect && !quiz.numeric)
            throw InputError(fmt::format("{}:{}: quiz: 'expect:' belongs to a numeric question with 'answer:'", file, quiz.line));
          if (quiz.numeric && !quiz.expect)
            throw InputError(fmt::format(
                "{}:{}: quiz: a numeric 'answer:' needs 'expect:', the value worked out by hand that the simulator "
                "must confirm",
                file, quiz.line));
          r.quizzes.push_back(quiz);
        }
        in_fence = in_quiz = false;
      }
      filled = std::string(l);
    } else if (in_quiz && field_value(l, "answer")) {
      std::string_view expr = *field_value(l, "answer");
      if (expr.empty()) throw InputError(fmt::format("{}:{}: quiz: 'answer:' is empty", file, line));
      quiz.numeric = true;
      quiz.answer = template_eval_expr(expr, file, line);
      r.uses.push_back({line, "= " + std::string(expr), quiz.answer});
      filled = "answer: " + quiz.answer.text();
    } else if (in_quiz && field_value(l, "expect")) {
      std::string_view expr = *field_value(l, "expect");
      if (expr.empty()) throw InputError(fmt::format("{}:{}: quiz: 'expect:' is empty", file, line));
      quiz.expect = template_eval_expr(expr, file, line).value.number;
      quiz.expect_source = std::string(expr);
      filled = std::string(l);
    } else if (in_quiz && field_value(l, "tolerance")) {
      std::string v(*field_value(l, "tolerance"));
      double t = -1;
      try {
        size_t used = 0;
        t = std::stod(v, &used);
        if (used != v.size()) t = -1;
      } catch (const std::exception&) {
      }
      if (!(t >= 0 && t <= 1))
        throw InputError(fmt::format("{}:{}: quiz: 'tolerance:' must be a relative tolerance between 0 and 1 (got '{}')",
                                     file, line, v));
      quiz.tolerance = t;
      filled = std::string(l);
    } else {
      filled = template_fill(l, file, line, &r.uses);
    }
    out += filled;
    out += '\n';
    ++line;
  }
  r.markdown = std::move(out);
  r.doc = md::parse(r.markdown, file, lesson.body_line);
  std::vector<std::string> questions;
  collect_questions(r.doc.blocks, questions);
  for (size_t i = 0; i < r.quizzes.size() && i < questions.size(); ++i) r.quizzes[i].question = questions[i];
  return r;
}

std::string render_markdown(const RenderedLesson& r) {
  std::string_view body = r.markdown;
  while (!body.empty() && body.front() == '\n') body.remove_prefix(1);
  return fmt::format("# {}\n\n{}", lesson_heading(r.lesson), body);
}

}  // namespace attnlab
