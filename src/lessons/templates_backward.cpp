// Templates of the backward pass as measured: the "backward" section of a measurement file
// (src/measure/backward_measured, compared by src/measure/backward_compare) and its Nsight Compute
// records beside the simulator (src/measure/sim_vs_ncu). Chapter 4 quotes its backward figures
// through these, so a new measurement updates the text and a removed run is an error.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>

#include "lessons/cached_file.hpp"
#include "lessons/templates.hpp"
#include "measure/backward_compare.hpp"
#include "measure/sim_vs_ncu.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

// The file named by `file=`, loaded once, with its comparison rows.
struct BackwardFileData {
  BackwardMeasurements m;
  std::vector<BackwardProblem> problems;  // point into m
};

// Moving the loaded value keeps `problems` valid: they point at elements of m's vectors, whose
// buffers move with them.
BackwardFileData backward_file_load(const std::filesystem::path& path) {
  BackwardFileData d;
  d.m = backward_measured_load(path);
  d.problems = backward_problems(d.m);
  return d;
}

const BackwardFileData& backward_file(const std::string& name) {
  return cached_file<BackwardFileData>(name, backward_file_load, backward_measured_files,
                                       "files with a backward section");
}

struct ProblemKeys {
  u64 batch, heads, kv_heads, seq, d;
  bool causal;
  std::string dtype;
  bool matches(const MeasuredConfig& c) const {
    return c.batch == batch && c.heads == heads && c.kv_heads == kv_heads && c.seq_q == seq && c.seq_kv == seq &&
           c.head_dim == d && c.causal == causal && c.dtype == dtype;
  }
  std::string text() const {
    return fmt::format("batch={} heads={} kv_heads={} seq={} d={} causal={} dtype={}", batch, heads, kv_heads, seq, d,
                       causal, dtype);
  }
};

ProblemKeys problem_keys(const TemplateArgs& a) {
  ProblemKeys k;
  k.batch = a.u64_in("batch", 1, u64{1} << 20);
  k.heads = a.u64_in("heads", 1, 4096);
  k.kv_heads = a.u64_in("kv_heads", 0, 4096);
  if (k.kv_heads == 0) k.kv_heads = k.heads;
  k.seq = a.u64_in("seq", 1, u64{1} << 32);
  k.d = a.u64_in("d", 1, 4096);
  k.causal = a.flag("causal");
  k.dtype = a.str("dtype");
  return k;
}

TemplateValue backward_value(const TemplateArgs& a, const std::string& field) {
  const std::string& file = a.str("file");
  const BackwardFileData& f = backward_file(file);
  const ProblemKeys k = problem_keys(a);
  const std::string& kernel = a.str("kernel");
  const std::string& pass = a.str("pass");
  if (backward_pass_flops_factor(pass) == 0.0)
    throw InputError(fmt::format("key 'pass' must be fwd, bwd or fwd+bwd (got '{}')", pass));
  std::string kernels;
  const BackwardPassCell* found = nullptr;
  for (const BackwardProblem& p : f.problems)
    for (const BackwardKernelRow& r : p.rows) {
      if (kernels.find(r.kernel) == std::string::npos) kernels += (kernels.empty() ? "" : ", ") + r.kernel;
      if (found == nullptr && r.kernel == kernel && k.matches(p.config) && backward_cell(r, pass).run != nullptr)
        found = &backward_cell(r, pass);
    }
  if (found == nullptr)
    throw InputError(fmt::format("{}.json has no {} run of kernel '{}' with {} (kernels: {})", file, pass, kernel,
                                 k.text(), kernels));
  if (field == "time") return TemplateValue::of(found->run->time.median_ms * 1e-3, ValueUnit::seconds);
  if (field == "tflops") return TemplateValue::of(found->run->tflops * 1e12, ValueUnit::flops_per_s);
  const std::optional<double>& s = field == "vs_flash" ? found->vs_flash : field == "vs_cudnn" ? found->vs_cudnn : found->vs_fastest;
  if (!s)
    throw InputError(fmt::format("{}.json: no {} for the {} run of '{}' (a PyTorch reference of the same problem and "
                                 "pass is missing, or '{}' is itself one)",
                                 file, field, pass, kernel, kernel));
  return TemplateValue::of(*s, ValueUnit::ratio);
}

