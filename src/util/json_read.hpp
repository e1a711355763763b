// The one reader of attnlab's JSON files (measurement files, their "ring" section, models.json).
// Every lookup knows its path in the document, so that a bad file gives one line naming the file
// and the field: "h100.json: runs[2].config.head_dim must be a positive integer (got 0)".
// The rules, the same for every file:
//   - null is absent: has() is false, at() says "PATH is missing", an optional field takes its
//     default. (A writer that prints null for "not measured" means absent.)
//   - a count is a JSON integer: 4 and 4.0 differ, 4.0 is refused; negative is refused.
//     count() is >= 1, count_or_zero() >= 0, count_in(min, max) a range.
//   - a real number is finite: positive() is > 0, non_negative() >= 0.
// Only json_read.cpp includes nlohmann/json.hpp: the readers that use this header compile
// without it.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

class JsonNode {
 public:
  JsonNode(const nlohmann::json& j, std::string path, const std::string& origin);

  [[noreturn]] void fail(std::string_view what) const;  // "ORIGIN: PATH what"
  const std::string& path() const { return path_; }
  const std::string& origin() const { return *origin_; }
  // The same value under another name in messages ("models[1] (tiny)").
  JsonNode renamed(std::string path) const { return JsonNode(*j_, std::move(path), *origin_); }

  bool is_object() const;
  bool has(std::string_view key) const;     // present and not null
  JsonNode at(std::string_view key) const;  // "PATH.key is missing" when absent or null
  std::vector<JsonNode> items() const;      // the elements of an array, "PATH[i]"
  std::vector<std::string> keys() const;    // the keys of an object, sorted

  u64 count() const;          // integer >= 1
  u64 count_or_zero() const;  // integer >= 0
  u64 count_in(u64 min, u64 max) const;
  std::optional<u64> whole() const;  // an integer >= 0, or nullopt (for checks with their own message)
  double positive() const;      // finite > 0
  double non_negative() const;  // finite >= 0
  bool boolean() const;
  std::string str() const;

  // Optional fields: the value when present, else the default.
  std::string str_or(std::string_view key, std::string def) const;
  u64 count_or(std::string_view key, u64 def) const;  // count_or_zero() when present

 private:
  const nlohmann::json* j_;
  std::string path_;
  const std::string* origin_;
};

// A parsed document; its nodes refer into it and must not outlive it.
class JsonDoc {
 public:
  JsonDoc(JsonDoc&&) noexcept;
  ~JsonDoc();
  JsonNode root() const;
  const std::string& origin() const { return *origin_; }

 private:
  friend JsonDoc json_parse(std::string_view text, std::string_view origin);
  JsonDoc(std::unique_ptr<nlohmann::json> doc, std::string origin);
  std::unique_ptr<nlohmann::json> doc_;
  std::unique_ptr<const std::string> origin_;  // on the heap: nodes point at it across moves
};

// "ORIGIN: not valid JSON (<nlohmann's message, on one line>)" on a syntax error or a number past
// a double ("1e400").
JsonDoc json_parse(std::string_view text, std::string_view origin);

// A file's whole text: "PATH: is a folder, not a WHAT", "PATH: cannot open the WHAT".
std::string file_read_text(const std::filesystem::path& path, std::string_view what);

// Whether `text` is a JSON object with `key` (false for anything that does not parse): for
// sorting files by kind before reading them.
bool json_has_top_key(std::string_view text, std::string_view key);

}  // namespace attnlab
