// Fuzz target (a): argument parsing and validation of every `attnlab` subcommand.
// The input is an argument list, one argument per line ('\n' or '\0' separated), without the
// program name. The App is built by the program's own app_build (src/cli/run.cpp),
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
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "cli/run.hpp"
#include "util/errors.hpp"

namespace {

void write_dict(const char* path) {
  CLI::App app{"attnlab fuzz", "attnlab"};
  attnlab::cli::app_build(app);
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

// Thrown by the cost guard below: the input parsed and is valid, but running it would only time
// the simulator (not look for bugs in parsing and validation).
struct TooSlowToRun {};

// A rough number for an option of `cmd` as given (default when absent or unreadable: the real
// parser decides what is valid; this only has to be big for big inputs).
double given(const CLI::App* cmd, const char* name, double fallback) {
  const CLI::Option* o = cmd->get_option_no_throw(name);
  if (!o || o->count() == 0 || o->results().empty()) return fallback;
  const std::string& v = o->results().back();
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  return end != v.c_str() && x > 0 ? x : fallback;
}

// The first 10^6-run campaign timed out (> 20 s per input under ASan) on `traffic --verify` (a CPU
// reference attention, O(B·H·N²·d) by design) and on `traffic --pass fwd+bwd --batch 63 --heads 16
// --seq 2024 --algo naive,flash1,flash2` (the L2 model traces up to 4 million events per kernel,
// 2.3 s in a Release build). Both are valid and bounded; the fuzzer skips them once validated.
// The second campaign timed out on `paged --samples 7` (500 requests x 7 samples: 1.5 s in a Release
// build; --samples 16 --requests 5000 --kv-gib 1024 takes 37 s there). Valid and bounded too.
CLI::App* subcommand(CLI::App& app, const char* name) {
  CLI::App* found = nullptr;
  for (CLI::App* sub : app.get_subcommands([name](CLI::App* a) { return a->get_name() == name; })) found = sub;
  return found;
}

void guard_costly(CLI::App& app) {
  if (CLI::App* p = subcommand(app, "paged"))
    p->parse_complete_callback([p] {
      if (given(p, "--requests", 500) * given(p, "--samples", 1) > 2000) throw TooSlowToRun{};  // 4x the default
    });
  CLI::App* t = subcommand(app, "traffic");
  if (!t) return;
  t->parse_complete_callback([t] {
    if (t->get_option("--verify")->count() > 0) throw TooSlowToRun{};
    if (t->get_option("--no-l2")->count() > 0) return;
    double algos = 2;
    if (const CLI::Option* a = t->get_option_no_throw("--algo"); a && a->count() > 0 && !a->results().empty())
      algos = 1 + static_cast<double>(std::count(a->results().back().begin(), a->results().back().end(), ','));
    double passes = 1;
    if (const CLI::Option* p = t->get_option_no_throw("--pass"); p && p->count() > 0 && !p->results().empty())
      passes = p->results().back() == "fwd" ? 1 : 3;
    const double work = given(t, "--batch", 1) * given(t, "--heads", 16) * given(t, "--seq", 4096) * algos * passes;
    if (work > 524288) throw TooSlowToRun{};  // 4x the default (1 x 16 x 4096 x 2 algorithms x fwd)
  });
}

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
  attnlab::cli::app_build(app);
  guard_costly(app);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {  // includes --help (CallForHelp)
  } catch (const attnlab::InputError&) {
  } catch (const TooSlowToRun&) {
  }
  // Any other exception escapes: libFuzzer reports it as a crash (main() would print
  // "internal error" and exit 1 for it, which bad input must never cause).
  return 0;
}
