#include "util/output.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "util/units.hpp"

namespace attnlab {

OutputFormat parse_output_format(std::string_view s) {
  if (s == "table" || s == "text") return OutputFormat::table;
  if (s == "json") return OutputFormat::json;
  if (s == "csv") return OutputFormat::csv;
  throw InputError(fmt::format("--format must be table, json or csv (got '{}')", s));
}

Cell cell(std::string text) { return Cell{std::move(text), {}}; }
Cell cell(std::string text, std::string raw) { return Cell{std::move(text), std::move(raw)}; }
Cell cell_bytes(u128 bytes) { return Cell{format_bytes(bytes), to_string_u128(bytes)}; }
Cell cell_count(u128 n) { return Cell{format_count(n), to_string_u128(n)}; }
Cell cell_num(double v, int precision) {
  return Cell{fmt::format("{:.{}f}", v, precision), fmt::format("{}", v)};
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<Cell> row) {
  row.resize(columns_.size());
  rows_.push_back(std::move(row));
}

void Table::add_separator() { rows_.emplace_back(); }

namespace {
// Display width: count UTF-8 code points, not bytes ("µs" is two columns wide, three bytes long).
size_t utf8_columns(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

std::string Table::to_text() const {
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) width[c] = utf8_columns(columns_[c].header);
  for (const auto& row : rows_)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], utf8_columns(row[c].text));

  auto pad = [](std::string_view s, size_t w, bool right) {
    std::string fill(w - std::min(w, utf8_columns(s)), ' ');
    return right ? fill + std::string(s) : std::string(s) + fill;
  };
  auto rule = [&] {
    std::string line;
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c) line += "  ";
      line += std::string(width[c], '-');
    }
    return line + "\n";
  };

  std::string out;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c) out += "  ";
    out += pad(columns_[c].header, width[c], columns_[c].right_align);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += "\n" + rule();
  for (const auto& row : rows_) {
    if (row.empty()) {
      out += rule();
      continue;
    }
    std::string line;
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c) line += "  ";
      line += pad(row[c].text, width[c], columns_[c].right_align);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string csv_escape(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string Table::to_csv() const {
  std::string out;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c) out += ',';
    out += csv_escape(columns_[c].header);
  }
  out += '\n';
  for (const auto& row : rows_) {
    if (row.empty()) continue;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      out += csv_escape(row[c].raw.empty() ? row[c].text : row[c].raw);
    }
    out += '\n';
  }
  return out;
}

std::string json_escape(std::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (ch < 0x20) out += fmt::format("\\u{:04x}", ch);
        else out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

void JsonWriter::newline() {
  out_ += '\n';
  out_.append(2 * first_.size(), ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += '}';
  if (first_.empty()) out_ += '\n';
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += ']';
  if (first_.empty()) out_ += '\n';
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view k) {
  before_value();
  out_ += json_escape(k);
  out_ += ": ";
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  out_ += json_escape(s);
  return *this;
}
JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::value(double d) {
  before_value();
  if (!std::isfinite(d)) out_ += "null";
  else out_ += fmt::format("{}", d);
  return *this;
}
JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}
JsonWriter& JsonWriter::value_i64(long long v) {
  before_value();
  out_ += fmt::format("{}", v);
  return *this;
}
JsonWriter& JsonWriter::value_u128(u128 v) {
  before_value();
  out_ += to_string_u128(v);
  return *this;
}

}  // namespace attnlab
