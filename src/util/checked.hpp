// Checked, exact integer arithmetic for byte, FLOP and step counts.
//
// Counts use 128-bit unsigned integers: B·H = 2^20 heads of N = 2^24 tokens give 2^68 score
// entries, past 64 bits. Every multiply and add is checked; past 128 bits we throw an
// OverflowError naming what was being counted instead of wrapping around.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "util/errors.hpp"

namespace attnlab {

__extension__ typedef unsigned __int128 u128;
using u64 = std::uint64_t;

inline constexpr u128 u128_max = ~u128{0};

[[noreturn]] void throw_overflow(std::string_view what);

inline u128 cmul(u128 a, u128 b, std::string_view what = "count") {
  u128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw_overflow(what);
  return r;
}
inline u128 cadd(u128 a, u128 b, std::string_view what = "count") {
  u128 r;
  if (__builtin_add_overflow(a, b, &r)) throw_overflow(what);
  return r;
}
inline u128 csub(u128 a, u128 b, std::string_view what = "count") {
  if (b > a) throw_overflow(std::string(what) + " (negative)");
  return a - b;
}
// Product of several factors, checked at each step.
template <typename... T>
u128 cprod(std::string_view what, u128 first, T... rest) {
  u128 r = first;
  ((r = cmul(r, static_cast<u128>(rest), what)), ...);
  return r;
}
// ceil(a / b) without forming a + b - 1, which wraps for a near 2^128 (b = 0 gives 0).
inline u128 ceil_div(u128 a, u128 b) { return b == 0 ? 0 : a / b + (a % b != 0 ? 1 : 0); }
// Bytes that hold `bits` (a 4-bit KV cache entry rounds up to whole bytes per tensor, not per value).
inline u128 bits_to_bytes(u128 bits) { return ceil_div(bits, 8); }

// Narrowing with a check: for APIs (JSON doubles, loop bounds) that need 64 bits.
u64 to_u64(u128 v, std::string_view what);

// Decimal digits of a 128-bit value ("340282366920938463463374607431768211455" at most).
std::string to_string_u128(u128 v);
// Lossy, for rates and plots only: never for a count shown as exact.
inline double to_double(u128 v) { return static_cast<double>(v); }

}  // namespace attnlab
