// Fuzz target (a): argument parsing and validation of every `attnlab` subcommand.
// The input is an argument list, one argument per line ('\n' or '\0' separated), without the
// program name. The App is built the way src/cli/main.cpp builds it, from src/cli/commands.def,
// then parsed; the subcommand callbacks run (that is where validation happens) with stdout sent to
// /dev/null. Bad input must end as CLI11's ParseError or attnlab::InputError; anything else
// (another exception, a crash, a sanitizer report, a hang) is a finding.
//
// Safety: the target runs real commands, some of which touch files. It works in a private
// temporary folder (relative paths land there), never writes `traffic --trace` files (they can be
// a gigabyte), and skips arguments naming /dev, /proc or /sys (reading /dev/stdin would block).
//
// ATTNLAB_FUZZ_WRITE_DICT=PATH: write a libFuzzer dictionary (every subcommand and option name,
// read off the App itself so it never goes stale) to PATH and exit; scripts/fuzz does this.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "util/errors.hpp"

#define ATTNLAB_COMMAND(name) void setup_##name(CLI::App& app);
namespace attnlab::cli {
#include "cli/commands.def"
}
#undef ATTNLAB_COMMAND

namespace {

void build_app(CLI::App& app) {
  app.require_subcommand(1);
  app.fallthrough(false);
#define ATTNLAB_COMMAND(name) attnlab::cli::setup_##name(app);
#include "cli/commands.def"
#undef ATTNLAB_COMMAND
  attnlab::cli::harden_number_options(app);
}

void write_dict(const char* path) {
  CLI::App app{"attnlab fuzz", "attnlab"};
  build_app(app);
  std::set<std::string> words;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    words.insert(sub->get_name());
    for (const auto* opt : sub->get_options()) {
      for (const auto& l : opt->get_lnames()) words.insert("--" + l);
      for (const auto& s : opt->get_snames()) words.insert("-" + s);
    }
  }
  // Numbers and words the validators treat specially.
  for (const char* w : {"0", "-1", "1e99", "1e9", "16777216", "4294967296", "18446744073709551616", "nan", "inf",
                        "-0", "0x10", "1k", "1.5", "1e-300", "json", "csv", "table", "fp8", "bf16", "fp32", "h100-sxm",
                        "llama-3-8b", ",", "=", "lognormal:100:1", "fixed:100", "uniform:1:10"})
    words.insert(w);
  FILE* f = std::fopen(path, "w");
  if (!f) std::abort();
  for (const auto& w : words) {
    std::fputc('"', f);
    for (char c : w) {
      if (c == '"' || c == '\\') std::fputc('\\', f);
      std::fputc(c, f);
    }
    std::fputs("\"\n", f);
  }
  std::fclose(f);
}

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dict = std::getenv("ATTNLAB_FUZZ_WRITE_DICT")) {
    write_dict(dict);
    std::exit(0);
  }
  static char dir[] = "/tmp/attnlab-fuzz-cli-XXXXXX";
  if (!mkdtemp(dir) || chdir(dir) != 0) std::abort();
  // Answers go to stdout; we only care whether computing them goes wrong.
  if (!std::freopen("/dev/null", "w", stdout)) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;  // long argument lists add nothing but time
  std::vector<std::string> args{"attnlab"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    char c = static_cast<char>(data[i]);
    if (c == '\n' || c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) args.push_back(cur);
  if (args.size() > 24) return 0;
  bool traffic = false, trace = false;
  for (const auto& a : args) {
    if (a.find("/dev") != std::string::npos || a.find("/proc") != std::string::npos ||
        a.find("/sys") != std::string::npos)
      return 0;
    traffic = traffic || a == "traffic";
    trace = trace || starts_with(a, "--trace");
  }
  if (traffic && trace) return 0;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());

  CLI::App app{"attnlab fuzz", "attnlab"};
  build_app(app);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {  // includes --help (CallForHelp)
  } catch (const attnlab::InputError&) {
  }
  // Any other exception escapes: libFuzzer reports it as a crash (main() would print
  // "internal error" and exit 1 for it, which bad input must never cause).
  return 0;
}
