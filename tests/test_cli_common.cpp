// Bad numbers, every subcommand, every number option (harden_number_options, src/cli/common.cpp):
// each option found in `attnlab CMD --help` is given each bad value below and must answer exit 2,
// nothing on stdout, and a message naming the option. The program runs in-process (cli_run, the
// code main() calls) with stdout and stderr caught at the file descriptors: the ~600 runs as
// separate processes took minutes under the sanitizers, in-process they take a second or two.
// The real binary's exit-code path is still checked by the cli.hardening_* CTests
// (tests/cli_hardening.cmake: hex, fraction, past 64 bits, NaN, inf, trailing junk).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run.hpp"

namespace {

struct Run {
  int rc = -1;
  std::string out, err;
};

std::string read_all(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  return s;
}

// stdout and stderr pointed at temporary files while the command runs, put back afterwards
// (also when it throws, so doctest can still report).
class Captured {
 public:
  Captured() : out_(std::tmpfile()), err_(std::tmpfile()) {
    REQUIRE(out_ != nullptr);
    REQUIRE(err_ != nullptr);
    flush();
    saved_out_ = dup(1);
    saved_err_ = dup(2);
    dup2(fileno(out_), 1);
    dup2(fileno(err_), 2);
  }
  ~Captured() {
    restore();
    std::fclose(out_);
    std::fclose(err_);
  }
  Run finish(int rc) {
    restore();
    return {rc, read_all(out_), read_all(err_)};
  }

 private:
  static void flush() {
    std::cout.flush();  // CLI11 prints --help through std::cout
    std::cerr.flush();
    std::fflush(stdout);
    std::fflush(stderr);
  }
  void restore() {
    if (saved_out_ < 0) return;
    flush();
    dup2(saved_out_, 1);
    dup2(saved_err_, 2);
    close(saved_out_);
    close(saved_err_);
    saved_out_ = saved_err_ = -1;
  }
  FILE* out_;
  FILE* err_;
  int saved_out_ = -1, saved_err_ = -1;
};

Run run_attnlab(std::vector<std::string> args) {
  args.insert(args.begin(), "attnlab");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  Captured c;
  const int rc = attnlab::cli::cli_run(static_cast<int>(argv.size()), argv.data());
  return c.finish(rc);
}

// Negative, zero, huge, past 64 bits, non-numeric, NaN, trailing junk, far past a double.
const std::vector<std::string> bad_values{"-1", "0", "1e99", "99999999999999999999", "abc", "nan", "12x", "1e999"};

// The option a --help line lists, if it takes a number: "  -d,--head-dim INT=64  ..." -> --head-dim
// (what `^ +(-[A-Za-z],)?(--[a-z0-9-]+) (INT|UINT|FLOAT)` matches; no <regex>, which would double
// this file's compile time under the sanitizers).
std::string number_option(std::string_view line) {
  const size_t start = line.find_first_not_of(' ');
  if (start == 0 || start == std::string_view::npos) return "";
  line.remove_prefix(start);
  if (line.size() > 3 && line[0] == '-' && std::isalpha(static_cast<unsigned char>(line[1])) && line[2] == ',')
    line.remove_prefix(3);
  if (line.substr(0, 2) != "--") return "";
  size_t end = 2;
  while (end < line.size() && (std::islower(static_cast<unsigned char>(line[end])) ||
                               std::isdigit(static_cast<unsigned char>(line[end])) || line[end] == '-'))
    ++end;
  if (end == 2) return "";
  const std::string_view type = line.substr(end);
  for (const char* t : {" INT", " UINT", " FLOAT"})
    if (type.substr(0, std::strlen(t)) == t) return std::string(line.substr(0, end));
  return "";
}

// Whether --help lists `opt` as an option (after a space or a short name's comma).
bool help_lists(const std::string& help, const std::string& opt) {
  for (size_t at = help.find(opt + " "); at != std::string::npos; at = help.find(opt + " ", at + 1))
    if (at > 0 && (help[at - 1] == ' ' || help[at - 1] == ',')) return true;
  return false;
}

// `extra`: options read as text that hold numbers (not listed as INT/UINT/FLOAT in --help);
// `zero_ok`: options for which 0 is a meaningful value (default, none, off, or a valid seed).
void sweep(const std::string& cmd, const std::vector<std::string>& extra, const std::set<std::string>& zero_ok) {
  const Run help = run_attnlab({cmd, "--help"});
  REQUIRE(help.rc == 0);
  std::vector<std::string> options = extra;
  for (const std::string& o : extra) {
    CAPTURE(o);
    CHECK(help_lists(help.out, o));  // a renamed option is not swept silently
  }
  for (size_t at = 0; at < help.out.size();) {
    const size_t end = std::min(help.out.find('\n', at), help.out.size());
    const std::string o = number_option(std::string_view(help.out).substr(at, end - at));
    if (!o.empty() && std::find(options.begin(), options.end(), o) == options.end()) options.push_back(o);
    at = end + 1;
  }
  REQUIRE_MESSAGE(!options.empty(), "attnlab " << cmd << ": no number options found in --help");
  for (const std::string& z : zero_ok) {
    CAPTURE(z);
    CHECK(std::find(options.begin(), options.end(), z) != options.end());
  }
  int runs = 0;
  for (const std::string& opt : options)
    for (const std::string& v : bad_values) {
      if (v == "0" && zero_ok.count(opt)) continue;
      ++runs;
      const Run r = run_attnlab({cmd, opt, v});
      INFO("attnlab " << cmd << " " << opt << " " << v << ": exit " << r.rc << ", stdout " << r.out << ", stderr "
                      << r.err);
      CHECK(r.rc == 2);
      CHECK(r.out.empty());
      CHECK(r.err.rfind("attnlab: error: ", 0) == 0);
      CHECK(r.err.find(opt) != std::string::npos);
    }
  MESSAGE(runs << " bad numbers refused over " << options.size() << " options of attnlab " << cmd);
}

}  // namespace

