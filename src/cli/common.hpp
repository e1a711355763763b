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

// Makes every number option of every subcommand read the way a person writes numbers, and refuse
// anything else with a message naming the option. CLI11 2.1.2 alone parses integers with
// strtoll(..., base 0): "010" is 8 (octal), "0x10" is 16, and 10^20 silently becomes 2^63 - 1;
// "nan" and "inf" pass as doubles. After this, an integer option takes what util/parse_number
// reads (4096, 1e5, 2^15, 100_000, 32K with K = 1024 and k = 1000; leading zeros are decimal), a
// double option takes a finite decimal number, and anything else is
// "--seq: must be a whole number (got '12x')".
// main() and the CLI fuzz target call it once the subcommands are set up.
// Every subcommand with a whole-number option gets whole_numbers_footer() under its --help.
void harden_number_options(CLI::App& app);
std::string whole_numbers_footer();  // "Whole numbers: 4096, 1e5, 2^15, 100_000 or 32K (K = 1024, ...)."

// Writes a finished answer to stdout. Callers build the whole answer first, so that an error
// found half-way prints nothing to stdout.
void print_out(const std::string& text);

}  // namespace attnlab::cli
