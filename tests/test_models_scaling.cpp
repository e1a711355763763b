// The scaling model: exact figures for each family at the defaults (d = 64, 12 heads, 32 layers,
// fp16), worked out by hand from the formulas in src/models/scaling.hpp, the course's numbers, and
// huge N. The default config is spelled out here so that a changed default shows up as a failure.
#include <doctest/doctest.h>

#include "models/scaling.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
ScalingConfig defaults() {
  ScalingConfig c;
  REQUIRE(c.head_dim == 64);
  REQUIRE(c.heads == 12);
  REQUIRE(c.layers == 32);
  REQUIRE(c.window == 4096);
  REQUIRE(c.longformer_window == 512);
  REQUIRE(c.globals == 1);
  REQUIRE(c.every_k == 3);
  REQUIRE(c.local_window == 128);
  REQUIRE(c.features == 256);
  REQUIRE(c.state == 16);
  REQUIRE(c.channels == 1536);
  REQUIRE(c.conv_width == 4);
  REQUIRE(c.dtype == DType::fp16);
  return c;
}
u128 mean(const PerLayer& p) {
  auto m = p.mean_exact();
  REQUIRE(m.has_value());
  return *m;
}
std::string digits(const PerLayer& p) { return to_string_u128(mean(p)); }
}  // namespace

TEST_CASE("full attention: the course's comparisons and 4·N²·d FLOPs") {
  auto cfg = defaults();
  SUBCASE("10 words -> 100, 1,000 -> 1,000,000, 100,000 -> 10 billion comparisons") {
    CHECK(mean(scaling_cost(Family::full, 10, cfg).work) == 100);
    CHECK(mean(scaling_cost(Family::full, 1000, cfg).work) == 1000000);
    CHECK(mean(scaling_cost(Family::full, 100000, cfg).work) == u128{10000000000ull});
  }
  SUBCASE("N = 10: FLOPs 4·100·64·12, decode reads 10 keys, KV cache 2·10·64·12 fp16 elements") {
    auto c = scaling_cost(Family::full, 10, cfg);
    CHECK_FALSE(c.causal);
    CHECK(mean(c.flops) == 307200);
    CHECK(mean(c.decode_keys) == 10);
    CHECK(mean(c.decode_flops) == 30720);
    CHECK(mean(c.decode_elements) == 15360);
    CHECK(mean(c.decode_bytes) == 30720);
  }
  SUBCASE("8x the tokens -> 64x the computation; twice as long -> four times the work") {
    auto a = scaling_cost(Family::full, 1000, cfg), b = scaling_cost(Family::full, 8000, cfg);
    CHECK(scaling_ratio(b.flops, a.flops) == 64.0);
    CHECK(scaling_ratio(scaling_cost(Family::full, 2000, cfg).work, a.work) == 4.0);
  }
  SUBCASE("causal: N(N+1)/2 entries, FLOPs halve (almost)") {
    cfg.direction = Direction::causal;
    auto c = scaling_cost(Family::full, 1000, cfg);
    CHECK(c.causal);
    CHECK(mean(c.work) == 500500);
    CHECK(mean(c.flops) == 3072u * 500500u);
  }
  SUBCASE("N = 10^9: N^2 = 10^18 and 3.072·10^21 FLOPs, exact") {
    auto c = scaling_cost(Family::full, 1000000000ull, cfg);
    CHECK(mean(c.work) == u128{1000000000000000000ull});
    CHECK(digits(c.flops) == "3072000000000000000000");
  }
  SUBCASE("N = 10^12: past 64 bits, exact") {
    auto c = scaling_cost(Family::full, 1000000000000ull, cfg);
    CHECK(digits(c.work) == "1000000000000000000000000");
    CHECK(digits(c.flops) == "3072000000000000000000000000");
    CHECK(digits(c.decode_bytes) == "3072000000000000");  // 2·10^12·768 elements · 2 bytes
  }
  SUBCASE("N = 10^18: entries exact (10^36), FLOPs past 128 bits come back rounded, marked") {
    auto c = scaling_cost(Family::full, scaling_max_seq, cfg);
    CHECK(digits(c.work) == "1000000000000000000000000000000000000");
    CHECK_FALSE(c.flops.total.exact());
    CHECK(c.flops.mean_exact() == std::nullopt);
    CHECK(per_layer_text(c.flops) == "≈3.07e+39");
    CHECK(c.flops.mean_approx() == doctest::Approx(3.072e39).epsilon(1e-12));
  }
}

