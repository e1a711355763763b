// Reading durations the way a learner types them (whole numbers: test_util_parse_number.cpp).
#include <doctest/doctest.h>

#include "models/scaling_parse.hpp"
#include "util/errors.hpp"

using namespace attnlab;

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
