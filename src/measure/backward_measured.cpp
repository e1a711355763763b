// Reader of the "backward" section of measurement files (schema: assets/measurements/README.md).
#include "measure/backward_measured.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "util/errors.hpp"
#include "util/json_read.hpp"

namespace attnlab {

double backward_pass_flops_factor(std::string_view pass) {
  if (pass == "fwd") return 1.0;
  if (pass == "bwd") return 2.5;
  if (pass == "fwd+bwd") return 3.5;
  return 0.0;
}

namespace {

// A rate written with another convention (2x for the backward, or the forward's FLOPs) would be
// read as ours: refused. 1% leaves room for the writers' rounding, not for another factor.
constexpr double kRateTolerance = 0.01;

void check_rate(const JsonNode& n, const std::string& pass, const MeasuredConfig& c, double median_ms, double tflops) {
  const double expect = backward_pass_flops_factor(pass) * measurement_forward_flops(c) / (median_ms * 1e-3) / 1e12;
  if (std::fabs(tflops / expect - 1.0) > kRateTolerance)
    n.at("tflops").fail(fmt::format("must be {} x the forward's FLOPs / median = {:.1f} TFLOP/s for pass {} (got {:.1f})",
                                    backward_pass_flops_factor(pass), expect, pass, tflops));
}

std::string read_pass(const JsonNode& n) {
  const std::string pass = n.at("pass").str();
  if (backward_pass_flops_factor(pass) == 0.0) n.at("pass").fail(fmt::format("must be fwd, bwd or fwd+bwd (got '{}')", pass));
  return pass;
}

BackwardRun read_backward_run(const JsonNode& n, bool reference) {
  BackwardRun r;
  r.pass = read_pass(n);
  r.run = measured_run_read(n, reference);
  check_rate(n, r.pass, r.run.config, r.run.time.median_ms, r.run.tflops);
  return r;
}

BackwardVariant read_variant(const JsonNode& n) {
  BackwardVariant v;
  v.variant = n.at("variant").count_in(1, 99);
  v.config = measured_config_read(n.at("config"));
  v.time = measured_time_read(n.at("time_ms"));
  v.tflops = n.at("tflops").positive();
  check_rate(n, "bwd", v.config, v.time.median_ms, v.tflops);
  return v;
}

BackwardNcuKernel read_ncu_kernel(const JsonNode& n) {
  BackwardNcuKernel k;
  k.name = n.at("name").str();
  k.dram_read_bytes = n.at("dram_read_bytes").non_negative();
  k.dram_write_bytes = n.at("dram_write_bytes").non_negative();
  k.l2_bytes = n.at("l2_bytes").non_negative();
  k.duration_ns = n.has("duration_ns") ? n.at("duration_ns").non_negative() : 0.0;
  return k;
}

// The record's totals must be the sum of its kernels (the writer sums them; a hand-edited total
// that disagrees would compare the model with a number no kernel measured).
void check_sum(const JsonNode& n, const char* key, double total, double sum) {
  if (std::fabs(total - sum) > 1e-3 * std::max(1.0, total))
    n.at(key).fail(fmt::format("must be the sum over kernels[] ({:.0f}; got {:.0f})", sum, total));
}

void read_backward_ncu(const JsonNode& n, const std::string& options, BackwardMeasurements& m) {
  NcuRecord r;
  r.kernel = n.at("kernel").str();
  r.pass = n.at("pass").str();
  if (r.pass != "bwd") n.at("pass").fail(fmt::format("must be bwd (got '{}')", r.pass));
  r.config = measured_config_read(n.at("config"));
  r.dram_read_bytes = n.at("dram_read_bytes").non_negative();
  r.dram_write_bytes = n.at("dram_write_bytes").non_negative();
  r.lts_bytes = n.at("l2_bytes").non_negative();
  r.options = options;
  std::vector<BackwardNcuKernel> ks;
  for (const JsonNode& k : n.at("kernels").items()) ks.push_back(read_ncu_kernel(k));
  if (ks.empty()) n.at("kernels").fail("must list at least one kernel");
  double rd = 0, wr = 0, l2 = 0;
  for (const auto& k : ks) rd += k.dram_read_bytes, wr += k.dram_write_bytes, l2 += k.l2_bytes;
  check_sum(n, "dram_read_bytes", r.dram_read_bytes, rd);
  check_sum(n, "dram_write_bytes", r.dram_write_bytes, wr);
  check_sum(n, "l2_bytes", r.lts_bytes, l2);
  r.launches = ks.size();
  r.metrics["dram__bytes_read.sum"] = r.dram_read_bytes;
  r.metrics["dram__bytes_write.sum"] = r.dram_write_bytes;
  r.metrics["lts__t_bytes.sum"] = r.lts_bytes;
  m.ncu.push_back(std::move(r));
  m.ncu_kernels.push_back(std::move(ks));
}

// Records written without tiles take those of our timed runs of the same kernel, head size and
// dtype (the kernel's one tile table chose both); PyTorch's keep 0: FlashAttention-2's defaults.
// A record of ours with neither tiles nor such a run would be simulated with default tiles that
// no kernel ran: refused, naming the record.
void fill_tiles(const JsonNode& b, BackwardMeasurements& m) {
  for (size_t i = 0; i < m.ncu.size(); ++i) {
    NcuRecord& n = m.ncu[i];
    if (n.config.block_q != 0 || n.config.block_kv != 0) continue;
    for (const BackwardRun& r : m.runs)
      if (r.run.kernel == n.kernel && r.run.config.head_dim == n.config.head_dim && r.run.config.dtype == n.config.dtype &&
          r.run.config.block_q != 0) {
        n.config.block_q = r.run.config.block_q;
        n.config.block_kv = r.run.config.block_kv;
        break;
      }
    const bool pytorch = std::any_of(m.references.begin(), m.references.end(),
                                     [&](const BackwardRun& r) { return r.run.kernel == n.kernel; });
    if (n.config.block_q == 0 && !pytorch)
      b.at("ncu").items()[i].at("kernel").fail(fmt::format(
          "'{}' is neither a PyTorch reference of this section nor a kernel with a timed run of head size {} and "
          "{} to take its tiles from (give config.block_q and block_kv)",
          n.kernel, n.config.head_dim, n.config.dtype));
  }
}

BackwardMeasurements read_backward(const JsonNode& root) {
  BackwardMeasurements m;
  m.file = measurement_read(root);
  if (!root.has("backward")) throw InputError(fmt::format("{}: has no \"backward\" section", root.origin()));
  const JsonNode b = root.at("backward");
  if (!b.is_object()) b.fail("must be a JSON object");
  m.flops_note = b.str_or("flops_note", "");
  m.ncu_note = b.str_or("ncu_note", "");
  m.variants_note = b.str_or("variants_note", "");
  for (const JsonNode& n : b.at("runs").items()) m.runs.push_back(read_backward_run(n, false));
  if (m.runs.empty()) b.at("runs").fail("must list at least one timed run of ours");
  if (b.has("references"))
    for (const JsonNode& n : b.at("references").items()) m.references.push_back(read_backward_run(n, true));
  if (b.has("variants"))
    for (const JsonNode& n : b.at("variants").items()) m.variants.push_back(read_variant(n));
  // ncu's options are in the note (one command for every record).
  if (b.has("ncu"))
    for (const JsonNode& n : b.at("ncu").items()) read_backward_ncu(n, m.ncu_note, m);
  fill_tiles(b, m);
  return m;
}

}  // namespace

BackwardMeasurements backward_measured_parse(std::string_view json_text, std::string_view origin) {
  return read_backward(json_parse(json_text, origin).root());
}

BackwardMeasurements backward_measured_load(const std::filesystem::path& path) {
  return backward_measured_parse(file_read_text(path, "measurement file"), path.filename().string());
}

std::vector<std::filesystem::path> backward_measured_files(const std::filesystem::path& dir) {
  return measurement_files_with(dir, "backward");
}

const BackwardRun* backward_reference(const BackwardMeasurements& m, const BackwardRun& ours, std::string_view backend) {
  for (const BackwardRun& r : m.references)
    if (r.pass == ours.pass && r.run.backend == backend && measured_same_problem(r.run.config, ours.run.config)) return &r;
  return nullptr;
}

}  // namespace attnlab
