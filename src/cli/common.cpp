#include "cli/common.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <optional>
#include <string_view>

#include "util/parse_number.hpp"

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

namespace {

// The transform for integer options: returns "" and rewrites `v` to plain decimal digits that
// fit a long long, or returns the complaint. The forms are util/parse_number's (4096, 1e5, 2^15,
// 100_000, 32K); a sign is kept so that the option's own range check names "-5".
std::string normalize_integer(std::string& v) {
  const std::optional<WholeNumber> w = whole_number_read(v);
  if (!w) return fmt::format("must be a whole number (got '{}')", v);
  const u128 limit = w->negative ? (u128{1} << 63) : (u128{1} << 63) - 1;
  if (w->huge || w->value > limit)
    return fmt::format("{} is too large (whole numbers here go up to 9223372036854775807)", v);
  v = (w->negative ? "-" : "") + to_string_u128(w->value);
  return "";
}

// The transform for floating-point options: a finite decimal number, nothing after it.
std::string check_real(std::string& v) {
  const char* begin = v.c_str();
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(begin, &end);
  const bool hex = v.find_first_of("xX") != std::string::npos;
  if (v.empty() || end != begin + v.size() || hex || std::isnan(d) || v.find_first_of("iInN") != std::string::npos)
    return fmt::format("must be a number (got '{}')", v);
  if (!std::isfinite(d) || errno == ERANGE) {
    if (std::fabs(d) < 1.0) {  // underflow to 0 or a denormal: the caller's range check decides
      errno = 0;
      return "";
    }
    return fmt::format("{} is too large", v);
  }
  return "";
}

void harden(CLI::App* app) {
  bool whole_numbers = false;
  for (CLI::Option* opt : app->get_options()) {
    const std::string type = opt->get_type_name();
    whole_numbers = whole_numbers || type == "INT" || type == "UINT";
    if (type == "INT")
      opt->transform(CLI::Validator(normalize_integer, ""));
    else if (type == "UINT")  // strtoull would take "-1" as 2^64 - 1
      opt->transform(CLI::Validator(
          [](std::string& v) {
            return !v.empty() && v[0] == '-' ? fmt::format("must be a whole number >= 0 (got '{}')", v)
                                             : normalize_integer(v);
          },
          ""));
    else if (type == "FLOAT")
      opt->transform(CLI::Validator(check_real, ""));
  }
  if (whole_numbers && app->get_footer().empty()) app->footer(whole_numbers_footer());
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) harden(sub);
}

}  // namespace

void harden_number_options(CLI::App& app) { harden(&app); }

std::string whole_numbers_footer() { return fmt::format("Whole numbers: {}.", whole_number_forms); }

void print_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace attnlab::cli
