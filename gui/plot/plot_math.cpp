#include "plot/plot_math.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <utility>

namespace attnlab::plot {

namespace {
constexpr double kEps = 1e-9;

double log_b(double v, int base) { return std::log(v) / std::log(static_cast<double>(base)); }

// "2.5", "12.5", "120", "0.05": at most three significant digits, no trailing zeros.
std::string short_num(double x) {
  if (x == 0) return "0";
  const double ax = std::fabs(x);
  std::string s = ax >= 100 ? fmt::format("{:.0f}", x) : fmt::format("{:.3g}", x);
  if (s.find('e') == std::string::npos && s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// Four significant digits for tooltips: "1.234", "12.35", "1235".
std::string num4(double x) {
  if (x == 0) return "0";
  const double ax = std::fabs(x);
  if (ax >= 1000) return fmt::format("{:.0f}", x);
  if (ax >= 100) return fmt::format("{:.1f}", x);
  if (ax >= 10) return fmt::format("{:.2f}", x);
  if (ax >= 0.001) return fmt::format("{:.3f}", x);
  return fmt::format("{:.3g}", x);
}

// Integers with thousands separators: "16,384".
std::string grouped(double v) {
  const bool neg = v < 0;
  const auto n = static_cast<unsigned long long>(std::llround(std::fabs(v)));
  std::string d = std::to_string(n), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i != 0 && (d.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(d[i]);
  }
  return neg ? "-" + out : out;
}

bool is_integer(double v) { return std::fabs(v - std::round(v)) < 1e-9 * std::max(1.0, std::fabs(v)); }

// Splits |v| into a mantissa and a prefix index for steps of `base` (1000 or 1024).
template <typename Fmt>
std::string prefixed(double v, double base, const char* const* prefixes, int count, const char* sep,
                     const char* unit, Fmt num) {
  const bool neg = v < 0;
  double a = std::fabs(v);
  int p = 0;
  while (a >= base * (1 - kEps) && p < count - 1) {
    a /= base;
    ++p;
  }
  return (neg ? "-" : "") + num(a) + sep + prefixes[p] + unit;
}

const char* const kSi[] = {"", "K", "M", "G", "T", "P", "E"};
const char* const kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

std::string seconds_label(double s, std::string (*num)(double)) {
  const double a = std::fabs(s);
  if (a == 0) return "0 s";
  if (a < 1e-6 * (1 - kEps)) return num(s * 1e9) + " ns";
  if (a < 1e-3 * (1 - kEps)) return num(s * 1e6) + " µs";
  if (a < 1 * (1 - kEps)) return num(s * 1e3) + " ms";
  return num(s) + " s";
}

std::string tokens_label(double v) {
  // K and M only where they are exact (4096 -> "4K"), else the plain number.
  const double a = std::fabs(v);
  if (a >= 1048576 && is_integer(v / 1048576 * 4)) return short_num(v / 1048576) + "M";
  if (a >= 1024 && is_integer(v / 1024 * 4)) return short_num(v / 1024) + "K";
  if (a >= 100000) return short_num(v / 1000) + "k";
  return short_num(v);
}

// The factor a linear axis' nice steps are taken in: binary units step in KiB, MiB ..., so that
// ticks land on 1 MiB, 1.5 MiB rather than on 1,000,000 B.
double linear_unit_factor(const Axis& a) {
  if (a.unit != Unit::bytes && a.unit != Unit::tokens) return 1;
  const double m = std::max(std::fabs(a.lo), std::fabs(a.hi));
  double f = 1;
  while (m / f >= 2048) f *= 1024;
  return f;
}

// The step of a linear axis over `span`: token counts step in powers of two (4K, 8K, 12K), so that
// the ticks land on the lengths people use; everything else in nice_step's 1-2-5 (of KiB, MiB for
// bytes).
double linear_step(const Axis& a, double span, int max_major) {
  if (a.unit == Unit::tokens && span / max_major >= 1)
    return std::pow(2.0, std::ceil(std::log2(span / max_major) - kEps));
  const double f = linear_unit_factor(a);
  return nice_step(span / f, max_major) * f;
}

std::vector<Tick> linear_ticks(const Axis& a, int max_major) {
  std::vector<Tick> out;
  const double lo = std::min(a.lo, a.hi), hi = std::max(a.lo, a.hi);
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  const double step = linear_step(a, hi - lo, max_major);
  const double first = std::ceil(lo / step - kEps);
  for (double k = first;; k += 1) {
    double v = k * step;
    if (v > hi + step * kEps) break;
    if (std::fabs(v) < step * kEps) v = 0;
    out.push_back({v, true, format_tick(v, a.unit)});
    if (out.size() > 1000) break;  // guard against a degenerate step
  }
  return out;
}

std::vector<Tick> log_ticks(const Axis& a, int max_major) {
  std::vector<Tick> out;
  const int base = a.log_base == 2 ? 2 : 10;
  const double lo = std::min(a.lo, a.hi), hi = std::max(a.lo, a.hi);
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return out;
  const int e0 = static_cast<int>(std::ceil(log_b(lo, base) - kEps));
  const int e1 = static_cast<int>(std::floor(log_b(hi, base) + kEps));
  const int n = e1 - e0 + 1;
  if (n < 2) {
    // Less than two whole powers in view: nice linear steps read better than one lonely label.
    Axis lin = a;
    lin.scale = Scale::linear;
    auto t = linear_ticks(lin, max_major);
    t.erase(std::remove_if(t.begin(), t.end(), [](const Tick& x) { return x.value <= 0; }), t.end());
    return t;
  }
  int k = std::max(1, (n + max_major - 1) / std::max(1, max_major));
  if (base == 2 && a.unit == Unit::bytes && k > 1) {
    // Bytes label best on whole binary prefixes (1 KiB, 1 MiB) or halves of them.
    for (int c : {2, 5, 10, 20, 30})
      if (c >= k) {
        k = c;
        break;
      }
  }
  for (int e = e0; e <= e1; ++e) {
    const double v = std::pow(static_cast<double>(base), e);
    const bool major = ((e % k) + k) % k == 0;
    out.push_back({v, major, major ? format_tick(v, a.unit) : std::string()});
    if (base == 10 && k == 1 && n <= 6) {
      for (int m = 2; m <= 9; ++m) {
        const double w = m * v;
        if (w > hi * (1 + kEps)) break;
        out.push_back({w, false, {}});
      }
    }
  }
  if (base == 10 && k == 1 && n <= 6) {
    // Minors below the first decade.
    const double below = std::pow(10.0, e0 - 1);
    for (int m = 2; m <= 9; ++m)
      if (m * below >= lo * (1 - kEps)) out.push_back({m * below, false, {}});
    std::sort(out.begin(), out.end(), [](const Tick& x, const Tick& y) { return x.value < y.value; });
  }
  return out;
}
}  // namespace

double axis_to_unit(const Axis& a, double v) {
  if (a.scale == Scale::log) {
    if (!(v > 0) || !(a.lo > 0) || !(a.hi > 0)) return std::numeric_limits<double>::quiet_NaN();
    const double l0 = std::log(a.lo), l1 = std::log(a.hi);
    return l1 == l0 ? 0.5 : (std::log(v) - l0) / (l1 - l0);
  }
  return a.hi == a.lo ? 0.5 : (v - a.lo) / (a.hi - a.lo);
}

double axis_from_unit(const Axis& a, double t) {
  if (a.scale == Scale::log) return std::exp(std::log(a.lo) + t * (std::log(a.hi) - std::log(a.lo)));
  return a.lo + t * (a.hi - a.lo);
}

double axis_to_pixel(const Axis& a, double v, double p0, double p1) { return p0 + axis_to_unit(a, v) * (p1 - p0); }

double nice_step(double span, int max_ticks) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  max_ticks = std::max(1, max_ticks);
  const double raw = span / max_ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw * (1 - kEps)) return m * p;
  return 10 * p;
}

std::vector<Tick> axis_ticks(const Axis& a, int max_major) {
  max_major = std::max(1, max_major);
  return a.scale == Scale::log ? log_ticks(a, max_major) : linear_ticks(a, max_major);
}

int ticks_for_length(double pixels, double spacing) {
  if (!(spacing > 0)) return 2;
  return std::max(2, static_cast<int>(pixels / spacing));
}

std::string format_tick(double v, Unit u) {
  if (!std::isfinite(v)) return "-";
  switch (u) {
    case Unit::none: return std::fabs(v) >= 1e5 ? fmt::format("{:.0e}", v) : short_num(v);
    case Unit::count: return prefixed(v, 1000, kSi, 7, "", "", short_num);
    case Unit::tokens: return tokens_label(v);
    case Unit::bytes: return prefixed(v, 1024, kBin, 7, " ", "B", short_num);
    case Unit::seconds: return seconds_label(v, short_num);
    case Unit::flops: return prefixed(v, 1000, kSi, 7, " ", "FLOP", short_num);
    case Unit::flop_rate: return prefixed(v, 1000, kSi, 7, " ", "FLOP/s", short_num);
    case Unit::byte_rate: return prefixed(v, 1000, kSi, 7, " ", "B/s", short_num);
    case Unit::flop_per_byte: return short_num(v);
    case Unit::ratio: return short_num(v) + "x";
    case Unit::percent: return short_num(v * 100) + "%";
  }
  return short_num(v);
}

std::string format_value(double v, Unit u) {
  if (!std::isfinite(v)) return "-";
  switch (u) {
    case Unit::none: return std::fabs(v) >= 1e6 ? fmt::format("{:.4g}", v) : num4(v);
    case Unit::count:
    case Unit::tokens:
      if (is_integer(v) && std::fabs(v) < 1e15) return grouped(v);
      return prefixed(v, 1000, kSi, 7, " ", "", num4);
    case Unit::bytes:
      if (std::fabs(v) < 1024) return grouped(v) + " B";
      return prefixed(v, 1024, kBin, 7, " ", "B", num4);
    case Unit::seconds: return seconds_label(v, num4);
    case Unit::flops: return prefixed(v, 1000, kSi, 7, " ", "FLOP", num4);
    case Unit::flop_rate: return prefixed(v, 1000, kSi, 7, " ", "FLOP/s", num4);
    case Unit::byte_rate: return prefixed(v, 1000, kSi, 7, " ", "B/s", num4);
    case Unit::flop_per_byte: return num4(v) + " FLOP/B";
    case Unit::ratio: return num4(v) + "x";
    case Unit::percent: return num4(v * 100) + "%";
  }
  return num4(v);
}

Range fit_range(double min, double max, const Axis& a, bool include_zero) {
  if (!std::isfinite(min) || !std::isfinite(max)) return {a.lo, a.hi};
  if (min > max) std::swap(min, max);
  if (a.scale == Scale::log) {
    const int base = a.log_base == 2 ? 2 : 10;
    if (!(max > 0)) return {1, static_cast<double>(base)};
    if (!(min > 0)) min = max / 1e3;
    double lo = std::pow(base, std::floor(log_b(min, base) + kEps));
    double hi = std::pow(base, std::ceil(log_b(max, base) - kEps));
    if (hi <= lo) hi = lo * base;
    return {lo, hi};
  }
  if (include_zero) {
    min = std::min(min, 0.0);
    max = std::max(max, 0.0);
  }
  if (max == min) {
    const double pad = min == 0 ? 1 : std::fabs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  Axis tmp = a;
  tmp.lo = min;
  tmp.hi = max;
  const double step = linear_step(tmp, max - min, 5);
  return {std::floor(min / step + kEps) * step, std::ceil(max / step - kEps) * step};
}

int nearest_point(const std::vector<double>& xs, const std::vector<double>& ys, double px, double py, double radius) {
  int best = -1;
  double best_d2 = radius * radius;
  const size_t n = std::min(xs.size(), ys.size());
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    const double dx = xs[i] - px, dy = ys[i] - py, d2 = dx * dx + dy * dy;
    if (d2 <= best_d2) {
      best_d2 = d2;
      best = static_cast<int>(i);
    }
  }
  return best;
}

bool box_hits_segment(const Box& b, double ax, double ay, double bx, double by, double pad) {
  // Liang-Barsky: clip the segment's parameter range [0, 1] against the four sides of the widened box.
  const double x0 = b.x0 - pad, y0 = b.y0 - pad, x1 = b.x1 + pad, y1 = b.y1 + pad;
  const double dx = bx - ax, dy = by - ay;
  double t0 = 0, t1 = 1;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {ax - x0, x1 - ax, ay - y0, y1 - ay};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;  // parallel to this side and outside it
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) t0 = std::max(t0, t);
    else t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}