TEST_CASE("bad numbers: attnlab traffic refuses each on every number option") {
  sweep("traffic", {}, {"--kv-heads", "--block-q", "--block-kv", "--block-q-bwd", "--block-kv-bwd"});
}

TEST_CASE("bad numbers: attnlab kv refuses each on every number option") {
  sweep("kv", {}, {"--window", "--kv-lora-rank", "--rope-dim", "--params"});
}

TEST_CASE("bad numbers: attnlab ring refuses each on every number option") {
  sweep("ring", {}, {"--window", "--kv-lora-rank", "--rope-dim", "--params", "--link-latency-us"});
}

TEST_CASE("bad numbers: attnlab steps refuses each on every size option") {
  // steps reads its sizes as text (lists, 1e6, 2^20): named here.
  sweep("steps",
        {"--seq", "--head-dim", "--heads", "--layers", "--window", "--longformer-window", "--globals", "--stride",
         "--every-k", "--local-window", "--features", "--state", "--channels", "--conv-width", "--baseline-seq"},
        {"--globals"});
}

TEST_CASE("bad numbers: attnlab lesson refuses each on every number option") { sweep("lesson", {}, {"--width"}); }

TEST_CASE("bad numbers: attnlab specdec refuses each on every number option") {
  sweep("specdec", {}, {"--alpha", "--gamma", "--c", "--seed", "--steps"});
}

TEST_CASE("bad numbers: attnlab paged refuses each on every number option") {
  sweep("paged", {}, {"--rate", "--seed", "--max-batch", "--show-steps"});
}

TEST_CASE("attnlab in-process: the exit codes and streams of the real program") {
  // What the sweep above relies on: cli_run answers as the binary does.
  const Run ok = run_attnlab({"version"});
  CHECK(ok.rc == 0);
  CHECK(ok.out.find("attnlab") != std::string::npos);
  CHECK(ok.err.empty());
  const Run unknown = run_attnlab({"frobnicate"});
  CHECK(unknown.rc == 2);
  CHECK(unknown.out.empty());
  CHECK(unknown.err.rfind("attnlab: error: unknown command 'frobnicate' (known: tour, traffic,", 0) == 0);
  const Run bad = run_attnlab({"traffic", "--seq", "0x10"});
  CHECK(bad.rc == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err.rfind("attnlab: error: --seq: must be a whole number (got '0x10')\n", 0) == 0);
}
