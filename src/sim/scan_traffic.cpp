#include "sim/scan_traffic.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "sim/traffic.hpp"
#include "util/errors.hpp"

namespace attnlab {

double ScanTraffic::memory_time_s(const GpuSpec& gpu) const {
  return to_double(cadd(dram_read, dram_write, "scan bytes")) / gpu.hbm_bytes_per_s;
}
double ScanTraffic::compute_time_s(const GpuSpec& gpu) const { return to_double(flops) / gpu.fp32_flops; }

ScanTraffic scan_traffic(const ScanConfig& c, const GpuSpec& gpu) {
  auto need = [](bool ok, const char* what, u64 got) {
    if (!ok) throw InputError(fmt::format("{} (got {})", what, got));
  };
  need(c.batch >= 1, "scan batch must be at least 1", c.batch);
  need(c.channels >= 1, "scan channels must be at least 1", c.channels);
  need(c.seq >= 1, "scan seq must be at least 1", c.seq);
  need(c.state >= 1, "scan state must be at least 1", c.state);
  need(c.channels_per_warp >= 1 && c.channels % c.channels_per_warp == 0,
       "scan channels_per_warp must divide channels", c.channels_per_warp);
  need(c.warps_per_block >= 1, "scan warps_per_block must be at least 1", c.warps_per_block);
  const u128 e = dtype_bytes(c.dtype);
  ScanTraffic s;
  const u128 bdl = cprod("scan elements", c.batch, c.channels, c.seq);
  s.u_read = cmul(bdl, e, "scan bytes");
  s.delta_read = s.u_read;
  s.y_write = s.u_read;
  s.bc_unique = cprod("scan bytes", 2, c.batch, c.state, c.seq, e);
  // Blocks per batch row: the warps of a block are consecutive channel groups of one row (the
  // last block of a row may hold the next row's groups: the count is per block, rounded up).
  const u128 groups = c.channels / c.channels_per_warp;
  const u128 blocks_per_row = ceil_div(groups, c.warps_per_block);
  s.bc_read = cmul(blocks_per_row, s.bc_unique, "scan bytes");
  // Every warp loads its channels' A row, D and bias: once per batch row on the SM side.
  const u128 params_once = cprod("scan bytes", c.channels, cadd(c.state, 2, "scan bytes"), 4);
  s.params_read = cmul(params_once, c.batch, "scan bytes");
  s.hbm_read = cadd(cadd(s.u_read, s.delta_read, "scan bytes"), cadd(s.bc_read, s.params_read, "scan bytes"),
                    "scan bytes");
  s.hbm_write = s.y_write;
  s.dram_read = cadd(cadd(s.u_read, s.delta_read, "scan bytes"), cadd(s.bc_unique, params_once, "scan bytes"),
                     "scan bytes");
  s.dram_write = s.y_write;
  // B, C and the parameters are read by every block of a row (shared); u, δ, y by one warp each.
  const u128 shared = cadd(s.bc_unique, params_once, "scan bytes");
  s.l2_fabric = l2_fabric_bytes(shared, cadd(cadd(s.u_read, s.delta_read, "scan bytes"), s.y_write, "scan bytes"), gpu);
  s.min_bytes = cadd(s.dram_read, s.dram_write, "scan bytes");
  s.flops = cmul(bdl, cadd(cmul(7, c.state, "scan FLOPs"), 4, "scan FLOPs"), "scan FLOPs");
  s.exps = cmul(bdl, c.state, "scan exp2 count");
  return s;
}

u64 scan_attention_crossover(const ScanConfig& scan, u64 attn_heads, u64 attn_head_dim, const GpuSpec& gpu) {
  for (u64 L = 16; L <= (u64{1} << 24); L *= 2) {
    ScanConfig s = scan;
    s.seq = L;
    const ScanTraffic t = scan_traffic(s, gpu);
    const double t_scan = std::max(t.memory_time_s(gpu), t.compute_time_s(gpu));
    // Causal attention: 2 · B · H · L² · d FLOP (half of 4·B·H·L²·d), Q, K, V, O once each.
    const double flop = 2.0 * double(scan.batch) * double(attn_heads) * double(L) * double(L) * double(attn_head_dim);
    const double bytes = 4.0 * double(scan.batch) * double(attn_heads) * double(L) * double(attn_head_dim) *
                         double(dtype_bytes(scan.dtype));
    const double t_attn = std::max(flop / gpu.peak_flops(scan.dtype), bytes / gpu.hbm_bytes_per_s);
    if (t_attn > t_scan) return L;
  }
  return 0;
}

}  // namespace attnlab
