// The simulator's front door: config + GPU + algorithms -> bytes at each level, FLOPs, and a
// roofline time estimate. CLI, dashboard and lesson templates all ask here.
#pragma once
#include <vector>

#include "hw/gpu.hpp"
#include "sim/closed_form.hpp"
#include "sim/hierarchy.hpp"
#include "sim/tiles.hpp"

namespace attnlab {

struct TrafficOptions {
  bool l2_model = true;  // false: closed forms only (fast, for sweeps); dram_* = hbm_*
  HierarchyOptions hierarchy;
};

struct KernelTraffic {
  KernelHierarchy bytes;  // per tensor, per level
  double flops = 0;
  double est_time_s = 0;  // max(compute, DRAM) for this kernel
};

struct AlgoTraffic {
  Algo algo = Algo::flash2;
  TilePlan tiles;
  std::vector<KernelTraffic> kernels;
  LevelBytes hbm, dram, sram;  // totals over kernels
  double flops = 0;
  double est_time_s = 0;
  DramMethod method = DramMethod::trace;  // the least exact method any kernel needed
  u128 events_total = 0;
  u64 events_simulated = 0;
  u128 paper_io_fwd = 0;  // the paper's Θ-expression with constants (forward), bytes
  double intensity() const;  // FLOPs per DRAM byte
  LevelBytes hbm_of(Tensor t) const;
  LevelBytes dram_of(Tensor t) const;
};

struct TrafficReport {
  AttnConfig config;
  GpuSpec gpu;
  std::vector<AlgoTraffic> results;
  const AlgoTraffic* find(Algo a) const;
};

// Validates the config (InputError on bad input) and simulates each algorithm.
TrafficReport simulate_traffic(const AttnConfig& c, const GpuSpec& gpu, const std::vector<Algo>& algos,
                               const TrafficOptions& opt = {});

}  // namespace attnlab
