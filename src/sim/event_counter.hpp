// The accounting of tile events, in one place: every count of bytes that comes from events
// (the hierarchy model, the tiling walk the dashboard animates, the tests that hold the closed
// forms to the events) adds them here. A load reads global memory and writes SRAM, a store the
// reverse, on-chip work reads and writes SRAM; global accesses go through the L2 (when there is
// one), whose misses and write-backs are the DRAM traffic.
#pragma once
#include <array>
#include <optional>

#include "sim/closed_form.hpp"
#include "sim/events.hpp"
#include "sim/l2_cache.hpp"

namespace attnlab {

class EventCounter {
 public:
  // l2_bytes: the L2 the global accesses go through; nullopt: no L2 model (DRAM stays 0).
  explicit EventCounter(std::optional<u64> l2_bytes);

  void add(const TileEvent& e);
  // Each kernel starts with a cold L2 and writes its dirty lines back at its end: what Nsight
  // Compute's per-kernel counters (with --cache-control all) measure.
  void start_kernel();
  void end_kernel();

  const std::array<LevelBytes, kTensorCount>& hbm() const { return hbm_; }   // global memory, per tensor
  const std::array<LevelBytes, kTensorCount>& dram() const { return dram_; }  // after the L2, per tensor
  const LevelBytes& sram() const { return sram_; }
  LevelBytes hbm_total() const { return level_sum(hbm_); }
  LevelBytes dram_total() const { return level_sum(dram_); }
  // Of dram().write, the dirty lines written back by end_kernel(): still in the L2 when the kernel
  // ends. Nsight Compute's per-kernel dram__bytes_write does not count them (the next kernel's
  // traffic evicts them), so src/measure/sim_vs_ncu leaves them out.
  u64 dram_write_at_end() const { return write_at_end_; }
  u64 events() const { return events_; }
  u64 computes() const { return computes_; }

 private:
  std::optional<L2Cache> l2_;
  std::array<u64, kTensorCount> written_back_{};  // the L2's write-backs, folded into dram_ as they come
  std::array<LevelBytes, kTensorCount> hbm_{}, dram_{};
  LevelBytes sram_;
  u64 events_ = 0, computes_ = 0, write_at_end_ = 0;
};

}  // namespace attnlab
