// The memory hierarchy as a learner can check it with Nsight Compute: thread blocks run in waves
// across the SMs (as many per SM as SRAM and registers allow), their tile events interleave in
// lockstep, and every global access goes through an L2 of the preset's size; misses and
// write-backs are the DRAM traffic.
#pragma once
#include <functional>
#include <vector>

#include "hw/gpu.hpp"
#include "sim/closed_form.hpp"
#include "sim/kernel_plan.hpp"

namespace attnlab {

// Each kernel starts with a cold L2 and writes its dirty lines back at its end (sim/event_counter.hpp).
struct HierarchyOptions {
  // false: no events are simulated; global and SRAM bytes are the closed forms and DRAM = global
  // (fast, for sweeps).
  bool l2_model = true;
  // Event budget per kernel: past it, the first waves (or the first steps of the first wave) are
  // simulated and their L2 hit rates applied to the exact closed-form totals.
  u64 max_events_per_kernel = 4'000'000;
  // Events simulated per kernel when sampling: enough for steady-state hit rates.
  u64 sample_events = 400'000;

  bool operator==(const HierarchyOptions&) const = default;
};

// trace: every event simulated; sampled: L2 hit rates of a sample applied to exact totals;
// no_l2_model: closed forms only (HierarchyOptions::l2_model = false), DRAM = global traffic.
enum class DramMethod { trace, sampled, no_l2_model };
std::string_view dram_method_name(DramMethod m);

struct KernelHierarchy {
  std::string name;
  u64 grid = 0, smem_bytes = 0, blocks_per_sm = 0, wave_blocks = 0, waves = 0;
  std::array<LevelBytes, kTensorCount> hbm{}, dram{};  // per tensor
  LevelBytes sram;
  u64 events_simulated = 0;
  u128 events_total = 0;
  DramMethod method = DramMethod::trace;
  // Of the DRAM writes, the dirty lines still in the L2 when the kernel ends (written back by the
  // model's end-of-kernel flush; not in Nsight Compute's per-kernel dram__bytes_write).
  u128 dram_write_at_end = 0;
  LevelBytes hbm_total() const;
  LevelBytes dram_total() const;
};

// Runs the kernels through the hierarchy. `exact` (closed forms, same kernel order) supplies the
// totals when the trace is sampled.
std::vector<KernelHierarchy> hierarchy_run(const std::vector<KernelPlan>& kernels, const std::vector<KernelCounts>& exact,
                                           const GpuSpec& gpu, const HierarchyOptions& opt);

// Blocks of one kernel that are resident at once (per SM x SMs), and why.
u64 hierarchy_blocks_per_sm(const KernelPlan& k, const GpuSpec& gpu);

// Calls `visit` for every event of the kernels, in the interleaved order the hierarchy sees
// them (wave by wave, round-robin over the blocks of a wave). Stops when `visit` returns false.
void hierarchy_for_each_event(const std::vector<KernelPlan>& kernels, const GpuSpec& gpu,
                              const std::function<bool(const TileEvent&)>& visit);

}  // namespace attnlab
