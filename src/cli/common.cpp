#include "cli/common.hpp"

#include <cstdio>
#include <fmt/format.h>

namespace attnlab::cli {

void add_format_option(CLI::App* cmd, std::string& format) {
  cmd->add_option("--format", format, "Output: table (for people), json or csv (for programs)")
      ->default_val("table");
}

void add_gpu_options(CLI::App* cmd, GpuOptions& o) {
  cmd->add_option("--gpu", o.name, "GPU preset (see 'attnlab gpus')")->default_val(std::string(default_gpu_name()));
  cmd->add_option("--sram-kib", o.overrides.sram_kib, "Override shared memory (SRAM) per SM and per block, KiB");
  cmd->add_option("--l2-mib", o.overrides.l2_mib, "Override the L2 cache size, MiB");
  cmd->add_option("--hbm-gbps", o.overrides.hbm_gbps, "Override DRAM bandwidth, GB/s");
}

GpuSpec resolve_gpu(const GpuOptions& o) { return gpu_apply_overrides(gpu_find(o.name), o.overrides); }

u64 require_range(long long value, const char* option, long long min, long long max) {
  if (value < min || value > max)
    throw InputError(fmt::format("{} must be between {} and {} (got {})", option, min, max, value));
  return static_cast<u64>(value);
}

void print_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace attnlab::cli
