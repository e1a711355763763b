#include "util/checked.hpp"

#include <algorithm>

namespace attnlab {

void throw_overflow(std::string_view what) {
  throw OverflowError(std::string(what) +
                      " overflows 128-bit exact arithmetic: the configuration is too large to count exactly");
}

u64 to_u64(u128 v, std::string_view what) {
  if (v > static_cast<u128>(UINT64_MAX)) {
    throw OverflowError(std::string(what) + " = " + to_string_u128(v) + " does not fit 64 bits");
  }
  return static_cast<u64>(v);
}

std::string to_string_u128(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace attnlab