TemplateValue backward_ncu_value(const TemplateArgs& a, const std::string& field) {
  const std::string& file = a.str("file");
  const BackwardFileData& f = backward_file(file);
  const ProblemKeys k = problem_keys(a);
  const std::string& kernel = a.str("kernel");
  std::string have;
  for (const NcuRecord& n : f.m.ncu) {
    have += fmt::format("{}{} N{} d{}{}", have.empty() ? "" : "; ", n.kernel, n.config.seq_q, n.config.head_dim,
                        n.config.causal ? " causal" : "");
    if (n.kernel != kernel || !k.matches(n.config)) continue;
    const auto s = sim_vs_ncu(n, f.m.file.device);
    if (!s) throw InputError(fmt::format("{}.json: the simulator has no model of kernel '{}'", file, kernel));
    if (field == "dram_measured") return TemplateValue::of(s->dram_meas, ValueUnit::bytes);
    if (field == "dram_simulated") return TemplateValue::of(s->dram_sim, ValueUnit::bytes);
    if (field == "dram_diff") return TemplateValue::of(s->dram_rel(), ValueUnit::plain);
    if (field == "l2_measured") return TemplateValue::of(s->l2_meas, ValueUnit::bytes);
    if (field == "l2_simulated") return TemplateValue::of(s->l2_sim, ValueUnit::bytes);
    if (field == "l2_diff") return TemplateValue::of(s->l2_rel(), ValueUnit::plain);
    return TemplateValue::of_count(n.launches);  // kernels
  }
  throw InputError(fmt::format("{}.json has no ncu record of kernel '{}' with {} (records: {})", file, kernel, k.text(),
                               have.empty() ? "none" : have));
}

std::vector<TemplateParam> problem_params(const char* batch, const char* seq) {
  return {{"batch", batch, "batch"},
          {"heads", "16", "query heads"},
          {"kv_heads", "0", "K/V heads (0 = heads)"},
          {"seq", seq, "sequence length (queries = keys)"},
          {"d", "128", "head dimension"},
          {"causal", "false", "causal mask"},
          {"dtype", "bf16", "element type"}};
}

}  // namespace

void register_templates_backward(std::vector<TemplateDef>& reg) {
  std::vector<TemplateParam> params = {
      {"file", "h200-backward", "measurement file with a backward section, without .json"},
      {"kernel", "attn-bwd-mma", "a kernel of the file: ours (attn-bwd-mma, ...), the forward it started from (attn-mma), "
                                 "torch-flash, torch-cudnn"},
      {"pass", "bwd", "fwd, bwd or fwd+bwd (one training step)"}};
  for (auto& p : problem_params("8", "4096")) params.push_back(p);
  reg.push_back({"backward",
                 "A backward pass (or a forward, or one training step) as measured on a real GPU: the \"backward\" "
                 "section of a measurement file (assets/measurements/README.md), ours beside PyTorch's.",
                 "src/measure/backward_compare.hpp", params,
                 {{"time", "median time"},
                  {"tflops", "FLOP/s reached: the forward's 4·B·H·N²·d (half when causal) times 1, 2.5 or 3.5 by pass"},
                  {"vs_flash", "PyTorch FA2's median for the same problem and pass / ours (> 1: ours is faster)"},
                  {"vs_cudnn", "PyTorch cuDNN's median / ours"},
                  {"vs_fastest", "the fastest PyTorch backend's median / ours"}},
                 "backward kernel=attn-bwd-mma pass=bwd field=time",
                 backward_value});
  std::vector<TemplateParam> ncu_params = {
      {"file", "h200-backward", "measurement file with a backward section, without .json"},
      {"kernel", "attn-bwd-mma", "ours (attn-bwd-mma, attn-bwd-hopper) or torch-flash (PyTorch's FA2)"}};
  for (auto& p : problem_params("4", "4096")) ncu_params.push_back(p);
  reg.push_back({"backward_ncu",
                 "Nsight Compute's counters for a whole backward pass (every kernel of it, summed) beside the "
                 "simulator's bytes for the same kernel, tiles and GPU (`attnlab measured --ncu`).",
                 "src/measure/sim_vs_ncu.hpp", ncu_params,
                 {{"dram_measured", "dram__bytes_read.sum + dram__bytes_write.sum"},
                  {"dram_simulated", "the simulator's DRAM bytes (reads + writes)"},
                  {"dram_diff", "simulated / measured - 1"},
                  {"l2_measured", "lts__t_bytes.sum"},
                  {"l2_simulated", "the simulator's L2 bytes"},
                  {"l2_diff", "simulated / measured - 1"},
                  {"kernels", "kernels the record sums"}},
                 "backward_ncu kernel=attn-bwd-mma field=dram_measured",
                 backward_ncu_value});
}

}  // namespace attnlab
