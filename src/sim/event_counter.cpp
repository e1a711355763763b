#include "sim/event_counter.hpp"

namespace attnlab {

EventCounter::EventCounter(std::optional<u64> l2_bytes) {
  if (l2_bytes) l2_.emplace(*l2_bytes);
}

void EventCounter::add(const TileEvent& e) {
  ++events_;
  if (e.op == EventOp::compute) {
    sram_.read += e.bytes;
    sram_.write += e.sram_write;
    ++computes_;
    return;
  }
  const size_t t = static_cast<size_t>(e.tensor);
  L2Access a;
  if (e.op == EventOp::load) {
    hbm_[t].read += e.bytes;
    sram_.write += e.bytes;
    if (l2_) {
      a = l2_->load(e, written_back_);
      if (!a.hit) dram_[t].read += e.bytes;
    }
  } else if (e.op == EventOp::reduce) {
    hbm_[t].write += e.bytes;
    sram_.read += e.bytes;
    if (l2_) {
      a = l2_->reduce(e, written_back_);
      if (!a.hit) dram_[t].read += e.bytes;
    }
  } else {
    hbm_[t].write += e.bytes;
    sram_.read += e.bytes;
    if (l2_) a = l2_->store(e, written_back_);
  }
  if (!a.wrote_back) return;
  for (size_t x = 0; x < kTensorCount; ++x) dram_[x].write += written_back_[x];
  written_back_.fill(0);
}

void EventCounter::start_kernel() {
  if (l2_) l2_->clear();
}

void EventCounter::end_kernel() {
  if (!l2_) return;
  const auto flushed = l2_->flush();
  for (size_t x = 0; x < kTensorCount; ++x) {
    dram_[x].write += flushed[x];
    write_at_end_ += flushed[x];
  }
}


}  // namespace attnlab
