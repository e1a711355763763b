// A small seeded random generator for the serving simulations (paged, specdec): SplitMix64
// (Steele, Lea & Flood 2014). Ours rather than <random>'s distributions because the standard leaves
// those implementation-defined: the same seed must give the same stream on every compiler, so that
// tests can hold exact values and the dashboard can replay a run.
#pragma once
#include <cmath>
#include <cstdint>

namespace attnlab {

class SimRandom {
 public:
  explicit SimRandom(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next_u64() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform integer in [lo, hi] (inclusive), by rejection so that no value is favoured.
  std::uint64_t uniform_int(std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t span = hi - lo + 1;
    if (span == 0) return next_u64();  // the whole 64-bit range
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % span);
    std::uint64_t x;
    do x = next_u64();
    while (x >= limit);
    return lo + x % span;
  }
  // Standard normal by Box-Muller (one of the pair; simple beats fast here).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

}  // namespace attnlab