TEST_CASE("sliding window (Mistral 7B): N·w minus the first rows' triangle") {
  auto cfg = defaults();
  SUBCASE("N = 10^6, w = 4096, causal") {
    auto c = scaling_cost(Family::window, 1000000, cfg);
    CHECK(c.causal);
    CHECK(mean(c.work) == u128{4087613440ull});  // 4096·10^6 - 4096·4095/2
    CHECK(mean(c.flops) == u128{12557148487680ull});
    CHECK(mean(c.decode_keys) == 4096);
    CHECK(mean(c.decode_elements) == 6291456);   // rolling buffer: 2·4096·768
    CHECK(mean(c.decode_bytes) == 12582912);     // 12 MiB per layer, whatever N
  }
  SUBCASE("shorter than the window: plain causal attention") {
    CHECK(mean(scaling_cost(Family::window, 10, cfg).work) == 55);
    CHECK(mean(scaling_cost(Family::window, 10, cfg).decode_keys) == 10);
  }
  SUBCASE("receptive field: 4096 × 32 = 131,072 (paper); 32·4095 + 1 = 131,041 exactly") {
    auto r = scaling_receptive_field(4096, 32, true);
    CHECK(r.paper == 131072);
    CHECK(r.exact == 131041);
    auto lf = scaling_receptive_field(512, 12, false);
    CHECK(lf.paper == 6144);
    CHECK(lf.exact == 6145);
  }
}

TEST_CASE("Longformer: window plus global tokens") {
  auto cfg = defaults();
  SUBCASE("N = 10^4, w = 512 (256 each side), g = 1, bidirectional") {
    auto c = scaling_cost(Family::longformer, 10000, cfg);
    CHECK_FALSE(c.causal);
    // [CLS] row and column: 2·10^4 - 1; the band on the other 9,999 tokens: 5,063,695.
    CHECK(mean(c.work) == 5083694);
    // decode (causal form): the global key plus 512 window keys; the cache holds just those.
    CHECK(mean(c.decode_keys) == 513);
    CHECK(mean(c.decode_elements) == 2u * 513u * 768u);
  }
  SUBCASE("g global tokens add about 2·g·N") {
    cfg.globals = 0;
    auto none = scaling_cost(Family::longformer, 10000, cfg);
    CHECK(mean(none.work) == 5064208);  // 2·(257·258/2 + 9743·257) - 10^4
    CHECK(mean(none.work) == mask_count(mask_window(512, false), 10000));
  }
}

TEST_CASE("strided (Sparse Transformer): O(N sqrt N) with stride sqrt N") {
  auto cfg = defaults();
  SUBCASE("N = 10^6: stride 1000, 999,500,500 local + 499,500,000 strided entries") {
    auto c = scaling_cost(Family::strided, 1000000, cfg);
    CHECK(c.causal);
    CHECK(c.stride == 1000);
    CHECK(mean(c.work) == u128{1499000500ull});
    // decode: keys 999,999 ... 999,000 (1000) and 998,999 - 1000·m ... : 1000 + 999 = 1999 keys,
    // but the cache keeps all N: a later query's stride lands on other keys.
    CHECK(mean(c.decode_keys) == 1999);
    CHECK(mean(c.decode_elements) == 2u * 1000000u * 768u);
  }
  SUBCASE("N = 10: stride floor(sqrt 10) = 3, 39 entries") {
    auto c = scaling_cost(Family::strided, 10, cfg);
    CHECK(c.stride == 3);
    CHECK(mean(c.work) == 39);
  }
  SUBCASE("an explicit stride is kept for every N") {
    cfg.stride = 3;
    CHECK(scaling_cost(Family::strided, 1000000, cfg).stride == 3);
  }
  SUBCASE("integer square root") {
    CHECK(isqrt_floor(0) == 0);
    CHECK(isqrt_floor(99) == 9);
    CHECK(isqrt_floor(100) == 10);
    CHECK(isqrt_floor(scaling_max_seq) == 1000000000ull);
    CHECK(isqrt_floor(UINT64_MAX) == 4294967295ull);
  }
}

