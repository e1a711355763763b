// The terminal face of a lesson: the document model laid out as wrapped text. Words carry their
// own ANSI codes (when colour is on) so that wrapping never splits a style, and widths count code
// points, not bytes ("µs", "×", "—" are one column each).
#include <algorithm>
#include <fmt/format.h>

#include "lessons/render.hpp"

namespace attnlab {

namespace {

using md::Block;
using md::BlockKind;
using md::Inline;
using md::Span;

constexpr const char* kReset = "\x1b[0m";

struct Word {
  std::string text;  // with ANSI codes when colour is on
  int width = 0;
};

std::string style_open(const Span& s, bool color) {
  if (!color) return {};
  std::string c;
  if (s.strong) c += "\x1b[1m";
  if (s.emphasis) c += "\x1b[3m";
  if (s.code) c += "\x1b[36m";
  if (!s.link.empty()) c += "\x1b[4m";
  return c;
}

// Splits spans into words; a word may be made of several styled pieces ("**bold**," is one word).
std::vector<Word> words_of(const Inline& spans, bool color) {
  std::vector<Word> words;
  Word cur;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) words.push_back(std::move(cur));
    cur = Word{};
    in_word = false;
  };
  auto add_piece = [&](const Span& s, std::string_view piece) {
    if (piece.empty()) return;
    std::string open = style_open(s, color);
    cur.text += open + std::string(piece) + (open.empty() ? "" : kReset);
    cur.width += display_width(piece);
    in_word = true;
  };
  for (size_t si = 0; si < spans.size(); ++si) {
    Span s = spans[si];
    std::string text = s.text;
    // A link whose text is not its address shows the address after it.
    bool link_end = !s.link.empty() && (si + 1 == spans.size() || spans[si + 1].link != s.link);
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == ' ') {
        add_piece(s, std::string_view(text).substr(start, i - start));
        if (i < text.size()) end_word();
        start = i + 1;
      }
    }
    if (link_end) {
      std::string link_text;
      for (size_t k = 0; k < spans.size(); ++k)
        if (spans[k].link == s.link) link_text += spans[k].text;
      if (link_text != s.link) {
        end_word();
        Span plain;
        add_piece(plain, "(" + s.link + ")");
      }
    }
  }
  end_word();
  return words;
}

// Lays words into lines of at most `width` columns: `first` prefixes the first line, `rest` the others.
std::vector<std::string> wrap(const std::vector<Word>& words, int width, const std::string& first,
                              const std::string& rest) {
  std::vector<std::string> lines;
  std::string line = first;
  int col = display_width(first);
  bool empty = true;
  const int rest_w = display_width(rest);
  for (const auto& w : words) {
    if (!empty && col + 1 + w.width > width) {
      lines.push_back(line);
      line = rest;
      col = rest_w;
      empty = true;
    }
    if (!empty) {
      line += ' ';
      ++col;
    }
    line += w.text;
    col += w.width;
    empty = false;
  }
  lines.push_back(line);
  return lines;
}

std::string inline_text(const Inline& spans, bool color) {
  std::string out;
  for (const auto& w : words_of(spans, color)) out += (out.empty() ? "" : " ") + w.text;
  return out;
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string pad(const std::string& s, int width, md::Align a) {
  int gap = std::max(0, width - display_width(s));
  if (a == md::Align::right) return std::string(static_cast<size_t>(gap), ' ') + s;
  if (a == md::Align::center)
    return std::string(static_cast<size_t>(gap / 2), ' ') + s + std::string(static_cast<size_t>(gap - gap / 2), ' ');
  return s + std::string(static_cast<size_t>(gap), ' ');
}

struct Ctx {
  TerminalStyle style;
  int quiz_no = 0;
  std::vector<std::string>* answers = nullptr;  // the answers section, filled as quizzes appear
};

void render_blocks(const std::vector<Block>& blocks, Ctx& ctx, int width, const std::string& prefix, std::string& out);

void emit(std::string& out, const std::string& prefix, const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    std::string full = prefix + l;
    while (!full.empty() && full.back() == ' ') full.pop_back();
    out += full + "\n";
  }
}

