// Decode attention (one query token per sequence against a KV cache) as kernels/attn-decode.cu
// runs it: split-KV (flash-decoding) blocks, each serving up to `rows_per_block` query heads of one
// K/V head, a combine step over the splits, and an optional paged cache read through a block
// table (PagedAttention). Exact byte counts per level; the roofline bytes a decode step must move.
#pragma once
#include "hw/dtype.hpp"
#include "hw/gpu.hpp"
#include "util/checked.hpp"

namespace attnlab {

struct DecodeConfig {
  u64 batch = 1;
  u64 heads = 32;      // query heads
  u64 kv_heads = 32;   // divides heads; group = heads / kv_heads
  u64 seq_kv = 32768;  // cached tokens per sequence (L)
  u64 head_dim = 128;
  DType dtype = DType::bf16;
  u64 chunk = 1024;          // keys per split; >= seq_kv means one split (no combine traffic)
  u64 rows_per_block = 16;   // query heads one block serves (the mma's 16 rows): a group larger
                             // than this re-reads the K/V head ceil(group / rows) times
  u64 page_size = 0;         // tokens per page; 0 = contiguous cache
  u64 table_entry_bytes = 4;  // one int32 page number
  u64 keys_per_table_load = 16;  // the kernel looks the page up once per 16-key warp step ...
  u64 table_loads_per_step = 2;  // ... once for K and once for V
};

struct DecodeTraffic {
  u64 splits = 0;
  u64 kv_passes = 0;  // times each K/V head is read: ceil(group / rows_per_block)
  // What the SMs ask of L2 (the simulator's hbm_* vocabulary), by tensor.
  u128 kv_read = 0;        // K and V
  u128 q_read = 0, o_write = 0;
  u128 partial_write = 0;  // split kernel: unnormalised O (fp32) + (max, sum) per (b, h, split)
  u128 partial_read = 0;   // combine kernel reads them back
  u128 table_read = 0;     // paged: block-table loads (4-byte, 2 per 16-key step)
  u128 hbm_read = 0, hbm_write = 0;
  // DRAM with a cold L2 per kernel (Nsight Compute's --cache-control all): K/V once per pass
  // (passes run concurrently and hit in L2, so once in all), the distinct table entries, and the
  // partials, which the combine kernel finds flushed. Writes: O and the partials.
  u128 dram_read = 0, dram_write = 0;
  u128 l2_fabric = 0;  // l2_fabric_bytes: K/V shared only when kv_passes > 1, the rest private
  // Fewest bytes a decode step can move: K and V once, Q read, O written.
  u128 min_bytes = 0;
  u128 kv_bytes_per_token = 0;  // 2 · kv_heads · d · elem: what one cached token costs per layer
  u128 hbm_total() const { return cadd(hbm_read, hbm_write, "decode bytes"); }
  u128 dram_total() const { return cadd(dram_read, dram_write, "decode bytes"); }
  u128 l2_total() const { return cadd(hbm_total(), l2_fabric, "decode L2 bytes"); }
};

// Fewest bytes a decode step can move: K and V read once, Q read, O written (DecodeTraffic's
// min_bytes; the decode rung's GB/s figures divide this by its time).
u128 decode_min_bytes(const DecodeConfig& c);

// Throws InputError naming the field when the config is not one the kernel runs.
DecodeTraffic decode_traffic(const DecodeConfig& c, const GpuSpec& gpu);

}  // namespace attnlab
