#include "sim/decode_traffic.hpp"

#include <fmt/format.h>

#include "sim/traffic.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {
void need(bool ok, const char* what, u64 got) {
  if (!ok) throw InputError(fmt::format("{} (got {})", what, got));
}
}  // namespace

u128 decode_min_bytes(const DecodeConfig& c) {
  const u128 e = dtype_bytes(c.dtype);
  const u128 kv_once = cprod("decode K/V bytes", 2, c.batch, c.kv_heads, c.seq_kv, c.head_dim, e);
  const u128 q = cprod("decode Q bytes", c.batch, c.heads, c.head_dim, e);
  return cadd(cadd(kv_once, q, "decode bytes"), q, "decode bytes");  // O has Q's size
}

DecodeTraffic decode_traffic(const DecodeConfig& c, const GpuSpec& gpu) {
  need(c.batch >= 1, "decode batch must be at least 1", c.batch);
  need(c.heads >= 1, "decode heads must be at least 1", c.heads);
  need(c.kv_heads >= 1 && c.heads % c.kv_heads == 0, "decode kv_heads must divide heads", c.kv_heads);
  need(c.seq_kv >= 1, "decode seq_kv must be at least 1", c.seq_kv);
  need(c.head_dim >= 1, "decode head_dim must be at least 1", c.head_dim);
  need(c.chunk >= 1, "decode chunk must be at least 1", c.chunk);
  need(c.rows_per_block >= 1, "decode rows_per_block must be at least 1", c.rows_per_block);
  need(c.keys_per_table_load >= 1, "decode keys_per_table_load must be at least 1", c.keys_per_table_load);

  const u128 e = dtype_bytes(c.dtype);
  const u64 group = c.heads / c.kv_heads;
  DecodeTraffic t;
  t.splits = static_cast<u64>(ceil_div(c.seq_kv, c.chunk));
  t.kv_passes = static_cast<u64>(ceil_div(group, c.rows_per_block));
  const u128 kv_once = cprod("decode K/V bytes", 2, c.batch, c.kv_heads, c.seq_kv, c.head_dim, e);
  t.kv_read = cmul(kv_once, t.kv_passes, "decode K/V bytes");
  t.q_read = cprod("decode Q bytes", c.batch, c.heads, c.head_dim, e);
  t.o_write = t.q_read;
  // Each split writes d fp32 values and two fp32 statistics per query head; the combine reads them.
  const u128 part = cprod("decode partial bytes", c.batch, c.heads, t.splits,
                           cadd(cmul(c.head_dim, 4, "decode partial bytes"), 8, "decode partial bytes"));
  t.partial_write = part;
  t.partial_read = part;
  u128 table_unique = 0;
  if (c.page_size > 0) {
    // Steps of 16 keys per (b, kv head, pass): ceil over each split's keys.
    const u64 full = c.seq_kv / c.chunk, tail = c.seq_kv % c.chunk;
    const u128 steps_per_seq = cadd(cmul(full, ceil_div(c.chunk, c.keys_per_table_load)),
                                    ceil_div(tail, c.keys_per_table_load), "decode steps");
    t.table_read = cprod("decode table bytes", c.batch, c.kv_heads, t.kv_passes, steps_per_seq,
                         c.table_loads_per_step, c.table_entry_bytes);
    table_unique = cprod("decode table bytes", c.batch, ceil_div(c.seq_kv, c.page_size), c.table_entry_bytes);
  }
  t.hbm_read = cadd(cadd(t.kv_read, t.q_read, "decode bytes"), cadd(t.partial_read, t.table_read, "decode bytes"),
                    "decode bytes");
  t.hbm_write = cadd(t.o_write, t.partial_write, "decode bytes");
  t.dram_read = cadd(cadd(kv_once, t.q_read, "decode bytes"), cadd(part, table_unique, "decode bytes"), "decode bytes");
  t.dram_write = t.hbm_write;
  // One block reads each K/V byte, unless the group needs several passes (MQA: 2 blocks per head).
  const u128 shared = t.kv_passes > 1 ? kv_once : 0;
  t.l2_fabric = l2_fabric_bytes(shared, csub(cadd(t.dram_read, t.dram_write, "decode bytes"), shared), gpu);
  t.min_bytes = decode_min_bytes(c);
  t.kv_bytes_per_token = cprod("decode bytes per token", 2, c.kv_heads, c.head_dim, e);
  return t;
}

}  // namespace attnlab
