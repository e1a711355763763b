// Sliding-window attention on the flash-2 tile grid, as kernels/attn-mma.cu runs it with a window
// (rung 6, attn-window.cpp): which (query tile, key tile) pairs a block visits, which it skips, how
// many of the visited ones straddle a mask edge, and the bytes that follow. Query i sees key j when
// i − window_left <= j <= i + window_right (causal caps the right side at 0; a negative window side
// is unbounded). The bytes are the flash2 plan's with the window (AttnConfig::window_left/right)
// run through the hierarchy and its L2.
#pragma once
#include "hw/dtype.hpp"
#include "hw/gpu.hpp"
#include "util/checked.hpp"

namespace attnlab {

struct WindowConfig {
  u64 batch = 1, heads = 16, kv_heads = 16;
  u64 seq_q = 4096, seq_kv = 4096;
  u64 head_dim = 128;
  DType dtype = DType::bf16;
  bool causal = true;
  long long window_left = 4095;  // < 0: unbounded
  long long window_right = -1;   // < 0: unbounded (ignored when causal)
  u64 block_q = 128, block_kv = 64;  // the kernel's Br, Bc
};

struct WindowTiles {
  // Per (batch, head): the whole grid, and what the kernel does with it.
  u128 tiles_total = 0;    // Tr · Tc
  u128 tiles_visited = 0;  // loaded and multiplied
  u128 tiles_skipped = 0;  // never loaded: wholly outside the visible band
  u128 tiles_masked = 0;   // visited tiles where some (row, key) pair of the tile is masked
  u128 pairs_visible = 0;  // (query, key) pairs the mask lets through: 4·d FLOP each
  // Totals over batch and heads.
  u128 keys_loaded = 0;  // K rows (= V rows) the blocks load (zero-filled rows past the end excluded)
  u128 hbm_read = 0, hbm_write = 0;  // Q once, K and V per visited tile, O and the log-sum-exp once
  u128 dram_read = 0, dram_write = 0;  // after the L2 (neighbouring query tiles share K/V tiles)
  u128 l2_fabric = 0;
  u128 flops = 0;    // exact: 4 · d · visible pairs · batch · heads
  double skipped_fraction() const;  // tiles_skipped / tiles_total
  u128 l2_total() const { return cadd(cadd(hbm_read, hbm_write, "window bytes"), l2_fabric, "window bytes"); }
};

// Throws InputError naming the field on a config the kernel does not run.
WindowTiles window_tiles(const WindowConfig& c, const GpuSpec& gpu);

}  // namespace attnlab
