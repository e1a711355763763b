// The `measured` template: a figure that only a real GPU can give (a kernel's time, its TFLOP/s),
// read from the measurement files the bench wrote (assets/measurements/*.json, through
// src/measure/measurement.hpp). Lessons quote measurements through it instead of typing them, so a
// new measurement run updates the text and a removed run is an error, never a stale number.
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>

#include "lessons/cached_file.hpp"
#include "lessons/templates.hpp"
#include "measure/fp8_measured.hpp"
#include "measure/measurement.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

const Measurements& measured_file(const std::string& name) {
  return cached_file<Measurements>(name, measurement_load, measurement_files, "known");
}

TemplateValue measured_value(const TemplateArgs& a, const std::string& field) {
  const std::string& file = a.str("file");
  const Measurements& ms = measured_file(file);
  const std::string& kernel = a.str("kernel");
  const u64 batch = a.u64_in("batch", 1, u64{1} << 20);
  const u64 heads = a.u64_in("heads", 1, 4096);
  u64 kv_heads = a.u64_in("kv_heads", 0, 4096);
  if (kv_heads == 0) kv_heads = heads;
  const u64 seq = a.u64_in("seq", 1, u64{1} << 32);
  u64 seq_kv = a.u64_in("seq_kv", 0, u64{1} << 32);
  if (seq_kv == 0) seq_kv = seq;
  const u64 d = a.u64_in("d", 1, 4096);
  const bool causal = a.flag("causal");
  const std::string& dtype = a.str("dtype");

  std::string kernels;
  auto note_kernel = [&](const std::string& k) {
    if (kernels.find(k) == std::string::npos) kernels += (kernels.empty() ? "" : ", ") + k;
  };
  const MeasuredRun* found = nullptr;
  for (const auto* list : {&ms.runs, &ms.references})
    for (const MeasuredRun& r : *list) {
      note_kernel(r.kernel);
      const MeasuredConfig& c = r.config;
      if (found == nullptr && r.kernel == kernel && c.batch == batch && c.heads == heads && c.kv_heads == kv_heads &&
          c.seq_q == seq && c.seq_kv == seq_kv && c.head_dim == d && c.causal == causal && c.dtype == dtype)
        found = &r;
    }
  if (found == nullptr)
    throw InputError(fmt::format("{}.json has no run of kernel '{}' with batch={} heads={} kv_heads={} seq={} "
                                 "seq_kv={} d={} causal={} dtype={} (kernels in the file: {})",
                                 file, kernel, batch, heads, kv_heads, seq, seq_kv, d, causal, dtype, kernels));
  if (field == "tflops") return TemplateValue::of(found->tflops * 1e12, ValueUnit::flops_per_s);
  if (field == "time") return TemplateValue::of(found->time.median_ms * 1e-3, ValueUnit::seconds);
  if (!found->gbps) throw InputError(fmt::format("{}.json: kernel '{}' has no gbps figure", file, kernel));
  return TemplateValue::of(*found->gbps * 1e9, ValueUnit::bytes_per_s);  // bandwidth
}

// The FP8 file named by `file=`, loaded once (its "fp8" section and its runs).
const Fp8Measurements& fp8_file(const std::string& name) {
  return cached_file<Fp8Measurements>(name, fp8_measured_load, fp8_measured_files, "files with an fp8 section");
}

TemplateValue fp8_accuracy_value(const TemplateArgs& a, const std::string& field) {
  const Fp8Measurements& m = fp8_file(a.str("file"));
  const std::string& input = a.str("input");
  const std::string& method = a.str("method");
  const u64 d = a.u64_in("d", 0, 4096), seq = a.u64_in("seq", 0, u64{1} << 32);
  const bool causal = a.flag("causal");
  const Fp8AccuracyRow* r = fp8_accuracy_find(m, input, method, d, seq, causal);
  if (r == nullptr)
    throw InputError(fmt::format("{}.json has no fp8 accuracy row with input={} method={} d={} seq={} causal={} "
                                 "(inputs: random, outliers; methods: bf16, fp8-tensor, fp8-block, fp8-block-hadamard; "
                                 "d=0: any, seq=0: the longest)",
                                 a.str("file"), input, method, d, seq, causal));
  if (field == "rmse") return TemplateValue::of(r->rmse, ValueUnit::plain);
  if (field == "rel_l2") return TemplateValue::of(r->rel_l2, ValueUnit::plain);
  if (field == "max_abs") return TemplateValue::of(r->max_abs, ValueUnit::plain);
  if (field == "seq") return TemplateValue::of_count(r->seq_q);
  if (field == "d") return TemplateValue::of_count(r->head_dim);
  if (field == "outlier_fraction") return TemplateValue::of(m.outlier_fraction, ValueUnit::plain);
  return TemplateValue::of(m.outlier_scale, ValueUnit::plain);  // outlier_scale
}

