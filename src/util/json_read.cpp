#include "util/json_read.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/errors.hpp"

namespace attnlab {

using nlohmann::json;

JsonNode::JsonNode(const json& j, std::string path, const std::string& origin)
    : j_(&j), path_(std::move(path)), origin_(&origin) {}

void JsonNode::fail(std::string_view what) const { throw InputError(fmt::format("{}: {} {}", *origin_, path_, what)); }

bool JsonNode::is_object() const { return j_->is_object(); }

bool JsonNode::has(std::string_view key) const {
  if (!j_->is_object()) return false;
  auto it = j_->find(std::string(key));
  return it != j_->end() && !it->is_null();
}

JsonNode JsonNode::at(std::string_view key) const {
  if (!j_->is_object()) fail("must be an object");
  std::string p = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  auto it = j_->find(std::string(key));
  if (it == j_->end() || it->is_null()) throw InputError(fmt::format("{}: {} is missing", *origin_, p));
  return JsonNode(*it, std::move(p), *origin_);
}

std::vector<JsonNode> JsonNode::items() const {
  if (!j_->is_array()) fail("must be an array");
  std::vector<JsonNode> r;
  r.reserve(j_->size());
  for (size_t i = 0; i < j_->size(); ++i) r.emplace_back((*j_)[i], fmt::format("{}[{}]", path_, i), *origin_);
  return r;
}

std::vector<std::string> JsonNode::keys() const {
  if (!j_->is_object()) fail("must be an object");
  std::vector<std::string> r;
  for (auto it = j_->begin(); it != j_->end(); ++it) r.push_back(it.key());
  return r;
}

std::optional<u64> JsonNode::whole() const {
  if (j_->is_number_unsigned()) return j_->get<u64>();
  if (j_->is_number_integer() && j_->get<long long>() >= 0) return static_cast<u64>(j_->get<long long>());
  return std::nullopt;
}

u64 JsonNode::count_or_zero() const {
  const std::optional<u64> v = whole();
  if (!v) fail("must be a non-negative integer");
  return *v;
}

u64 JsonNode::count() const {
  const u64 v = count_or_zero();
  if (v == 0) fail("must be a positive integer (got 0)");
  return v;
}

u64 JsonNode::count_in(u64 min, u64 max) const {
  if (!j_->is_number_integer()) fail(fmt::format("must be an integer between {} and {} (got {})", min, max, j_->dump()));
  const std::optional<u64> v = whole();
  if (!v || *v < min || *v > max) fail(fmt::format("must be between {} and {} (got {})", min, max, j_->dump()));
  return *v;
}

double JsonNode::positive() const {
  if (!j_->is_number()) fail("must be a number");
  const double v = j_->get<double>();
  if (!std::isfinite(v) || v <= 0) fail(fmt::format("must be a positive number (got {})", v));
  return v;
}

double JsonNode::non_negative() const {
  if (!j_->is_number()) fail("must be a number");
  const double v = j_->get<double>();
  if (!std::isfinite(v) || v < 0) fail(fmt::format("must be a finite number >= 0 (got {})", v));
  return v;
}

bool JsonNode::boolean() const {
  if (!j_->is_boolean()) fail("must be true or false");
  return j_->get<bool>();
}

std::string JsonNode::str() const {
  if (!j_->is_string()) fail("must be a string");
  return j_->get<std::string>();
}

std::string JsonNode::str_or(std::string_view key, std::string def) const { return has(key) ? at(key).str() : def; }

u64 JsonNode::count_or(std::string_view key, u64 def) const { return has(key) ? at(key).count_or_zero() : def; }

JsonDoc::JsonDoc(std::unique_ptr<json> doc, std::string origin)
    : doc_(std::move(doc)), origin_(std::make_unique<const std::string>(std::move(origin))) {}
JsonDoc::JsonDoc(JsonDoc&&) noexcept = default;
JsonDoc::~JsonDoc() = default;

JsonNode JsonDoc::root() const { return JsonNode(*doc_, "", *origin_); }

JsonDoc json_parse(std::string_view text, std::string_view origin) {
  auto doc = std::make_unique<json>();
  try {
    *doc = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number too large for a double ("1e400"). nlohmann's
    // message carries the line and byte offset; keep it on one line.
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw InputError(fmt::format("{}: not valid JSON ({})", origin, what));
  }
  return JsonDoc(std::move(doc), std::string(origin));
}

std::string file_read_text(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a folder, not a {}", path.string(), what));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the {}", path.string(), what));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: cannot read the {}", path.string(), what));
  return ss.str();
}

bool json_has_top_key(std::string_view text, std::string_view key) {
  const json doc = json::parse(text, nullptr, false);
  return !doc.is_discarded() && doc.is_object() && doc.contains(std::string(key));
}

}  // namespace attnlab
