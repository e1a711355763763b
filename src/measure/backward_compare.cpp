// The backward pass's measured comparison (see backward_compare.hpp).
#include "measure/backward_compare.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/errors.hpp"

namespace attnlab {

namespace {

// The reference of `backend` for this problem and pass: its median / `ours_ms`.
std::optional<double> speedup_of(const BackwardMeasurements& m, std::string_view pass, const MeasuredConfig& c,
                                 double ours_ms, std::string_view backend) {
  for (const BackwardRun& r : m.references)
    if (r.pass == pass && r.run.backend == backend && measured_same_problem(r.run.config, c) && ours_ms > 0)
      return r.run.time.median_ms / ours_ms;
  return std::nullopt;
}

BackwardPassCell& cell_of(BackwardKernelRow& row, std::string_view pass) {
  return const_cast<BackwardPassCell&>(backward_cell(row, pass));
}

BackwardKernelRow& row_of(BackwardProblem& p, const std::string& kernel, bool reference, bool forward_only) {
  for (auto& r : p.rows)
    if (r.kernel == kernel && r.reference == reference && r.forward_only == forward_only) return r;
  BackwardKernelRow r;
  r.kernel = kernel;
  r.reference = reference;
  r.forward_only = forward_only;
  p.rows.push_back(std::move(r));
  return p.rows.back();
}

BackwardProblem& problem_of(std::vector<BackwardProblem>& ps, const MeasuredConfig& c) {
  for (auto& p : ps)
    if (measured_same_problem(p.config, c)) return p;
  ps.push_back({c, {}});
  return ps.back();
}

// Ours first, then the forward runs, then PyTorch's: the order the rows are read in.
int row_rank(const BackwardKernelRow& r) { return r.reference ? 2 : r.forward_only ? 1 : 0; }

}  // namespace

std::optional<double> backward_speedup(const BackwardMeasurements& m, const BackwardRun& ours, std::string_view backend) {
  return speedup_of(m, ours.pass, ours.run.config, ours.run.time.median_ms, backend);
}

const BackwardPassCell& backward_cell(const BackwardKernelRow& row, std::string_view pass) {
  if (pass == "fwd") return row.fwd;
  if (pass == "bwd") return row.bwd;
  if (pass == "fwd+bwd") return row.step;
  throw InputError(fmt::format("pass must be fwd, bwd or fwd+bwd (got '{}')", pass));
}

std::vector<BackwardProblem> backward_problems(const BackwardMeasurements& m) {
  std::vector<BackwardProblem> ps;
  // A file may hold several runs of one kernel, pass and problem (another tile choice): the first
  // is the one the file's writer listed first, as `measured --runs` lists it first.
  auto put = [&](BackwardKernelRow& row, std::string_view pass, const MeasuredRun& run) {
    BackwardPassCell& c = cell_of(row, pass);
    if (c.run != nullptr) return;
    c.run = &run;
    if (row.reference) return;
    c.vs_flash = speedup_of(m, pass, run.config, run.time.median_ms, "flash");
    c.vs_cudnn = speedup_of(m, pass, run.config, run.time.median_ms, "cudnn");
    for (const BackwardRun& r : m.references)
      if (r.pass == pass && measured_same_problem(r.run.config, run.config) && r.run.time.median_ms > 0 &&
          (c.fastest == nullptr || r.run.time.median_ms < c.fastest->time.median_ms))
        c.fastest = &r.run;
    if (c.fastest != nullptr && run.time.median_ms > 0) c.vs_fastest = c.fastest->time.median_ms / run.time.median_ms;
  };
  for (const BackwardRun& r : m.runs) put(row_of(problem_of(ps, r.run.config), r.run.kernel, false, false), r.pass, r.run);
  for (const BackwardRun& r : m.references)
    put(row_of(problem_of(ps, r.run.config), r.run.kernel, true, false), r.pass, r.run);
  // The forward runs only where the backward measured the same problem (the file's forward runs
  // are the input the backward started from).
  for (const MeasuredRun& r : m.file.runs)
    for (auto& p : ps)
      if (measured_same_problem(p.config, r.config)) put(row_of(p, r.kernel, false, true), "fwd", r);
  for (auto& p : ps)
    std::stable_sort(p.rows.begin(), p.rows.end(),
                     [](const BackwardKernelRow& a, const BackwardKernelRow& b) { return row_rank(a) < row_rank(b); });
  return ps;
}

const BackwardKernelRow* backward_problem_row(const BackwardProblem& p, std::string_view kernel) {
  for (const auto& r : p.rows)
    if (r.kernel == kernel) return &r;
  return nullptr;
}

}  // namespace attnlab
