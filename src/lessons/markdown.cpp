// The lesson Markdown reader: blocks first (line by line), then inline spans inside each block.
// Inline emphasis follows CommonMark's delimiter-run rules in a reduced form, so that names such
// as hbm_bytes or kv_heads stay plain text while *this* and **this** are styled.
#include "lessons/markdown.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <optional>

#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab::md {

namespace {

// ---------------------------------------------------------------- small string helpers

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

int indent_of(std::string_view s) {
  int n = 0;
  for (char c : s) {
    if (c == ' ') ++n;
    else if (c == '\t') n += 4 - n % 4;
    else break;
  }
  return n;
}

bool is_blank(std::string_view s) { return trim(s).empty(); }

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      if (start < text.size()) lines.push_back(text.substr(start));
      break;
    }
    std::string_view l = text.substr(start, end - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    start = end + 1;
  }
  return lines;
}

[[noreturn]] void fail(std::string_view file, int line, const std::string& what) {
  throw InputError(fmt::format("{}:{}: {}", file, line, what));
}

// ---------------------------------------------------------------- inline parsing

struct Tok {
  Span span;
  char ch = 0;      // '*' or '_' for a delimiter run, 0 for text
  int count = 0;    // delimiter characters left in the run
  bool can_open = false;
  bool can_close = false;
};

void apply_style(std::vector<Tok>& toks, size_t from, size_t to, bool strong) {
  for (size_t i = from; i < to; ++i) {
    if (strong) toks[i].span.strong = true;
    else toks[i].span.emphasis = true;
  }
}

// CommonMark's "process emphasis", reduced: closers match the nearest compatible opener.
void resolve_emphasis(std::vector<Tok>& toks) {
  for (size_t c = 0; c < toks.size(); ++c) {
    if (toks[c].ch == 0 || !toks[c].can_close) continue;
    while (toks[c].count > 0) {
      std::optional<size_t> opener;
      for (size_t o = c; o-- > 0;) {
        const Tok& t = toks[o];
        if (t.ch != toks[c].ch || t.count == 0 || !t.can_open) continue;
        // The "multiple of 3" rule keeps "*a**b*" from pairing the wrong runs.
        bool both = toks[c].can_open || t.can_close;
        if (both && (t.count + toks[c].count) % 3 == 0 && !(t.count % 3 == 0 && toks[c].count % 3 == 0))
          continue;
        opener = o;
        break;
      }
      if (!opener) break;
      Tok& o = toks[*opener];
      bool strong = o.count >= 2 && toks[c].count >= 2;
      int use = strong ? 2 : 1;
      apply_style(toks, *opener + 1, c, strong);
      o.count -= use;
      toks[c].count -= use;
      // Delimiters strictly between can no longer open or close anything.
      for (size_t i = *opener + 1; i < c; ++i)
        if (toks[i].ch != 0) toks[i].can_open = toks[i].can_close = false;
    }
  }
}

