// The backward pass as measured on a real GPU: the "backward" section of a measurement file
// (kernels/attn-bwd-main.cpp and kernels/torch_backward_reference.py write it; schema:
// assets/measurements/README.md, "Backward"). Read back, validated, for `attnlab measured --runs`
// and `--ncu`, the kernels panel, the lessons and the simulator-vs-ncu test. No CUDA here.
//
// Runs and references carry a `pass`: "fwd", "bwd" or "fwd+bwd" (one training step). Their
// `tflops` follow one convention, checked on reading: the forward's FLOPs (4·B·H·Nq·Nkv·d, half
// when causal) times 1, 2.5 or 3.5 by pass, over the median time. The backward's 2.5: five tile
// products (S again, dV, dP, dQ, dK) to the forward's two.
//
// Nsight Compute records cover the whole backward (ours: pre-pass, main kernel, dQ conversion;
// PyTorch's FA2: two layout copies, the D pre-pass, the main kernel, the dQ conversion), summed,
// with each kernel's own counters kept. They become NcuRecords with pass "bwd" for src/measure/sim_vs_ncu.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "measure/measurement.hpp"

namespace attnlab {

// FLOPs of a pass as a multiple of the forward's: fwd 1, bwd 2.5, fwd+bwd 3.5; 0 for any other name.
double backward_pass_flops_factor(std::string_view pass);

struct BackwardRun {
  std::string pass;  // "fwd" | "bwd" | "fwd+bwd"
  MeasuredRun run;   // tflops by the convention above
};

// One kernel variant of ours timed on the same config (kernels/attn-bwd.hpp: tiles, warps, reds).
struct BackwardVariant {
  u64 variant = 0;
  MeasuredConfig config;
  MeasuredTime time;
  double tflops = 0;  // backward: 2.5x the forward's FLOPs / median
};

struct BackwardNcuKernel {
  std::string name;  // as ncu names it (truncated by the writer)
  double dram_read_bytes = 0, dram_write_bytes = 0, l2_bytes = 0, duration_ns = 0;
};

struct BackwardMeasurements {
  Measurements file;  // the header and the forward runs the backward started from
  std::vector<BackwardRun> runs;        // ours
  std::vector<BackwardRun> references;  // PyTorch SDPA backends
  std::vector<BackwardVariant> variants;
  std::vector<NcuRecord> ncu;  // pass "bwd", summed over `ncu_kernels[i]`
  std::vector<std::vector<BackwardNcuKernel>> ncu_kernels;
  std::string flops_note, ncu_note, variants_note;
};

// Throws InputError with one line naming the file and the JSON path ("h200-backward.json:
// backward.runs[2].pass must be fwd, bwd or fwd+bwd (got 'bwd2')"); a file without a "backward"
// section is refused with that message.
BackwardMeasurements backward_measured_parse(std::string_view json_text, std::string_view origin);
BackwardMeasurements backward_measured_load(const std::filesystem::path& path);
// The measurement files in `dir` that carry a "backward" section, sorted by name.
std::vector<std::filesystem::path> backward_measured_files(const std::filesystem::path& dir);

// The reference of backend `backend` ("flash", "cudnn") for the same problem and pass, or null.
const BackwardRun* backward_reference(const BackwardMeasurements& m, const BackwardRun& ours, std::string_view backend);

}  // namespace attnlab
