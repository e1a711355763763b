#include "sim/hierarchy_run.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/event_counter.hpp"

namespace attnlab {

namespace {

void block_emit(const KernelPlan& k, u64 block, u64 per_block, std::vector<TileEvent>& out) {
  out.clear();
  out.reserve(std::min(per_block, k.events_per_block));  // events_per_block: an upper bound
  k.emit(block, out, per_block);
}

u128 ratio_scale(u128 exact, u128 sim_part, u128 sampled_part) {
  if (sampled_part == 0) return exact;
  // exact * sim / sampled, in long double: a rate applied to an exact total is an estimate anyway.
  long double r = static_cast<long double>(sim_part) / static_cast<long double>(sampled_part);
  return static_cast<u128>(static_cast<long double>(exact) * r + 0.5L);
}

u64 sat_add(u64 a, u64 b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// How one kernel goes through the hierarchy: its shape (into h) and which waves are simulated,
// with how many events per block.
struct KernelWaves {
  bool trace = true;
  u64 waves = 0;                // simulated waves (the first ones)
  u64 per_block = UINT64_MAX;  // events kept per block
};

KernelWaves kernel_waves(const KernelPlan& k, const GpuSpec& gpu, const HierarchyOptions& opt, KernelHierarchy& h) {
  h.name = k.name;
  h.grid = k.grid;
  h.smem_bytes = k.smem_bytes;
  h.blocks_per_sm = hierarchy_blocks_per_sm(k, gpu);
  h.wave_blocks = gpu.sm_count * h.blocks_per_sm;
  h.waves = to_u64(ceil_div(k.grid, h.wave_blocks), "waves");  // grid + wave - 1 wraps near 2^64
  h.events_total = cmul(k.grid, k.events_per_block, "events");
  KernelWaves w;
  if (!opt.l2_model) {
    h.method = DramMethod::no_l2_model;
    return w;
  }
  if (h.events_total <= opt.max_events_per_kernel) {
    h.method = DramMethod::trace;
    w.waves = h.waves;
    return w;
  }
  // Sampled: whole waves while they fit the budget (at least one), else the first steps of
  // each block of the first wave (the steady state of a streaming loop).
  h.method = DramMethod::sampled;
  w.trace = false;
  const u128 wave_events = cmul(std::min(k.grid, h.wave_blocks), k.events_per_block, "events");
  const u64 budget = opt.sample_events;
  const u64 waves_fit = wave_events >= budget ? 1 : budget / std::max<u64>(1, static_cast<u64>(wave_events));
  const u64 blocks_in_wave = std::min(k.grid, h.wave_blocks);
  w.per_block = waves_fit > 1 || wave_events <= budget ? UINT64_MAX : std::max<u64>(8, budget / blocks_in_wave);
  w.waves = std::min(waves_fit, h.waves);
  return w;
}

// An upper bound of the work units of a kernel's simulated waves: each event emitted, then sent
// through the L2.
u64 kernel_work_bound(const KernelPlan& k, const KernelHierarchy& h, const KernelWaves& w) {
  u64 events = 0;
  const u64 per_block = std::min(w.per_block, k.events_per_block);
  for (u64 i = 0; i < w.waves; ++i) {
    const u64 blocks = std::min(k.grid, (i + 1) * h.wave_blocks) - i * h.wave_blocks;
    const u128 e = u128(blocks) * per_block;
    events = sat_add(events, e > UINT64_MAX ? UINT64_MAX : static_cast<u64>(e));
  }
  return sat_add(events, events);
}

}  // namespace

void hierarchy_wave_emit(const KernelPlan& k, u64 first, u64 last, u64 per_block, std::vector<std::vector<TileEvent>>& buf) {
  buf.resize(last - first);
  for (u64 b = 0; b < last - first; ++b) block_emit(k, first + b, per_block, buf[b]);
}

HierarchyRun::HierarchyRun(const std::vector<KernelPlan>& kernels, const std::vector<KernelCounts>& exact,
                           const GpuSpec& gpu, const HierarchyOptions& opt)
    : kernels_(&kernels), exact_(&exact), gpu_(gpu), opt_(opt) {
  for (const auto& k : kernels) {
    KernelHierarchy h;
    const KernelWaves w = kernel_waves(k, gpu_, opt_, h);
    work_planned_ = sat_add(work_planned_, kernel_work_bound(k, h, w));
  }
}

HierarchyRun::~HierarchyRun() = default;
HierarchyRun::HierarchyRun(HierarchyRun&&) noexcept = default;
HierarchyRun& HierarchyRun::operator=(HierarchyRun&&) noexcept = default;

void HierarchyRun::kernel_begin() {
  const KernelPlan& k = (*kernels_)[ki_];
  h_ = KernelHierarchy{};
  const KernelWaves w = kernel_waves(k, gpu_, opt_, h_);
  if (!opt_.l2_model) {
    // No events: the closed forms are the totals and DRAM = global.
    const KernelCounts& ex = exact_->at(ki_);
    h_.hbm = h_.dram = ex.hbm;
    h_.sram = ex.sram;
    out_.push_back(std::move(h_));
    ++ki_;
    return;
  }
  complete_ = w.trace;
  waves_ = w.waves;
  per_block_ = w.per_block;
  wave_ = 0;
  wave_emitted_ = false;
  block_ = 0;
  // What the trace saw, per tensor; a fresh counter is a cold L2.
  sim_ = std::make_unique<EventCounter>(gpu_.l2_bytes);
  sim_->start_kernel();
  in_kernel_ = true;
}

void HierarchyRun::kernel_end() {
  EventCounter& sim = *sim_;
  sim.end_kernel();
  h_.events_simulated = sim.events();
  const KernelCounts& ex = exact_->at(ki_);
  if (complete_) {
    h_.hbm = sim.hbm();
    h_.dram = sim.dram();
    h_.sram = sim.sram();
    h_.dram_write_at_end = sim.dram_write_at_end();
  } else {
    // Exact global and SRAM bytes from the closed forms; DRAM by the sample's per-tensor ratios.
    h_.hbm = ex.hbm;
    h_.sram = ex.sram;
    for (size_t x = 0; x < kTensorCount; ++x) {
      h_.dram[x].read = ratio_scale(ex.hbm[x].read, sim.dram()[x].read, sim.hbm()[x].read);
      h_.dram[x].write = ratio_scale(ex.hbm[x].write, sim.dram()[x].write, sim.hbm()[x].write);
    }
    // The L2 holds about as much dirty data at the real end as at the sample's end: an amount,
    // not a rate.
    h_.dram_write_at_end = std::min<u128>(sim.dram_write_at_end(), h_.dram_total().write);
  }
  out_.push_back(std::move(h_));
  sim_.reset();
  buf_.clear();
  in_kernel_ = false;
  ++ki_;
}

bool HierarchyRun::step(u64 work) {
  const u64 stop_at = sat_add(work_done_, work);
  while (!done()) {
    if (!in_kernel_) {
      kernel_begin();
      continue;
    }
    if (wave_ >= waves_) {
      kernel_end();
      continue;
    }
    const KernelPlan& k = (*kernels_)[ki_];
    if (!wave_emitted_) {
      // The wave's blocks, one at a time (a block of a long kernel can hold 100K events): a
      // slice ends between two blocks, so no slice emits more than one block past its budget.
      const u64 first = wave_ * h_.wave_blocks, n = std::min(k.grid, first + h_.wave_blocks) - first;
      if (block_ == 0) {
        buf_.resize(n);
        longest_ = 0;
      }
      for (; block_ < n; ++block_) {
        if (work_done_ >= stop_at) return false;
        block_emit(k, first + block_, per_block_, buf_[block_]);
        longest_ = std::max(longest_, buf_[block_].size());
        work_done_ = sat_add(work_done_, buf_[block_].size());
      }
      wave_emitted_ = true;
      step_ = 0;
      block_ = 0;
    }
    // The wave's events in lockstep: step 0 of every block, then step 1, ...
    const u64 n = buf_.size();
    for (; step_ < longest_; ++step_, block_ = 0)
      for (; block_ < n; ++block_)
        if (step_ < buf_[block_].size()) {
          if (work_done_ >= stop_at) return false;
          sim_->add(buf_[block_][step_]);
          ++work_done_;
        }
    wave_emitted_ = false;
    block_ = 0;
    ++wave_;
  }
  return true;
}

std::vector<KernelHierarchy> HierarchyRun::take() {
  if (!done()) throw std::logic_error("HierarchyRun::take: the run has not finished");
  return std::move(out_);
}

}  // namespace attnlab
