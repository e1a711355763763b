// {{backward}}, {{backward_ncu}} and {{traffic field=p_bytes}}: chapter 4's backward figures. The
// measured ones are checked against the shipped file read directly (assets/measurements/
// h200-backward.json), the speed-ups and byte sums worked out here; P's bytes by hand.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "lessons/templates.hpp"
#include "measure/backward_measured.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
const BackwardMeasurements& shipped_backward() {
  static const BackwardMeasurements m = backward_measured_load(measurement_dir() / "h200-backward.json");
  return m;
}
TemplateResult eval_backward(const std::string& call) { return template_eval(call, "t.md", 3); }

// The file's run of `kernel` and `pass` at B8 H16 N4096 d128 bf16, not causal (the template's defaults).
const MeasuredRun& run_of(const std::string& kernel, const std::string& pass) {
  for (const auto* list : {&shipped_backward().runs, &shipped_backward().references})
    for (const BackwardRun& r : *list) {
      const MeasuredConfig& c = r.run.config;
      if (r.run.kernel == kernel && r.pass == pass && c.batch == 8 && c.heads == 16 && c.seq_q == 4096 &&
          c.head_dim == 128 && !c.causal)
        return r.run;
    }
  FAIL("no run of " << kernel << " " << pass);
  throw 0;
}

std::string backward_template_error(const std::string& call) {
  try {
    eval_backward(call);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("backward: times, rates and speed-ups of the shipped file") {
  for (const char* kernel : {"attn-bwd-mma", "torch-flash", "torch-cudnn"})
    for (const char* pass : {"bwd", "fwd+bwd"}) {
      CAPTURE(kernel);
      CAPTURE(pass);
      const MeasuredRun& r = run_of(kernel, pass);
      const std::string call = fmt::format("backward kernel={} pass={}", kernel, pass);
      CHECK(eval_backward(call + " field=time").value.number == doctest::Approx(r.time.median_ms * 1e-3));
      CHECK(eval_backward(call + " field=tflops").value.number == doctest::Approx(r.tflops * 1e12));
    }
  // Ours against PyTorch: their median / ours, 9.892 / 10.310 ms = 0.959 for FA2's backward.
  const double ours = run_of("attn-bwd-mma", "bwd").time.median_ms;
  CHECK(eval_backward("backward field=vs_flash").value.number == doctest::Approx(run_of("torch-flash", "bwd").time.median_ms / ours));
  CHECK(eval_backward("backward field=vs_cudnn").value.number == doctest::Approx(run_of("torch-cudnn", "bwd").time.median_ms / ours));
  CHECK(eval_backward("backward field=vs_fastest").value.number == doctest::Approx(run_of("torch-cudnn", "bwd").time.median_ms / ours));
  CHECK(eval_backward("backward field=vs_flash").text() == "0.96x");
  // The forward our backward started from: the file's top-level attn-mma run.
  for (const MeasuredRun& r : shipped_backward().file.runs)
    if (r.config.head_dim == 128 && !r.config.causal)
      CHECK(eval_backward("backward kernel=attn-mma pass=fwd field=time").value.number == doctest::Approx(r.time.median_ms * 1e-3));
}

TEST_CASE("backward: what is not in the file is an error naming it") {
  CHECK(backward_template_error("backward kernel=attn-bwd-warp9 field=time") ==
        "t.md:3: {{backward kernel=attn-bwd-warp9 field=time}}: h200-backward.json has no bwd run of kernel "
        "'attn-bwd-warp9' with batch=8 heads=16 kv_heads=16 seq=4096 d=128 causal=false dtype=bf16 (kernels: "
        "attn-bwd-mma, attn-bwd-hopper, attn-mma, torch-flash, torch-cudnn)");
  CHECK(backward_template_error("backward pass=bwd2 field=time").find("key 'pass' must be fwd, bwd or fwd+bwd (got 'bwd2')") !=
        std::string::npos);
  // PyTorch's rows have no speed-up over themselves.
  CHECK(backward_template_error("backward kernel=torch-flash field=vs_flash").find("no vs_flash for the bwd run of 'torch-flash'") !=
        std::string::npos);
  CHECK(backward_template_error("backward file=h100-ladder field=time").find("has no \"backward\" section") != std::string::npos);
}

TEST_CASE("backward_ncu: the record's counters and the simulator's bytes") {
  for (const NcuRecord& n : shipped_backward().ncu) {
    if (n.config.seq_q != 4096 || n.config.head_dim != 128 || n.config.causal) continue;
    CAPTURE(n.kernel);
    const std::string call = fmt::format("backward_ncu kernel={}", n.kernel);
    CHECK(eval_backward(call + " field=dram_measured").value.number == n.dram_read_bytes + n.dram_write_bytes);
    CHECK(eval_backward(call + " field=l2_measured").value.number == n.lts_bytes);
    CHECK(eval_backward(call + " field=kernels").value.number == double(n.launches));
    const double sim = eval_backward(call + " field=dram_simulated").value.number;
    CHECK(eval_backward(call + " field=dram_diff").value.number == doctest::Approx(sim / (n.dram_read_bytes + n.dram_write_bytes) - 1));
    // Within the tolerance `attnlab measured --ncu` holds them to.
    CHECK(std::abs(eval_backward(call + " field=dram_diff").value.number) <= 0.20);
    CHECK(std::abs(eval_backward(call + " field=l2_diff").value.number) <= 0.25);
  }
  // ours: pre-pass, main kernel, dQ conversion; PyTorch's FA2: two layout copies and three kernels.
  CHECK(eval_backward("backward_ncu field=kernels").value.number == 3);
  CHECK(eval_backward("backward_ncu kernel=torch-flash field=kernels").value.number == 5);
  CHECK(backward_template_error("backward_ncu seq=8192 field=dram_measured").find("has no ncu record of kernel 'attn-bwd-mma'") !=
        std::string::npos);
}

TEST_CASE("traffic field=p_bytes: P's bytes, by hand") {
  // Standard attention, forward + backward: the softmax writes P (B·H·N² elements), PV reads it, the
  // backward reads it for dV and for dS: four times 8·16·4096²·2 B = 4 x 4 GiB.
  const u128 p = u128(8) * 16 * 4096 * 4096 * 2;
  CHECK(eval_backward("traffic algo=naive pass=fwd+bwd batch=8 seq=4096 d=128 dtype=bf16 field=p_bytes").value.exact == 4 * p);
  CHECK(eval_backward("traffic algo=naive pass=bwd batch=8 seq=4096 d=128 dtype=bf16 field=p_bytes").value.exact == 2 * p);
  // FlashAttention never writes P.
  CHECK(eval_backward("traffic algo=flash2 pass=fwd+bwd batch=8 seq=4096 d=128 dtype=bf16 field=p_bytes").value.exact == u128(0));
  // Recomputing P costs one more S = QKᵀ: half the forward's 4·B·H·N²·d FLOPs.
  const double fwd = 4.0 * 8 * 16 * 4096.0 * 4096 * 128;
  CHECK(eval_backward("traffic algo=flash2 pass=bwd batch=8 seq=4096 d=128 dtype=bf16 field=flops").value.number -
            eval_backward("traffic algo=naive pass=bwd batch=8 seq=4096 d=128 dtype=bf16 field=flops").value.number ==
        doctest::Approx(fwd / 2));
}
