// The kernel programs' shared skeleton: see launcher.hpp.
#include "launcher.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "measure/measurement_write.hpp"
#include "util/errors.hpp"


namespace attnlab::kernels {

Measurements Program::begin_file() const {
  return measurement_begin(measured_device(dev), command, name + " " ATTNLAB_VERSION);
}

void Program::write_file(const Measurements& m, const std::string& path) const {
  if (!path.empty()) measurement_write(m, path);
}

int Program::skip(const std::string& why) const {
  fmt::print(stderr, "{}: {}.\nNothing was checked or timed (exit code {} = skipped).\n", name, why, kExitSkipped);
  return kExitSkipped;
}

void Program::print_device() const {
  fmt::print("device: {} ({} SMs, L2 {} MiB), driver {}, CUDA driver {} runtime {}\n", dev.name, dev.sm_count,
             dev.l2_bytes >> 20, dev.driver_version, dev.cuda_driver, dev.cuda_runtime);
}

int run_program(CLI::App& app, int argc, char** argv, const std::string& name,
                const std::function<std::optional<int>()>& before_gpu, const std::function<int(Program&)>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: {}\n", name, e.what());
    return kExitBadInput;
  }
  Program prog;
  prog.name = name;
  prog.command = command_line(name, argc, argv);
  try {
    if (before_gpu)
      if (std::optional<int> rc = before_gpu()) return *rc;
    std::string why;
    if (!cuda_device_usable(why)) return prog.skip(why);
    prog.dev = device_facts();
    return body(prog);
  } catch (const BadInput& e) {
    fmt::print(stderr, "{}: {}\n", name, e.what());
    return kExitBadInput;
  } catch (const CLI::Error& e) {
    fmt::print(stderr, "{}: {}\n", name, e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", name, e.what());
    return 1;
  }
}

MeasuredDevice measured_device(const DeviceFacts& f) {
  MeasuredDevice d;
  d.name = f.name;
  d.compute_capability = fmt::format("{}.{}", f.cc_major, f.cc_minor);
  d.sm_count = u64(f.sm_count);
  d.l2_bytes = u64(f.l2_bytes);
  d.memory_bytes = u64(f.memory_bytes);
  d.smem_per_block_optin = u64(f.smem_per_block_optin);
  d.driver_version = f.driver_version;
  d.cuda_driver = f.cuda_driver;
  d.cuda_runtime = f.cuda_runtime;
  return d;
}

MeasuredConfig measured_config(const AttnShape& s, int block_q, int block_kv, const std::string& score_dtype) {
  MeasuredConfig c;
  c.batch = u64(s.batch);
  c.heads = u64(s.heads);
  c.kv_heads = u64(s.kv_heads);
  c.seq_q = u64(s.seq_q);
  c.seq_kv = u64(s.seq_kv);
  c.head_dim = u64(s.head_dim);
  c.causal = s.causal;
  c.dtype = std::string(elem_name(s.dtype));
  c.score_dtype = score_dtype;
  c.block_q = u64(block_q);
  c.block_kv = u64(block_kv);
  return c;
}

MeasuredRun measured_run(const std::string& kernel, int rung, const MeasuredConfig& c, const std::vector<double>& ms,
                         double flops, double min_bytes, const CheckResult* check, const std::string& note) {
  MeasuredRun r;
  r.kernel = kernel;
  r.rung = rung;
  r.source = "attnlab";
  r.config = c;
  r.time = measured_time(ms);
  r.tflops = flops / (r.time.median_ms * 1e-3) / 1e12;
  if (min_bytes > 0) r.gbps = min_bytes / (r.time.median_ms * 1e-3) / 1e9;
  if (check) {
    r.max_abs_error = check->max_abs_error;
    r.rel_l2_error = check->rel_l2_error;
  }
  r.note = note;
  return r;
}

double copy_bandwidth_gbps(const DeviceFacts& dev, const TimingOptions& to) {
  const size_t n = size_t(1) << 30;
  DeviceBuffer a(n), c(n);
  ATTN_CUDA(cudaMemset(a.get(), 1, n));
  auto ms = time_launches(
      [&](cudaStream_t st) { ATTN_CUDA(cudaMemcpyAsync(c.get(), a.get(), n, cudaMemcpyDeviceToDevice, st)); }, to,
      dev.l2_bytes, nullptr);
  return 2.0 * double(n) / (stats_of(ms).median * 1e-3) / 1e9;
}

std::vector<int> parse_int_list(const std::string& text, const std::string& option, int lo, int hi) {
  std::vector<int> v;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    long x = 0;
    try {
      x = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw BadInput(fmt::format("{} must be comma-separated integers (got '{}')", option, text));
    if (x < lo || x > hi) throw BadInput(fmt::format("{} values must be between {} and {} (got {})", option, lo, hi, x));
    v.push_back(int(x));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return v;
}

}  // namespace attnlab::kernels
