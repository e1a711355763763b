#include "sim/tiling_walk.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "sim/hierarchy.hpp"
#include "sim/kernel_plan.hpp"
#include "util/errors.hpp"

namespace attnlab {

TileWalk::TileWalk(Algo algo, const AttnConfig& c, const GpuSpec& gpu, bool gpu_order) : algo_(algo), gpu_(gpu) {
  if (c.batch != 1 || c.heads != 1 || c.pass != Pass::fwd)
    throw InputError("the tiling view walks one head of one sequence, forward pass");
  validate(c);
  tiles_ = tiles_choose(algo, c, gpu);
  const auto plans = plan_algorithm(algo, c, tiles_);
  const Shape s(c);
  if (algo == Algo::naive) {
    rows_ = cols_ = s.tiles(tiles_.T);
  } else {
    rows_ = s.tiles(tiles_.Br);
    cols_ = s.tiles(tiles_.Bc);
  }
  for (const auto& p : plans) {
    kernel_names_.push_back(p.name);
    kernel_grids_.push_back(p.grid);
  }
  if (gpu_order) {
    hierarchy_for_each_event(plans, gpu, [&](const TileEvent& e) {
      events_.push_back(e);
      return true;
    });
  } else {
    for (const auto& p : plans)
      for (u64 b = 0; b < p.grid; ++b) p.emit(b, events_, UINT64_MAX);
  }
  // A block's SRAM is released after its last event: find each block's last event.
  last_of_block_.assign(events_.size(), false);
  std::map<std::pair<std::uint32_t, u64>, size_t> last;
  for (size_t i = 0; i < events_.size(); ++i) last[{events_[i].kernel, events_[i].block}] = i;
  for (const auto& [key, i] : last) last_of_block_[i] = true;
  reset();
}

void TileWalk::reset() {
  pos_ = 0;
  score_.assign(rows_ * cols_, ScoreTile::untouched);
  resident_.clear();
  count_ = EventCounter(gpu_.l2_bytes);
}

void TileWalk::apply(size_t i) {
  const TileEvent& e = events_[i];
  if (i == 0 || events_[i - 1].kernel != e.kernel) count_.start_kernel();
  count_.add(e);

  // The picture.
  if (e.op == EventOp::load) {
    auto same = [&](const TileEvent& r) { return r.kernel == e.kernel && r.block == e.block && r.tensor == e.tensor; };
    std::erase_if(resident_, same);
    resident_.push_back(e);
  }
  if (algo_ == Algo::naive) {
    if (e.op == EventOp::store && e.tensor == Tensor::S) score_[e.row * cols_ + e.col] = ScoreTile::s_in_hbm;
    if (e.op == EventOp::store && e.tensor == Tensor::P) score_[e.row * cols_ + e.col] = ScoreTile::p_in_hbm;
    if (e.op == EventOp::load && e.tensor == Tensor::P) score_[e.row * cols_ + e.col] = ScoreTile::consumed;
  } else if (e.op == EventOp::compute && e.tensor == Tensor::S && e.row < rows_ && e.col < cols_) {
    score_[e.row * cols_ + e.col] = ScoreTile::computed;
  }
  if (last_of_block_[i])
    std::erase_if(resident_, [&](const TileEvent& r) { return r.kernel == e.kernel && r.block == e.block; });
  if (i + 1 == events_.size() || events_[i + 1].kernel != e.kernel) count_.end_kernel();
}

void TileWalk::seek(size_t k) {
  k = std::min(k, events_.size());
  if (k < pos_) reset();
  while (pos_ < k) apply(pos_++);
}

std::string TileWalk::kernel_name() const {
  const TileEvent* e = current();
  return e ? kernel_names_[e->kernel] : std::string();
}

u64 TileWalk::kernel_grid() const {
  const TileEvent* e = current();
  return e ? kernel_grids_[e->kernel] : 0;
}

}  // namespace attnlab
