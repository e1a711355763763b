// Masks: allowed(q, k, layer), the grids, and the closed-form counts, checked against hand-worked
// matrices and against a brute-force count of allowed() over many small shapes.
#include <doctest/doctest.h>

#include "models/masks.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
u128 big(const char* digits) {
  u128 v = 0;
  for (const char* c = digits; *c; ++c) v = v * 10 + static_cast<unsigned>(*c - '0');
  return v;
}
}  // namespace

TEST_CASE("full and causal masks") {
  SUBCASE("the course: 10 words, 10 x 10 = 100 comparisons") {
    CHECK(mask_count(mask_full(false), 10) == 100);
    CHECK(mask_count(mask_full(false), 1000) == 1000000);
    CHECK(mask_count(mask_full(false), 100000) == u128{10000000000ull});
  }
  SUBCASE("causal keeps the lower triangle with the diagonal: N(N+1)/2") {
    CHECK(mask_count(mask_full(true), 10) == 55);
    CHECK(mask_allowed(mask_full(true), 3, 3));
    CHECK_FALSE(mask_allowed(mask_full(true), 3, 4));
    CHECK(mask_grid_text(mask_full(true), 3) == "#..\n##.\n###\n");
  }
  SUBCASE("N = 10^9: N^2 = 10^18 exactly, causal 500000000500000000") {
    CHECK(mask_count(mask_full(false), 1000000000ull) == u128{1000000000000000000ull});
    CHECK(mask_count(mask_full(true), 1000000000ull) == u128{500000000500000000ull});
  }
  SUBCASE("N = 10^12: past 64 bits, still exact") {
    CHECK(to_string_u128(mask_count(mask_full(false), 1000000000000ull)) == "1000000000000000000000000");
    CHECK(to_string_u128(mask_count(mask_full(true), 1000000000000ull)) == "500000000000500000000000");
  }
  SUBCASE("N = 10^18, the largest N: 10^36") {
    CHECK(mask_count(mask_full(false), mask_max_seq) == big("1000000000000000000000000000000000000"));
  }
}

TEST_CASE("sliding window masks") {
  SUBCASE("causal w=3, N=5: each query sees itself and the 2 previous keys") {
    auto p = mask_window(3, true);
    CHECK(mask_grid_text(p, 5) ==
          "#....\n"
          "##...\n"
          "###..\n"
          ".###.\n"
          "..###\n");
    // rows 1, 2, 3, 3, 3
    CHECK(mask_count(p, 5) == 12);
    CHECK(mask_row_count(p, 5, 4) == 3);
    CHECK(mask_row_count(p, 5, 0) == 1);
  }
  SUBCASE("Mistral w=4096 at N=10^6: N*w - w(w-1)/2 = 4,096,000,000 - 8,386,560") {
    CHECK(mask_count(mask_window(4096, true), 1000000) == u128{4087613440ull});
  }
  SUBCASE("a window at least as wide as N is causal attention") {
    CHECK(mask_count(mask_window(4096, true), 10) == 55);
    CHECK(mask_count(mask_window(10, true), 10) == 55);
    CHECK(mask_count(mask_window(9, true), 10) == 54);
  }
  SUBCASE("bidirectional w=4, N=6: 2 keys each side, rows 3 4 5 5 4 3") {
    auto p = mask_window(4, false);
    CHECK(mask_grid_text(p, 6) ==
          "###...\n"
          "####..\n"
          "#####.\n"
          ".#####\n"
          "..####\n"
          "...###\n");
    CHECK(mask_count(p, 6) == 24);
    CHECK(mask_row_count(p, 6, 2) == 5);
  }
  SUBCASE("ModernBERT's 128-token local window: 64 each side, 129 keys in the middle") {
    auto p = mask_window(128, false);
    CHECK(mask_row_count(p, 1000, 500) == 129);
    CHECK(mask_row_count(p, 1000, 0) == 65);
    // 2 * (65*66/2 + 935*65) - 1000
    CHECK(mask_count(p, 1000) == 124840);
  }
}

TEST_CASE("strided (Sparse Transformer) masks") {
  SUBCASE("causal s=3, N=10: rows min(q+1,3) + floor(q/3) = 1 2 3 4 4 4 5 5 5 6") {
    auto p = mask_strided(3, true);
    CHECK(mask_count(p, 10) == 39);
    CHECK(mask_row_count(p, 10, 9) == 6);  // keys 9 8 7 and 6 3 0
    CHECK(mask_allowed(p, 9, 0));
    CHECK_FALSE(mask_allowed(p, 9, 1));
    CHECK(mask_grid_text(p, 7) ==
          "#......\n"
          "##.....\n"
          "###....\n"
          "####...\n"
          ".####..\n"
          "..####.\n"
          "#..####\n");
  }
  SUBCASE("bidirectional s=3, N=10: mirror of the causal count, diagonal once") {
    CHECK(mask_count(mask_strided(3, false), 10) == 2 * 39 - 10);
  }
  SUBCASE("stride 1 sees everything") {
    CHECK(mask_count(mask_strided(1, true), 100) == 5050);
  }
  SUBCASE("N = 10^6, s = 1000 = sqrt(N): about 1.5 N sqrt(N)") {
    // causal band: 1000*1001/2 + 999000*1000 = 999,500,500; floor sum: 1000 * 1000*999/2 = 499,500,000
    CHECK(mask_count(mask_strided(1000, true), 1000000) == u128{999500500ull + 499500000ull});
  }
  SUBCASE("N = 10^18, s = 10^9: exact past 64 bits") {
    CHECK(mask_count(mask_strided(1000000000ull, true), mask_max_seq) ==
          big("1499999999000000000500000000"));
  }
}

