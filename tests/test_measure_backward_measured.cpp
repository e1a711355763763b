// The "backward" section of measurement files (src/measure/backward_measured) and its comparison
// rows (src/measure/backward_compare). tests/data/backward/good.json is the shipped H200 file cut
// to one problem (B8 H16 N4096 d64, not causal) and two of its ncu records; every other file there
// is good.json with one thing broken, refused with one line that names the file, the JSON path and
// the problem.
#include <doctest/doctest.h>

#include <string>

#include "measure/backward_compare.hpp"
#include "measure/backward_measured.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {

std::filesystem::path backward_file(const std::string& name) {
  return std::filesystem::path(ATTNLAB_TEST_DATA) / "backward" / (name + ".json");
}

std::string backward_read_error(const std::string& name) {
  try {
    backward_measured_load(backward_file(name));
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("backward_measured: malformed files are refused with one line") {
  SUBCASE("missing fields") {
    CHECK(backward_read_error("missing-median") == "missing-median.json: backward.runs[0].time_ms.median is missing");
    CHECK(backward_read_error("missing-pass") == "missing-pass.json: backward.runs[1].pass is missing");
    CHECK(backward_read_error("no-section") == "no-section.json: has no \"backward\" section");
  }
  SUBCASE("zero and negative times") {
    CHECK(backward_read_error("zero-time") == "zero-time.json: backward.runs[0].time_ms.median must be a positive number (got 0)");
    CHECK(backward_read_error("negative-time") == "negative-time.json: backward.references[2].time_ms.min must be a positive number (got -1)");
  }
  SUBCASE("wrong types") {
    CHECK(backward_read_error("wrong-type-tflops") == "wrong-type-tflops.json: backward.runs[0].tflops must be a number");
    CHECK(backward_read_error("wrong-type-runs") == "wrong-type-runs.json: backward.runs must be an array");
  }
  SUBCASE("unknown pass and unknown kernel") {
    CHECK(backward_read_error("unknown-pass") == "unknown-pass.json: backward.runs[0].pass must be fwd, bwd or fwd+bwd (got 'bwd2')");
    CHECK(backward_read_error("unknown-kernel") ==
          "unknown-kernel.json: backward.ncu[0].kernel 'attn-bwd-warp9' is neither a PyTorch reference of this section "
          "nor a kernel with a timed run of head size 128 and bf16 to take its tiles from (give config.block_q and "
          "block_kv)");
  }
  SUBCASE("empty runs") {
    CHECK(backward_read_error("empty-runs") == "empty-runs.json: backward.runs must list at least one timed run of ours");
  }
  SUBCASE("a rate of another convention, totals that are not the kernels' sum") {
    CHECK(backward_read_error("wrong-rate") ==
          "wrong-rate.json: backward.runs[0].tflops must be 2.5 x the forward's FLOPs / median = 246.4 TFLOP/s for "
          "pass bwd (got 197.1)");
    CHECK(backward_read_error("ncu-sum") ==
          "ncu-sum.json: backward.ncu[0].dram_read_bytes must be the sum over kernels[] (168728832; got 1)");
  }
}

TEST_CASE("backward_measured: the good file, read") {
  const BackwardMeasurements m = backward_measured_load(backward_file("good"));
  REQUIRE(m.runs.size() == 2);
  REQUIRE(m.references.size() == 6);
  REQUIRE(m.ncu.size() == 2);
  CHECK(m.runs[0].pass == "bwd");
  CHECK(m.runs[0].run.kernel == "attn-bwd-mma");
  CHECK(m.runs[0].run.time.median_ms == doctest::Approx(5.577232122421265));
  // FLOPs 4·8·16·4096²·64 = 549.8 GFLOP forward; x2.5 over 5.577 ms = 246.4 TFLOP/s.
  CHECK(m.runs[0].run.tflops == doctest::Approx(2.5 * 4.0 * 8 * 16 * 4096.0 * 4096 * 64 / 5.577232122421265e-3 / 1e12).epsilon(1e-6));
  CHECK(m.ncu[0].launches == 3);  // pre-pass, main kernel, dQ conversion
  CHECK(m.ncu[1].launches == 5);  // PyTorch: two layout copies, pre-pass, main kernel, conversion
  CHECK(m.ncu[0].config.block_q == 64);
  CHECK(m.ncu[0].config.block_kv == 128);
}

TEST_CASE("backward_compare: rows per problem, speed-ups worked out from the file's medians") {
  const BackwardMeasurements m = backward_measured_load(backward_file("good"));
  const auto problems = backward_problems(m);
  REQUIRE(problems.size() == 1);
  const BackwardProblem& p = problems[0];
  CHECK(p.config.head_dim == 64);
  // Ours, the forward it started from (the file's top-level attn-mma run), then PyTorch's two backends.
  REQUIRE(p.rows.size() == 4);
  CHECK(p.rows[0].kernel == "attn-bwd-mma");
  CHECK(p.rows[1].kernel == "attn-mma");
  CHECK(p.rows[1].forward_only);
  CHECK(p.rows[2].kernel == "torch-flash");
  CHECK(p.rows[3].kernel == "torch-cudnn");
  const BackwardKernelRow& ours = p.rows[0];
  CHECK(ours.fwd.run == nullptr);
  REQUIRE(ours.bwd.run != nullptr);
  REQUIRE(ours.step.run != nullptr);
  // torch-flash bwd 5.333359956741333 ms / ours 5.577232122421265 ms; cuDNN 3.216831922531128 ms.
  CHECK(*ours.bwd.vs_flash == doctest::Approx(5.333359956741333 / 5.577232122421265));
  CHECK(*ours.bwd.vs_cudnn == doctest::Approx(3.216831922531128 / 5.577232122421265));
  CHECK(ours.bwd.fastest->kernel == "torch-cudnn");
  CHECK(*ours.bwd.vs_fastest == doctest::Approx(3.216831922531128 / 5.577232122421265));
  // The training step: 6.988576173782349 / 7.58403205871582.
  CHECK(*ours.step.vs_flash == doctest::Approx(6.988576173782349 / 7.58403205871582));
  CHECK(p.rows[1].fwd.run->time.median_ms == doctest::Approx(1.940447986125946));
  CHECK(*p.rows[1].fwd.vs_flash == doctest::Approx(1.8934400081634521 / 1.940447986125946));
  // References carry no speed-up of their own.
  CHECK_FALSE(p.rows[2].bwd.vs_flash.has_value());
  CHECK(backward_problem_row(p, "torch-cudnn") == &p.rows[3]);
  CHECK(backward_problem_row(p, "attn-bwd-hopper") == nullptr);
  CHECK_THROWS_AS(backward_cell(ours, "bwd2"), InputError);
}
