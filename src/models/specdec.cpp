#include "models/specdec.hpp"

#include <cmath>
#include <fmt/format.h>

namespace attnlab {

void specdec_validate(const SpecDecParams& p) {
  // alpha = 1 would make every pass accept all drafts: the closed form divides by 1 - alpha.
  if (!std::isfinite(p.alpha) || p.alpha < 0.0 || p.alpha >= 1.0)
    throw InputError(fmt::format("--alpha must be in [0, 1) (got {})", p.alpha));
  if (p.gamma > 1024) throw InputError(fmt::format("--gamma must be between 0 and 1024 (got {})", p.gamma));
  if (!std::isfinite(p.c) || p.c < 0.0 || p.c > 100.0)
    throw InputError(fmt::format("--c must be between 0 and 100 (got {})", p.c));
}

double specdec_expected_tokens(double alpha, u64 gamma) {
  // (1 - a^(g+1)) / (1 - a) = 1 + a + ... + a^g; the sum avoids 0/0 at a = 0 and is exact enough.
  double sum = 0, term = 1;
  for (u64 i = 0; i <= gamma; ++i) {
    sum += term;
    term *= alpha;
  }
  return sum;
}

double specdec_speedup(const SpecDecParams& p) {
  return specdec_expected_tokens(p.alpha, p.gamma) / (static_cast<double>(p.gamma) * p.c + 1.0);
}

double specdec_tokens_pmf(double alpha, u64 gamma, u64 k) {
  if (k < 1 || k > gamma + 1) return 0.0;
  double ak = std::pow(alpha, static_cast<double>(k - 1));
  return k <= gamma ? ak * (1.0 - alpha) : ak;
}

double specdec_tokens_variance(double alpha, u64 gamma) {
  double m1 = 0, m2 = 0;
  for (u64 k = 1; k <= gamma + 1; ++k) {
    double p = specdec_tokens_pmf(alpha, gamma, k);
    m1 += p * static_cast<double>(k);
    m2 += p * static_cast<double>(k) * static_cast<double>(k);
  }
  return m2 - m1 * m1;
}

std::vector<SpecDecGammaRow> specdec_gamma_table(double alpha, double c, u64 max_gamma) {
  std::vector<SpecDecGammaRow> rows;
  for (u64 g = 0; g <= max_gamma; ++g) {
    SpecDecParams p{alpha, g, c};
    rows.push_back({g, specdec_expected_tokens(alpha, g), specdec_speedup(p)});
  }
  return rows;
}

u64 specdec_best_gamma(double alpha, double c, u64 max_gamma) {
  u64 best = 1;
  double best_s = -1;
  for (u64 g = 1; g <= max_gamma; ++g) {
    double s = specdec_speedup({alpha, g, c});
    if (s > best_s * (1 + 1e-12)) {  // strictly better: ties keep the smaller gamma
      best_s = s;
      best = g;
    }
  }
  return best;
}

SpecDecSim::SpecDecSim(const SpecDecParams& p, std::uint64_t seed) : p_(p), rng_(seed) { specdec_validate(p); }

SpecDecStep SpecDecSim::step() {
  SpecDecStep s;
  s.index = passes_;
  s.drafts.assign(p_.gamma, DraftOutcome::discarded);
  bool rejected = false;
  for (u64 i = 0; i < p_.gamma && !rejected; ++i) {
    // The paper's model: each draft token passes the target's check with probability alpha,
    // independently of the others; the first failure ends the run.
    if (rng_.uniform() < p_.alpha) {
      s.drafts[i] = DraftOutcome::accepted;
      ++s.accepted;
    } else {
      s.drafts[i] = DraftOutcome::rejected;
      rejected = true;
    }
  }
  s.bonus = !rejected;
  s.emitted = s.accepted + 1;  // the target's token at the first rejection, or the bonus token
  s.cost = static_cast<double>(p_.gamma) * p_.c + 1.0;
  ++passes_;
  tokens_ += s.emitted;
  s.tokens_so_far = tokens_;
  s.cost_so_far = static_cast<double>(passes_) * s.cost;
  return s;
}

SpecDecMonteCarlo specdec_monte_carlo(const SpecDecParams& p, u64 passes, std::uint64_t seed) {
  specdec_validate(p);
  if (passes < 2) throw InputError(fmt::format("--passes must be at least 2 (got {})", passes));
  SpecDecSim sim(p, seed);
  SpecDecMonteCarlo r;
  r.passes = passes;
  r.histogram.assign(p.gamma + 2, 0);
  // Welford's running mean and variance: one pass, no cancellation.
  double mean = 0, m2 = 0;
  for (u64 i = 0; i < passes; ++i) {
    SpecDecStep s = sim.step();
    ++r.histogram[s.emitted];
    double x = static_cast<double>(s.emitted);
    double d = x - mean;
    mean += d / static_cast<double>(i + 1);
    m2 += d * (x - mean);
  }
  r.tokens = sim.tokens();
  r.mean_tokens = mean;
  r.stddev = std::sqrt(m2 / static_cast<double>(passes - 1));
  r.std_error = r.stddev / std::sqrt(static_cast<double>(passes));
  r.ci95_low = mean - 1.96 * r.std_error;
  r.ci95_high = mean + 1.96 * r.std_error;
  const double cost = static_cast<double>(p.gamma) * p.c + 1.0;
  r.speedup = mean / cost;
  r.speedup_ci95_low = r.ci95_low / cost;
  r.speedup_ci95_high = r.ci95_high / cost;
  return r;
}

}  // namespace attnlab