TEST_CASE("Longformer masks") {
  SUBCASE("bidirectional w=2, g=1, N=6: [CLS] row and column plus a band of 1 each side") {
    auto p = mask_longformer(2, 1, false);
    CHECK(mask_grid_text(p, 6) ==
          "######\n"
          "###...\n"
          "####..\n"
          "#.###.\n"
          "#..###\n"
          "#...##\n");
    CHECK(mask_count(p, 6) == 24);
    CHECK(mask_row_count(p, 6, 0) == 6);
    CHECK(mask_row_count(p, 6, 5) == 3);
  }
  SUBCASE("causal w=2, g=1, N=6: rows 1 2 3 3 3 3") {
    CHECK(mask_count(mask_longformer(2, 1, true), 6) == 15);
  }
  SUBCASE("every token global is full attention") {
    CHECK(mask_count(mask_longformer(2, 6, false), 6) == 36);
    CHECK(mask_count(mask_longformer(2, 100, false), 6) == 36);
    CHECK(mask_count(mask_longformer(2, 100, true), 6) == 21);
  }
  SUBCASE("no global token is the plain window") {
    CHECK(mask_count(mask_longformer(512, 0, false), 4096) == mask_count(mask_window(512, false), 4096));
  }
}

TEST_CASE("alternating (ModernBERT) masks") {
  auto p = mask_alternating(3, 4, false);
  SUBCASE("layers 0, 3, 6 are global; the others local") {
    CHECK(mask_layer_is_global(p, 0));
    CHECK_FALSE(mask_layer_is_global(p, 1));
    CHECK_FALSE(mask_layer_is_global(p, 2));
    CHECK(mask_layer_is_global(p, 3));
    CHECK(mask_count(p, 6, 0) == 36);
    CHECK(mask_count(p, 6, 1) == 24);
    CHECK(mask_count(p, 6, 3) == 36);
    CHECK(mask_allowed(p, 0, 5, 0));
    CHECK_FALSE(mask_allowed(p, 0, 5, 1));
  }
  SUBCASE("causal variant") {
    auto c = mask_alternating(3, 4, true);
    CHECK(mask_count(c, 6, 0) == 21);
    CHECK(mask_count(c, 6, 2) == mask_count(mask_window(4, true), 6));
  }
}

TEST_CASE("closed-form counts agree with a brute-force count of allowed()") {
  // Every pattern, both directions, every N up to 40 and a spread of sizes: a disagreement anywhere
  // (an off-by-one at the window edge, a global overlap counted twice) fails here.
  int checked = 0;
  for (bool causal : {false, true}) {
    for (u64 n = 1; n <= 40; ++n) {
      std::vector<MaskPattern> patterns{mask_full(causal)};
      for (u64 w : {1, 2, 3, 4, 5, 7, 8, 16, 39, 40, 41, 100}) {
        patterns.push_back(mask_window(w, causal));
        for (u64 g : {0, 1, 2, 5, 40, 50}) patterns.push_back(mask_longformer(w, g, causal));
        for (u64 k : {1, 2, 3}) patterns.push_back(mask_alternating(k, w, causal));
      }
      for (u64 s : {1, 2, 3, 4, 6, 7, 40, 41}) patterns.push_back(mask_strided(s, causal));
      for (const auto& p : patterns) {
        for (u64 layer : {0, 1, 2}) {
          u128 brute = mask_count_brute(p, n, layer);
          INFO(mask_describe(p) << " n=" << n << " layer=" << layer);
          REQUIRE(mask_count(p, n, layer) == brute);
          u128 rows = 0;
          for (u64 q = 0; q < n; ++q) rows += mask_row_count(p, n, q, layer);
          REQUIRE(rows == brute);
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("mask names, papers and bad input") {
  SUBCASE("names") {
    CHECK(parse_mask_kind("sliding", "--mask") == MaskKind::window);
    CHECK(parse_mask_kind("modernbert", "--mask") == MaskKind::alternating);
    CHECK(mask_kind_name(MaskKind::strided) == "strided");
    CHECK(mask_describe(mask_longformer(512, 1, false)) == "bidirectional longformer w=512 g=1");
    CHECK_THROWS_WITH_AS(parse_mask_kind("dense", "--mask"), doctest::Contains("--mask must be full"), InputError);
  }
  SUBCASE("papers") {
    CHECK(mask_paper(MaskKind::longformer) == "arXiv:2004.05150");
    CHECK(mask_paper(MaskKind::strided) == "arXiv:1904.10509");
    CHECK(mask_paper(MaskKind::window) == "arXiv:2310.06825");
    CHECK(mask_paper(MaskKind::alternating) == "arXiv:2412.13663");
  }
  SUBCASE("zero sizes and lengths are refused") {
    CHECK_THROWS_AS(mask_window(0, true), InputError);
    CHECK_THROWS_AS(mask_strided(0, true), InputError);
    CHECK_THROWS_AS(mask_alternating(0, 128, false), InputError);
    CHECK_THROWS_AS(mask_count(mask_full(false), 0), InputError);
    CHECK_THROWS_AS(mask_count(mask_full(false), mask_max_seq + 1), InputError);
    CHECK_THROWS_AS(mask_grid(mask_full(false), mask_max_grid + 1), InputError);
    CHECK_THROWS_AS(mask_row_count(mask_full(false), 10, 10), InputError);
  }
}
