// Ring attention as measured on real GPUs (kernels/ring-attention.cpp): the "ring" section
// of a measurement file (schema: assets/measurements/README.md, "ring"), read back and set beside
// the ring model (src/models/ring.hpp) row by row. No CUDA here: a student without a GPU reads the
// shipped file (assets/measurements/ring-h200x2.json) through this.
//
// The dashboard's ring panel reads: ring_measured_files(measurement_dir()) to find the files,
// ring_measured_load() for the rows and their one-pass timelines (RingMeasuredSchedule::timeline,
// the same shape as the model's RingTimeline), and ring_compare() for model-vs-measured per row.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hw/gpu.hpp"
#include "measure/measurement.hpp"
#include "models/ring.hpp"

namespace attnlab {

// One (step, device) of one real pass, ms from that device's start event.
struct RingMeasuredEvent {
  u64 step = 0, device = 0;
  u64 kv_block = 0;     // whose K/V block the device computes on: (device - step) mod P
  double work = 1.0;    // 1 full block, 0.5 causal diagonal, 0 masked (skipped)
  double compute_start_ms = 0, attn_end_ms = 0, compute_end_ms = 0;  // attention, then the merge
  bool sends = false;
  double send_start_ms = 0, send_end_ms = 0;
};

// Per-step medians over the passes, the largest over the devices.
struct RingMeasuredStep {
  double compute_ms = 0, attn_ms = 0, merge_ms = 0, transfer_ms = 0, idle_ms = 0;
};

// One schedule of one shape (see kernels/ring-attention.cpp: serial, overlap, overlap_compute_first,
// compute_only).
struct RingMeasuredSchedule {
  double pass_ms = 0, pass_min_ms = 0, pass_max_ms = 0;  // the whole forward pass, median/min/max
  u64 repeats = 0;
  double compute_ms = 0;   // one full-block step: attention + merge (median of the per-pass means)
  double attn_ms = 0;      // the attention launch alone
  double transfer_ms = 0;  // one K/V transfer (0 when the schedule sends nothing)
  double idle_ms = 0;      // the compute streams' wait for blocks between steps, summed over steps
  std::vector<RingMeasuredStep> steps;
  std::vector<RingMeasuredEvent> timeline;  // the pass whose time is the median
};

struct RingMeasuredRow {
  u64 devices = 0, batch = 0, heads = 0, kv_heads = 0, seq = 0, block = 0, head_dim = 0;
  bool causal = false;
  std::string dtype;  // "bf16"
  RingLayout layout = RingLayout::contiguous;  // which tokens each GPU held (absent in older files: contiguous)
  u64 kv_bytes_per_step = 0;  // one K and one V block
  // Checked before timing: the ring against single-GPU attention (the same kernel) and fp64 rows.
  bool check_ok = false;
  double vs_single_max_abs = 0, vs_single_rel_l2 = 0, max_abs_error = 0, rel_l2_error = 0;
  u64 rows_checked = 0;                 // fp64 rows compared (0: not recorded)
  double single_gpu_max_abs_error = 0;  // the one-GPU rung on the same rows, for scale
  RingMeasuredSchedule serial, overlap;
  std::optional<RingMeasuredSchedule> overlap_compute_first, compute_only;

