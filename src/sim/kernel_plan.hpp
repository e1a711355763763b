// An algorithm as the GPU runs it: a sequence of kernels, each a grid of thread blocks whose
// events (sim/events.hpp) an emitter produces one block at a time, so that traces of millions of
// events never sit in memory at once.
#include <functional>
#include <string>
#include <vector>

#pragma once
#include "sim/closed_form.hpp"
#include "sim/config.hpp"
#include "sim/events.hpp"
#include "sim/tiles.hpp"

namespace attnlab {

struct KernelPlan {
  std::string name;       // "flash2_fwd", "naive_qk", ...
  u64 grid = 0;           // thread blocks, in launch order
  u64 smem_bytes = 0;     // SRAM per block
  u64 max_blocks_per_sm = 2;  // register/thread limit on residency, besides SRAM
  u128 flops = 0;         // useful FLOPs of this kernel, exact (checked arithmetic)
  u64 events_per_block = 0;   // upper bound, to size traces without emitting them
  // Appends block `block`'s events, in program order, to `out`: the first `limit` of them (a
  // sample of a block with millions of steps needs only its first ones; UINT64_MAX: all).
  std::function<void(u64 block, std::vector<TileEvent>& out, u64 limit)> emit;
};

// The kernels of `a` for config `c` and tile plan `t`, forward and/or backward as c.pass asks.
std::vector<KernelPlan> plan_algorithm(Algo a, const AttnConfig& c, const TilePlan& t);
std::vector<KernelPlan> plan_naive(const AttnConfig& c, const TilePlan& t);
std::vector<KernelPlan> plan_flash1(const AttnConfig& c, const TilePlan& t);
std::vector<KernelPlan> plan_flash2(const AttnConfig& c, const TilePlan& t);

// A framework's copy of tensor `t` (B·H·N·d elements) into another layout, Br rows per block:
// PyTorch's SDPA makes O and dO contiguous for FlashAttention-2's backward. The copy is t's tile at
// column 1 (a second buffer of the same shape).
KernelPlan plan_layout_copy(const AttnConfig& c, Tensor t, u64 Br, std::uint32_t kernel_index);
KernelCounts closed_form_layout_copy(const AttnConfig& c, Tensor t);

// GQA backward: sums the per-query-head dK/dV of each group into the K/V head (grid: K/V heads x tiles).
KernelPlan plan_gqa_reduce(const AttnConfig& c, u64 T, std::uint32_t kernel_index);

// Shared shape helpers.
struct Shape {
  u64 BH, H, Hkv, group, N, d, e, se;  // heads (flattened), bytes per element, bytes per score
  u64 eo;  // bytes per element of the forward output O (bf16 when the inputs are FP8)
  u64 sb;  // bytes of the scale read with each Q, K or V tile (FP8's block quantization; else 0)
  explicit Shape(const AttnConfig& c);
  u64 kv_head(u64 bh) const { return (bh / H) * Hkv + (bh % H) / group; }
  u64 tiles(u64 T) const { return (N + T - 1) / T; }
  u64 rows(u64 i, u64 T) const { return std::min(T, N - i * T); }
};
// Causal: the K/V tiles that query tile i (of Br rows) sees: 0 .. causal_kv_end(i) - 1.
u64 causal_kv_end(u64 i, u64 Br, u64 Bc, u64 N);
// Causal: the first query tile that sees K/V tile j.
u64 causal_q_begin(u64 j, u64 Br, u64 Bc);
// The K/V tiles [begin, end) that query tile i (of Br rows) visits: all of them, the causal
// triangle, or a sliding window's band. The band is taken from the tile's nominal rows
// i·Br .. (i + 1)·Br − 1, as the kernels compute it.
struct TileRange {
  u64 begin = 0, end = 0;
};
TileRange kv_tiles(const AttnConfig& c, u64 i, u64 Br, u64 Bc);
// The (query, key) pairs the mask lets through, over one head: N² full, N(N + 1)/2 causal, the
// band's area with a window. Exact, in O(1).
u128 visible_pairs(const AttnConfig& c);
// Useful FLOPs of the config (the count itself: sim/flops.hpp), exact.
u128 flops_fwd(const AttnConfig& c);
u128 flops_bwd(const AttnConfig& c, bool recompute);

// Builds one block's events, keeping the first `limit`; emitters test full() in their loops so
// that a block cut short does not walk its remaining steps.
struct BlockEmitter {
  std::vector<TileEvent>& out;
  std::uint32_t kernel;
  u64 block;
  u64 limit = UINT64_MAX;
  size_t start = out.size();  // the block's events begin here (the vector may hold earlier blocks)
  bool full() const { return out.size() - start >= limit; }
  void push(const TileEvent& e) {
    if (!full()) out.push_back(e);
  }
  void move(EventOp op, Tensor t, u64 head, u64 row, u64 col, u64 rows, u64 cols, u64 elem_bytes) {
    push({kernel, block, op, t, head, row, col, rows, cols, rows * cols * elem_bytes, 0});
  }
  void load(Tensor t, u64 head, u64 row, u64 col, u64 rows, u64 cols, u64 eb) { move(EventOp::load, t, head, row, col, rows, cols, eb); }
  void store(Tensor t, u64 head, u64 row, u64 col, u64 rows, u64 cols, u64 eb) { move(EventOp::store, t, head, row, col, rows, cols, eb); }
  void reduce(Tensor t, u64 head, u64 row, u64 col, u64 rows, u64 cols, u64 eb) { move(EventOp::reduce, t, head, row, col, rows, cols, eb); }
  // A load of part of a tile: `bytes` of the rows x cols tile (e.g. the visible keys under a mask).
  void load_part(Tensor t, u64 head, u64 row, u64 col, u64 rows, u64 cols, u64 bytes) {
    push({kernel, block, EventOp::load, t, head, row, col, rows, cols, bytes, 0});
  }
  // The scale of a quantized tile (FP8): one value, read with the tile; nothing when sb is 0.
  void load_scale(Tensor t, u64 head, u64 row, u64 sb) {
    if (sb != 0) push({kernel, block, EventOp::load, t, head, row, 0, 1, 1, sb, 0});
  }
  void compute(Tensor t, u64 head, u64 row, u64 col, u64 sram_read, u64 sram_write) {
    push({kernel, block, EventOp::compute, t, head, row, col, 0, 0, sram_read, sram_write});
  }
};

}  // namespace attnlab