TEST_CASE("alternating (ModernBERT): global every 3rd layer, averaged over the stack") {
  auto cfg = defaults();
  SUBCASE("N = 1000, 32 layers: 11 global (10^6) and 21 local (124,840) layers") {
    auto c = scaling_cost(Family::alternating, 1000, cfg);
    CHECK(c.work.total.value() == 11u * 1000000u + 21u * 124840u);
    CHECK(c.work.mean_exact() == std::nullopt);
    CHECK(per_layer_text(c.work) == "425,676.25");
    CHECK(mean(c.flops) == 1307677440);
    // decode, causal form: 1000 keys in global layers, 128 in local ones
    CHECK(c.decode_keys.total.value() == 11u * 1000u + 21u * 128u);
    CHECK(per_layer_text(c.decode_keys) == "427.75");
    CHECK(mean(c.decode_elements) == 657024);
  }
  SUBCASE("ModernBERT-base's 22 layers: layers 0, 3 ... 21 global, 8 of them") {
    cfg.layers = 22;
    auto c = scaling_cost(Family::alternating, 1000, cfg);
    CHECK(c.work.total.value() == 8u * 1000000u + 14u * 124840u);
  }
  SUBCASE("k = 1: every layer global, the same as full attention") {
    cfg.every_k = 1;
    CHECK(scaling_cost(Family::alternating, 1000, cfg).work.total == scaling_cost(Family::full, 1000, cfg).work.total);
  }
}

TEST_CASE("linear attention (Performer): O(N·r·d) and an r×d state") {
  auto cfg = defaults();
  auto c = scaling_cost(Family::linear, 10000, cfg);
  CHECK(mean(c.work) == 10000);
  CHECK(mean(c.flops) == u128{7864320000ull});  // 4·10^4·256·64·12
  CHECK(mean(c.decode_flops) == 786432);         // 4·256·64·12, whatever N
  CHECK(mean(c.decode_elements) == 199680);      // 12·(256·64 + 256)
  CHECK(mean(scaling_cost(Family::linear, 1000000, cfg).decode_elements) == 199680);
  SUBCASE("r = d gives the course's O(N·d²)") {
    cfg.features = 64;
    cfg.heads = 1;
    CHECK(mean(scaling_cost(Family::linear, 1000, cfg).flops) == 4u * 1000u * 64u * 64u);
  }
}

TEST_CASE("SSM (Mamba): N steps × D channels × n state") {
  auto cfg = defaults();
  SUBCASE("the course: 100,000 words need only 100,000 steps") {
    auto c = scaling_cost(Family::ssm, 100000, cfg);
    CHECK(c.causal);
    CHECK(mean(c.work) == 100000);
    CHECK(mean(c.flops) == u128{14745600000ull});  // 6·10^5·1536·16
    CHECK(mean(c.scan_updates) == u128{2457600000ull});  // 10^5·1536·16
    CHECK(mean(scaling_cost(Family::full, 10, cfg).scan_updates) == 0);
  }
  SUBCASE("constant state at decode: D·n + D·(conv-1) = 24,576 + 4,608, at any N") {
    for (u64 n : {10ull, 1000000ull, 1000000000000ull}) {
      auto c = scaling_cost(Family::ssm, n, cfg);
      CHECK(mean(c.decode_elements) == 29184);
      CHECK(mean(c.decode_bytes) == 58368);
      CHECK(mean(c.decode_flops) == 147456);
    }
  }
  SUBCASE("even asked for bidirectional, a scan is causal") {
    cfg.direction = Direction::bidirectional;
    CHECK(scaling_cost(Family::ssm, 10, cfg).causal);
  }
}

