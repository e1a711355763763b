#include "models/position.hpp"

#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "util/errors.hpp"

namespace attnlab {

namespace {
void check_pair(u64 pair, u64 head_dim) {
  if (head_dim == 0 || head_dim % 2 != 0)
    throw InputError(fmt::format("--head-dim must be even and at least 2 for RoPE (got {})", head_dim));
  if (pair >= head_dim / 2)
    throw InputError(fmt::format("--pair must be below head_dim/2 = {} (got {})", head_dim / 2, pair));
}

// Slopes for a power of two: start = 2^(−8/n), each next one times start.
std::vector<double> slopes_pow2(u64 n) {
  std::vector<double> s;
  const double start = std::pow(2.0, -8.0 / static_cast<double>(n));
  double v = start;
  for (u64 i = 0; i < n; ++i, v *= start) s.push_back(v);
  return s;
}
}  // namespace

double rope_theta(u64 pair, u64 head_dim, double base) {
  check_pair(pair, head_dim);
  return std::pow(base, -2.0 * static_cast<double>(pair) / static_cast<double>(head_dim));
}

double rope_wavelength(u64 pair, u64 head_dim, double base) {
  return 2 * std::numbers::pi / rope_theta(pair, head_dim, base);
}

std::array<double, 2> rope_rotate(double x0, double x1, double pos, double theta) {
  const double a = pos * theta, c = std::cos(a), s = std::sin(a);
  return {x0 * c - x1 * s, x0 * s + x1 * c};
}

double rope_pair_score(std::array<double, 2> q, std::array<double, 2> k, double m, double n, double theta) {
  const auto qr = rope_rotate(q[0], q[1], m, theta), kr = rope_rotate(k[0], k[1], n, theta);
  return qr[0] * kr[0] + qr[1] * kr[1];
}

double rope_score(const std::vector<double>& q, const std::vector<double>& k, double m, double n, double base) {
  if (q.size() != k.size() || q.size() % 2 != 0 || q.empty())
    throw InputError(fmt::format("RoPE needs query and key of the same even size (got {} and {})", q.size(), k.size()));
  double s = 0;
  const u64 d = q.size();
  for (u64 i = 0; i < d / 2; ++i)
    s += rope_pair_score({q[2 * i], q[2 * i + 1]}, {k[2 * i], k[2 * i + 1]}, m, n, rope_theta(i, d, base));
  return s;
}

std::vector<double> rope_ones_score(u64 head_dim, u64 max_offset, double base) {
  check_pair(0, head_dim);
  std::vector<double> out;
  const std::vector<double> ones(head_dim, 1.0);
  for (u64 t = 0; t <= max_offset; ++t) out.push_back(rope_score(ones, ones, static_cast<double>(t), 0, base));
  return out;
}

std::vector<double> alibi_slopes(u64 heads) {
  if (heads == 0) throw InputError("--heads must be at least 1 for ALiBi (got 0)");
  if ((heads & (heads - 1)) == 0) return slopes_pow2(heads);
  u64 p = 1;
  while (p * 2 < heads) p *= 2;  // the largest power of two below heads
  std::vector<double> s = slopes_pow2(p);
  const std::vector<double> next = slopes_pow2(2 * p);
  for (u64 i = 0; s.size() < heads; i += 2) s.push_back(next[i]);
  return s;
}

double alibi_bias(double slope, u64 q, u64 k) {
  return -slope * (static_cast<double>(q) - static_cast<double>(k));
}

}  // namespace attnlab
