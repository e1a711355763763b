#include "cli/common.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <optional>
#include <string_view>

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

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "1e9" -> "1000000000", "2.5e3" -> "2500", "12" -> "12"; nullopt when the text is not a whole
// number written in decimal (with at most one '.', an optional exponent e[+]N). No sign.
std::optional<std::string> whole_digits(std::string_view s) {
  size_t e = s.find_first_of("eE");
  std::string_view mant = s.substr(0, e), expo = e == std::string_view::npos ? "" : s.substr(e + 1);
  if (e != std::string_view::npos) {
    if (!expo.empty() && expo[0] == '+') expo.remove_prefix(1);
    if (!all_digits(expo) || expo.size() > 3) return std::nullopt;
  }
  size_t dot = mant.find('.');
  std::string_view ip = mant.substr(0, dot), fp = dot == std::string_view::npos ? "" : mant.substr(dot + 1);
  if (ip.empty() || !all_digits(ip) || (dot != std::string_view::npos && !fp.empty() && !all_digits(fp)))
    return std::nullopt;
  if (e == std::string_view::npos && dot != std::string_view::npos) {
    // "12.0" is whole; "12.5" is not.
    for (char c : fp)
      if (c != '0') return std::nullopt;
    fp = "";
  }
  const size_t shift = expo.empty() ? 0 : static_cast<size_t>(std::stoi(std::string(expo)));
  std::string digits = std::string(ip);
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i < shift) digits.push_back(fp[i]);
    else if (fp[i] != '0') return std::nullopt;  // a fraction is left over: not whole
  }
  if (shift > fp.size()) digits.append(std::min<size_t>(shift - fp.size(), 400), '0');
  size_t nz = digits.find_first_not_of('0');
  return nz == std::string::npos ? std::string("0") : digits.substr(nz);
}

// The transform for integer options: returns "" and rewrites `v` to plain decimal digits that
// fit a long long, or returns the complaint.
std::string normalize_integer(std::string& v) {
  std::string_view s = v;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::optional<std::string> digits = whole_digits(s);
  if (!digits) return fmt::format("must be a whole number (got '{}')", v);
  const std::string limit = negative ? "9223372036854775808" : "9223372036854775807";
  if (digits->size() > limit.size() || (digits->size() == limit.size() && *digits > limit))
    return fmt::format("{} is too large (whole numbers here go up to 9223372036854775807)", v);
  v = (negative && *digits != "0" ? "-" : "") + *digits;
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
  for (CLI::Option* opt : app->get_options()) {
    const std::string type = opt->get_type_name();
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
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) harden(sub);
}

}  // namespace

void harden_number_options(CLI::App& app) { harden(&app); }

void print_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace attnlab::cli
