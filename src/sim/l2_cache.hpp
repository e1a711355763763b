// The L2 model: a least-recently-used cache of tiles, write-back and write-allocate.
// Granularity is a whole tile (a tile is loaded or stored whole by one block), which keeps the
// model fast enough for tens of millions of events per second while still capturing the reuse
// that matters: concurrent blocks reading the same K/V tile, and re-written tiles coalescing.
//
// Every global access of every simulated kernel comes through here (a lesson page, a dashboard
// slider, `attnlab measured --ncu` over a hundred Nsight Compute records), so the structure is
// flat: the tiles live in one array, linked in LRU order by index, and found through an
// open-addressing hash table of indices. No allocation per access (a std::list + unordered_map
// allocated two nodes per miss and made the model ~3x slower, ~10x under AddressSanitizer).
#pragma once
#include <cstdint>
#include <vector>

#include "sim/events.hpp"

namespace attnlab {

struct L2Outcome {
  bool hit = false;       // the tile was resident (no DRAM read for a load)
  u64 dram_read = 0;      // bytes read from DRAM by this access
  // Dirty bytes written back to DRAM because this access evicted them, per tensor (all zero on a hit).
  std::array<u64, kTensorCount> written_back{};
};

// What one access did, for the event counter's hot path: whether the tile was resident, and
// whether evictions added bytes to the caller's write-back sums.
struct L2Access {
  bool hit = false;
  bool wrote_back = false;
};

class L2Cache {
 public:
  explicit L2Cache(u64 capacity_bytes);
  // A load misses with e.bytes read from DRAM; a store allocates the tile dirty without reading.
  L2Outcome load(const TileEvent& e);
  L2Outcome store(const TileEvent& e);
  // A read-modify-write in the L2 (an atomic add): a load's miss, then the line is dirty.
  L2Outcome reduce(const TileEvent& e);
  // The same, adding evicted dirty bytes to `written_back` (per tensor) instead of returning a
  // fresh array: the event counter calls these once per global access.
  L2Access load(const TileEvent& e, std::array<u64, kTensorCount>& written_back);
  L2Access store(const TileEvent& e, std::array<u64, kTensorCount>& written_back);
  L2Access reduce(const TileEvent& e, std::array<u64, kTensorCount>& written_back);
  // Writes every dirty tile back (end of a kernel); returns the bytes per tensor.
  std::array<u64, kTensorCount> flush();
  bool contains(const TileEvent& e) const;
  void clear();  // forget everything (dirty data is lost)
  u64 capacity() const { return capacity_; }

 private:
  struct Key {
    Tensor tensor;
    u64 head, row, col, rows;
    bool operator==(const Key&) const = default;
  };
  using Index = std::uint32_t;
  static constexpr Index kNone = UINT32_MAX;
  struct Entry {
    Key key;
    u64 hash = 0;
    u64 bytes = 0;
    Index prev = kNone, next = kNone;  // LRU neighbours (prev = more recent); next chains free slots
    bool dirty = false;
  };
  static Key key_of(const TileEvent& e) { return {e.tensor, e.head, e.row, e.col, e.rows}; }
  static u64 hash_of(const Key& k);

  // Resident tile with this key, or kNone.
  Index find(const Key& k, u64 hash) const;
  // A new resident tile, most recently used.
  void insert(const Key& k, u64 hash, u64 bytes, bool dirty);
  bool make_room(u64 bytes, std::array<u64, kTensorCount>& written_back);  // true if it wrote back
  void touch(Index i);  // move to the front of the LRU order
  void unlink(Index i);
  void push_front(Index i);
  void table_erase(Index i);
  void table_grow();

  u64 capacity_;
  u64 used_ = 0;
  std::vector<Entry> entries_;
  Index head_ = kNone, tail_ = kNone;  // most and least recently used
  Index free_ = kNone;                 // first unused slot of entries_
  std::vector<Index> table_;           // open addressing, linear probing: entry index or kNone
  size_t resident_ = 0;
};

}  // namespace attnlab
