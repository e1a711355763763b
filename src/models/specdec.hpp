// Speculative decoding (Leviathan, Kalman & Matias 2023, arXiv 2211.17192): a draft model proposes
// gamma tokens, the target model checks them in one pass, each is accepted with probability alpha
// (the paper's i.i.d. assumption), the first rejection ends the run and the target supplies a
// token there (or a bonus token when all gamma pass).
//
// Closed forms (paper, equation 1 and Theorem 3.8), with c = draft time per token / target time per pass:
//   E[tokens per target pass] = (1 - alpha^(gamma+1)) / (1 - alpha)
//   expected speed-up         = (1 - alpha^(gamma+1)) / ((1 - alpha) (gamma c + 1))
// and a seeded Monte-Carlo run of the accept/reject process that must agree within its confidence
// interval. The step API (SpecDecSim::step) gives each pass's accepted / rejected draft tokens.
#pragma once
#include <cstdint>
#include <vector>

#include "models/sim_random.hpp"
#include "util/checked.hpp"

namespace attnlab {

struct SpecDecParams {
  double alpha = 0.8;  // acceptance rate, in [0, 1)
  u64 gamma = 5;       // draft tokens per target pass
  double c = 0.05;     // cost of one draft token relative to one target pass, >= 0
};
// Throws InputError naming --alpha / --gamma / --c.
void specdec_validate(const SpecDecParams& p);

double specdec_expected_tokens(double alpha, u64 gamma);
double specdec_speedup(const SpecDecParams& p);
// P(a target pass emits k tokens), k = 1 .. gamma+1: alpha^(k-1) (1 - alpha) for k <= gamma,
// alpha^gamma for k = gamma + 1 (every draft accepted, plus the bonus token).
double specdec_tokens_pmf(double alpha, u64 gamma, u64 k);
// Variance of the tokens per pass (from the pmf), for the Monte-Carlo interval.
double specdec_tokens_variance(double alpha, u64 gamma);

struct SpecDecGammaRow {
  u64 gamma;
  double tokens;   // expected tokens per target pass
  double speedup;  // expected speed-up over plain decoding
};
// gamma = 0 (plain decoding) .. max_gamma.
std::vector<SpecDecGammaRow> specdec_gamma_table(double alpha, double c, u64 max_gamma);
// The gamma in 1..max_gamma with the largest expected speed-up (ties: the smaller gamma).
u64 specdec_best_gamma(double alpha, double c, u64 max_gamma);

// ---- Step-by-step simulation (what the dashboard animates) -------------------------------------
enum class DraftOutcome { accepted, rejected, discarded };  // discarded: after the first rejection
struct SpecDecStep {
  u64 index = 0;                       // 0-based target pass
  std::vector<DraftOutcome> drafts;    // gamma entries
  u64 accepted = 0;                    // draft tokens kept
  bool bonus = false;                  // all gamma accepted: the target adds a free token
  u64 emitted = 0;                     // accepted + 1 (the target's correction or bonus token)
  double cost = 0;                     // gamma c + 1, in target-pass units
  u64 tokens_so_far = 0;
  double cost_so_far = 0;
};

class SpecDecSim {
 public:
  SpecDecSim(const SpecDecParams& p, std::uint64_t seed);
  SpecDecStep step();
  u64 passes() const { return passes_; }
  u64 tokens() const { return tokens_; }

 private:
  SpecDecParams p_;
  SimRandom rng_;
  u64 passes_ = 0, tokens_ = 0;
};

struct SpecDecMonteCarlo {
  u64 passes = 0;
  u64 tokens = 0;
  double mean_tokens = 0;     // per target pass
  double stddev = 0;          // sample standard deviation of tokens per pass
  double std_error = 0;       // stddev / sqrt(passes)
  double ci95_low = 0, ci95_high = 0;  // mean -+ 1.96 std_error
  double speedup = 0;         // mean_tokens / (gamma c + 1)
  double speedup_ci95_low = 0, speedup_ci95_high = 0;
  std::vector<u64> histogram; // histogram[k] = passes that emitted k tokens, k = 0 .. gamma+1
};
SpecDecMonteCarlo specdec_monte_carlo(const SpecDecParams& p, u64 passes, std::uint64_t seed);

}  // namespace attnlab
