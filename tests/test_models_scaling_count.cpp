// Count (exact below 2^128, rounded and marked above) and the per-layer means of the scaling model.
#include <doctest/doctest.h>

#include "models/scaling_count.hpp"
#include "util/errors.hpp"

using namespace attnlab;

TEST_CASE("Count stays exact below 2^128 and is marked rounded above") {
  SUBCASE("exact products and sums") {
    Count c = Count(u128{1} << 60) * Count(u128{1} << 60);
    CHECK(c.exact());
    CHECK(c.value() == (u128{1} << 120));
    CHECK(count_text(Count(12345)) == "12345");
    CHECK((Count(2) + Count(3)).value() == 5);
  }
  SUBCASE("past 2^128: rounded, never wrapped") {
    Count c = Count(u128{1} << 100) * Count(u128{1} << 30);
    CHECK_FALSE(c.exact());
    CHECK(static_cast<double>(c.approx()) == doctest::Approx(1.3611294676837539e39));  // 2^130
    CHECK(count_text(c) == "≈1.36e+39");
    CHECK(count_raw(c) == "1.361129468e+39");
    CHECK_THROWS_AS(c.value(), OverflowError);
    // once rounded, always rounded
    CHECK_FALSE((c + Count(1)).exact());
    CHECK_FALSE((Count(u128_max) + Count(1)).exact());
  }
}

TEST_CASE("per-layer means") {
  SUBCASE("a whole mean is exact") {
    PerLayer p{Count(3000000), 3};
    CHECK(p.mean_exact() == std::optional<u128>(1000000));
    CHECK(per_layer_text(p) == "1,000,000");
    CHECK(per_layer_raw(p) == "1000000");
  }
  SUBCASE("a decimal that ends is exact; one that does not is marked") {
    PerLayer quarter{Count(13621640), 32};  // ModernBERT-style stack at N = 1000
    CHECK(quarter.mean_exact() == std::nullopt);
    CHECK(per_layer_text(quarter) == "425,676.25");
    CHECK(per_layer_raw(quarter) == "425676.25");
    PerLayer third{Count(4), 3};
    CHECK(per_layer_text(third) == "≈1.33");
    CHECK(per_layer_raw(third) == "1.3333333333");
  }
  SUBCASE("uniform stacks") {
    PerLayer p = PerLayer::uniform(Count(100), 32);
    CHECK(p.total.value() == 3200);
    CHECK(p.mean_exact() == std::optional<u128>(100));
  }
}
