#include "util/units.hpp"

#include <cmath>
#include <fmt/format.h>

namespace attnlab {

namespace {
// Three significant digits: "1.50", "15.0", "150".
std::string sig3(double v) {
  if (v >= 100.0) return fmt::format("{:.0f}", v);
  if (v >= 10.0) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}
}  // namespace

std::string format_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (bytes < 1024.0) return fmt::format("{:.0f} B", bytes);
  int u = 0;
  while (bytes >= 1024.0 && u < 8) {
    bytes /= 1024.0;
    ++u;
  }
  return sig3(bytes) + " " + units[u];
}

std::string format_bytes(u128 bytes) { return format_bytes(to_double(bytes)); }

std::string format_seconds(double s) {
  if (std::isnan(s)) return "nan";  // never dress an undefined time up as "inf"
  if (!std::isfinite(s)) return "inf";
  if (s <= 0.0) return "0 s";
  if (s < 1e-6) return sig3(s * 1e9) + " ns";
  if (s < 1e-3) return sig3(s * 1e6) + " µs";
  if (s < 1.0) return sig3(s * 1e3) + " ms";
  if (s < 1000.0) return sig3(s) + " s";
  return fmt::format("{:.3g} s", s);
}

std::string format_rate(double v, const char* unit) {
  static const char* prefixes[] = {"", "K", "M", "G", "T", "P", "E"};
  int p = 0;
  while (v >= 1000.0 && p < 6) {
    v /= 1000.0;
    ++p;
  }
  return sig3(v) + " " + prefixes[p] + unit;
}

std::string format_flops(u128 flops) {
  static const char* prefixes[] = {"", "K", "M", "G", "T", "P", "E", "Z", "Y"};
  double v = to_double(flops);
  if (v < 1000.0) return fmt::format("{:.0f} FLOP", v);
  int p = 0;
  while (v >= 1000.0 && p < 8) {
    v /= 1000.0;
    ++p;
  }
  return sig3(v) + " " + prefixes[p] + "FLOP";
}

std::string format_count(u128 n) {
  std::string digits = to_string_u128(n);
  std::string out;
  int since = static_cast<int>(digits.size()) % 3;
  if (since == 0) since = 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && since == 0) {
      out.push_back(',');
      since = 3;
    }
    out.push_back(digits[i]);
    --since;
  }
  return out;
}

std::string format_ratio(double r) {
  if (!std::isfinite(r)) return "-";
  if (r >= 100.0) return fmt::format("{:.0f}x", r);
  if (r >= 10.0) return fmt::format("{:.1f}x", r);
  return fmt::format("{:.2f}x", r);
}

}  // namespace attnlab
