#include <doctest/doctest.h>

#include "models/serve_workload.hpp"

using namespace attnlab;

namespace {
std::string data(const char* name) { return std::string(ATTNLAB_TEST_DATA) + "/" + name; }
}  // namespace

TEST_CASE("SimRandom is SplitMix64: the same seed gives the same stream everywhere") {
  // Reference values of SplitMix64 from seed 0 (Vigna's splitmix64.c).
  SimRandom r(0);
  CHECK(r.next_u64() == 0xe220a8397b1dcdafull);
  CHECK(r.next_u64() == 0x6e789e6aa1b965f4ull);
  CHECK(r.next_u64() == 0x06c45d188009454full);
  SimRandom u(3);
  for (int i = 0; i < 1000; ++i) {
    double x = u.uniform();
    CHECK(x >= 0.0);
    CHECK(x < 1.0);
    u64 k = u.uniform_int(5, 9);
    CHECK(k >= 5);
    CHECK(k <= 9);
  }
}

TEST_CASE("length distributions") {
  SUBCASE("parse") {
    CHECK(parse_length_dist("fixed:128", "--prompt").kind == LengthDist::Kind::fixed);
    LengthDist u = parse_length_dist("uniform:10:20", "--prompt");
    CHECK(u.a == 10);
    CHECK(u.b == 20);
    CHECK(u.mean() == 15);
    CHECK(parse_length_dist("lognormal:161.31:1", "--prompt").mean() == doctest::Approx(161.31));
    CHECK_THROWS_WITH(parse_length_dist("normal:5", "--prompt"),
                      "--prompt must be fixed:N, uniform:A:B, exp:MEAN or lognormal:MEAN:SIGMA (got 'normal:5')");
    CHECK_THROWS_WITH(parse_length_dist("uniform:20:10", "--output"), doctest::Contains("with whole numbers 1 <= A <= B"));
    CHECK_THROWS_WITH(parse_length_dist("fixed:0", "--output"), doctest::Contains("lengths of at least 1"));
    CHECK_THROWS_AS(parse_length_dist("fixed:-3", "--output"), InputError);
    CHECK_THROWS_AS(parse_length_dist("exp:abc", "--output"), InputError);
  }
  SUBCASE("samples: fixed is fixed, uniform stays in range, the means come out right") {
    SimRandom r(11);
    CHECK(length_sample(parse_length_dist("fixed:42", "x"), r) == 42);
    for (const char* d : {"exp:100", "lognormal:100:1", "uniform:50:150"}) {
      LengthDist ld = parse_length_dist(d, "x");
      double sum = 0;
      const int n = 40000;
      for (int i = 0; i < n; ++i) sum += static_cast<double>(length_sample(ld, r));
      CHECK(sum / n == doctest::Approx(100).epsilon(0.03));
    }
  }
}

TEST_CASE("generated workloads") {
  WorkloadSpec w;
  w.requests = 200;
  w.prompt = parse_length_dist("uniform:1:3000", "--prompt");
  w.output = parse_length_dist("uniform:1:3000", "--output");
  w.samples = 3;
  w.max_len = 1000;
  w.rate = 2;
  auto rs = workload_generate(w);
  REQUIRE(rs.size() == 200);
  u64 last = 0;
  for (const auto& r : rs) {
    CHECK(r.prompt >= 1);
    CHECK(r.prompt <= 999);  // capped at max_len - 1
    CHECK(r.outputs.size() == 3);
    for (u64 o : r.outputs) CHECK(r.prompt + o <= 1000);
    CHECK(r.arrival >= last);
    last = r.arrival;
  }
  // 200 Poisson arrivals at 2 per step: the last one near step 100.
  CHECK(last > 70);
  CHECK(last < 130);
  CHECK(workload_generate(w)[17].prompt == rs[17].prompt);  // seeded
  CHECK_THROWS_WITH(workload_find("dolly"), "--workload: unknown workload 'dolly' (known: sharegpt, alpaca)");
}

TEST_CASE("CSV traces: errors name file:line") {
  SUBCASE("a good trace with comments, blank lines and arrivals") {
    auto rs = workload_read_csv(data("models_trace_good.csv"), 2048, 2);
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].prompt == 10);
    CHECK(rs[0].outputs == std::vector<u64>{5, 5});
    CHECK(rs[1].outputs[0] == 30);
    CHECK(rs[2].arrival == 4);
  }
  SUBCASE("columns in any order") {
    CHECK_THROWS_WITH(workload_read_csv(data("models_trace_fields.csv"), 2048, 1),
                      doctest::Contains("models_trace_fields.csv:3: expected 2 fields, got 1"));
  }
  SUBCASE("bad number") {
    CHECK_THROWS_WITH(workload_read_csv(data("models_trace_number.csv"), 2048, 1),
                      doctest::Contains("models_trace_number.csv:3: output must be a whole number such as 4096, 1e6 or 2^20 (got 'five')"));
  }
  SUBCASE("too long for --max-len") {
    CHECK_THROWS_WITH(workload_read_csv(data("models_trace_too_long.csv"), 2048, 1),
                      doctest::Contains("models_trace_too_long.csv:2: prompt + output = 2100 exceeds --max-len 2048"));
  }
  SUBCASE("bad header, empty file, decreasing arrivals, missing file") {
    CHECK_THROWS_WITH(workload_read_csv(data("models_trace_header.csv"), 2048, 1),
                      doctest::Contains("models_trace_header.csv:1: unknown column 'outputs'"));
    CHECK_THROWS_WITH(workload_read_csv(data("models_trace_empty.csv"), 2048, 1), doctest::Contains("empty trace"));
    CHECK_THROWS_WITH(workload_read_csv(data("models_trace_order.csv"), 2048, 1),
                      doctest::Contains("models_trace_order.csv:3: arrivals must not decrease (1 after 3)"));
    CHECK_THROWS_WITH(workload_read_csv(data("models_no_trace.csv"), 2048, 1),
                      doctest::Contains("models_no_trace.csv: cannot open the trace file"));
  }
}
