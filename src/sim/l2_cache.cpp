#include "sim/l2_cache.hpp"

namespace attnlab {

void L2Cache::make_room(u64 bytes, L2Outcome& out) {
  while (!lru_.empty() && used_ + bytes > capacity_) {
    Entry& victim = lru_.back();
    if (victim.dirty) out.written_back[static_cast<size_t>(victim.key.tensor)] += victim.bytes;
    used_ -= victim.bytes;
    index_.erase(victim.key);
    lru_.pop_back();
  }
}

L2Outcome L2Cache::load(const TileEvent& e) {
  L2Outcome out;
  Key k = key_of(e);
  auto it = index_.find(k);
  if (it != index_.end()) {
    out.hit = true;
    lru_.splice(lru_.begin(), lru_, it->second);
    return out;
  }
  out.dram_read = e.bytes;
  if (e.bytes > capacity_) return out;  // streams through: larger than the whole cache
  make_room(e.bytes, out);
  lru_.push_front({k, e.bytes, false});
  index_[k] = lru_.begin();
  used_ += e.bytes;
  return out;
}

L2Outcome L2Cache::store(const TileEvent& e) {
  L2Outcome out;
  Key k = key_of(e);
  auto it = index_.find(k);
  if (it != index_.end()) {
    out.hit = true;
    it->second->dirty = true;  // re-written while resident: one write-back, not two
    lru_.splice(lru_.begin(), lru_, it->second);
    return out;
  }
  if (e.bytes > capacity_) {
    out.written_back[static_cast<size_t>(e.tensor)] += e.bytes;
    return out;
  }
  make_room(e.bytes, out);
  lru_.push_front({k, e.bytes, true});  // the whole tile is overwritten: no DRAM read first
  index_[k] = lru_.begin();
  used_ += e.bytes;
  return out;
}

L2Outcome L2Cache::reduce(const TileEvent& e) {
  L2Outcome out = load(e);
  if (e.bytes > capacity_) {  // streamed through: the sum goes straight back
    out.written_back[static_cast<size_t>(e.tensor)] += e.bytes;
    return out;
  }
  index_.at(key_of(e))->dirty = true;
  return out;
}

std::array<u64, kTensorCount> L2Cache::flush() {
  std::array<u64, kTensorCount> out{};
  for (Entry& en : lru_) {
    if (en.dirty) out[static_cast<size_t>(en.key.tensor)] += en.bytes;
    en.dirty = false;
  }
  return out;
}

bool L2Cache::contains(const TileEvent& e) const { return index_.count(key_of(e)) != 0; }

}  // namespace attnlab
