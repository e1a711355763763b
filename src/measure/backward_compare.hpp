// The backward pass's measured comparison, computed once for every face that shows it: for each
// problem of a file's "backward" section (src/measure/backward_measured), one row per kernel with
// its forward, backward and training-step (fwd+bwd) times, and our rows' speed-ups over PyTorch's
// FA2 and cuDNN backends of the same problem and pass. `attnlab measured --runs`, the dashboard's
// backward panel and chapter 4's `backward` template read these rows; none of them divides times.
//
// Every kernel the file holds gets a row (ours: backward.runs, whatever their names; PyTorch's:
// backward.references; the forward runs the backward started from: the file's top-level runs,
// pass fwd), so a new rung in the file appears without a change here.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "measure/backward_measured.hpp"

namespace attnlab {

// Their median time / ours for the same problem and pass (> 1: ours is faster); nullopt when the
// file has no `backend` reference ("flash", "cudnn") for it.
std::optional<double> backward_speedup(const BackwardMeasurements& m, const BackwardRun& ours, std::string_view backend);

// One pass of one kernel on one problem.
struct BackwardPassCell {
  const MeasuredRun* run = nullptr;  // null: the kernel has no run of this pass here
  std::optional<double> vs_flash, vs_cudnn;  // ours only, see backward_speedup
  const MeasuredRun* fastest = nullptr;      // ours only: the fastest reference of this pass
  std::optional<double> vs_fastest;          // its median / ours
};

struct BackwardKernelRow {
  std::string kernel;
  bool reference = false;  // a PyTorch backend
  bool forward_only = false;  // a forward run of the file's top-level runs (the backward's input)
  BackwardPassCell fwd, bwd, step;  // step: fwd+bwd, one training step
};

struct BackwardProblem {
  MeasuredConfig config;  // tiles of the first run seen; the problem is compared without them
  std::vector<BackwardKernelRow> rows;  // ours, then the forward runs, then the references
};

// The problems in the order their first backward run appears in the file.
std::vector<BackwardProblem> backward_problems(const BackwardMeasurements& m);

// The row of `kernel` in `p`, or null.
const BackwardKernelRow* backward_problem_row(const BackwardProblem& p, std::string_view kernel);
// The cell of `pass` ("fwd", "bwd", "fwd+bwd") in `row`; InputError for another name.
const BackwardPassCell& backward_cell(const BackwardKernelRow& row, std::string_view pass);

}  // namespace attnlab
