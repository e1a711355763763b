// Speculative decoding: the closed forms of Leviathan et al. 2023 worked by hand, and the
// Monte-Carlo run held to them by its own confidence interval.
#include <cmath>
#include <doctest/doctest.h>

#include "models/specdec.hpp"

using namespace attnlab;

TEST_CASE("expected tokens per target pass: (1 - alpha^(gamma+1)) / (1 - alpha)") {
  SUBCASE("alpha 0.8, gamma 5: (1 - 0.262144) / 0.2 = 3.68928") {
    CHECK(specdec_expected_tokens(0.8, 5) == doctest::Approx(3.68928).epsilon(1e-12));
    CHECK(specdec_speedup({0.8, 5, 0.05}) == doctest::Approx(3.68928 / 1.25).epsilon(1e-12));
  }
  SUBCASE("alpha 0.5, gamma 3: 1 + 1/2 + 1/4 + 1/8; c 0.1 -> 1.875 / 1.3") {
    CHECK(specdec_expected_tokens(0.5, 3) == 1.875);
    CHECK(specdec_speedup({0.5, 3, 0.1}) == doctest::Approx(1.875 / 1.3));
  }
  SUBCASE("edges: alpha 0 gives one token; gamma 0 is plain decoding") {
    CHECK(specdec_expected_tokens(0.0, 7) == 1.0);
    CHECK(specdec_expected_tokens(0.9, 0) == 1.0);
    CHECK(specdec_speedup({0.9, 0, 0.5}) == 1.0);
  }
  SUBCASE("the pmf: alpha^(k-1)(1-alpha), alpha^gamma for the bonus; sums to 1") {
    CHECK(specdec_tokens_pmf(0.8, 5, 1) == doctest::Approx(0.2));
    CHECK(specdec_tokens_pmf(0.8, 5, 2) == doctest::Approx(0.16));
    CHECK(specdec_tokens_pmf(0.8, 5, 6) == doctest::Approx(0.32768));
    CHECK(specdec_tokens_pmf(0.8, 5, 7) == 0.0);
    double sum = 0, mean = 0;
    for (u64 k = 1; k <= 6; ++k) {
      sum += specdec_tokens_pmf(0.8, 5, k);
      mean += k * specdec_tokens_pmf(0.8, 5, k);
    }
    CHECK(sum == doctest::Approx(1.0));
    CHECK(mean == doctest::Approx(3.68928));
    CHECK(specdec_tokens_variance(0.5, 1) == doctest::Approx(0.25));  // 1 or 2 tokens, even odds
  }
}

TEST_CASE("the best draft length") {
  SUBCASE("alpha 0.8, c 0.05: gamma 7 -> 3.0823x, 8 -> 3.0921x, 9 -> 3.0780x") {
    CHECK(specdec_best_gamma(0.8, 0.05, 12) == 8);
    CHECK(specdec_speedup({0.8, 8, 0.05}) == doctest::Approx(4.3289111 / 1.4).epsilon(1e-6));
    CHECK(specdec_best_gamma(0.8, 0.05, 5) == 5);  // capped by the search range
  }
  SUBCASE("a free draft (c = 0) always wants a longer draft") {
    CHECK(specdec_best_gamma(0.6, 0.0, 20) == 20);
  }
  SUBCASE("alpha <= c: even the best gamma loses to plain decoding") {
    u64 g = specdec_best_gamma(0.1, 0.2, 16);
    CHECK(g == 1);
    CHECK(specdec_speedup({0.1, g, 0.2}) < 1.0);
    CHECK(specdec_speedup({0.3, 1, 0.2}) == doctest::Approx(1.3 / 1.2));  // (1 + alpha) / (1 + c)
  }
  SUBCASE("the gamma table starts with plain decoding") {
    auto rows = specdec_gamma_table(0.8, 0.05, 3);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].speedup == 1.0);
    CHECK(rows[3].tokens == doctest::Approx(2.952));
  }
}

