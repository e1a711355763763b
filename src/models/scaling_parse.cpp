#include "models/scaling_parse.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <string>

#include "util/errors.hpp"

namespace attnlab {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

[[noreturn]] void not_whole(std::string_view option, std::string_view text) {
  throw InputError(fmt::format("{} must be a whole number such as 4096, 1e6 or 2^20 (got '{}')", option, text));
}

[[noreturn]] void out_of_range(std::string_view option, u64 min, u64 max, std::string_view shown) {
  throw InputError(fmt::format("{} must be between {} and {} (got {})", option, min, max, shown));
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Digits to u128; false on overflow (a value past 128 bits is out of range for every option).
bool digits_value(std::string_view s, u128& out) {
  u128 v = 0;
  for (char c : s) {
    if (__builtin_mul_overflow(v, u128{10}, &v) || __builtin_add_overflow(v, u128(c - '0'), &v)) return false;
  }
  out = v;
  return true;
}

}  // namespace

u64 parse_whole(std::string_view raw, std::string_view option, u64 min, u64 max) {
  std::string text = trim(raw);
  std::string s;
  for (size_t i = 0; i < text.size(); ++i) {
    // '_' only between digits: "100_000".
    if (text[i] == '_' && i > 0 && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])))
      continue;
    s.push_back(text[i]);
  }
  bool negative = !s.empty() && s[0] == '-';
  std::string body = negative ? s.substr(1) : s;
  if (!body.empty() && body[0] == '+') body = body.substr(1);

  u128 value = 0;
  bool huge = false;  // parsed fine but past 128 bits: certainly above max
  if (all_digits(body)) {
    huge = !digits_value(body, value);
  } else if (auto caret = body.find('^'); caret != std::string::npos) {
    std::string base = body.substr(0, caret), exp = body.substr(caret + 1);
    u128 b = 0, e = 0;
    if (!all_digits(base) || !all_digits(exp) || !digits_value(base, b) || !digits_value(exp, e)) not_whole(option, text);
    if (b <= 1) {
      value = (b == 0 && e > 0) ? 0 : 1;
    } else {
      value = 1;  // b >= 2: at most 128 steps before overflow
      for (u128 i = 0; i < e && !huge; ++i) huge = __builtin_mul_overflow(value, b, &value);
    }
  } else {
    // Scientific: MANTISSA[.FRACTION]e[+]EXP, and it must come out whole.
    size_t epos = body.find_first_of("eE");
    if (epos == std::string::npos) not_whole(option, text);
    std::string mant = body.substr(0, epos), exps = body.substr(epos + 1);
    if (!exps.empty() && exps[0] == '+') exps = exps.substr(1);
    bool exp_negative = !exps.empty() && exps[0] == '-';
    if (exp_negative) exps = exps.substr(1);
    size_t dot = mant.find('.');
    std::string ip = mant.substr(0, dot), fp = dot == std::string::npos ? "" : mant.substr(dot + 1);
    if ((ip.empty() && fp.empty()) || (!ip.empty() && !all_digits(ip)) || (!fp.empty() && !all_digits(fp)) ||
        !all_digits(exps) || exps.size() > 4)
      not_whole(option, text);
    long scale = std::stol(exps) * (exp_negative ? -1 : 1) - static_cast<long>(fp.size());
    std::string digits = ip + fp;
    if (scale < 0) {
      // The last -scale digits must be zeros: 1.5e1 = 15 is whole, 1.5e0 is not.
      size_t drop = static_cast<size_t>(-scale);
      if (drop > digits.size()) drop = digits.size(), scale = 0;  // all zeros or not whole, checked below
      for (size_t i = digits.size() - drop; i < digits.size(); ++i)
        if (digits[i] != '0') not_whole(option, text);
      digits.resize(digits.size() - drop);
      if (digits.empty()) digits.push_back('0');
      scale = 0;
    }
    huge = !digits_value(digits, value);
    for (long i = 0; i < scale && !huge && value != 0; ++i) huge = __builtin_mul_overflow(value, u128{10}, &value);
  }

  if (negative && (huge || value != 0)) out_of_range(option, min, max, text);
  if (huge) out_of_range(option, min, max, text);
  if (value < min || value > max) out_of_range(option, min, max, text == to_string_u128(value) ? text : text + " = " + to_string_u128(value));
  return static_cast<u64>(value);
}

std::vector<u64> parse_whole_list(const std::vector<std::string>& items, std::string_view option, u64 min,
                                  u64 max) {
  std::vector<u64> out;
  for (const auto& item : items) out.push_back(parse_whole(item, option, min, max));
  if (out.empty()) throw InputError(fmt::format("{} needs at least one value", option));
  return out;
}

double parse_duration(std::string_view raw, std::string_view option) {
  std::string text = trim(raw);
  const char* begin = text.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin)
    throw InputError(fmt::format("{} must be a duration such as 1s, 250ms or 2min (got '{}')", option, text));
  std::string unit = trim(std::string_view(end));
  double scale = 0;
  if (unit.empty() || unit == "s" || unit == "sec") scale = 1;
  else if (unit == "ms") scale = 1e-3;
  else if (unit == "us" || unit == "µs") scale = 1e-6;
  else if (unit == "ns") scale = 1e-9;
  else if (unit == "min") scale = 60;
  else if (unit == "h") scale = 3600;
  else
    throw InputError(fmt::format("{} must be a duration such as 1s, 250ms or 2min (got '{}')", option, text));
  double seconds = v * scale;
  if (!std::isfinite(seconds) || seconds <= 0)
    throw InputError(fmt::format("{} must be a positive duration (got '{}')", option, text));
  return seconds;
}

}  // namespace attnlab
