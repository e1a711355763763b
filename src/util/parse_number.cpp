#include "util/parse_number.hpp"

#include <cctype>
#include <fmt/format.h>

#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

// Digits to u128; false past 128 bits.
bool digits_value(std::string_view s, u128& out) {
  u128 v = 0;
  for (char c : s)
    if (__builtin_mul_overflow(v, u128{10}, &v) || __builtin_add_overflow(v, u128(c - '0'), &v)) return false;
  out = v;
  return true;
}

// BASE^EXP; b >= 2 overflows within 128 steps, so the loop is short.
std::optional<WholeNumber> read_power(std::string_view base, std::string_view exp) {
  u128 b = 0, e = 0;
  if (!all_digits(base) || !all_digits(exp) || !digits_value(base, b) || !digits_value(exp, e)) return std::nullopt;
  WholeNumber w;
  if (b <= 1) {
    w.value = (b == 0 && e > 0) ? 0 : 1;
    return w;
  }
  w.value = 1;
  for (u128 i = 0; i < e && !w.huge; ++i) w.huge = __builtin_mul_overflow(w.value, b, &w.value);
  return w;
}

// MANTISSA[.FRACTION][e[+-]EXP][K|M|k], which must come out whole.
std::optional<WholeNumber> read_decimal(std::string_view body) {
  u128 unit = 1;
  if (!body.empty() && (body.back() == 'K' || body.back() == 'M' || body.back() == 'k')) {
    unit = body.back() == 'K' ? 1024 : body.back() == 'M' ? 1024 * 1024 : 1000;
    body.remove_suffix(1);
  }
  const size_t epos = body.find_first_of("eE");
  std::string_view mant = body.substr(0, epos), exps = epos == std::string_view::npos ? "" : body.substr(epos + 1);
  bool exp_negative = false;
  if (epos != std::string_view::npos) {
    if (!exps.empty() && (exps[0] == '+' || exps[0] == '-')) exp_negative = exps[0] == '-', exps.remove_prefix(1);
    if (!all_digits(exps) || exps.size() > 4) return std::nullopt;
  }
  const size_t dot = mant.find('.');
  std::string_view ip = mant.substr(0, dot), fp = dot == std::string_view::npos ? "" : mant.substr(dot + 1);
  if ((ip.empty() && fp.empty()) || (!ip.empty() && !all_digits(ip)) || (!fp.empty() && !all_digits(fp)))
    return std::nullopt;
  long scale = (exps.empty() ? 0 : std::stol(std::string(exps))) * (exp_negative ? -1 : 1) - static_cast<long>(fp.size());
  std::string digits = std::string(ip) + std::string(fp);
  // Trailing zeros against a negative scale first: "1000e-3" is 1 whatever the digit count.
  while (scale < 0 && digits.size() > 1 && digits.back() == '0') digits.pop_back(), ++scale;
  WholeNumber w;
  w.huge = !digits_value(digits, w.value) || __builtin_mul_overflow(w.value, unit, &w.value);
  if (w.huge || w.value == 0) return w;
  for (; scale > 0 && !w.huge; --scale) w.huge = __builtin_mul_overflow(w.value, u128{10}, &w.value);
  if (scale < 0) {
    // What is left must divide by 10^-scale: 1.5K = 15 x 1024 / 10 = 1536 is whole, 1.5e0 is not.
    for (; scale < 0; ++scale) {
      if (w.value % 10 != 0) return std::nullopt;
      w.value /= 10;
    }
  }
  return w;
}

}  // namespace

std::optional<WholeNumber> whole_number_read(std::string_view raw) {
  const std::string_view text = trim(raw);
  std::string s;
  for (size_t i = 0; i < text.size(); ++i) {
    // '_' only between digits: "100_000".
    if (text[i] == '_' && i > 0 && i + 1 < text.size() && is_digit(text[i - 1]) && is_digit(text[i + 1])) continue;
    s.push_back(text[i]);
  }
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) negative = body[0] == '-', body.remove_prefix(1);
  const size_t caret = body.find('^');
  std::optional<WholeNumber> w =
      caret != std::string_view::npos ? read_power(body.substr(0, caret), body.substr(caret + 1)) : read_decimal(body);
  if (w) w->negative = negative && (w->huge || w->value != 0);
  return w;
}

u64 parse_whole(std::string_view raw, std::string_view what, u64 min, u64 max) {
  const std::string text(trim(raw));
  const std::optional<WholeNumber> w = whole_number_read(text);
  if (!w) throw InputError(fmt::format("{} must be a whole number such as 4096, 1e6 or 2^20 (got '{}')", what, text));
  if (w->negative || w->huge || w->value < min || w->value > max) {
    const std::string digits = to_string_u128(w->value);
    const std::string shown = w->negative || w->huge || text == digits ? text : text + " = " + digits;
    throw InputError(fmt::format("{} must be between {} and {} (got {})", what, min, max, shown));
  }
  return static_cast<u64>(w->value);
}

std::vector<u64> parse_whole_list(const std::vector<std::string>& items, std::string_view what, u64 min, u64 max) {
  std::vector<u64> out;
  for (const auto& item : items) out.push_back(parse_whole(item, what, min, max));
  if (out.empty()) throw InputError(fmt::format("{} needs at least one value", what));
  return out;
}

}  // namespace attnlab
