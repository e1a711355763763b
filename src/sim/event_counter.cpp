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
  LevelBytes& global = hbm_[static_cast<size_t>(e.tensor)];
  L2Outcome o;
  if (e.op == EventOp::load) {
    global.read += e.bytes;
    sram_.write += e.bytes;
    if (l2_) o = l2_->load(e);
    dram_[static_cast<size_t>(e.tensor)].read += o.dram_read;
  } else if (e.op == EventOp::reduce) {
    global.write += e.bytes;
    sram_.read += e.bytes;
    if (l2_) o = l2_->reduce(e);
    dram_[static_cast<size_t>(e.tensor)].read += o.dram_read;
  } else {
    global.write += e.bytes;
    sram_.read += e.bytes;
    if (l2_) o = l2_->store(e);
  }
  for (size_t x = 0; x < kTensorCount; ++x) dram_[x].write += o.written_back[x];
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
