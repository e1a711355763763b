// FP8 attention as measured (kernels/' fp8 rung, FlashAttention-3's third idea): the "fp8" section
// of a measurement file (schema: assets/measurements/README.md, "fp8"), read back beside the
// file's ordinary runs. The section holds what a timed run cannot: the accuracy of each way of
// quantizing (against an fp64 reference, on ordinary and on outlier inputs) and the time of the
// quantization kernels themselves, so that the end-to-end cost is honest. No CUDA here: the CLI
// (`attnlab measured --fp8`), the chapter 4 lesson ({{fp8_accuracy}}, {{fp8_speed}}) and the
// kernels panel read the shipped file through this.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "measure/measurement.hpp"

namespace attnlab {

// O of one way of computing attention against the fp64 reference on the same inputs.
struct Fp8AccuracyRow {
  std::string input;   // "random" (ordinary N(0, 1) inputs) | "outliers" (a fraction of entries scaled up)
  std::string method;  // fp8_methods(): "bf16" | "fp8-tensor" | "fp8-block" | "fp8-block-hadamard"
  u64 batch = 0, heads = 0, kv_heads = 0, seq_q = 0, seq_kv = 0, head_dim = 0;
  bool causal = false;
  double rmse = 0;     // sqrt(mean((O - O_ref)^2))
  double rel_l2 = 0;   // ||O - O_ref|| / ||O_ref||
  double max_abs = 0;  // max |O - O_ref|
};

// One timed quantization kernel: bf16 Q, K, V -> e4m3 with their scales (and V laid out for the
// FP8 matrix multiply), separately from the attention kernel.
struct Fp8QuantizeRow {
  std::string kernel;  // fp8_quantize_kernels()
  MeasuredConfig config;
  MeasuredTime time;
  double gbps = 0;     // bytes read and written / median time, as the bench counts them
  std::string note;
};

struct Fp8Measurements {
  Measurements base;  // the ordinary part: runs (the FP8 rung and the bf16 rung), references, ncu
  std::string note;
  double outlier_fraction = 0;  // share of entries of the "outliers" inputs that were scaled
  double outlier_scale = 0;     // by this factor
  std::vector<Fp8AccuracyRow> accuracy;
  std::vector<Fp8QuantizeRow> quantize;
};

// The accuracy methods in the order a table lists them, and what each one is in words.
const std::vector<std::string>& fp8_methods();
std::string_view fp8_method_label(std::string_view method);  // "FP8, one scale per tile + Hadamard"
const std::vector<std::string>& fp8_quantize_kernels();      // fp8-quantize-tensor, -block, -block-hadamard

// Throws InputError naming the file and the JSON path ("h200-fp8.json: fp8.accuracy[3].method must
// be one of bf16, fp8-tensor, fp8-block, fp8-block-hadamard (got 'fp4')"); a file without an "fp8"
// section is refused with that message. The rest of the file is checked as any measurement file.
Fp8Measurements fp8_measured_parse(std::string_view json_text, std::string_view origin);
Fp8Measurements fp8_measured_load(const std::filesystem::path& path);
// The measurement files in `dir` that carry an "fp8" section, sorted by name.
std::vector<std::filesystem::path> fp8_measured_files(const std::filesystem::path& dir);

// The accuracy row of (input, method) on a shape, or nullptr: head_dim 0 = any; seq 0 = the
// longest of the matching rows (the first of equals).
const Fp8AccuracyRow* fp8_accuracy_find(const Fp8Measurements& m, std::string_view input, std::string_view method,
                                        u64 head_dim = 0, u64 seq = 0, bool causal = false);

// What a learner compares: the FP8 rung beside our bf16 rung on the same problem, timed in the
// same file (same session, same GPU).
inline constexpr std::string_view fp8_bf16_rung = "attn-hopper";
inline constexpr std::string_view fp8_rung_kernel = "attn-fp8-hopper";  // the FP8 rung (rung 5) itself
inline constexpr std::string_view fp8_e2e_suffix = "-e2e";  // "attn-fp8-hopper-e2e": quantize + attention
struct Fp8SpeedRow {
  MeasuredRun fp8;                   // a run whose config dtype is "fp8" (not an end-to-end run)
  std::optional<MeasuredRun> bf16;   // the fastest attn-hopper run of the same problem in bf16
  std::optional<double> speedup;     // bf16 median / fp8 median (> 1: FP8 is faster)
  // The quantization kernel of the same shape (block scales; with the Hadamard rotation).
  std::optional<double> quantize_block_ms, quantize_hadamard_ms;
  // The run "<kernel>-e2e" of the same problem: bf16 Q, K, V quantized (block scales), then the
  // FP8 attention, timed together.
  std::optional<MeasuredRun> e2e;
  // The speed-up once the quantization is paid: bf16 / e2e when the file has the end-to-end run,
  // else bf16 / (fp8 + quantize_block).
  std::optional<double> speedup_with_quantize;
};
std::vector<Fp8SpeedRow> fp8_speed_rows(const Measurements& m, const std::vector<Fp8QuantizeRow>& quantize = {});

// Whether a bf16 run and an FP8 run solved the same problem but for the dtype.
bool fp8_same_problem_but_dtype(const MeasuredConfig& fp8, const MeasuredConfig& bf16);

}  // namespace attnlab