Inline finish(std::vector<Tok>& toks) {
  resolve_emphasis(toks);
  Inline out;
  for (auto& t : toks) {
    Span s = t.span;
    if (t.ch != 0) s.text = std::string(static_cast<size_t>(t.count), t.ch);
    if (s.text.empty()) continue;
    if (!out.empty()) {
      Span& b = out.back();
      if (b.emphasis == s.emphasis && b.strong == s.strong && b.code == s.code && b.link == s.link) {
        b.text += s.text;
        continue;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

void push_text(std::vector<Tok>& toks, std::string_view text) {
  if (text.empty()) return;
  if (!toks.empty() && toks.back().ch == 0 && !toks.back().span.code && toks.back().span.link.empty() &&
      !toks.back().span.emphasis && !toks.back().span.strong) {
    toks.back().span.text += text;
    return;
  }
  Tok t;
  t.span.text = std::string(text);
  toks.push_back(std::move(t));
}

// Finds the `]` closing the `[` at `open`, honouring nesting, escapes and code spans.
size_t find_bracket_close(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      ++i;
    } else if (c == '`') {
      size_t run = 1;
      while (i + run < s.size() && s[i + run] == '`') ++run;
      size_t close = s.find(std::string(run, '`'), i + run);
      if (close != std::string_view::npos) i = close + run - 1;
      else i += run - 1;
    } else if (c == '[') {
      ++depth;
    } else if (c == ']') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

std::vector<Tok> tokenize(std::string_view s) {
  std::vector<Tok> toks;
  size_t i = 0;
  size_t text_start = 0;
  auto flush = [&](size_t end) {
    push_text(toks, s.substr(text_start, end - text_start));
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && is_punct(s[i + 1])) {
      flush(i);
      push_text(toks, s.substr(i + 1, 1));
      i += 2;
      text_start = i;
      continue;
    }
    if (c == '{' && s.substr(i, 2) == "{{") {
      // A template left in (in an error message or a README example): literal, no emphasis inside.
      size_t close = s.find("}}", i + 2);
      if (close != std::string_view::npos) {
        i = close + 2;
        continue;
      }
    }
    if (c == '`') {
      size_t run = 1;
      while (i + run < s.size() && s[i + run] == '`') ++run;
      // The closing run must have exactly the same length.
      size_t search = i + run;
      size_t close = std::string_view::npos;
      while (true) {
        size_t f = s.find('`', search);
        if (f == std::string_view::npos) break;
        size_t r = 1;
        while (f + r < s.size() && s[f + r] == '`') ++r;
        if (r == run) {
          close = f;
          break;
        }
        search = f + r;
      }
      if (close == std::string_view::npos) {
        i += run;  // literal backticks
        continue;
      }
      flush(i);
      std::string code(s.substr(i + run, close - i - run));
      for (char& ch : code)
        if (ch == '\n') ch = ' ';
      if (code.size() >= 2 && code.front() == ' ' && code.back() == ' ' &&
          code.find_first_not_of(' ') != std::string::npos)
        code = code.substr(1, code.size() - 2);
      Tok t;
      t.span.text = std::move(code);
      t.span.code = true;
      toks.push_back(std::move(t));
      i = close + run;
      text_start = i;
      continue;
    }
    if (c == '[') {
      size_t close = find_bracket_close(s, i);
      if (close != std::string_view::npos && close + 1 < s.size() && s[close + 1] == '(') {
        size_t paren = s.find(')', close + 2);
        if (paren != std::string_view::npos) {
          flush(i);
          std::string url(trim(s.substr(close + 2, paren - close - 2)));
          Inline inner = parse_inline(s.substr(i + 1, close - i - 1));
          for (auto& sp : inner) {
            Tok t;
            t.span = sp;
            t.span.link = url;
            toks.push_back(std::move(t));
          }
          i = paren + 1;
          text_start = i;
          continue;
        }
      }
    }
    if (c == '*' || c == '_') {
      size_t run = 1;
      while (i + run < s.size() && s[i + run] == c) ++run;
      char before = i == 0 ? ' ' : s[i - 1];
      char after = i + run >= s.size() ? ' ' : s[i + run];
      bool left = !is_space(after) && (!is_punct(after) || is_space(before) || is_punct(before));
      bool right = !is_space(before) && (!is_punct(before) || is_space(after) || is_punct(after));
      bool open = c == '*' ? left : left && (!right || is_punct(before));
      bool close = c == '*' ? right : right && (!left || is_punct(after));
      if (open || close) {
        flush(i);
        Tok t;
        t.ch = c;
        t.count = static_cast<int>(run);
        t.can_open = open;
        t.can_close = close;
        toks.push_back(std::move(t));
        i += run;
        text_start = i;
        continue;
      }
      i += run;
      continue;
    }
    ++i;
  }
  flush(s.size());
  return toks;
}

// ---------------------------------------------------------------- block parsing helpers

std::optional<int> heading_level(std::string_view l) {
  if (indent_of(l) > 3) return std::nullopt;
  std::string_view t = trim(l);
  int n = 0;
  while (n < static_cast<int>(t.size()) && t[n] == '#') ++n;
  if (n < 1 || n > 6) return std::nullopt;
  if (n < static_cast<int>(t.size()) && t[n] != ' ' && t[n] != '\t') return std::nullopt;
  return n;
}

bool is_rule(std::string_view l) {
  if (indent_of(l) > 3) return false;
  std::string_view t = trim(l);
  if (t.empty()) return false;
  char c = t.front();
  if (c != '-' && c != '*' && c != '_') return false;
  int count = 0;
  for (char x : t) {
    if (x == c) ++count;
    else if (x != ' ' && x != '\t') return false;
  }
  return count >= 3;
}

bool is_fence(std::string_view l) {
  return indent_of(l) <= 3 && trim(l).substr(0, 3) == "```";
}

bool is_quote(std::string_view l) { return indent_of(l) <= 3 && !trim(l).empty() && trim(l).front() == '>'; }

struct ListMarker {
  int indent = 0;    // columns before the marker
  int content = 0;   // column where the item text starts
  bool ordered = false;
  int number = 0;
  std::string_view text;
};

std::optional<ListMarker> list_marker(std::string_view l) {
  ListMarker m;
  m.indent = indent_of(l);
  size_t i = l.find_first_not_of(" \t");
  if (i == std::string_view::npos) return std::nullopt;
  size_t j = i;
  if (l[j] == '-' || l[j] == '*' || l[j] == '+') {
    ++j;
  } else if (std::isdigit(static_cast<unsigned char>(l[j]))) {
    while (j < l.size() && j - i < 9 && std::isdigit(static_cast<unsigned char>(l[j]))) ++j;
    if (j >= l.size() || (l[j] != '.' && l[j] != ')')) return std::nullopt;
    m.ordered = true;
    m.number = std::stoi(std::string(l.substr(i, j - i)));
    ++j;
  } else {
    return std::nullopt;
  }
  if (j < l.size() && l[j] != ' ' && l[j] != '\t') return std::nullopt;
  size_t k = j;
  while (k < l.size() && (l[k] == ' ' || l[k] == '\t')) ++k;
  m.content = static_cast<int>(k);
  m.text = l.substr(k);
  if (m.text.empty() && !m.ordered && k == j) {
    // "-" alone: an empty item. Fine.
  }
  return m;
}

// Splits a table row "| a | b |" into trimmed cell texts; `|` inside code spans or escaped stays.
std::vector<std::string> split_row(std::string_view l) {
  std::string_view t = trim(l);
  if (!t.empty() && t.front() == '|') t.remove_prefix(1);
  if (!t.empty() && t.back() == '|' && !(t.size() >= 2 && t[t.size() - 2] == '\\')) t.remove_suffix(1);
  std::vector<std::string> cells;
  std::string cur;
  bool in_code = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\\' && i + 1 < t.size() && t[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (c == '`') {
      in_code = !in_code;
      cur += c;
    } else if (c == '|' && !in_code) {
      cells.emplace_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  cells.emplace_back(trim(cur));
  return cells;
}

std::optional<std::vector<Align>> delimiter_row(std::string_view l) {
  std::string_view t = trim(l);
  if (t.empty() || t.find('-') == std::string_view::npos) return std::nullopt;
  if (t.find_first_not_of("|:- \t") != std::string_view::npos) return std::nullopt;
  if (t.find('|') == std::string_view::npos) return std::nullopt;
  std::vector<Align> align;
  for (const auto& c : split_row(l)) {
    if (c.empty() || c.find('-') == std::string::npos) return std::nullopt;
    bool left = c.front() == ':', right = c.back() == ':';
    align.push_back(left && right ? Align::center : right ? Align::right : left ? Align::left : Align::none);
  }
  return align;
}

bool starts_table(const std::vector<std::string_view>& lines, size_t i) {
  return trim(lines[i]).substr(0, 1) == "|" && i + 1 < lines.size() && delimiter_row(lines[i + 1]).has_value();
}

// Does line `l` start a new block (and so end a paragraph)?
bool interrupts_paragraph(const std::vector<std::string_view>& lines, size_t i) {
  std::string_view l = lines[i];
  if (is_blank(l) || heading_level(l) || is_fence(l) || is_quote(l) || is_rule(l) || starts_table(lines, i))
    return true;
  if (auto m = list_marker(l); m && !m->text.empty() && (!m->ordered || m->number == 1)) return true;
  return false;
}

std::string join_lines(const std::vector<std::string_view>& parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += ' ';
    out += trim(p);
  }
  return out;
}

class BlockParser {
 public:
  BlockParser(std::string_view file, int first_line) : file_(file), first_line_(first_line) {}

  std::vector<Block> parse(const std::vector<std::string_view>& lines) {
    std::vector<Block> blocks;
    size_t i = 0;
    while (i < lines.size()) {
      std::string_view l = lines[i];
      int line_no = first_line_ + static_cast<int>(i);
      if (is_blank(l)) {
        ++i;
        continue;
      }
      Block b;
      b.line = line_no;
      if (is_fence(l)) {
        std::string_view info = trim(trim(l).substr(3));
        size_t open_indent = static_cast<size_t>(indent_of(l));
        size_t j = i + 1;
        std::string code;
        for (; j < lines.size(); ++j) {
          std::string_view t = trim(lines[j]);
          if (t.substr(0, 3) == "```" && t.find_first_not_of('`') == std::string_view::npos) break;
          std::string_view body = lines[j];
          size_t strip = std::min(open_indent, static_cast<size_t>(indent_of(body)));
          body.remove_prefix(std::min(strip, body.size()));
          code += body;
          code += '\n';
        }
        if (j >= lines.size()) fail(file_, line_no, "code block opened with ``` is never closed");
        if (info == "quiz") {
          b.kind = BlockKind::quiz;
          b.quiz = parse_quiz(code, file_, line_no + 1);
        } else {
          b.kind = BlockKind::code;
          b.info = std::string(info);
          b.code = std::move(code);
        }
        i = j + 1;
      } else if (auto level = heading_level(l)) {
        b.kind = BlockKind::heading;
        b.level = *level;
        std::string_view t = trim(trim(l).substr(static_cast<size_t>(*level)));
        // Closing hashes ("## Title ##") are decoration.
        size_t end = t.find_last_not_of('#');
        if (end != std::string_view::npos && end + 1 < t.size() && (t[end] == ' ' || t[end] == '\t'))
          t = trim(t.substr(0, end + 1));
        else if (end == std::string_view::npos)
          t = {};
        b.text = parse_inline(t);
        ++i;
      } else if (is_rule(l)) {
        b.kind = BlockKind::rule;
        ++i;
      } else if (is_quote(l)) {
        std::vector<std::string_view> inner;
        size_t j = i;
        for (; j < lines.size() && is_quote(lines[j]); ++j) {
          std::string_view t = trim(lines[j]);
          t.remove_prefix(1);
          if (!t.empty() && t.front() == ' ') t.remove_prefix(1);
          inner.push_back(t);
        }
        b.kind = BlockKind::quote;
        b.children = BlockParser(file_, line_no).parse(inner);
        i = j;
      } else if (starts_table(lines, i)) {
        b.kind = BlockKind::table;
        for (const auto& c : split_row(l)) b.header.push_back(parse_inline(c));
        b.align = *delimiter_row(lines[i + 1]);
        if (b.align.size() != b.header.size())
          fail(file_, line_no + 1,
               fmt::format("table delimiter row has {} cells but the header has {}", b.align.size(), b.header.size()));
        size_t j = i + 2;
        for (; j < lines.size() && trim(lines[j]).substr(0, 1) == "|"; ++j) {
          auto cells = split_row(lines[j]);
          if (cells.size() != b.header.size())
            fail(file_, first_line_ + static_cast<int>(j),
                 fmt::format("table row has {} cells but the header has {}", cells.size(), b.header.size()));
          std::vector<Inline> row;
          for (const auto& c : cells) row.push_back(parse_inline(c));
          b.rows.push_back(std::move(row));
        }
        i = j;
      } else if (auto m = list_marker(l)) {
        b.kind = BlockKind::list;
        i = parse_list(lines, i, b);
      } else {
        b.kind = BlockKind::paragraph;
        std::vector<std::string_view> parts{l};
        size_t j = i + 1;
        for (; j < lines.size() && !interrupts_paragraph(lines, j); ++j) parts.push_back(lines[j]);
        b.text = parse_inline(join_lines(parts));
        i = j;
      }
      blocks.push_back(std::move(b));
    }
    return blocks;
  }

 private:
  // Items until a blank line followed by something that is not an item or an indented
  // continuation. Depth comes from indentation: a marker indented to (or past) the text column of
  // the item above it nests under that item.
  size_t parse_list(const std::vector<std::string_view>& lines, size_t i, Block& b) {
    std::vector<int> content_cols;  // text column of the open item at each depth
    std::vector<std::string_view> parts;
    auto close_item = [&] {
      if (!b.items.empty() && !parts.empty()) b.items.back().text = parse_inline(join_lines(parts));
      parts.clear();
    };
    size_t j = i;
    while (j < lines.size()) {
      std::string_view l = lines[j];
      if (is_blank(l)) {
        size_t k = j + 1;
        while (k < lines.size() && is_blank(lines[k])) ++k;
        if (k < lines.size() && (list_marker(lines[k]) || (!content_cols.empty() && indent_of(lines[k]) >= 2))) {
          j = k;
          continue;
        }
        break;
      }
      auto m = list_marker(l);
      if (m && !is_rule(l)) {
        close_item();
        while (!content_cols.empty() && m->indent < content_cols.back()) content_cols.pop_back();
        ListItem item;
        item.depth = static_cast<int>(content_cols.size());
        item.ordered = m->ordered;
        item.number = m->number;
        content_cols.push_back(m->content);
        b.items.push_back(std::move(item));
        parts.push_back(m->text);
        ++j;
        continue;
      }
      if (j != i && (heading_level(l) || is_fence(l) || is_quote(l) || is_rule(l) || starts_table(lines, j))) break;
      // A continuation line of the current item (lazy or indented).
      parts.push_back(l);
      ++j;
    }
    close_item();
    return j;
  }

  std::string_view file_;
  int first_line_;
};

}  // namespace