TEST_CASE("what-if: 10,000 tokens take 1 s, how long for 100,000?") {
  auto cfg = defaults();
  auto at = [&](Family f, u64 n) { return scaling_cost(f, n, cfg); };
  CHECK(scaling_whatif_seconds(at(Family::full, 100000), at(Family::full, 10000), 1.0) == 100.0);
  CHECK(scaling_whatif_seconds(at(Family::linear, 100000), at(Family::linear, 10000), 1.0) == 10.0);
  CHECK(scaling_whatif_seconds(at(Family::ssm, 100000), at(Family::ssm, 10000), 1.0) == 10.0);
  // The window's first 4095 rows are a triangle: 401,213,440 / 32,573,440 entries.
  CHECK(scaling_whatif_seconds(at(Family::window, 100000), at(Family::window, 10000), 1.0) ==
        doctest::Approx(401213440.0 / 32573440.0));
  CHECK_THROWS_AS(scaling_whatif_seconds(at(Family::full, 10), at(Family::ssm, 10), 1.0), InputError);
}

TEST_CASE("the course's score-matrix table: 512 -> 0.26M entries, 1 MiB ... 32768 -> 1.07B, 4 GiB") {
  auto s512 = scaling_score_matrix(512, 64, false);
  CHECK(s512.entries == 262144);
  CHECK(s512.bytes_fp32 == 1048576);
  CHECK(s512.bytes_fp16 == 524288);
  CHECK(s512.flops.value() == 4u * 262144u * 64u);  // 67M FLOPs, not the course's "0.26M FLOPs"
  CHECK(scaling_score_matrix(2048, 64, false).bytes_fp32 == 16u * 1048576u);
  CHECK(scaling_score_matrix(8192, 64, false).entries == 67108864);
  CHECK(scaling_score_matrix(8192, 64, false).bytes_fp32 == 256u * 1048576u);
  auto s32k = scaling_score_matrix(32768, 64, false);
  CHECK(s32k.entries == 1073741824);
  CHECK(s32k.bytes_fp32 == u128{4294967296ull});
  SUBCASE("4,096 tokens: 'larger than 16M'") { CHECK(scaling_score_matrix(4096, 64, false).entries == 16777216); }
  SUBCASE("causal computes half, stores the whole matrix") {
    auto c = scaling_score_matrix(512, 64, true);
    CHECK(c.computed == 131328);
    CHECK(c.bytes_fp32 == 1048576);
  }
}

TEST_CASE("scaling counts agree with the mask API cell by cell") {
  // The scaling model must count exactly what the masks allow: compare with a brute-force count
  // of mask_allowed over the whole grid, for every attention family and every layer kind.
  auto cfg = defaults();
  cfg.window = 5;
  cfg.longformer_window = 4;
  cfg.globals = 2;
  cfg.local_window = 3;
  cfg.layers = 7;
  for (Direction d : {Direction::paper, Direction::causal, Direction::bidirectional}) {
    cfg.direction = d;
    for (Family f : all_families()) {
      if (!family_is_attention(f)) continue;
      for (u64 n : {1ull, 2ull, 9ull, 17ull, 64ull}) {
        auto c = scaling_cost(f, n, cfg);
        MaskPattern m = family_mask(f, n, cfg);
        u128 brute = 0;
        for (u64 layer = 0; layer < cfg.layers; ++layer) brute += mask_count_brute(m, n, layer);
        INFO(family_name(f) << " n=" << n);
        CHECK(c.work.total.value() == brute);
      }
    }
  }
}

TEST_CASE("family names and config checks") {
  CHECK(parse_family("mamba", "--families") == Family::ssm);
  CHECK(parse_family("sliding", "--families") == Family::window);
  CHECK(family_paper(Family::linear) == "arXiv:2009.14794");
  CHECK(family_paper(Family::ssm) == "arXiv:2312.00752");
  CHECK_THROWS_WITH_AS(parse_family("rnn", "--families"), doctest::Contains("--families must be a list of"), InputError);
  auto cfg = defaults();
  CHECK_THROWS_WITH_AS(scaling_cost(Family::full, 0, cfg), "--seq must be between 1 and 1000000000000000000 (got 0)",
                       InputError);
  cfg.every_k = 0;
  CHECK_THROWS_WITH_AS(scaling_cost(Family::alternating, 10, cfg), doctest::Contains("--every-k must be between 1"),
                       InputError);
  cfg = defaults();
  cfg.head_dim = 0;
  CHECK_THROWS_AS(scaling_cost(Family::linear, 10, cfg), InputError);
}
