#include "sim/hierarchy.hpp"

#include <algorithm>

#include "sim/hierarchy_run.hpp"

namespace attnlab {

std::string_view dram_method_name(DramMethod m) {
  switch (m) {
    case DramMethod::trace: return "trace";
    case DramMethod::sampled: return "sampled";
    case DramMethod::no_l2_model: return "no-l2-model";
  }
  return "?";
}

LevelBytes KernelHierarchy::hbm_total() const { return level_sum(hbm); }
LevelBytes KernelHierarchy::dram_total() const { return level_sum(dram); }

u64 hierarchy_blocks_per_sm(const KernelPlan& k, const GpuSpec& gpu) {
  const u64 by_smem = k.smem_bytes == 0 ? k.max_blocks_per_sm : gpu.smem_per_sm / k.smem_bytes;
  return std::max<u64>(1, std::min(by_smem, k.max_blocks_per_sm));
}

namespace {

// Kernel k's blocks [first, last), their events interleaved round-robin. Returns false if `visit`
// asked to stop.
bool run_wave(const KernelPlan& k, u64 first, u64 last, std::vector<std::vector<TileEvent>>& buf,
              const std::function<bool(const TileEvent&)>& visit) {
  hierarchy_wave_emit(k, first, last, UINT64_MAX, buf);
  size_t longest = 0;
  for (const auto& b : buf) longest = std::max(longest, b.size());
  for (size_t step = 0; step < longest; ++step)
    for (const auto& b : buf)
      if (step < b.size() && !visit(b[step])) return false;
  return true;
}

}  // namespace

void hierarchy_for_each_event(const std::vector<KernelPlan>& kernels, const GpuSpec& gpu,
                              const std::function<bool(const TileEvent&)>& visit) {
  std::vector<std::vector<TileEvent>> buf;
  for (const auto& k : kernels) {
    const u64 wave = gpu.sm_count * hierarchy_blocks_per_sm(k, gpu);
    for (u64 first = 0; first < k.grid; first += wave)
      if (!run_wave(k, first, std::min(k.grid, first + wave), buf, visit)) return;
  }
}

std::vector<KernelHierarchy> hierarchy_run(const std::vector<KernelPlan>& kernels, const std::vector<KernelCounts>& exact,
                                           const GpuSpec& gpu, const HierarchyOptions& opt) {
  // The resumable run (sim/hierarchy_run.hpp) taken to its end: one path for both.
  HierarchyRun run(kernels, exact, gpu, opt);
  run.step(UINT64_MAX);
  return run.take();
}

}  // namespace attnlab
