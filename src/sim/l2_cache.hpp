// The L2 model: a least-recently-used cache of tiles, write-back and write-allocate.
// Granularity is a whole tile (a tile is loaded or stored whole by one block), which keeps the
// model fast enough for a million events per second while still capturing the reuse that
// matters: concurrent blocks reading the same K/V tile, and re-written tiles coalescing.
#pragma once
#include <list>
#include <unordered_map>

#include "sim/events.hpp"

namespace attnlab {

struct L2Outcome {
  bool hit = false;       // the tile was resident (no DRAM read for a load)
  u64 dram_read = 0;      // bytes read from DRAM by this access
  // Dirty bytes written back to DRAM because this access evicted them, per tensor.
  std::array<u64, kTensorCount> written_back{};
};

class L2Cache {
 public:
  explicit L2Cache(u64 capacity_bytes) : capacity_(capacity_bytes) {}
  L2Outcome load(const TileEvent& e);
  L2Outcome store(const TileEvent& e);
  // A read-modify-write in the L2 (an atomic add): a load's miss, then the line is dirty.
  L2Outcome reduce(const TileEvent& e);
  // Writes every dirty tile back (end of a kernel); returns the bytes per tensor.
  std::array<u64, kTensorCount> flush();
  bool contains(const TileEvent& e) const;
  void clear() { lru_.clear(); index_.clear(); used_ = 0; }  // forget everything (dirty data is lost)
  u64 capacity() const { return capacity_; }

 private:
  struct Key {
    Tensor tensor;
    u64 head, row, col, rows;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      u64 h = static_cast<u64>(k.tensor) * 0x9E3779B97F4A7C15ull;
      for (u64 v : {k.head, k.row, k.col, k.rows}) h = (h ^ v) * 0xBF58476D1CE4E5B9ull + (h >> 31);
      return static_cast<size_t>(h);
    }
  };
  struct Entry {
    Key key;
    u64 bytes;
    bool dirty;
  };
  static Key key_of(const TileEvent& e) { return {e.tensor, e.head, e.row, e.col, e.rows}; }
  void make_room(u64 bytes, L2Outcome& out);

  u64 capacity_;
  u64 used_ = 0;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
};

}  // namespace attnlab
