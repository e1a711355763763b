#include <doctest/doctest.h>

#include "sim/verify.hpp"

using namespace attnlab;

TEST_CASE("naive and tiled attention compute the same function (differences are rounding)") {
  SUBCASE("non-causal, ragged tiles") {
    const VerifyResult r = verify_same_math(300, 64, false, 128, 64, 7);
    CHECK(r.max_diff_fp64 < 1e-13);
    CHECK(r.max_diff_fp32 < 1e-5);
    CHECK(r.max_diff_fp32 > 0);  // fp32 does round differently in the two orders
    CHECK(r.max_err_fp32 < 1e-5);
    CHECK(r.max_abs_out > 0.01);
  }
  SUBCASE("causal, tiles larger than N") {
    const VerifyResult r = verify_same_math(100, 32, true, 128, 128, 1);
    CHECK(r.max_diff_fp64 < 1e-13);
    CHECK(r.max_diff_fp32 < 1e-5);
  }
  SUBCASE("the first causal row attends only to itself: O row 0 = V row 0, whatever the tiles") {
    const VerifyResult a = verify_same_math(64, 16, true, 16, 16, 3);
    const VerifyResult b = verify_same_math(64, 16, true, 64, 8, 3);
    CHECK(a.max_diff_fp64 < 1e-13);
    CHECK(b.max_diff_fp64 < 1e-13);
  }
  SUBCASE("too long for the CPU check") {
    CHECK_THROWS_WITH(verify_same_math(5000, 64, false, 128, 64), doctest::Contains("--verify needs --seq between 1 and 4096"));
  }
}