// ---------------------------------------------------------------- public API

std::string plain_text(const Inline& spans) {
  std::string out;
  for (const auto& s : spans) out += s.text;
  return out;
}

Inline parse_inline(std::string_view text) {
  auto toks = tokenize(trim(text));
  return finish(toks);
}

Quiz parse_quiz(std::string_view body, std::string_view file, int line) {
  Quiz q;
  auto lines = split_lines(body);
  std::string question, answer, explain;
  std::vector<std::pair<std::string, bool>> choices;
  std::string* current = nullptr;
  bool seen_question = false, seen_answer = false, seen_explain = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    int ln = line + static_cast<int>(i);
    std::string_view t = trim(lines[i]);
    if (t.empty()) continue;
    if (t.substr(0, 5) == "- [ ]" || t.substr(0, 5) == "- [x]" || t.substr(0, 5) == "- [X]") {
      choices.emplace_back(std::string(trim(t.substr(5))), t[3] != ' ');
      current = &choices.back().first;
      continue;
    }
    size_t colon = t.find(':');
    std::string key = colon == std::string_view::npos ? std::string() : std::string(t.substr(0, colon));
    bool is_key = !key.empty() && key.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos;
    if (is_key) {
      std::string value(trim(t.substr(colon + 1)));
      auto once = [&](bool& seen, std::string& field) {
        if (seen) fail(file, ln, fmt::format("quiz: '{}:' given twice", key));
        seen = true;
        field = value;
        current = &field;
      };
      if (key == "question") once(seen_question, question);
      else if (key == "answer") once(seen_answer, answer);
      else if (key == "explain") once(seen_explain, explain);
      else if (key == "expect" || key == "tolerance")
        current = nullptr;  // checked by the lesson layer and the tests, not shown
      else
        fail(file, ln,
             fmt::format("quiz: unknown field '{}:' (known: question, - [ ] / - [x] choices, answer, "
                         "expect, tolerance, explain)",
                         key));
      continue;
    }
    if (current == nullptr)
      fail(file, ln, "quiz: text outside a field (start with 'question:', 'answer:', 'explain:' or '- [ ]')");
    *current += ' ';
    *current += t;
  }
  if (!seen_question || trim(question).empty()) fail(file, line, "quiz: missing 'question:'");
  if (!seen_explain || trim(explain).empty()) fail(file, line, "quiz: missing 'explain:'");
  if (choices.empty() && !seen_answer) fail(file, line, "quiz: needs 'answer:' or '- [ ]' / '- [x]' choices");
  if (!choices.empty() && seen_answer) fail(file, line, "quiz: give either 'answer:' or choices, not both");
  if (!choices.empty()) {
    if (choices.size() < 2) fail(file, line, "quiz: a multiple-choice question needs at least 2 choices");
    if (std::none_of(choices.begin(), choices.end(), [](const auto& c) { return c.second; }))
      fail(file, line, "quiz: no choice is marked correct with '- [x]'");
  }
  q.question = parse_inline(question);
  q.answer = parse_inline(answer);
  q.explain = parse_inline(explain);
  for (auto& [text, correct] : choices) q.choices.push_back({parse_inline(text), correct});
  return q;
}

Document parse(std::string_view text, std::string_view file, int first_line) {
  Document d;
  d.blocks = BlockParser(file, first_line).parse(split_lines(text));
  return d;
}

}  // namespace attnlab::md