bool box_hits_polyline(const Box& b, const Polyline& p) {
  const size_t n = std::min(p.x.size(), p.y.size());
  bool have_prev = false;
  double px = 0, py = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = p.x[i], y = p.y[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      have_prev = false;
      continue;
    }
    if (p.joined && have_prev ? box_hits_segment(b, px, py, x, y, p.halo) : box_hits_segment(b, x, y, x, y, p.halo))
      return true;
    px = x;
    py = y;
    have_prev = true;
  }
  return false;
}

bool boxes_overlap(const Box& a, const Box& b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; }

LegendSpot legend_place(const Box& area, double w, double h, double margin, Corner preferred, const std::vector<Polyline>& data,
                        const std::vector<Box>& soft) {
  const double x_lo = area.x0 + margin, x_hi = area.x1 - margin - w;
  const double y_lo = area.y0 + margin, y_hi = area.y1 - margin - h;
  if (x_hi < x_lo || y_hi < y_lo) return {};  // the legend is larger than the plot
  auto corner_xy = [&](Corner c) {
    const bool right = c == Corner::top_right || c == Corner::bottom_right;
    const bool bottom = c == Corner::bottom_left || c == Corner::bottom_right;
    return std::pair<double, double>(right ? x_hi : x_lo, bottom ? y_hi : y_lo);
  };
  // Candidates in order of preference: the preferred corner, the other corners, then a grid of
  // spots sorted by distance from the preferred corner.
  std::vector<std::pair<double, double>> spots;
  spots.push_back(corner_xy(preferred));
  for (Corner c : {Corner::top_left, Corner::top_right, Corner::bottom_right, Corner::bottom_left})
    if (c != preferred) spots.push_back(corner_xy(c));
  constexpr int kGrid = 8;
  std::vector<std::pair<double, double>> grid;
  for (int i = 0; i <= kGrid; ++i)
    for (int j = 0; j <= kGrid; ++j) grid.emplace_back(x_lo + (x_hi - x_lo) * i / kGrid, y_lo + (y_hi - y_lo) * j / kGrid);
  const auto home = corner_xy(preferred);
  std::stable_sort(grid.begin(), grid.end(), [&](const auto& a, const auto& b) {
    return std::hypot(a.first - home.first, a.second - home.second) < std::hypot(b.first - home.first, b.second - home.second);
  });
  spots.insert(spots.end(), grid.begin(), grid.end());

  LegendSpot best;
  size_t best_soft = std::numeric_limits<size_t>::max();
  for (const auto& [x, y] : spots) {
    const Box b{x, y, x + w, y + h};
    if (std::any_of(data.begin(), data.end(), [&](const Polyline& p) { return box_hits_polyline(b, p); })) continue;
    const size_t hits = static_cast<size_t>(std::count_if(soft.begin(), soft.end(), [&](const Box& s) { return boxes_overlap(b, s); }));
    if (hits < best_soft) {
      best_soft = hits;
      best = {true, b};
      if (hits == 0) break;
    }
  }
  return best;
}

}  // namespace attnlab::plot
