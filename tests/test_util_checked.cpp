#include <doctest/doctest.h>

#include "util/checked.hpp"
#include "util/units.hpp"

using namespace attnlab;

TEST_CASE("checked arithmetic is exact past 64 bits and refuses to wrap") {
  SUBCASE("B*H = 2^20 heads of N = 2^24 tokens: 2^68 score entries") {
    u128 entries = cprod("scores", u128{1} << 20, u128{1} << 24, u128{1} << 24);
    CHECK(entries == (u128{1} << 68));
    CHECK(to_string_u128(entries) == "295147905179352825856");
  }
  SUBCASE("overflow of 128 bits throws, naming the count") {
    CHECK_THROWS_AS(cmul(u128{1} << 100, u128{1} << 30, "bytes"), OverflowError);
    CHECK_THROWS_WITH(cadd(u128_max, 1, "flops"), doctest::Contains("flops overflows"));
  }
  SUBCASE("narrowing to 64 bits is checked") {
    CHECK(to_u64(u128{12345}, "x") == 12345u);
    CHECK_THROWS_AS(to_u64(u128{1} << 64, "x"), OverflowError);
  }
  SUBCASE("ceil_div") {
    CHECK(ceil_div(1000, 128) == 8);
    CHECK(ceil_div(1024, 128) == 8);
    CHECK(ceil_div(1025, 128) == 9);
  }
}

TEST_CASE("units read the way a person writes them") {
  CHECK(format_bytes(u128{512}) == "512 B");
  CHECK(format_bytes(u128{1536}) == "1.50 KiB");
  CHECK(format_bytes(u128{512} * 1024) == "512 KiB");
  CHECK(format_bytes(u128{4} << 30) == "4.00 GiB");
  CHECK(format_seconds(12.3e-6) == "12.3 µs");
  CHECK(format_seconds(4.56e-3) == "4.56 ms");
  CHECK(format_count(1048576) == "1,048,576");
  CHECK(format_count(100) == "100");
  CHECK(format_flops(u128{274877906944ull}) == "275 GFLOP");
  CHECK(format_rate(3.35e12, "B/s") == "3.35 TB/s");
}
