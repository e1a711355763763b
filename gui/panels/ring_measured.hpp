// The ring panel's second tab: ring attention as measured on real GPUs through NCCL (issue 11,
// assets/measurements/ring-*.json), beside the ring model of the same shapes. What the tab shows
// is gathered here, apart from the drawing, so that the tests can check it without a window:
// every figure is src/measure/ring_measured's (ring_compare, ring_calibrate,
// ring_measured_min_block); this file only groups the rows into series and picks the model inputs
// the way `attnlab ring --measured FILE [--calibrate]` does.
#pragma once
#include <string>
#include <vector>

#include "hw/gpu.hpp"
#include "measure/ring_measured.hpp"
#include "models/ring.hpp"

namespace attnlab::gui {

class View;

// Rows with the same heads, K/V heads and mask, smallest block first.
struct RingSeries {
  u64 heads = 0, kv_heads = 0;
  bool causal = false;
  std::vector<RingComparedRow> rows;
  u64 measured_min_block = 0;  // ring_measured_min_block: 0 when none of the timed blocks hides
  u64 model_min_block = 0;     // ring_min_block on the series' shape with the same model inputs
  std::string label() const;   // "32 heads / 32 K/V heads, full mask"
};

struct RingMeasuredData {
  GpuSpec gpu;                 // the preset the measured device stands for (else the dashboard's)
  bool gpu_from_file = true;   // false: no preset matched the device; the dashboard's GPU is used
  bool calibrated = false;
  RingConfig base;             // the model's inputs (flops, efficiency, link, latency, dtype)
  RingCalibration calibration; // what the file's own rows give
  std::string inputs;          // the model's inputs in words
  std::vector<RingSeries> series;
};

// `calibrated`: efficiency and link (latency + bandwidth) fitted from the file, as --calibrate;
// otherwise the preset's peak bf16 FLOP/s at efficiency 1, the default link preset, no latency,
// as `attnlab ring --measured FILE` with no other option.
RingMeasuredData ring_measured_data(const RingMeasurements& m, bool calibrated, const GpuSpec& fallback_gpu);

// Draws the tab (the View's ring_measurements[settings.ring_measured_file]).
void draw_ring_measured(View& v);

}  // namespace attnlab::gui
