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
  HierarchyOptions hierarchy;  // its l2_model is taken from l2_model above
  // flash2 backward: PyTorch's SDPA first copies O and dO into FlashAttention-2's layout (two
  // at::direct_copy kernels in Nsight Compute); true adds those copies after the algorithm's kernels.
  bool torch_layout_copies = false;

  bool operator==(const TrafficOptions&) const = default;
};

struct KernelTraffic {
  KernelHierarchy bytes;  // per tensor, per level
  u128 flops = 0;         // exact
  double est_time_s = 0;  // max(compute, DRAM) for this kernel
};

struct AlgoTraffic {
  Algo algo = Algo::flash2;
  TilePlan tiles;
  std::vector<KernelTraffic> kernels;
  LevelBytes hbm, dram, sram;  // totals over kernels
  u128 dram_write_at_end = 0;  // of dram.write: lines still dirty when each kernel ends (hierarchy.hpp)
  // Bytes that cross the fabric between the L2 partitions (l2_fabric_bytes; 0 on a one-partition
  // L2), counted the way Nsight Compute's lts__t_bytes counts them: lts__t_bytes ≈ hbm (what the
  // SMs ask of L2) + l2_fabric.
  u128 l2_fabric = 0;
  u128 l2_total() const;  // hbm.total() + l2_fabric: the model of lts__t_bytes
  u128 flops = 0;         // exact, summed over kernels with checked adds
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

// Bytes that cross between the L2 partitions (0 on a one-partition L2): the one place the rule
// lives; every model of the simulator uses it. Each partition caches for the SMs wired to it, and
// a line lives in DRAM behind one partition (its home):
//   - data read by blocks on every partition (K/V of a head read by all its query tiles, operands
//     of a GEMM) reaches each non-home partition once: (p − 1) × its DRAM reads;
//   - data one block reads or writes (Q and O of a flash block, naive's S/P, the decode cache, the
//     scan's u/δ/y) crosses only when its home is far: (p − 1)/p of its DRAM reads and writes.
// Checked on the H100 (p = 2) against lts__t_sectors_srcunit_ltcfabric: decode (all private)
// 0.50 x DRAM reads measured vs 0.5 modelled; tiled (K/V shared, Q/O private) within 2%; naive
// within -5..-3%; scan within 3%. Not modelled: a shared line evicted from the near partition
// and read again from the far one (mma at N >= 2048 shows up to 1.7x the rule in lts__t_sectors_srcunit_ltcfabric).
u128 l2_fabric_bytes(u128 shared_dram_read, u128 private_dram_bytes, const GpuSpec& gpu);

// Validates the config (InputError on bad input) and simulates each algorithm.
TrafficReport simulate_traffic(const AttnConfig& c, const GpuSpec& gpu, const std::vector<Algo>& algos,
                               const TrafficOptions& opt = {});

}  // namespace attnlab
