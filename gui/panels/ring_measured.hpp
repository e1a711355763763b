// The ring panel's second tab: ring attention as measured on real GPUs through NCCL (kernels/ring-attention.cpp,
// assets/measurements/ring-*.json), beside the ring model of the same shapes. What the tab shows
// is gathered here, apart from the drawing, so that the tests can check it without a window:
// every figure, the series and the calibrated inputs are src/measure/ring_measured's (ring_series,
// ring_calibrate, ring_calibration_apply), which `attnlab ring --measured FILE [--calibrate]` uses
// too; this file only picks the GPU and the uncalibrated inputs (the paper's).
#pragma once
#include <string>
#include <vector>

#include "hw/gpu.hpp"
#include "measure/ring_measured.hpp"
#include "models/ring.hpp"

namespace attnlab::gui {

class View;

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

// What the tab prints, without drawing (so that tests can read it): the verdict line of a series
// ("Transfers hide from n = 2,048 tokens per GPU measured ...; the model says 2,199 tokens (grey).")
// and the table, one header and one cell per column for each row of the series.
std::string ring_measured_verdict(const RingSeries& s);
const std::vector<std::string>& ring_measured_columns();
std::vector<std::string> ring_measured_cells(const RingComparedRow& row);

// Draws the tab (the View's ring_measurements[settings.ring_measured_file]).
void draw_ring_measured(View& v);

}  // namespace attnlab::gui
