#include "models/scaling_count.hpp"

#include <fmt/format.h>

#include "util/units.hpp"

namespace attnlab {

Count Count::rounded(long double v) {
  Count c;
  c.exact_ = false;
  c.value_ = 0;
  c.approx_ = v;
  return c;
}

u128 Count::value() const {
  if (!exact_)
    throw OverflowError(fmt::format("a count of about {:.3e} overflows 128-bit exact arithmetic", approx_));
  return value_;
}

Count operator*(const Count& a, const Count& b) {
  u128 r;
  if (a.exact_ && b.exact_ && !__builtin_mul_overflow(a.value_, b.value_, &r)) return Count(r);
  return Count::rounded(a.approx_ * b.approx_);
}

Count operator+(const Count& a, const Count& b) {
  u128 r;
  if (a.exact_ && b.exact_ && !__builtin_add_overflow(a.value_, b.value_, &r)) return Count(r);
  return Count::rounded(a.approx_ + b.approx_);
}

bool operator==(const Count& a, const Count& b) {
  if (a.exact_ != b.exact_) return false;
  return a.exact_ ? a.value_ == b.value_ : a.approx_ == b.approx_;
}

std::string count_text(const Count& c) {
  if (c.exact()) return to_string_u128(c.value());
  return fmt::format("≈{:.2e}", c.approx());
}

std::string count_raw(const Count& c) {
  if (c.exact()) return to_string_u128(c.value());
  return fmt::format("{:.9e}", c.approx());
}

PerLayer PerLayer::uniform(const Count& per_layer, u64 layers) {
  return PerLayer{per_layer * Count(u128{layers}), layers};
}

std::optional<u128> PerLayer::mean_exact() const {
  if (!total.exact() || layers == 0) return std::nullopt;
  u128 t = total.value();
  if (t % layers != 0) return std::nullopt;
  return t / layers;
}

long double PerLayer::mean_approx() const { return total.approx() / static_cast<long double>(layers); }

namespace {
// Exact total, fractional mean: the whole part and `places` decimals by long division.
// Returns the text and whether the decimals are exact (the remainder ran out).
std::pair<std::string, bool> decimal_mean(u128 total, u64 layers, int places, bool separators) {
  u128 whole = total / layers;
  u128 rem = total % layers;
  std::string frac;
  for (int i = 0; i < places; ++i) {
    rem *= 10;
    frac.push_back(static_cast<char>('0' + static_cast<int>(rem / layers)));
    rem %= layers;
  }
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string text = separators ? format_count(whole) : to_string_u128(whole);
  if (!frac.empty()) text += "." + frac;
  return {text, rem == 0};
}
}  // namespace

std::string per_layer_text(const PerLayer& p) {
  if (!p.total.exact()) return fmt::format("≈{:.2e}", p.mean_approx());
  auto [text, exact] = decimal_mean(p.total.value(), p.layers, 2, true);
  return exact ? text : "≈" + text;
}

std::string per_layer_raw(const PerLayer& p) {
  if (!p.total.exact()) return fmt::format("{:.9e}", p.mean_approx());
  return decimal_mean(p.total.value(), p.layers, 10, false).first;
}

}  // namespace attnlab