TemplateValue fp8_speed_value(const TemplateArgs& a, const std::string& field) {
  const Fp8Measurements& m = fp8_file(a.str("file"));
  const u64 batch = a.u64_in("batch", 0, u64{1} << 20), heads = a.u64_in("heads", 0, 4096);
  const u64 seq = a.u64_in("seq", 0, u64{1} << 32), d = a.u64_in("d", 1, 4096);
  const bool causal = a.flag("causal");
  const std::string& kernel = a.str("kernel");
  // The matching FP8 run with a bf16 partner; seq=0: the longest such sequence.
  const Fp8SpeedRow* best = nullptr;
  const auto rows = fp8_speed_rows(m.base, m.quantize);
  for (const auto& r : rows) {
    const MeasuredConfig& c = r.fp8.config;
    if (!r.bf16 || r.fp8.kernel != kernel || c.head_dim != d || c.causal != causal || (batch && c.batch != batch) || (heads && c.heads != heads) ||
        (seq && c.seq_q != seq) || c.seq_q != c.seq_kv)
      continue;
    if (best == nullptr || c.seq_q > best->fp8.config.seq_q) best = &r;
  }
  if (best == nullptr)
    throw InputError(fmt::format("{}.json has no {} run with a bf16 {} run of the same problem at batch={} heads={} "
                                 "seq={} d={} causal={} (0 = any)",
                                 a.str("file"), kernel, fp8_bf16_rung, batch, heads, seq, d, causal));
  if (field == "tflops") return TemplateValue::of(best->fp8.tflops * 1e12, ValueUnit::flops_per_s);
  if (field == "bf16_tflops") return TemplateValue::of(best->bf16->tflops * 1e12, ValueUnit::flops_per_s);
  if (field == "time") return TemplateValue::of(best->fp8.time.median_ms * 1e-3, ValueUnit::seconds);
  if (field == "bf16_time") return TemplateValue::of(best->bf16->time.median_ms * 1e-3, ValueUnit::seconds);
  if (field == "speedup") return TemplateValue::of(*best->speedup, ValueUnit::ratio);
  if (field == "seq") return TemplateValue::of_count(best->fp8.config.seq_q);
  if (field == "batch") return TemplateValue::of_count(best->fp8.config.batch);
  if (field == "heads") return TemplateValue::of_count(best->fp8.config.heads);
  if (field == "quantize_time") {
    if (!best->quantize_block_ms)
      throw InputError(fmt::format("{}.json has no fp8-quantize-block timing of the FP8 run's shape", a.str("file")));
    return TemplateValue::of(*best->quantize_block_ms * 1e-3, ValueUnit::seconds);
  }
  if (!best->speedup_with_quantize)
    throw InputError(fmt::format("{}.json has neither an end-to-end run nor a quantize timing of the FP8 run's shape",
                                 a.str("file")));
  if (field == "e2e_time")
    return TemplateValue::of((best->e2e ? best->e2e->time.median_ms
                                        : best->fp8.time.median_ms + *best->quantize_block_ms) * 1e-3,
                             ValueUnit::seconds);
  return TemplateValue::of(*best->speedup_with_quantize, ValueUnit::ratio);  // speedup_with_quantize
}

}  // namespace

