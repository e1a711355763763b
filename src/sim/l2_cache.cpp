#include "sim/l2_cache.hpp"

#include <algorithm>
#include <stdexcept>

namespace attnlab {

namespace {
constexpr size_t kInitialSlots = 1024;  // power of two; grows by doubling past half full
}

L2Cache::L2Cache(u64 capacity_bytes) : capacity_(capacity_bytes), table_(kInitialSlots, kNone) {}

u64 L2Cache::hash_of(const Key& k) {
  u64 h = static_cast<u64>(k.tensor) * 0x9E3779B97F4A7C15ull;
  for (u64 v : {k.head, k.row, k.col, k.rows}) h = (h ^ v) * 0xBF58476D1CE4E5B9ull + (h >> 31);
  // Final mix: linear probing takes the low bits, which must depend on every field.
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  return h;
}

L2Cache::Index L2Cache::find(const Key& k, u64 hash) const {
  const size_t mask = table_.size() - 1;
  for (size_t s = hash & mask;; s = (s + 1) & mask) {
    const Index i = table_[s];
    if (i == kNone) return kNone;
    if (entries_[i].hash == hash && entries_[i].key == k) return i;
  }
}

void L2Cache::unlink(Index i) {
  Entry& e = entries_[i];
  if (e.prev != kNone) entries_[e.prev].next = e.next;
  else head_ = e.next;
  if (e.next != kNone) entries_[e.next].prev = e.prev;
  else tail_ = e.prev;
  e.prev = e.next = kNone;
}

void L2Cache::push_front(Index i) {
  Entry& e = entries_[i];
  e.prev = kNone;
  e.next = head_;
  if (head_ != kNone) entries_[head_].prev = i;
  head_ = i;
  if (tail_ == kNone) tail_ = i;
}

void L2Cache::touch(Index i) {
  if (i == head_) return;
  unlink(i);
  push_front(i);
}

void L2Cache::table_grow() {
  std::vector<Index> bigger(table_.size() * 2, kNone);
  const size_t mask = bigger.size() - 1;
  for (Index i : table_) {
    if (i == kNone) continue;
    size_t s = entries_[i].hash & mask;
    while (bigger[s] != kNone) s = (s + 1) & mask;
    bigger[s] = i;
  }
  table_.swap(bigger);
}

// Removes entry i from the table by backward-shift deletion (no tombstones, so lookups stay short
// however long the cache runs).
void L2Cache::table_erase(Index i) {
  const size_t mask = table_.size() - 1;
  size_t hole = entries_[i].hash & mask;
  while (table_[hole] != i) hole = (hole + 1) & mask;
  for (size_t s = (hole + 1) & mask; table_[s] != kNone; s = (s + 1) & mask) {
    const size_t home = entries_[table_[s]].hash & mask;
    // The entry at s may move into the hole unless its home lies cyclically in (hole, s].
    const bool stays = hole <= s ? (hole < home && home <= s) : (hole < home || home <= s);
    if (stays) continue;
    table_[hole] = table_[s];
    hole = s;
  }
  table_[hole] = kNone;
  --resident_;
}

void L2Cache::insert(const Key& k, u64 hash, u64 bytes, bool dirty) {
  if ((resident_ + 1) * 2 > table_.size()) table_grow();
  Index i;
  if (free_ != kNone) {
    i = free_;
    free_ = entries_[i].next;
  } else {
    if (entries_.size() >= kNone) throw std::length_error("L2 model: more than 2^32 resident tiles");
    i = static_cast<Index>(entries_.size());
    entries_.emplace_back();
  }
  Entry& e = entries_[i];
  e.key = k;
  e.hash = hash;
  e.bytes = bytes;
  e.dirty = dirty;
  push_front(i);
  const size_t mask = table_.size() - 1;
  size_t s = hash & mask;
  while (table_[s] != kNone) s = (s + 1) & mask;
  table_[s] = i;
  ++resident_;
  used_ += bytes;
}

bool L2Cache::make_room(u64 bytes, std::array<u64, kTensorCount>& written_back) {
  bool wrote = false;
  while (tail_ != kNone && used_ + bytes > capacity_) {
    const Index v = tail_;
    Entry& victim = entries_[v];
    if (victim.dirty) {
      written_back[static_cast<size_t>(victim.key.tensor)] += victim.bytes;
      wrote = true;
    }
    used_ -= victim.bytes;
    table_erase(v);
    unlink(v);
    victim.next = free_;
    free_ = v;
  }
  return wrote;
}

L2Access L2Cache::load(const TileEvent& e, std::array<u64, kTensorCount>& written_back) {
  const Key k = key_of(e);
  const u64 h = hash_of(k);
  if (const Index i = find(k, h); i != kNone) {
    touch(i);
    return {true, false};
  }
  if (e.bytes > capacity_) return {};  // streams through: larger than the whole cache
  const bool wrote = make_room(e.bytes, written_back);
  insert(k, h, e.bytes, false);
  return {false, wrote};
}

L2Access L2Cache::store(const TileEvent& e, std::array<u64, kTensorCount>& written_back) {
  const Key k = key_of(e);
  const u64 h = hash_of(k);
  if (const Index i = find(k, h); i != kNone) {
    entries_[i].dirty = true;  // re-written while resident: one write-back, not two
    touch(i);
    return {true, false};
  }
  if (e.bytes > capacity_) {  // straight to DRAM
    written_back[static_cast<size_t>(e.tensor)] += e.bytes;
    return {false, true};
  }
  const bool wrote = make_room(e.bytes, written_back);
  insert(k, h, e.bytes, true);  // the whole tile is overwritten: no DRAM read first
  return {false, wrote};
}

L2Outcome L2Cache::load(const TileEvent& e) {
  L2Outcome out;
  out.hit = load(e, out.written_back).hit;
  out.dram_read = out.hit ? 0 : e.bytes;
  return out;
}

L2Outcome L2Cache::store(const TileEvent& e) {
  L2Outcome out;
  out.hit = store(e, out.written_back).hit;
  return out;
}

L2Access L2Cache::reduce(const TileEvent& e, std::array<u64, kTensorCount>& written_back) {
  L2Access a = load(e, written_back);
  if (e.bytes > capacity_) {  // streamed through: the sum goes straight back
    written_back[static_cast<size_t>(e.tensor)] += e.bytes;
    a.wrote_back = true;
    return a;
  }
  const Key k = key_of(e);
  entries_[find(k, hash_of(k))].dirty = true;  // resident now: the load above hit or allocated it
  return a;
}

L2Outcome L2Cache::reduce(const TileEvent& e) {
  L2Outcome out;
  out.hit = reduce(e, out.written_back).hit;
  out.dram_read = out.hit ? 0 : e.bytes;
  return out;
}

std::array<u64, kTensorCount> L2Cache::flush() {
  std::array<u64, kTensorCount> out{};
  for (Index i = head_; i != kNone; i = entries_[i].next) {
    Entry& en = entries_[i];
    if (en.dirty) out[static_cast<size_t>(en.key.tensor)] += en.bytes;
    en.dirty = false;
  }
  return out;
}

bool L2Cache::contains(const TileEvent& e) const {
  const Key k = key_of(e);
  return find(k, hash_of(k)) != kNone;
}

void L2Cache::clear() {
  entries_.clear();
  std::fill(table_.begin(), table_.end(), kNone);
  head_ = tail_ = free_ = kNone;
  resident_ = 0;
  used_ = 0;
}

}  // namespace attnlab
