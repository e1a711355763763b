// The one reader of whole numbers a person types (CLI sizes, template arguments, file fields).
#include <doctest/doctest.h>

#include "util/errors.hpp"
#include "util/parse_number.hpp"

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

TEST_CASE("whole numbers: K and M binary, k decimal, as the dashboard prints token counts") {
  CHECK(seq("32K") == 32768);
  CHECK(seq("128K") == 131072);
  CHECK(seq("1M") == 1048576);
  CHECK(seq("100k") == 100000);
  CHECK(seq("32k") == 32000);
  CHECK(seq("1.5K") == 1536);
  CHECK(seq("0.25M") == 262144);
  CHECK(seq("1_024K") == 1048576);
  CHECK_THROWS_WITH_AS(seq("1.1K"), doctest::Contains("must be a whole number"), InputError);  // 1126.4
  CHECK_THROWS_WITH_AS(seq("32G"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("32m"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("K"), doctest::Contains("must be a whole number"), InputError);
  CHECK_THROWS_WITH_AS(seq("-1K"), "--seq must be between 1 and 1000000000000000000 (got -1K)", InputError);
  CHECK(parse_whole("64K", "--head-dim", 1, 65536) == 65536);
  CHECK_THROWS_WITH_AS(parse_whole("128K", "--head-dim", 1, 65536),
                       "--head-dim must be between 1 and 65536 (got 128K = 131072)", InputError);
}

TEST_CASE("whole_number_read: sign, magnitude and overflow before any range") {
  auto w = whole_number_read("-2^10");
  REQUIRE(w);
  CHECK(w->negative);
  CHECK(w->value == 1024);
  w = whole_number_read("-0");
  REQUIRE(w);
  CHECK_FALSE(w->negative);
  CHECK(w->value == 0);
  w = whole_number_read("2^128");
  REQUIRE(w);
  CHECK(w->huge);
  w = whole_number_read("2^127");
  REQUIRE(w);
  CHECK_FALSE(w->huge);
  CHECK(w->value == u128{1} << 127);
  CHECK_FALSE(whole_number_read("0x10"));  // never hexadecimal
  CHECK(whole_number_read("010")->value == 10);  // never octal
  CHECK_FALSE(whole_number_read("inf"));
  CHECK_FALSE(whole_number_read("nan"));
  CHECK_FALSE(whole_number_read("1e"));
  CHECK_FALSE(whole_number_read("2^"));
  CHECK_FALSE(whole_number_read("1__000"));
}
