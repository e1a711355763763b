// The "fp8" section of measurement files (src/measure/fp8_measured): read from a fixture
// (tests/data/fp8/measured-fp8-fixture.json: invented, plausible values in the shape kernels/' fp8
// rung writes, never shipped as a measurement), each malformed case refused with its one line, and
// the FP8-vs-bf16 pairing worked out by hand.
#include <doctest/doctest.h>

#include <string>

#include "measure/fp8_measured.hpp"
#include "util/errors.hpp"
#include "util/json_read.hpp"

using namespace attnlab;

namespace {
const std::filesystem::path fixture =
    std::filesystem::path(ATTNLAB_SOURCE_ROOT) / "tests" / "data" / "fp8" / "measured-fp8-fixture.json";

std::string fixture_text() { return file_read_text(fixture, "fixture"); }

// The fixture with the first `from` replaced by `to` (which must be there: a test of a malformed
// case that edits nothing would pass for the wrong reason).
std::string edited(const std::string& from, const std::string& to) {
  std::string s = fixture_text();
  const size_t at = s.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return s.replace(at, from.size(), to);
}

std::string fp8_read_error(const std::string& text) {
  try {
    fp8_measured_parse(text, "f.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("fp8 section: the fixture is read whole") {
  const Fp8Measurements m = fp8_measured_load(fixture);
  CHECK(m.base.device.name == "NVIDIA H200");
  CHECK(m.base.runs.size() == 5);
  CHECK(m.base.ncu.size() == 1);
  CHECK(m.base.ncu[0].config.dtype == "fp8");
  CHECK(m.outlier_fraction == 0.001);
  CHECK(m.outlier_scale == 10);
  REQUIRE(m.accuracy.size() == 8);  // 2 inputs x 4 methods
  REQUIRE(m.quantize.size() == 4);
  CHECK(m.quantize[1].kernel == "fp8-quantize-block");
  CHECK(m.quantize[1].time.median_ms == 0.18);
  CHECK(m.quantize[1].config.seq_q == 4096);
  const Fp8AccuracyRow* t = fp8_accuracy_find(m, "outliers", "fp8-tensor");
  const Fp8AccuracyRow* h = fp8_accuracy_find(m, "outliers", "fp8-block-hadamard", 128, 1024);
  REQUIRE(t != nullptr);
  REQUIRE(h != nullptr);
  CHECK(t->rmse == 9.5e-3);
  CHECK(h->rmse == 2.9e-3);
  CHECK(h->max_abs == 2.3e-2);
  CHECK(h->seq_kv == 1024);
  CHECK(fp8_accuracy_find(m, "outliers", "fp8-tensor", 64) == nullptr);  // no d64 row
  CHECK(fp8_accuracy_find(m, "outliers", "fp8-tensor", 0, 0, true) == nullptr);  // no causal row
  CHECK(fp8_method_label("fp8-block-hadamard") == "FP8, per tile + Hadamard");
}

TEST_CASE("fp8 section: FP8 runs paired with the bf16 rung of the same problem") {
  const Fp8Measurements m = fp8_measured_load(fixture);
  const auto rows = fp8_speed_rows(m.base, m.quantize);
  REQUIRE(rows.size() == 2);  // the two attn-fp8-hopper runs; the end-to-end run is attached to its row
  // N4096: FP8 1.0 ms against bf16 1.6 ms: 1.6x; quantize + attention measured together (the -e2e
  // run, 1.15 ms): 1.6 / 1.15, not the sum of the parts (1.0 + 0.18).
  CHECK(rows[0].fp8.kernel == "attn-fp8-hopper");
  REQUIRE(rows[0].e2e.has_value());
  CHECK(rows[0].e2e->kernel == "attn-fp8-hopper-e2e");
  CHECK(rows[0].fp8.config.seq_q == 4096);
  REQUIRE(rows[0].bf16.has_value());
  CHECK(rows[0].bf16->kernel == "attn-hopper");
  CHECK(rows[0].bf16->config.dtype == "bf16");
  CHECK(*rows[0].speedup == doctest::Approx(1.6));
  CHECK(*rows[0].quantize_block_ms == 0.18);
  CHECK(*rows[0].quantize_hadamard_ms == 0.24);
  CHECK(*rows[0].speedup_with_quantize == doctest::Approx(1.6 / 1.15));
  // N8192: 6.4 / 3.9; no end-to-end run, so the sum with the block quantization (0.7 ms).
  CHECK(*rows[1].speedup == doctest::Approx(6.4 / 3.9));
  CHECK(!rows[1].e2e);
  CHECK(*rows[1].quantize_block_ms == 0.7);
  CHECK(!rows[1].quantize_hadamard_ms);
  CHECK(*rows[1].speedup_with_quantize == doctest::Approx(6.4 / 4.6));
  // Without the quantize rows the speed-up stands alone.
  CHECK(!fp8_speed_rows(m.base)[0].quantize_block_ms);
}

TEST_CASE("fp8 section: a bf16 run pairs only with the same problem") {
  MeasuredConfig a;
  a.batch = 8, a.heads = a.kv_heads = 16, a.seq_q = a.seq_kv = 4096, a.head_dim = 128, a.dtype = "fp8";
  MeasuredConfig b = a;
  b.dtype = "bf16";
  b.block_q = 64;  // tiles may differ
  CHECK(fp8_same_problem_but_dtype(a, b));
  b.causal = true;
  CHECK(!fp8_same_problem_but_dtype(a, b));
  b.causal = false;
  b.dtype = "fp16";
  CHECK(!fp8_same_problem_but_dtype(a, b));
}

TEST_CASE("fp8 section: each malformed case gives its one line") {
  CHECK(fp8_read_error(edited("\"method\": \"bf16\"", "\"method\": \"fp4\"")) ==
        "f.json: fp8.accuracy[0].method must be one of bf16, fp8-tensor, fp8-block, fp8-block-hadamard (got 'fp4')");
  CHECK(fp8_read_error(edited("\"input\": \"random\"", "\"input\": \"gaussian\"")) ==
        "f.json: fp8.accuracy[0].input must be one of random, outliers (got 'gaussian')");
  CHECK(fp8_read_error(edited("\"rmse\": 0.00021,", "")) == "f.json: fp8.accuracy[0].rmse is missing");
  CHECK(fp8_read_error(edited("\"rmse\": 0.00021,", "\"rmse\": -1,")) ==
        "f.json: fp8.accuracy[0].rmse must be a finite number >= 0 (got -1)");
  CHECK(fp8_read_error(edited("\"max_abs\": 0.0016", "\"max_abs\": 0.0001")) ==
        "f.json: fp8.accuracy[0].max_abs must be >= rmse (got 0.0001 < 0.00021)");
  CHECK(fp8_read_error(edited("\"method\": \"fp8-tensor\"", "\"method\": \"bf16\"")) ==
        "f.json: fp8.accuracy[1] repeats fp8.accuracy[0] (the same input, method and shape)");
  CHECK(fp8_read_error(edited("\"kv_heads\": 4,", "\"kv_heads\": 3,")) ==
        "f.json: fp8.accuracy[0].kv_heads must divide heads (got 3 kv_heads for 4 heads)");
  CHECK(fp8_read_error(edited("\"outlier_fraction\": 0.001", "\"outlier_fraction\": 2")) ==
        "f.json: fp8.outlier_fraction must be at most 1 (got 2)");
  CHECK(fp8_read_error(edited("\"outlier_scale\": 10", "\"outlier_scale\": 0")) ==
        "f.json: fp8.outlier_scale must be a positive number (got 0)");
  CHECK(fp8_read_error(edited("\"kernel\": \"fp8-quantize-tensor\"", "\"kernel\": \"fp8-quantize-row\"")) ==
        "f.json: fp8.quantize[0].kernel must be one of fp8-quantize-tensor, fp8-quantize-block, "
        "fp8-quantize-block-hadamard (got 'fp8-quantize-row')");
  CHECK(fp8_read_error(edited("\"median\": 0.21,", "\"median\": 0.1,")) ==
        "f.json: fp8.quantize[0].time_ms.min must be <= median (got 0.2079 > 0.1)");
  CHECK(fp8_read_error(edited("\"gbps\": 2876", "\"gbps\": -2876")).find("f.json: fp8.quantize[0].gbps must be a positive number") == 0);
  CHECK(fp8_read_error(edited("\"fp8\": {", "\"fp8\": 5, \"was\": {")) == "f.json: fp8 must be an object");
  // The ordinary part is checked first: a bad run is named as in any measurement file.
  CHECK(fp8_read_error(edited("\"dtype\": \"fp8\"", "\"dtype\": \"fp6\"")) ==
        "f.json: runs[0].config.dtype must be bf16, fp16 or fp8 (got 'fp6')");
}

TEST_CASE("fp8 section: empty or absent") {
  const std::string empty = edited("\"accuracy\": [", "\"accuracy\": [], \"was\": [");
  CHECK(fp8_read_error(empty) == "f.json: fp8.accuracy must list at least one row");
  const std::string none = edited("\"fp8\": {", "\"other\": {");
  CHECK(fp8_read_error(none) == "f.json: has no \"fp8\" section (not an FP8 attention measurement)");
  // Only files with the section are FP8 files.
  for (const auto& p : fp8_measured_files(fixture.parent_path())) CHECK(p.filename() == "measured-fp8-fixture.json");
  CHECK(fp8_measured_files(fixture.parent_path()).size() == 1);
}
