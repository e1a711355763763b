// The tiling view's model: one attention head's forward pass as the simulator's tile events
// (sim/kernel_plan.hpp), replayed step by step. After seek(k) it knows which tiles sit in SRAM,
// which score tiles have been computed (or, for the naive algorithm, written to HBM), and the byte
// counters up to event k, counted by the simulator's own EventCounter (sim/event_counter.hpp), as
// hierarchy_run counts them. The dashboard's tiling panel only draws it; tests/test_sim_tiling_walk.cpp
// holds the full replay equal to simulate_traffic().
#pragma once
#include <string>
#include <vector>

#include "hw/gpu.hpp"
#include "sim/closed_form.hpp"
#include "sim/event_counter.hpp"
#include "sim/events.hpp"
#include "sim/tiles.hpp"

namespace attnlab {

// State of one tile of the score matrix in the picture.
enum class ScoreTile : unsigned char {
  untouched,
  computed,  // flash: S_ij was computed on chip (and never left it)
  s_in_hbm,  // naive: S_ij written to HBM by the QKᵀ kernel
  p_in_hbm,  // naive: P_ij written to HBM by the softmax kernel
  consumed,  // naive: P_ij read back by the PV kernel
};

class TileWalk {
 public:
  // `c` must be one head of one sequence, forward pass (batch = heads = 1). `gpu_order`: events
  // in the order the simulator's hierarchy sees them (blocks of a wave interleaved); otherwise one
  // block after the other, the loop nest as the paper writes it.
  TileWalk(Algo algo, const AttnConfig& c, const GpuSpec& gpu, bool gpu_order);

  size_t size() const { return events_.size(); }
  size_t position() const { return pos_; }
  // Replays events [0, k) (k clamped to size()); moving forward continues from where we are.
  void seek(size_t k);

  const TilePlan& tiles() const { return tiles_; }
  u64 grid_rows() const { return rows_; }  // score tiles down (query tiles)
  u64 grid_cols() const { return cols_; }  // score tiles across (key tiles)
  ScoreTile score(u64 i, u64 j) const { return score_[i * cols_ + j]; }

  // The last event applied (nullptr before the first).
  const TileEvent* current() const { return pos_ ? &events_[pos_ - 1] : nullptr; }
  std::string kernel_name() const;  // of the current event ("" before the first)
  u64 kernel_grid() const;          // thread blocks of the current kernel

  // Tiles resident in SRAM now: for every running block, the latest tile of each tensor it loaded
  // (a block's SRAM is freed when its last event has run).
  const std::vector<TileEvent>& resident() const { return resident_; }

  // Counters up to the current position.
  LevelBytes hbm() const { return count_.hbm_total(); }    // global memory reads/writes
  const LevelBytes& sram() const { return count_.sram(); }  // SRAM reads/writes (loads, stores, on-chip work)
  LevelBytes dram() const { return count_.dram_total(); }   // after the L2
  size_t computes_done() const { return count_.computes(); }

 private:
  void reset();
  void apply(size_t i);

  Algo algo_;
  GpuSpec gpu_;
  TilePlan tiles_;
  std::vector<std::string> kernel_names_;
  std::vector<u64> kernel_grids_;
  std::vector<TileEvent> events_;
  std::vector<bool> last_of_block_;  // events_[i] is its block's last event
  u64 rows_ = 0, cols_ = 0;

  size_t pos_ = 0;
  std::vector<ScoreTile> score_;
  std::vector<TileEvent> resident_;
  EventCounter count_{std::nullopt};  // replaced by reset()
};

}  // namespace attnlab
