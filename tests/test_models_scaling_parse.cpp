// Reading sequence lengths and durations the way a learner types them.
#include <doctest/doctest.h>

#include "models/scaling_parse.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
constexpr u64 kMax = 1000000000000000000ull;
u64 seq(const char* s) { return parse_whole(s, "--seq", 1, kMax); }
}  // namespace

TEST_CASE("whole numbers: digits, scientific, powers, separators") {
  CHECK(seq("4096") == 4096);
  CHECK(seq(" 10 ") == 10);
  CHECK(seq("1e6") == 1000000);
  CHECK(seq("1E3") == 1000);
  CHECK(seq("1.5e3") == 1500);
  CHECK(seq("2.5e1") == 25);
  CHECK(seq("1e18") == kMax);
  CHECK(seq("2^15") == 32768);
  CHECK(seq("10^9") == 1000000000);
  CHECK(seq("100_000") == 100000);
  CHECK(seq("+7") == 7);
  CHECK(parse_whole("0", "--globals", 0, 10) == 0);
}

TEST_CASE("whole numbers: bad input names the option") {
  CHECK_THROWS_WITH_AS(seq("0"), "--seq must be between 1 and 1000000000000000000 (got 0)", InputError);
  CHECK_THROWS_WITH_AS(seq("-5"), "--seq must be between 1 and 1000000000000000000 (got -5)", InputError);
  CHECK_THROWS_WITH_AS(seq("1e19"), "--seq must be between 1 and 1000000000000000000 (got 1e19 = 10000000000000000000)",
                       InputError);
  CHECK_THROWS_WITH_AS(seq("2^200"), doctest::Contains("--seq must be between 1 and"), InputError);
  CHECK_THROWS_WITH_AS(seq("999999999999999999999999999999999999999999"), doctest::Contains("must be between"),
                       InputError);
  CHECK_THROWS_WITH_AS(seq("abc"), "--seq must be a whole number such as 4096, 1e6 or 2^20 (got 'abc')", InputError);
  CHECK_THROWS_WITH_AS(seq("1.5"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("1.5e0"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("5e-3"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq(""), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("12abc"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("_1"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(parse_whole("0", "--every-k", 1, 100000), "--every-k must be between 1 and 100000 (got 0)",
                       InputError);
}

TEST_CASE("lists") {
  CHECK(parse_whole_list({"10", "1e3", "2^10"}, "--seq", 1, kMax) == std::vector<u64>{10, 1000, 1024});
  CHECK_THROWS_AS(parse_whole_list({}, "--seq", 1, kMax), InputError);
  CHECK_THROWS_WITH_AS(parse_whole_list({"10", "x"}, "--seq", 1, kMax), doctest::Contains("(got 'x')"), InputError);
}

TEST_CASE("durations") {
  CHECK(parse_duration("1s", "--baseline-time") == 1.0);
  CHECK(parse_duration("1 s", "--baseline-time") == 1.0);
  CHECK(parse_duration("250ms", "--baseline-time") == doctest::Approx(0.25));
  CHECK(parse_duration("30us", "--baseline-time") == doctest::Approx(30e-6));
  CHECK(parse_duration("2min", "--baseline-time") == 120.0);
  CHECK(parse_duration("1.5", "--baseline-time") == 1.5);
  CHECK_THROWS_WITH_AS(parse_duration("0s", "--baseline-time"), "--baseline-time must be a positive duration (got '0s')",
                       InputError);
  CHECK_THROWS_WITH_AS(parse_duration("fast", "--baseline-time"), doctest::Contains("--baseline-time must be a duration"),
                       InputError);
  CHECK_THROWS_AS(parse_duration("3 parsecs", "--baseline-time"), InputError);
  CHECK_THROWS_AS(parse_duration("-1s", "--baseline-time"), InputError);
}