void register_templates_measured(std::vector<TemplateDef>& reg) {
  reg.push_back({"measured",
                 "A measurement of a real GPU run: one of our kernels or a PyTorch SDPA backend, read from "
                 "assets/measurements/FILE.json (see assets/measurements/README.md). Errors when the run is not there.",
                 "src/measure/measurement.hpp",
                 {{"file", "h100-ladder", "measurement file in assets/measurements, without .json"},
                  {"kernel", "torch-flash",
                   "attn-naive, attn-naive-cublas, attn-tiled, attn-mma, torch-flash, torch-cudnn, torch-efficient, "
                   "torch-math, ..."},
                  {"batch", "8", "batch"},
                  {"heads", "16", "query heads"},
                  {"kv_heads", "0", "K/V heads (0 = heads)"},
                  {"seq", "4096", "query length"},
                  {"seq_kv", "0", "key length (0 = seq)"},
                  {"d", "128", "head dimension"},
                  {"causal", "false", "causal mask"},
                  {"dtype", "bf16", "element type of Q, K, V, O"}},
                 {{"tflops", "FLOP/s reached: 4·B·H·Nq·Nkv·d (half when causal) / median time"},
                  {"time", "median time of one forward pass"},
                  {"bandwidth", "bytes of Q, K, V and O (each once) / median time"}},
                 "measured kernel=torch-flash field=tflops",
                 measured_value});
  reg.push_back({"fp8_accuracy",
                 "The error of attention's output O against an fp64 reference, for one way of computing it (bf16, or "
                 "FP8 with one scale per tensor, per tile, per tile after a random Hadamard rotation) on ordinary or "
                 "outlier inputs: the \"fp8\" section of a measurement file (assets/measurements/README.md).",
                 "src/measure/fp8_measured.hpp",
                 {{"file", "h200-fp8", "measurement file with an fp8 section, without .json"},
                  {"input", "random", "random (N(0, 1) entries) or outliers (a fraction of them scaled up)"},
                  {"method", "fp8-block", "bf16, fp8-tensor, fp8-block, fp8-block-hadamard"},
                  {"d", "128", "head dimension (0 = any)"},
                  {"seq", "0", "sequence length (0 = the longest in the file)"},
                  {"causal", "false", "causal mask"}},
                 {{"rmse", "root mean square error of O"},
                  {"rel_l2", "relative L2 error: norm of O - O_ref over the norm of O_ref"},
                  {"max_abs", "largest absolute difference between O and O_ref"},
                  {"seq", "the row's sequence length"},
                  {"d", "the row's head dimension"},
                  {"outlier_fraction", "share of the outlier inputs' entries that were scaled"},
                  {"outlier_scale", "the factor they were scaled by"}},
                 "fp8_accuracy input=outliers method=fp8-block-hadamard field=rmse",
                 fp8_accuracy_value});
  reg.push_back({"fp8_speed",
                 "Our FP8 attention rung beside our bf16 Hopper rung (attn-hopper) on the same problem, timed in the same "
                 "file; with the quantization kernel's time added for the end-to-end figure.",
                 "src/measure/fp8_measured.hpp",
                 {{"file", "h200-fp8", "measurement file with an fp8 section, without .json"},
                  {"kernel", "attn-fp8-hopper", "the FP8 run's kernel (attn-fp8-hopper, or a variant)"},
                  {"batch", "0", "batch (0 = any)"},
                  {"heads", "0", "query heads (0 = any)"},
                  {"seq", "0", "sequence length (0 = the longest with both runs)"},
                  {"d", "128", "head dimension"},
                  {"causal", "false", "causal mask"}},
                 {{"tflops", "FP8 rung: FLOP/s reached (median)"},
                  {"bf16_tflops", "bf16 rung on the same problem"},
                  {"time", "FP8 rung: median time of one forward pass"},
                  {"bf16_time", "bf16 rung: median time"},
                  {"speedup", "bf16 time / FP8 time (> 1: FP8 is faster)"},
                  {"quantize_time", "median time of the block quantization kernel (fp8-quantize-block) of that shape"},
                  {"e2e_time", "quantize + FP8 attention: the end-to-end run's median (else the sum)"},
                  {"speedup_with_quantize", "bf16 time / e2e_time: the advantage once the quantization is paid"},
                  {"seq", "the chosen run's sequence length"},
                  {"batch", "the chosen run's batch"},
                  {"heads", "the chosen run's heads"}},
                 "fp8_speed field=speedup",
                 fp8_speed_value});
}

}  // namespace attnlab
