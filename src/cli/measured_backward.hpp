// `attnlab measured`'s backward view: the "backward" sections of the measurement files
// (src/measure/backward_measured) — our backward runs beside PyTorch's FA2 and cuDNN of the same
// session (`--runs`), and their Nsight Compute records for `--ncu`. Kept out of cmd_measured.cpp so
// that the forward views stay as they are.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "measure/backward_measured.hpp"
#include "util/output.hpp"

namespace attnlab::cli {

struct BackwardFile {
  std::string name;  // file name, as the forward rows show it
  BackwardMeasurements m;
};

// The files among `paths` that carry a "backward" section, read and validated.
std::vector<BackwardFile> measured_backward_load(const std::vector<std::filesystem::path>& paths);

// Our runs (kernel name containing `kernel`, "" = all) with their ratios, then the references.
// Empty text when no backward run matches.
std::string measured_backward_runs_text(const std::vector<BackwardFile>& files, const std::string& kernel);
// The same rows as a JSON array value for the key "backward_runs".
void measured_backward_runs_json(JsonWriter& w, const std::vector<BackwardFile>& files, const std::string& kernel);
// The same rows added to the forward runs' CSV table, whose columns are file, kernel, pass, config,
// Br x Bc, median, TFLOP/s, GB/s, max |err|, vs torch-flash, fastest reference, vs it (a backward
// row has no GB/s or error figure; its fastest reference is the fastest PyTorch run of its pass).
void measured_backward_runs_csv(Table& t, const std::vector<BackwardFile>& files, const std::string& kernel);
size_t measured_backward_run_count(const std::vector<BackwardFile>& files, const std::string& kernel);

}  // namespace attnlab::cli
