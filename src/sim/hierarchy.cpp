#include "sim/hierarchy.hpp"

#include <algorithm>

#include "sim/event_counter.hpp"

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

// Emits the blocks [first, last) of kernel k and interleaves their events round-robin, keeping at
// most `per_block` events of each block. Returns false if `visit` asked to stop.
bool run_wave(const KernelPlan& k, u64 first, u64 last, u64 per_block, std::vector<std::vector<TileEvent>>& buf,
              const std::function<bool(const TileEvent&)>& visit) {
  const u64 n = last - first;
  buf.resize(n);
  size_t longest = 0;
  for (u64 b = 0; b < n; ++b) {
    buf[b].clear();
    buf[b].reserve(std::min(per_block, k.events_per_block));  // events_per_block: an upper bound
    k.emit(first + b, buf[b], per_block);
    longest = std::max(longest, buf[b].size());
  }
  for (size_t step = 0; step < longest; ++step)
    for (u64 b = 0; b < n; ++b)
      if (step < buf[b].size() && !visit(buf[b][step])) return false;
  return true;
}

u128 ratio_scale(u128 exact, u128 sim_part, u128 sampled_part) {
  if (sampled_part == 0) return exact;
  // exact * sim / sampled, in long double: a rate applied to an exact total is an estimate anyway.
  long double r = static_cast<long double>(sim_part) / static_cast<long double>(sampled_part);
  return static_cast<u128>(static_cast<long double>(exact) * r + 0.5L);
}

}  // namespace

void hierarchy_for_each_event(const std::vector<KernelPlan>& kernels, const GpuSpec& gpu,
                              const std::function<bool(const TileEvent&)>& visit) {
  std::vector<std::vector<TileEvent>> buf;
  for (const auto& k : kernels) {
    const u64 wave = gpu.sm_count * hierarchy_blocks_per_sm(k, gpu);
    for (u64 first = 0; first < k.grid; first += wave)
      if (!run_wave(k, first, std::min(k.grid, first + wave), UINT64_MAX, buf, visit)) return;
  }
}

std::vector<KernelHierarchy> hierarchy_run(const std::vector<KernelPlan>& kernels, const std::vector<KernelCounts>& exact,
                                           const GpuSpec& gpu, const HierarchyOptions& opt) {
  std::vector<KernelHierarchy> out;
  std::vector<std::vector<TileEvent>> buf;

  for (size_t ki = 0; ki < kernels.size(); ++ki) {
    const KernelPlan& k = kernels[ki];
    KernelHierarchy h;
    h.name = k.name;
    h.grid = k.grid;
    h.smem_bytes = k.smem_bytes;
    h.blocks_per_sm = hierarchy_blocks_per_sm(k, gpu);
    h.wave_blocks = gpu.sm_count * h.blocks_per_sm;
    h.waves = to_u64(ceil_div(k.grid, h.wave_blocks), "waves");  // grid + wave - 1 wraps near 2^64
    h.events_total = cmul(k.grid, k.events_per_block, "events");
    const KernelCounts& ex = exact.at(ki);
    if (!opt.l2_model) {
      h.method = DramMethod::no_l2_model;
      h.hbm = h.dram = ex.hbm;
      h.sram = ex.sram;
      out.push_back(std::move(h));
      continue;
    }
    const u128 wave_events = cmul(std::min(k.grid, h.wave_blocks), k.events_per_block, "events");

    // What the trace saw, per tensor; a fresh counter is a cold L2.
    EventCounter sim(gpu.l2_bytes);
    sim.start_kernel();
    auto visit = [&](const TileEvent& e) {
      sim.add(e);
      return true;
    };

    bool complete = true;
    if (h.events_total <= opt.max_events_per_kernel) {
      h.method = DramMethod::trace;
      for (u64 first = 0; first < k.grid; first += h.wave_blocks)
        run_wave(k, first, std::min(k.grid, first + h.wave_blocks), UINT64_MAX, buf, visit);
    } else {
      // Sampled: whole waves while they fit the budget (at least one), else the first steps of
      // each block of the first wave (the steady state of a streaming loop).
      h.method = DramMethod::sampled;
      complete = false;
      const u64 budget = opt.sample_events;
      const u64 waves_fit = wave_events >= budget ? 1 : budget / std::max<u64>(1, static_cast<u64>(wave_events));
      const u64 blocks_in_wave = std::min(k.grid, h.wave_blocks);
      const u64 per_block =
          waves_fit > 1 || wave_events <= budget ? UINT64_MAX : std::max<u64>(8, budget / blocks_in_wave);
      for (u64 w = 0; w < std::min(waves_fit, h.waves); ++w) {
        const u64 first = w * h.wave_blocks;
        run_wave(k, first, std::min(k.grid, first + h.wave_blocks), per_block, buf, visit);
      }
    }
    sim.end_kernel();
    h.events_simulated = sim.events();

    if (complete) {
      h.hbm = sim.hbm();
      h.dram = sim.dram();
      h.sram = sim.sram();
      h.dram_write_at_end = sim.dram_write_at_end();
    } else {
      // Exact global and SRAM bytes from the closed forms; DRAM by the sample's per-tensor ratios.
      h.hbm = ex.hbm;
      h.sram = ex.sram;
      for (size_t x = 0; x < kTensorCount; ++x) {
        h.dram[x].read = ratio_scale(ex.hbm[x].read, sim.dram()[x].read, sim.hbm()[x].read);
        h.dram[x].write = ratio_scale(ex.hbm[x].write, sim.dram()[x].write, sim.hbm()[x].write);
      }
      // The L2 holds about as much dirty data at the real end as at the sample's end: an amount,
      // not a rate.
      h.dram_write_at_end = std::min<u128>(sim.dram_write_at_end(), h.dram_total().write);
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace attnlab