void render_block(const Block& b, Ctx& ctx, int width, const std::string& prefix, std::string& out) {
  const bool color = ctx.style.color;
  switch (b.kind) {
    case BlockKind::heading: {
      std::string text = inline_text(b.text, false);
      int w = std::min(display_width(text), width);
      if (color) text = "\x1b[1m" + inline_text(b.text, true) + kReset;
      if (b.level <= 2) {
        emit(out, prefix, {text, repeat(b.level == 1 ? "═" : "─", w)});
      } else {
        emit(out, prefix, {text});
      }
      break;
    }
    case BlockKind::paragraph: emit(out, prefix, wrap(words_of(b.text, color), width, "", "")); break;
    case BlockKind::list:
      for (const auto& item : b.items) {
        std::string indent(static_cast<size_t>(2 * item.depth), ' ');
        std::string marker = item.ordered ? fmt::format("{}. ", item.number) : (item.depth % 2 == 0 ? "• " : "◦ ");
        std::string cont = indent + std::string(static_cast<size_t>(display_width(marker)), ' ');
        emit(out, prefix, wrap(words_of(item.text, color), width, indent + marker, cont));
      }
      break;
    case BlockKind::code: {
      size_t start = 0;
      while (start < b.code.size()) {
        size_t end = b.code.find('\n', start);
        std::string l = b.code.substr(start, end - start);
        out += prefix + "    " + (color ? "\x1b[2m" + l + kReset : l) + "\n";
        start = end + 1;
      }
      break;
    }
    case BlockKind::table: {
      const size_t cols = b.header.size();
      std::vector<std::vector<std::string>> cells;
      std::vector<std::vector<std::string>> shown;
      auto add = [&](const std::vector<Inline>& row) {
        std::vector<std::string> plain, styled;
        for (const auto& c : row) {
          plain.push_back(inline_text(c, false));
          styled.push_back(inline_text(c, color));
        }
        cells.push_back(plain);
        shown.push_back(styled);
      };
      add(b.header);
      for (const auto& r : b.rows) add(r);
      std::vector<int> w(cols, 0);
      for (const auto& r : cells)
        for (size_t c = 0; c < cols; ++c) w[c] = std::max(w[c], display_width(r[c]));
      auto line = [&](size_t r) {
        std::string l;
        for (size_t c = 0; c < cols; ++c) {
          if (c) l += "  ";
          l += pad(shown[r][c], w[c], b.align[c]);
        }
        return l;
      };
      std::vector<std::string> lines;
      std::string head = line(0);
      lines.push_back(color ? "\x1b[1m" + head + kReset : head);
      std::string rule;
      for (size_t c = 0; c < cols; ++c) rule += (c ? "  " : "") + repeat("─", w[c]);
      lines.push_back(rule);
      for (size_t r = 1; r < cells.size(); ++r) lines.push_back(line(r));
      emit(out, prefix, lines);
      break;
    }
    case BlockKind::quote: render_blocks(b.children, ctx, width - 2, prefix + "│ ", out); break;
    case BlockKind::rule: emit(out, prefix, {repeat("─", std::min(width, 40))}); break;
    case BlockKind::quiz: {
      const int n = ++ctx.quiz_no;
      const std::string label = fmt::format("Question {}:", n);
      std::vector<Word> words = words_of(b.quiz.question, color);
      words.insert(words.begin(), Word{color ? "\x1b[1;33m" + label + kReset : label, display_width(label)});
      emit(out, prefix, wrap(words, width, "", "  "));
      std::string correct;
      for (size_t i = 0; i < b.quiz.choices.size(); ++i) {
        std::string letter = fmt::format("{}) ", static_cast<char>('a' + i));
        emit(out, prefix, wrap(words_of(b.quiz.choices[i].text, color), width, "  " + letter, "     "));
        if (b.quiz.choices[i].correct)
          correct += (correct.empty() ? "" : "; ") + letter + md::plain_text(b.quiz.choices[i].text);
      }
      if (ctx.answers) {
        Inline answer_line;
        Span head;
        head.text = fmt::format("({}) ", n);
        head.strong = true;
        answer_line.push_back(head);
        Span val;
        val.strong = true;
        val.text = b.quiz.choices.empty() ? md::plain_text(b.quiz.answer) : correct;
        answer_line.push_back(val);
        Span dash;
        dash.text = " — ";
        answer_line.push_back(dash);
        answer_line.insert(answer_line.end(), b.quiz.explain.begin(), b.quiz.explain.end());
        std::string a;
        emit(a, "", wrap(words_of(answer_line, color), width, "", "    "));
        ctx.answers->push_back(a);
        emit(out, prefix, {fmt::format("  (answer {} is at the end of the chapter)", n)});
      } else {
        emit(out, prefix, wrap(words_of(b.quiz.answer, color), width, "  Answer: ", "    "));
        emit(out, prefix, wrap(words_of(b.quiz.explain, color), width, "  Why: ", "    "));
      }
      break;
    }
  }
}

void render_blocks(const std::vector<Block>& blocks, Ctx& ctx, int width, const std::string& prefix, std::string& out) {
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i) out += prefix.empty() ? "\n" : prefix.substr(0, prefix.find_last_not_of(' ') + 1) + "\n";
    render_block(blocks[i], ctx, width, prefix, out);
  }
}

}  // namespace

int display_width(std::string_view s) {
  int w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {  // skip an ANSI CSI sequence: ESC [ ... letter
      ++i;
      if (i < s.size() && s[i] == '[') {
        ++i;
        while (i < s.size() && !std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
      }
      continue;
    }
    if ((c & 0xC0) != 0x80) ++w;  // count lead bytes only
  }
  return w;
}

std::string render_terminal_doc(const md::Document& doc, const TerminalStyle& style) {
  Ctx ctx;
  ctx.style = style;
  std::string out;
  render_blocks(doc.blocks, ctx, style.width, "", out);
  return out;
}

std::string render_terminal(const RenderedLesson& r, const TerminalStyle& style) {
  Ctx ctx;
  ctx.style = style;
  std::vector<std::string> answers;
  ctx.answers = &answers;
  std::string out;
  std::string head = lesson_heading(r.lesson);
  const int hw = std::min(display_width(head), style.width);
  out += (style.color ? "\x1b[1m" + head + kReset : head) + "\n" + repeat("═", hw) + "\n";
  if (!r.lesson.panels.empty()) {
    std::string panels;
    for (const auto& p : r.lesson.panels) panels += (panels.empty() ? "" : ", ") + p;
    out += "Dashboard panels: " + panels + "\n";
  }
  out += "\n";
  render_blocks(r.doc.blocks, ctx, style.width, "", out);
  if (!answers.empty()) {
    out += "\n";
    std::string h = "Answers";
    out += (style.color ? "\x1b[1m" + h + kReset : h) + "\n" + repeat("─", 7) + "\n";
    for (const auto& a : answers) out += a;
  }
  return out;
}

}  // namespace attnlab
