// The three faces of every CLI answer: an aligned table for people, CSV and JSON for programs.
//
// Table cells carry two strings: `text` for the aligned table ("1.50 GiB") and `raw` for CSV
// ("1610612736"), so CSV never carries rounded units. JsonWriter writes exact 128-bit integers
// (JSON numbers have no width limit), which nlohmann::json cannot.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

enum class OutputFormat { table, json, csv };
OutputFormat parse_output_format(std::string_view s);  // throws InputError naming --format

struct Cell {
  std::string text;  // for the aligned table
  std::string raw;   // for CSV; empty means "same as text"
};
Cell cell(std::string text);
Cell cell(std::string text, std::string raw);
Cell cell_bytes(u128 bytes);   // "1.50 GiB" / "1610612736"
Cell cell_count(u128 n);       // "1,048,576" / "1048576"
Cell cell_num(double v, int precision);

class Table {
 public:
  struct Column {
    std::string header;
    bool right_align = true;
  };
  explicit Table(std::vector<Column> columns);
  void add_row(std::vector<Cell> row);  // row.size() must equal the column count
  void add_separator();                 // a rule between groups of rows (text only)
  std::string to_text() const;
  std::string to_csv() const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Cell>> rows_;  // an empty row is a separator
};

std::string csv_escape(std::string_view s);

// A streaming JSON writer with 2-space indentation. Keys and values are written in order;
// commas and nesting are tracked for you.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(double d);  // NaN and infinity become null
  JsonWriter& value(int v) { return value_i64(v); }
  JsonWriter& value(long v) { return value_i64(v); }
  JsonWriter& value(long long v) { return value_i64(v); }
  JsonWriter& value(unsigned v) { return value_u128(v); }
  JsonWriter& value(unsigned long v) { return value_u128(v); }
  JsonWriter& value(unsigned long long v) { return value_u128(v); }
  JsonWriter& value(u128 v) { return value_u128(v); }
  JsonWriter& null();
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  const std::string& str() const { return out_; }  // complete once every scope is closed

 private:
  JsonWriter& value_i64(long long v);
  JsonWriter& value_u128(u128 v);
  void before_value();
  void newline();
  std::string out_;
  std::vector<bool> first_;  // per open scope: nothing written yet
  bool after_key_ = false;
};

std::string json_escape(std::string_view s);

}  // namespace attnlab
