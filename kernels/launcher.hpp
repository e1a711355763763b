// The skeleton every kernel program's main() shares (attnlab-bench and the rung programs), so that
// each behaves the same way at its edges:
//   - bad input: one line "<program>: <problem>" on stderr, exit 2, nothing on stdout, before any
//     GPU call (CTest's cli.* tests run on machines without one);
//   - no usable CUDA device: one line saying why, exit 77 (CTest's SKIP_RETURN_CODE: "skipped",
//     never "passed");
//   - an error while running (a CUDA call, a file that cannot be written): one line, exit 1.
// A measurement file starts from Program::begin_file (device, date, command line echoed, tool) and
// is written by Program::write_file (src/measure/measurement_write: validated before it is written).
//
// Adopting it in a new program (plain C++; a .cu file keeps its kernels and a host entry point):
//   int main(int argc, char** argv) {
//     CLI::App app{"attnlab-my-rung: ..."};
//     ... app.add_option(...);
//     return run_program(app, argc, argv, "attnlab-my-rung", {}, [&](const Program& prog) {
//       Measurements m = prog.begin_file();
//       ... check, time, m.runs.push_back(prog.run(...)) ...
//       prog.write_file(m, json_path);
//       return 0;
//     });
//   }
// Plain C++ (no CUDA, no CLI11 in this header): nvcc never parses it.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness-cuda.hpp"
#include "harness.hpp"
#include "measure/measurement.hpp"

namespace CLI {
class App;
}

namespace attnlab::kernels {

inline constexpr int kExitSkipped = 77;  // CTest's SKIP_RETURN_CODE for the kernel checks
inline constexpr int kExitBadInput = 2;  // the project's exit code for bad input

struct Program {
  std::string name;     // the binary's name, = its file's name: "attnlab-attn-decode"
  std::string command;  // the command line as run, argv[0] replaced by `name`
  DeviceFacts dev;      // filled once a usable device was found

  // A measurement file with its header filled (schema, device, date now, command, tool "<name> <version>").
  Measurements begin_file() const;
  // Validates and writes `m` to `path` ("" = nothing to write).
  void write_file(const Measurements& m, const std::string& path) const;
  // Says why the program does nothing here ("needs compute capability 9.0") and returns 77.
  int skip(const std::string& why) const;
  // The line a timing run ends with: the device, its SMs and L2, driver and CUDA versions.
  void print_device() const;
};

// Parses argv with `app`, then `before_gpu` (input checks, and GPU-free modes such as
// --print-shapes: a value is the exit code, nullopt = go on), then finds a device and runs `body`.
int run_program(CLI::App& app, int argc, char** argv, const std::string& name,
                const std::function<std::optional<int>()>& before_gpu, const std::function<int(Program&)>& body);

// Bad input found after parsing (in before_gpu or body): throw this; run_program prints it and exits 2.
struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The schema's view of the device and of a problem (block_q/block_kv: the kernel's tiles).
MeasuredDevice measured_device(const DeviceFacts& f);
MeasuredConfig measured_config(const AttnShape& s, int block_q, int block_kv, const std::string& score_dtype = "");
// One timed run of ours: tflops from the forward count (src/sim/flops), gbps = `min_bytes` / median.
MeasuredRun measured_run(const std::string& kernel, int rung, const MeasuredConfig& c, const std::vector<double>& ms,
                         double flops, double min_bytes, const CheckResult* check, const std::string& note = "");

// The copy ceiling: a 1 GiB device-to-device cudaMemcpyAsync, (bytes read + bytes written) /
// median time, timed like the kernels (`to`). What a memory-bound rung's GB/s is compared with.
double copy_bandwidth_gbps(const DeviceFacts& dev, const TimingOptions& to);

// "1024,2048,4096" -> {1024, 2048, 4096}; each within [lo, hi], else BadInput naming `option`.
std::vector<int> parse_int_list(const std::string& text, const std::string& option, int lo, int hi);

}  // namespace attnlab::kernels
