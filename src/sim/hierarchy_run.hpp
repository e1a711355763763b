// The hierarchy model (sim/hierarchy.hpp) as a resumable run: the same waves, the same
// interleaving and the same L2, advanced a given number of events at a time. hierarchy_run() is
// this run taken to its end in one call; the dashboard advances it a few milliseconds per frame
// (sim/traffic_run.hpp), so a long simulation never holds one frame and both give the same bytes.
#pragma once
#include <memory>
#include <vector>

#include "sim/hierarchy.hpp"

namespace attnlab {

// Emits the blocks [first, last) of kernel k, the first `per_block` events of each, one vector per
// block (buf[b] = block first + b): a wave, before its events are interleaved round-robin.
void hierarchy_wave_emit(const KernelPlan& k, u64 first, u64 last, u64 per_block, std::vector<std::vector<TileEvent>>& buf);

class EventCounter;

class HierarchyRun {
 public:
  // `kernels` and `exact` (closed forms, same kernel order) must outlive the run.
  HierarchyRun(const std::vector<KernelPlan>& kernels, const std::vector<KernelCounts>& exact, const GpuSpec& gpu,
               const HierarchyOptions& opt);
  ~HierarchyRun();
  HierarchyRun(HierarchyRun&&) noexcept;
  HierarchyRun& operator=(HierarchyRun&&) noexcept;

  // Does at most about `work` units (one unit: one event emitted or sent through the L2; a
  // block's events are emitted at once, so a step may go past `work` by one block). Returns done().
  bool step(u64 work);
  bool done() const { return ki_ >= kernels_->size(); }
  // Units done so far, and an upper bound of the units of the whole run (events_per_block is an
  // upper bound): work_done() / work_planned() is the progress, below 1 until done().
  u64 work_done() const { return work_done_; }
  u64 work_planned() const { return work_planned_; }
  // The result per kernel; only once done() (std::logic_error before: a partial count is no count).
  std::vector<KernelHierarchy> take();

 private:
  void kernel_begin();
  void kernel_end();

  const std::vector<KernelPlan>* kernels_;
  const std::vector<KernelCounts>* exact_;
  GpuSpec gpu_;
  HierarchyOptions opt_;
  std::vector<KernelHierarchy> out_;
  u64 work_done_ = 0, work_planned_ = 0;

  // Where the run stands: kernel ki_, wave wave_ of waves_ (each of at most per_block_ events per
  // block); in the current wave, block_ is the next block to emit, or once the wave is emitted the
  // next event is buf_[block_][step_].
  size_t ki_ = 0;
  bool in_kernel_ = false;
  KernelHierarchy h_;
  std::unique_ptr<EventCounter> sim_;
  bool complete_ = true;
  u64 waves_ = 0, wave_ = 0, per_block_ = UINT64_MAX;
  std::vector<std::vector<TileEvent>> buf_;
  bool wave_emitted_ = false;
  size_t longest_ = 0, step_ = 0;
  u64 block_ = 0;
};

}  // namespace attnlab
