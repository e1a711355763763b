// Mamba's selective-scan forward (kernels/scan-selective.cu, rung 7) in bytes and FLOPs:
//   x_t = exp(Δ_t A) x_{t−1} + Δ_t B_t u_t,  y_t = C_t · x_t + D u_t,  Δ_t = softplus(δ_t + bias)
// u, δ, y: [B, D, L]; B, C: [B, N, L] (one group shared by all D channels); A [D, N], D and bias
// [D] in fp32. The state x (N per channel) never leaves the chip: bytes grow as L, not L².
#pragma once
#include "hw/dtype.hpp"
#include "hw/gpu.hpp"
#include "util/checked.hpp"

namespace attnlab {

struct ScanConfig {
  u64 batch = 2;
  u64 channels = 4096;  // D (Mamba's d_inner)
  u64 seq = 4096;       // L
  u64 state = 16;       // N (d_state)
  DType dtype = DType::bf16;     // u, δ, B, C, y
  u64 channels_per_warp = 1;     // R: one warp scans R channels of one batch row over all of L
  u64 warps_per_block = 4;       // warps of one block load the same B, C (L1 serves the others)
};

struct ScanTraffic {
  u128 u_read = 0, delta_read = 0, y_write = 0;
  u128 bc_unique = 0;  // B and C once: 2 · batch · N · L · elem
  u128 bc_read = 0;    // what the blocks ask of L2 for B and C: once per block (its warps share via L1)
  u128 params_read = 0;  // A (D·N), D and bias (D), fp32: every batch row's warps load them
  u128 hbm_read = 0, hbm_write = 0;    // SM side
  u128 dram_read = 0, dram_write = 0;  // each tensor once
  u128 l2_fabric = 0;
  u128 min_bytes = 0;  // the roofline's bytes: every input read once, y written once (= dram_*)
  u128 flops = 0;    // exact: 7 per (b, d, t, n) (exp2 counted as one) + 4 per (b, d, t): softplus, Δ·u, D·u
  u128 exps = 0;     // exact: exp2 per (b, d, t, n): the special-function unit's share
  u128 l2_total() const { return cadd(cadd(hbm_read, hbm_write, "scan bytes"), l2_fabric, "scan bytes"); }
  // Roofline floors on `gpu`: bytes / bandwidth, and FP32 work / the FP32 rate.
  double memory_time_s(const GpuSpec& gpu) const;
  double compute_time_s(const GpuSpec& gpu) const;
};

// Throws InputError naming the field on a config the kernel does not run.
ScanTraffic scan_traffic(const ScanConfig& c, const GpuSpec& gpu);

// The sequence length where causal flash attention of the same layer (heads·head_dim wide, its
// roofline time: max(FLOPs / tensor peak, bytes / bandwidth)) becomes slower than the scan's
// roofline time, searching powers of two up to 2^24; 0 if it never does. Attention grows as L²,
// the scan as L: below the crossover attention's tensor cores win, above it the scan does.
u64 scan_attention_crossover(const ScanConfig& scan, u64 attn_heads, u64 attn_head_dim, const GpuSpec& gpu);

}  // namespace attnlab
