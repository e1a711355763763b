// GPU presets: the figures of each device that the simulator and the roofline need, each with
// its source. All presets live in one table (gpu_presets.cpp); users override SRAM, L2 and HBM.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hw/dtype.hpp"
#include "util/checked.hpp"

namespace attnlab {

struct GpuSpec {
  std::string name;         // preset key, e.g. "h100-sxm"
  std::string full_name;    // "NVIDIA H100 SXM5 80GB"
  std::string arch;         // "Hopper (sm_90)"
  u64 sm_count = 0;
  u64 smem_per_sm = 0;      // bytes of shared memory per SM (the SRAM the tiles live in)
  u64 smem_per_block = 0;   // bytes one thread block may use (opt-in maximum)
  u64 regs_per_sm = 0;      // 32-bit registers per SM
  u64 l2_bytes = 0;
  u64 hbm_bytes = 0;        // device memory capacity
  double hbm_bytes_per_s = 0;  // peak DRAM bandwidth
  double fp32_flops = 0;    // non-tensor FP32 FLOP/s
  double tf32_flops = 0;    // tensor-core TF32, dense
  double fp16_flops = 0;    // tensor-core FP16/BF16 with FP32 accumulate, dense
  double fp8_flops = 0;     // tensor-core FP8, dense; 0 = not supported
  std::string memory_kind;  // "HBM3", "GDDR6X" ...
  std::string source;       // where the figures come from
  bool overridden = false;  // true once a user override changed a figure
  // L2 split in partitions joined by a fabric (A100, H100: 2; each partition caches for the SMs
  // wired to it, a line homed at the far side crosses the fabric). 1 = one unified L2. The rule
  // that turns it into bytes is src/sim/traffic.hpp's l2_fabric_bytes; the source says where the
  // partition count (and the rule's check) come from.
  u64 l2_partitions = 1;
  std::string l2_partitions_source = {};

  bool operator==(const GpuSpec&) const = default;

  // Peak FLOP/s for matrix work in `t` (fp8 falls back to fp16 where the chip lacks it).
  double peak_flops(DType t) const;
  // Arithmetic intensity (FLOP/byte) where memory time equals compute time for dtype `t`.
  double ridge_point(DType t) const { return peak_flops(t) / hbm_bytes_per_s; }
};

const std::vector<GpuSpec>& gpu_presets();
std::string_view default_gpu_name();
// Finds a preset by name (case-insensitive); throws InputError listing the known names.
const GpuSpec& gpu_find(std::string_view name);

// User overrides (--sram-kib, --l2-mib, --hbm-gbps). Zero or negative values are rejected.
struct GpuOverrides {
  std::optional<double> sram_kib;
  std::optional<double> l2_mib;
  std::optional<double> hbm_gbps;
};
GpuSpec gpu_apply_overrides(GpuSpec gpu, const GpuOverrides& o);

}  // namespace attnlab
