// What every subcommand shares: the --format option, the GPU options, checked size options,
// and printing an answer in the chosen format.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "hw/gpu.hpp"
#include "util/output.hpp"

namespace attnlab::cli {

// --format table|json|csv
void add_format_option(CLI::App* cmd, std::string& format);

// --gpu NAME plus the overrides --sram-kib, --l2-mib, --hbm-gbps.
struct GpuOptions {
  std::string name{default_gpu_name()};
  GpuOverrides overrides;
};
void add_gpu_options(CLI::App* cmd, GpuOptions& o);
GpuSpec resolve_gpu(const GpuOptions& o);  // preset + overrides, validated

// A size option read as a signed integer so that "-5" gets our message, not a parse error:
// "--seq must be between 1 and 16777216 (got -5)".
u64 require_range(long long value, const char* option, long long min, long long max);

// Writes a finished answer to stdout. Callers build the whole answer first, so that an error
// found half-way prints nothing to stdout.
void print_out(const std::string& text);

}  // namespace attnlab::cli
