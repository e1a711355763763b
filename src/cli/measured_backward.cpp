// `attnlab measured --runs`, backward rows (see measured_backward.hpp).
#include "cli/measured_backward.hpp"

#include <fmt/format.h>

#include <optional>

#include "measure/backward_compare.hpp"
#include "util/json_read.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {

bool backward_wanted(const std::string& filter, const std::string& kernel) {
  return filter.empty() || kernel.find(filter) != std::string::npos;
}

std::string config_text(const MeasuredConfig& c) {
  std::string s = fmt::format("B{} H{}/{} N{} d{}", c.batch, c.heads, c.kv_heads, c.seq_q, c.head_dim);
  if (c.seq_q != c.seq_kv) s = fmt::format("B{} H{}/{} Nq{} Nkv{} d{}", c.batch, c.heads, c.kv_heads, c.seq_q, c.seq_kv, c.head_dim);
  return s + (c.causal ? " causal " : " ") + c.dtype;
}

Table runs_table(const std::vector<BackwardFile>& files, const std::string& kernel) {
  Table t({{"file", false}, {"kernel", false}, {"pass", false}, {"config", false}, {"Br x Bc", false}, {"median"},
           {"TFLOP/s"}, {"vs torch-flash"}, {"vs torch-cudnn"}});
  auto ratio = [](std::optional<double> s) {
    return s ? cell(fmt::format("{:.2f}x", *s), fmt::format("{}", *s)) : cell("-", "");
  };
  for (const auto& f : files) {
    for (const auto& r : f.m.runs) {
      if (!backward_wanted(kernel, r.run.kernel)) continue;
      const auto& c = r.run.config;
      t.add_row({cell(f.name), cell(r.run.kernel), cell(r.pass), cell(config_text(c)),
                 cell(c.block_q || c.block_kv ? fmt::format("{}x{}", c.block_q, c.block_kv) : std::string("-")),
                 cell(format_seconds(r.run.time.median_ms * 1e-3), fmt::format("{}", r.run.time.median_ms * 1e-3)),
                 cell_num(r.run.tflops, 1), ratio(backward_speedup(f.m, r, "flash")),
                 ratio(backward_speedup(f.m, r, "cudnn"))});
    }
    for (const auto& r : f.m.references) {
      if (!backward_wanted(kernel, r.run.kernel)) continue;
      t.add_row({cell(f.name), cell(r.run.kernel), cell(r.pass), cell(config_text(r.run.config)), cell("-"),
                 cell(format_seconds(r.run.time.median_ms * 1e-3), fmt::format("{}", r.run.time.median_ms * 1e-3)),
                 cell_num(r.run.tflops, 1), cell("-", ""), cell("-", "")});
    }
  }
  return t;
}

}  // namespace

std::vector<BackwardFile> measured_backward_load(const std::vector<std::filesystem::path>& paths) {
  std::vector<BackwardFile> out;
  for (const auto& p : paths)
    if (json_has_top_key(file_read_text(p, "measurement file"), "backward"))
      out.push_back({p.filename().string(), backward_measured_load(p)});
  return out;
}

size_t measured_backward_run_count(const std::vector<BackwardFile>& files, const std::string& kernel) {
  size_t n = 0;
  for (const auto& f : files) {
    for (const auto& r : f.m.runs) n += backward_wanted(kernel, r.run.kernel);
    for (const auto& r : f.m.references) n += backward_wanted(kernel, r.run.kernel);
  }
  return n;
}

std::string measured_backward_runs_text(const std::vector<BackwardFile>& files, const std::string& kernel) {
  const size_t n = measured_backward_run_count(files, kernel);
  if (n == 0) return "";
  std::string out = fmt::format("\nBackward pass: {} timed runs and references{}\n\n", n,
                                kernel.empty() ? std::string() : fmt::format(" of kernels matching '{}'", kernel));
  out += runs_table(files, kernel).to_text();
  out += "\npass: bwd = the backward alone (dQ, dK, dV from Q, K, V, O, dO and the forward's log-sum-exp),\n"
         "fwd+bwd = one training step. TFLOP/s counts the forward's 4·B·H·Nq·Nkv·d (half when causal) times\n"
         "2.5 for bwd (five tile products to the forward's two: S is recomputed) and 3.5 for fwd+bwd.\n"
         "vs: PyTorch SDPA's median time for the same problem and pass / ours (> 1: ours is faster).\n";
  return out;
}

void measured_backward_runs_json(JsonWriter& w, const std::vector<BackwardFile>& files, const std::string& kernel) {
  w.key("backward_runs").begin_array();
  for (const auto& f : files) {
    auto row = [&](const BackwardRun& r, bool ours) {
      const auto& c = r.run.config;
      w.begin_object().field("file", f.name).field("kernel", r.run.kernel).field("pass", r.pass)
          .field("source", r.run.source).field("batch", c.batch).field("heads", c.heads).field("kv_heads", c.kv_heads)
          .field("seq_q", c.seq_q).field("seq_kv", c.seq_kv).field("head_dim", c.head_dim).field("causal", c.causal)
          .field("dtype", c.dtype).field("block_q", c.block_q).field("block_kv", c.block_kv)
          .field("median_ms", r.run.time.median_ms).field("tflops", r.run.tflops);
      for (const char* backend : {"flash", "cudnn"}) {
        w.key(fmt::format("vs_torch_{}", backend));
        const auto s = ours ? backward_speedup(f.m, r, backend) : std::nullopt;
        if (s) w.value(*s); else w.null();
      }
      w.end_object();
    };
    for (const auto& r : f.m.runs)
      if (backward_wanted(kernel, r.run.kernel)) row(r, true);
    for (const auto& r : f.m.references)
      if (backward_wanted(kernel, r.run.kernel)) row(r, false);
  }
  w.end_array();
}

void measured_backward_runs_csv(Table& t, const std::vector<BackwardFile>& files, const std::string& kernel) {
  auto ratio = [](std::optional<double> s) { return s ? cell(fmt::format("{:.2f}x", *s), fmt::format("{}", *s)) : cell("-", ""); };
  for (const auto& f : files)
    for (const BackwardProblem& p : backward_problems(f.m))
      for (const BackwardKernelRow& row : p.rows) {
        if (row.forward_only || !backward_wanted(kernel, row.kernel)) continue;  // the forward rows are the forward's
        for (const char* pass : {"fwd", "bwd", "fwd+bwd"}) {
          const BackwardPassCell& c = backward_cell(row, pass);
          if (c.run == nullptr) continue;
          const MeasuredRun& r = *c.run;
          t.add_row({cell(f.name), cell(r.kernel), cell(pass), cell(config_text(r.config)),
                     cell(r.config.block_q || r.config.block_kv ? fmt::format("{}x{}", r.config.block_q, r.config.block_kv)
                                                                : std::string("-")),
                     cell(format_seconds(r.time.median_ms * 1e-3), fmt::format("{}", r.time.median_ms * 1e-3)),
                     cell_num(r.tflops, 1), cell("-", ""), cell("-", ""), ratio(c.vs_flash),
                     cell(c.fastest ? c.fastest->kernel : "-", c.fastest ? c.fastest->kernel : ""), ratio(c.vs_fastest)});
        }
      }
}

}  // namespace attnlab::cli
