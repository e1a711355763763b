// The give-away check (see giveaway.hpp): walk the document in order, keep the plain text of every
// prose block, and look for each quiz's answer in what came before it.
#include "lessons/giveaway.hpp"

#include <cctype>

namespace attnlab {

namespace {

bool glued(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ','; }

// A trailing '.' or ',' right after the needle ends a sentence or a list ("is 2.00 GiB.") unless a
// digit follows it ("16.5", "1,160").
bool ends_token(const std::string& hay, size_t end) {
  if (end >= hay.size()) return true;
  const char c = hay[end];
  if (!glued(c)) return true;
  if (c == '.' || c == ',') return end + 1 >= hay.size() || !std::isdigit(static_cast<unsigned char>(hay[end + 1]));
  return false;
}

std::string block_text(const md::Block& b) {
  std::string out;
  switch (b.kind) {
    case md::BlockKind::heading:
    case md::BlockKind::paragraph:
      return md::plain_text(b.text);
    case md::BlockKind::list:
      for (const auto& it : b.items) out += md::plain_text(it.text) + "\n";
      return out;
    case md::BlockKind::code:
      return b.code;
    case md::BlockKind::table:
      for (const auto& h : b.header) out += md::plain_text(h) + " | ";
      for (const auto& row : b.rows) {
        out += "\n";
        for (const auto& cell : row) out += md::plain_text(cell) + " | ";
      }
      return out;
    case md::BlockKind::quote:
      for (const auto& c : b.children) out += block_text(c) + "\n";
      return out;
    case md::BlockKind::rule:
    case md::BlockKind::quiz:
      return out;
  }
  return out;
}

struct Prose {
  int line;
  std::string text;
};

void check_answer(const std::string& answer, int quiz_line, const std::vector<Prose>& before,
                  std::vector<QuizGiveaway>& out) {
  if (answer.size() < 3) return;
  for (const auto& p : before)
    if (contains_token(p.text, answer)) {
      out.push_back({quiz_line, answer, p.line});
      return;
    }
}

}  // namespace

bool contains_token(const std::string& hay, const std::string& needle) {
  if (needle.empty()) return false;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) {
    const bool starts = pos == 0 || !glued(hay[pos - 1]) || !glued(needle.front());
    const bool ends = !glued(needle.back()) || ends_token(hay, pos + needle.size());
    if (starts && ends) return true;
  }
  return false;
}

std::vector<QuizGiveaway> quiz_giveaways(const md::Document& doc) {
  std::vector<QuizGiveaway> out;
  std::vector<Prose> before;
  for (const auto& b : doc.blocks) {
    if (b.kind != md::BlockKind::quiz) {
      before.push_back({b.line, block_text(b)});
      continue;
    }
    if (b.quiz.choices.empty()) {
      check_answer(md::plain_text(b.quiz.answer), b.line, before, out);
    } else {
      for (const auto& c : b.quiz.choices)
        if (c.correct) check_answer(md::plain_text(c.text), b.line, before, out);
    }
  }
  return out;
}

}  // namespace attnlab
