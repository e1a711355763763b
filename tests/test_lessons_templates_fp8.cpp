// {{fp8_accuracy}} and {{fp8_speed}}: the chapter 4 FP8 figures, read from the shipped FP8 file
// (assets/measurements/h200-fp8.json, through src/measure/fp8_measured) when the lesson is shown.
// Each value is checked against the file read directly, and worked through by hand where the
// template computes (the speed-ups).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>

#include "lessons/templates.hpp"
#include "measure/fp8_measured.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
const Fp8Measurements& shipped_fp8() {
  static const Fp8Measurements m = fp8_measured_load(measurement_dir() / "h200-fp8.json");
  return m;
}
TemplateResult eval_fp8(const std::string& call) { return template_eval(call, "t.md", 3); }
}  // namespace

TEST_CASE("fp8_accuracy: each method's error on each input, from the file") {
  for (const char* input : {"random", "outliers"})
    for (const std::string& method : fp8_methods()) {
      CAPTURE(input);
      CAPTURE(method);
      const Fp8AccuracyRow* r = fp8_accuracy_find(shipped_fp8(), input, method, 128);  // the template's default d
      REQUIRE(r != nullptr);
      const std::string call = fmt::format("fp8_accuracy input={} method={}", input, method);
      CHECK(eval_fp8(call + " field=rmse").value.number == r->rmse);
      CHECK(eval_fp8(call + " field=rel_l2").value.number == r->rel_l2);
      CHECK(eval_fp8(call + " field=max_abs").value.number == r->max_abs);
      // Written with three significant digits: 0.00213 reads "0.00213", never "0".
      CHECK(eval_fp8(call + " field=rmse").text() == fmt::format("{:.3g}", r->rmse));
    }
  CHECK(eval_fp8("fp8_accuracy field=outlier_fraction").value.number == shipped_fp8().outlier_fraction);
  CHECK(eval_fp8("fp8_accuracy field=outlier_scale").value.number == shipped_fp8().outlier_scale);
  // seq=0: the longest d128 non-causal row.
  u64 longest = 0;
  for (const auto& r : shipped_fp8().accuracy)
    if (r.head_dim == 128 && !r.causal && r.seq_q > longest) longest = r.seq_q;
  CHECK(eval_fp8("fp8_accuracy field=seq").value.number == double(longest));
  CHECK(eval_fp8("fp8_accuracy field=d").value.number == 128);
  // The direction FlashAttention-3 reports: on outlier inputs, per-tile scales with the rotation
  // beat one scale per tensor.
  CHECK(eval_fp8("fp8_accuracy input=outliers method=fp8-block-hadamard field=rmse").value.number <
        eval_fp8("fp8_accuracy input=outliers method=fp8-tensor field=rmse").value.number);
  CHECK_THROWS_WITH_AS(eval_fp8("fp8_accuracy input=outliers method=fp8-block d=24 field=rmse"),
                       doctest::Contains("h200-fp8.json has no fp8 accuracy row with input=outliers method=fp8-block d=24"),
                       InputError);
}

TEST_CASE("fp8_speed: the FP8 rung against the bf16 rung of the same problem") {
  // The longest non-causal d128 FP8 run with a bf16 partner, worked out from the runs directly.
  const auto& runs = shipped_fp8().base.runs;
  auto partner = [](const MeasuredRun& f, const MeasuredRun& b) {
    return b.kernel == "attn-hopper" && fp8_same_problem_but_dtype(f.config, b.config);
  };
  const MeasuredRun* f8 = nullptr;
  for (const MeasuredRun& r : runs) {
    if (r.config.dtype != "fp8" || r.config.head_dim != 128 || r.config.causal) continue;
    const bool paired = std::any_of(runs.begin(), runs.end(), [&](const MeasuredRun& b) { return partner(r, b); });
    if (paired && (f8 == nullptr || r.config.seq_q > f8->config.seq_q)) f8 = &r;
  }
  REQUIRE(f8 != nullptr);
  const MeasuredRun* b16 = nullptr;
  for (const MeasuredRun& b : runs)
    if (partner(*f8, b) && (b16 == nullptr || b.time.median_ms < b16->time.median_ms)) b16 = &b;
  CHECK(eval_fp8("fp8_speed field=seq").value.number == double(f8->config.seq_q));
  CHECK(eval_fp8("fp8_speed field=tflops").value.number == doctest::Approx(f8->tflops * 1e12));
  CHECK(eval_fp8("fp8_speed field=bf16_tflops").value.number == doctest::Approx(b16->tflops * 1e12));
  CHECK(eval_fp8("fp8_speed field=speedup").value.number == doctest::Approx(b16->time.median_ms / f8->time.median_ms));
  CHECK(eval_fp8("fp8_speed field=speedup").text().back() == 'x');
  CHECK_THROWS_WITH_AS(eval_fp8("fp8_speed d=96 field=speedup"),
                       doctest::Contains("h200-fp8.json has no attn-fp8-hopper run with a bf16 attn-hopper run of the same problem at batch=0 heads=0 seq=0 d=96"),
                       InputError);
}
