// RoPE and ALiBi (src/models/position.hpp). Expected values from the papers' definitions:
// θ_i = 10000^(−2i/d) (RoFormer, eq. 15); ALiBi slopes 2^(−8h/H) and the non-power-of-two rule of
// the paper's reference code.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "models/position.hpp"
#include "util/errors.hpp"

using namespace attnlab;

TEST_CASE("RoPE frequencies") {
  SUBCASE("pair 0 turns one radian per token, pair d/4 a hundredth (10000^-1/2)") {
    CHECK(rope_theta(0, 64) == doctest::Approx(1.0));
    CHECK(rope_theta(16, 64) == doctest::Approx(0.01));
    CHECK(rope_theta(31, 64) == doctest::Approx(std::pow(10000.0, -62.0 / 64)));
  }
  SUBCASE("wavelength 2π tokens for pair 0, 200π for pair d/4") {
    CHECK(rope_wavelength(0, 64) == doctest::Approx(2 * std::numbers::pi));
    CHECK(rope_wavelength(16, 64) == doctest::Approx(200 * std::numbers::pi));
  }
  SUBCASE("odd head sizes and pairs past d/2 are refused") {
    CHECK_THROWS_AS(rope_theta(0, 63), InputError);
    CHECK_THROWS_AS(rope_theta(32, 64), InputError);
    CHECK_THROWS_AS(rope_theta(0, 0), InputError);
  }
}

TEST_CASE("RoPE rotations and the relative-position property") {
  SUBCASE("(1, 0) turned by a quarter turn is (0, 1)") {
    const auto r = rope_rotate(1, 0, 1, std::numbers::pi / 2);
    CHECK(r[0] == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(r[1] == doctest::Approx(1.0));
  }
  SUBCASE("the score depends only on m - n") {
    const double th = rope_theta(3, 64);
    const std::array<double, 2> q{0.3, -1.2}, k{0.8, 0.5};
    CHECK(rope_pair_score(q, k, 10, 4, th) == doctest::Approx(rope_pair_score(q, k, 17, 11, th)));
    CHECK(rope_pair_score(q, k, 10, 4, th) == doctest::Approx(rope_pair_score(q, k, 6, 0, th)));
    const std::vector<double> qv{1, 2, 3, 4, 5, 6}, kv{-1, 0.5, 2, 0, 1, 1};
    CHECK(rope_score(qv, kv, 100, 37) == doctest::Approx(rope_score(qv, kv, 63, 0)));
  }
  SUBCASE("at the same position the score is the plain dot product") {
    const std::vector<double> qv{1, 2, 3, 4}, kv{-1, 0.5, 2, 0};
    CHECK(rope_score(qv, kv, 42, 42) == doctest::Approx(-1 + 1 + 6 + 0));
  }
  SUBCASE("all-ones vectors, d = 2: score 2 cos(offset)") {
    const auto s = rope_ones_score(2, 3);
    REQUIRE(s.size() == 4);
    CHECK(s[0] == doctest::Approx(2.0));
    CHECK(s[1] == doctest::Approx(2 * std::cos(1.0)));
    CHECK(s[3] == doctest::Approx(2 * std::cos(3.0)));
  }
  SUBCASE("mismatched vectors are refused") {
    CHECK_THROWS_AS(rope_score({1, 2}, {1, 2, 3, 4}, 0, 0), InputError);
  }
}

TEST_CASE("ALiBi slopes and biases") {
  SUBCASE("8 heads: 1/2, 1/4, ..., 1/256") {
    const auto s = alibi_slopes(8);
    REQUIRE(s.size() == 8);
    for (int h = 0; h < 8; ++h) CHECK(s[h] == doctest::Approx(std::pow(2.0, -(h + 1))));
  }
  SUBCASE("16 heads start at 2^-0.5") {
    const auto s = alibi_slopes(16);
    CHECK(s[0] == doctest::Approx(std::pow(2.0, -0.5)));
    CHECK(s[15] == doctest::Approx(std::pow(2.0, -8.0)));
  }
  SUBCASE("12 heads: the 8-head slopes, then every other 16-head slope") {
    const auto s = alibi_slopes(12);
    REQUIRE(s.size() == 12);
    CHECK(s[7] == doctest::Approx(1.0 / 256));
    CHECK(s[8] == doctest::Approx(std::pow(2.0, -0.5)));
    CHECK(s[9] == doctest::Approx(std::pow(2.0, -1.5)));
    CHECK(s[11] == doctest::Approx(std::pow(2.0, -3.5)));
  }
  SUBCASE("one head: 2^-8") { CHECK(alibi_slopes(1)[0] == doctest::Approx(1.0 / 256)); }
  SUBCASE("zero heads are refused") { CHECK_THROWS_AS(alibi_slopes(0), InputError); }
  SUBCASE("bias grows with distance: slope 1/2, q = 10, k = 4 -> -3") {
    CHECK(alibi_bias(0.5, 10, 4) == doctest::Approx(-3.0));
    CHECK(alibi_bias(0.5, 4, 4) == doctest::Approx(0.0));
  }
}
