// Measurement files: what the kernels/ bench measured on a real GPU, read back by the dashboard,
// the CLI and the simulator-vs-hardware test. The schema is documented in
// assets/measurements/README.md; this is its one reader, writer and validator. No CUDA here:
// a student without a GPU reads the same files.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

class JsonNode;

// The version this build reads and writes. A file with a larger number was written by a newer
// attnlab: we refuse it with a clear message instead of guessing what new fields mean.
inline constexpr int measurement_schema_version = 1;
inline constexpr std::string_view measurement_schema_name = "attnlab-measurements";

// Where the measurement was taken: read off the device by the bench (cudaGetDeviceProperties,
// cudaDriverGetVersion, /proc/driver/nvidia/version).
struct MeasuredDevice {
  std::string name;                // "NVIDIA H100 80GB HBM3"
  std::string compute_capability;  // "9.0"
  u64 sm_count = 0;
  u64 l2_bytes = 0;
  u64 memory_bytes = 0;
  u64 smem_per_block_optin = 0;    // bytes a block may use after cudaFuncSetAttribute
  std::string driver_version;      // "580.159.04" (kernel module), or "" when unknown
  std::string cuda_driver;         // "13.0": the CUDA version the driver supports
  std::string cuda_runtime;        // "13.0": the runtime the bench was built with
};

// The attention problem a run solved, in the simulator's words (src/sim/config.hpp):
// Q is [batch, heads, seq_q, head_dim], K and V are [batch, kv_heads, seq_kv, head_dim].
struct MeasuredConfig {
  u64 batch = 0;
  u64 heads = 0;
  u64 kv_heads = 0;  // divides heads; kv_head = head / (heads / kv_heads)
  u64 seq_q = 0;
  u64 seq_kv = 0;
  u64 head_dim = 0;
  bool causal = false;
  // "bf16" | "fp16": Q, K, V and O; "fp8": Q, K, V in FP8 e4m3 with a scale per tile (block
  // quantization), O in bf16: what FP8 attention kernels take in and give back.
  std::string dtype;
  std::string score_dtype;  // how S/P are stored where they reach memory ("fp32", "bf16", "fp8"), "" if never
  u64 block_q = 0;          // Br (0 = the kernel has no query tile, e.g. cuBLAS)
  u64 block_kv = 0;         // Bc
  // Sliding window (rung 6): query i sees key j when i+off−window_left <= j <= i+off+window_right;
  // -1 = unbounded on that side (the field is absent from the file).
  long long window_left = -1;
  long long window_right = -1;
};

// The same attention problem (shape, mask, window, dtype), whatever the tiles: a run and the
// references it is compared with.
bool measured_same_problem(const MeasuredConfig& a, const MeasuredConfig& b);
// The same problem with the same tiles (block_q, block_kv): one launch of a kernel, e.g. an
// Nsight Compute record and the timed run it profiles.
bool measured_same_launch(const MeasuredConfig& a, const MeasuredConfig& b);

struct MeasuredTime {
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  u64 repeats = 0;
};

// One timed kernel (ours) or one reference (PyTorch SDPA backend) on one config.
struct MeasuredRun {
  std::string kernel;   // "attn-mma", "torch-flash", ...
  int rung = 0;         // 1 naive, 2 tiled, 3 mma; 0 for references
  std::string source;   // "attnlab" | "torch"
  std::string backend;  // references: "flash", "cudnn", "efficient", "math", "decode-gqa"
  MeasuredConfig config;
  MeasuredTime time;
  double tflops = 0;    // 4·B·H·Nq·Nkv·d FLOP (half when causal) / median time
  std::optional<double> gbps;  // fewest bytes (Q, K, V read once, O written once) / median time
  std::optional<double> max_abs_error;  // against the fp64 reference (where it was checked)
  std::optional<double> rel_l2_error;   // ‖out − ref‖ / ‖ref‖
  std::string note;     // e.g. "unsupported by this backend"
};

// Nsight Compute's counters for one forward pass (summed over its launches: naive has three).
struct NcuRecord {
  std::string kernel;
  int rung = 0;
  MeasuredConfig config;
  u64 launches = 0;
  double dram_read_bytes = 0;   // dram__bytes_read.sum
  double dram_write_bytes = 0;  // dram__bytes_write.sum
  double lts_bytes = 0;         // lts__t_bytes.sum (all L2 traffic)
  std::map<std::string, double> metrics;  // every metric as ncu named it
  std::string options;          // "--clock-control none --cache-control all"
  std::string pass = "fwd";     // "bwd": a whole backward pass (src/measure/backward_measured)
};

struct Measurements {
  int schema_version = measurement_schema_version;
  MeasuredDevice device;
  std::string date;     // ISO 8601, UTC
  std::string command;  // the command line(s) that produced the file
  std::string tool;     // "attnlab-bench 0.1.0"
  std::string torch_version;  // "" when no references
  std::vector<MeasuredRun> runs;
  std::vector<MeasuredRun> references;
  std::vector<NcuRecord> ncu;
};

// Parses and validates; `origin` (a file name) starts every error message. Throws InputError with
// one line naming the file, the JSON path and the problem, e.g.
// "h100.json: runs[3].time_ms.min must be <= median (got 2.1 > 1.9)".
Measurements measurement_parse(std::string_view json_text, std::string_view origin);
Measurements measurement_load(const std::filesystem::path& path);
// The same from a parsed document's root (util/json_read), for readers of files that extend the
// format (the ring section) without parsing the text twice.
Measurements measurement_read(const JsonNode& root);
std::string measurement_to_json(const Measurements& m);  // round-trips through measurement_parse
// A run's "config", "time_ms" and run objects, with the rules above: for readers of sections that
// reuse them (the fp8 section's quantize timings, the backward section in backward_measured).
MeasuredConfig measured_config_read(const JsonNode& n);
MeasuredTime measured_time_read(const JsonNode& n);
MeasuredRun measured_run_read(const JsonNode& run, bool reference);

// FLOPs of the run's forward pass (the count: sim/flops.hpp), in floating point: a file's sizes
// need not fit the exact count.
double measurement_forward_flops(const MeasuredConfig& c);

// The shipped files: <source root>/assets/measurements/*.json, sorted by name.
std::filesystem::path measurement_dir();
std::vector<std::filesystem::path> measurement_files(const std::filesystem::path& dir);
// Those of them with a top-level `section` ("ring", "backward", "fp8"): the files each section's
// reader (ring_measured, backward_measured, fp8_measured) loads.
std::vector<std::filesystem::path> measurement_files_with(const std::filesystem::path& dir, std::string_view section);

}  // namespace attnlab