  double flops_per_block() const;  // 4 b H n^2 d (one full block pair)
  double attn_tflops() const;      // flops_per_block / serial.attn_ms
  double link_gbps() const;        // kv_bytes_per_step / serial.transfer_ms, GB/s per direction
  // The compute streams' wait for the next block between steps, summed over the steps: the
  // model's wait_s. Read from overlap_compute_first when present: with the transfer issued first
  // ("overlap") the host spends ~30 us issuing the NCCL group before the first compute, and a slow
  // transfer then hides in that late start instead of showing as a wait.
  double wait_ms() const;
  // Transfers hide when the compute streams wait less than ring_hidden_threshold of one transfer
  // (10%: the ~3 us gap between two steps' events is there with no transfer at all).
  bool hides() const;
  // What the transfers cost the ring as built: overlap.pass - compute_only.pass (waits, the late
  // start and the attention slowed by the NCCL kernel's SMs). Passes vary by ~1% between runs, so
  // this is noise where the transfer is under ~1% of the pass. Without compute_only:
  // overlap.pass - (serial.pass - (P - 1) transfers).
  double exposed_ms() const;
  // overlap.compute_ms / compute_only.compute_ms - 1: the attention slowed by sharing the GPU with
  // the NCCL kernel (0 without compute_only).
  double compute_slowdown() const;
};
inline constexpr double ring_hidden_threshold = 0.1;

struct RingLinkPoint {
  u64 bytes = 0;
  double ms = 0, gbps = 0;
};

struct RingMeasurements {
  MeasuredDevice device;  // GPU 0, as the bench read it
  std::string date, command, tool;
  u64 devices = 0;
  std::vector<std::string> device_names;
  std::string nccl_version, peer_access, kernel;
  std::map<std::string, std::string> env;  // environment the program set (NCCL_NVLS_ENABLE = 0)
  std::string timing;                      // how the times were taken, in words
  std::vector<RingLinkPoint> link_sizes;  // the link alone, small to large messages
  std::vector<RingMeasuredRow> rows;
};

// Throws InputError naming the file and the JSON path ("ring-h200x2.json: ring.rows[3].serial.pass_ms
// is missing"); a file without a "ring" section is refused with that message.
RingMeasurements ring_measured_parse(std::string_view json_text, std::string_view origin);
RingMeasurements ring_measured_load(const std::filesystem::path& path);
// The writer, the reader's counterpart: the file's header (measurement_to_json of device, date,
// command, tool) and the "ring" section. What it returns is read back through ring_measured_parse
// first, so a file it writes always loads in `attnlab ring --measured` and `attnlab measured`;
// InputError (naming the field) if it would not, std::runtime_error if the file cannot be written.
std::string ring_measured_to_json(const RingMeasurements& m);
void ring_measured_write(const RingMeasurements& m, const std::filesystem::path& path);
// The measurement files in `dir` that carry a "ring" section, sorted by name.
std::vector<std::filesystem::path> ring_measured_files(const std::filesystem::path& dir);

// The model's inputs as the measurement saw them:
//   efficiency: attention TFLOP/s at the largest non-causal block over the GPU's peak;
//   link: t = latency + bytes / bandwidth fitted (least squares) to the serial schedule's transfers.
struct RingCalibration {
  double efficiency = 1.0;
  double link_bytes_per_s = 0;
  double link_latency_s = 0;
  u64 efficiency_block = 0;  // the block the efficiency was read at
};
RingCalibration ring_calibrate(const RingMeasurements& m, const GpuSpec& gpu);
// Puts the fitted efficiency and link into `base` (--calibrate, the panel's "calibrated" box);
// false, `base` unchanged, when the file has too few transfers to fit the link.
bool ring_calibration_apply(const RingCalibration& c, RingConfig& base);
// "efficiency 0.8123 (attention at n = 16,384), link 150 GB/s + 12.0 µs per transfer"
std::string ring_calibration_text(const RingCalibration& c);

// The GPU preset a measured device name stands for ("NVIDIA H200" -> "h200"), or "" if none.
std::string ring_gpu_preset_for(std::string_view device_name);

struct RingComparedRow {
  RingMeasuredRow measured;
  RingResult model;              // ring_analyze on the row's shape with the given model inputs
  double compute_ratio = 0;      // measured attention time / model compute_s
  double transfer_ratio = 0;     // measured transfer / model transfer_s
  double step_measured_s = 0;    // overlap pass / P
  double step_model_s = 0;       // model pass / P
  double step_ratio = 0;
  bool model_hides = false;      // model: compute_s >= transfer_s
};
// `base` carries the model's inputs (flops_per_s, efficiency, link_bytes_per_s, link_latency_s,
// dtype); each row's shape replaces seq, devices, batch, heads, kv_heads, head_dim, causal.
std::vector<RingComparedRow> ring_compare(const RingMeasurements& m, const RingConfig& base);

// Smallest measured block that hides its transfers in a series (same heads, kv_heads, head_dim,
// batch, causal), with every larger block of the series hiding too; 0 if none.
u64 ring_measured_min_block(const RingMeasurements& m, u64 heads, u64 kv_heads, bool causal,
                            RingLayout layout = RingLayout::contiguous);

// The compared rows with the same heads, K/V heads, mask and layout: one curve of time vs block size, and
// where transfers start to hide, measured and modelled. What `attnlab ring --measured` lists under
// "Smallest block that hides" and the ring panel's measured tab plots.
struct RingSeries {
  u64 heads = 0, kv_heads = 0;
  bool causal = false;
  RingLayout layout = RingLayout::contiguous;
  std::vector<RingComparedRow> rows;  // smallest block first
  u64 measured_min_block = 0;  // ring_measured_min_block: 0 when none of the timed blocks hides
  u64 model_min_block = 0;     // ring_min_block on the series' shape with the same model inputs
  u64 smallest_block() const { return rows.empty() ? 0 : rows.front().measured.block; }
  std::string label() const;   // "32 heads / 8 K/V heads (GQA-4), causal mask" (+ ", zigzag layout")
};
// Series in the order their first row appears in the file; rows as ring_compare(m, base).
std::vector<RingSeries> ring_series(const RingMeasurements& m, const RingConfig& base);

}  // namespace attnlab