TEST_CASE("the step API: one target pass at a time") {
  SpecDecParams p{0.7, 4, 0.1};
  SpecDecSim a(p, 42), b(p, 42);
  u64 total = 0;
  for (int i = 0; i < 200; ++i) {
    SpecDecStep s = a.step();
    SpecDecStep t = b.step();
    CHECK(s.accepted == t.accepted);  // same seed, same run
    CHECK(s.index == static_cast<u64>(i));
    REQUIRE(s.drafts.size() == 4);
    // Accepted drafts form a prefix; then at most one rejection; the rest are discarded.
    u64 k = 0;
    while (k < 4 && s.drafts[k] == DraftOutcome::accepted) ++k;
    CHECK(k == s.accepted);
    if (k < 4) {
      CHECK(s.drafts[k] == DraftOutcome::rejected);
      for (u64 j = k + 1; j < 4; ++j) CHECK(s.drafts[j] == DraftOutcome::discarded);
      CHECK_FALSE(s.bonus);
    } else {
      CHECK(s.bonus);
    }
    CHECK(s.emitted == s.accepted + 1);
    CHECK(s.cost == doctest::Approx(1.4));
    total += s.emitted;
    CHECK(s.tokens_so_far == total);
  }
  SUBCASE("alpha 0 rejects the first draft every time") {
    SpecDecSim z({0.0, 3, 0.1}, 7);
    for (int i = 0; i < 20; ++i) CHECK(z.step().emitted == 1);
  }
}

TEST_CASE("Monte Carlo matches the closed form within its confidence interval") {
  SUBCASE("alpha 0.8, gamma 5, 100k passes: inside the 95% interval") {
    SpecDecMonteCarlo mc = specdec_monte_carlo({0.8, 5, 0.05}, 100000, 1);
    CHECK(mc.ci95_low <= 3.68928);
    CHECK(3.68928 <= mc.ci95_high);
    CHECK(mc.passes == 100000);
    u64 passes = 0;
    for (u64 h : mc.histogram) passes += h;
    CHECK(passes == 100000);
    // The sample spread matches the pmf's: sqrt(var) within 2%.
    CHECK(mc.stddev == doctest::Approx(std::sqrt(specdec_tokens_variance(0.8, 5))).epsilon(0.02));
  }
  SUBCASE("a grid of alpha and gamma: within 3.29 standard errors (99.9%)") {
    std::uint64_t seed = 100;
    for (double alpha : {0.0, 0.3, 0.6, 0.9, 0.99})
      for (u64 gamma : {1, 2, 4, 8, 16}) {
        SpecDecMonteCarlo mc = specdec_monte_carlo({alpha, gamma, 0.1}, 20000, seed++);
        double expect = specdec_expected_tokens(alpha, gamma);
        CHECK(std::abs(mc.mean_tokens - expect) <= 3.29 * mc.std_error + 1e-12);
      }
  }
  SUBCASE("the 95% interval covers the truth in about 95% of runs (200 seeds)") {
    int covered = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
      SpecDecMonteCarlo mc = specdec_monte_carlo({0.75, 6, 0.05}, 2000, seed);
      double expect = specdec_expected_tokens(0.75, 6);
      covered += mc.ci95_low <= expect && expect <= mc.ci95_high;
    }
    // Binomial(200, 0.95): mean 190, sd 3.1. A too-narrow interval or a biased simulator fails the
    // first check, a too-wide interval the second.
    CHECK(covered >= 180);
    CHECK(covered <= 199);
  }
}

TEST_CASE("specdec input checks name the option") {
  CHECK_THROWS_WITH(specdec_validate({1.0, 5, 0.05}), "--alpha must be in [0, 1) (got 1)");
  CHECK_THROWS_WITH(specdec_validate({-0.1, 5, 0.05}), "--alpha must be in [0, 1) (got -0.1)");
  CHECK_THROWS_WITH(specdec_validate({0.5, 5, -1}), "--c must be between 0 and 100 (got -1)");
  CHECK_THROWS_WITH(specdec_validate({0.5, 2000, 0.1}), "--gamma must be between 0 and 1024 (got 2000)");
  CHECK_THROWS_AS(specdec_validate({std::nan(""), 5, 0.1}), InputError);
}
