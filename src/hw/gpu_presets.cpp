// The GPU preset table. Every figure is from the vendor's datasheet or architecture whitepaper
// named in `source`; FLOP/s are dense (no 2:4 sparsity), boost clock. FP8 (e4m3/e5m2 tensor cores,
// fp32 accumulate): the H100 SXM and H200 datasheets print 3,958 TFLOPS "with sparsity", so 1,979
// dense (twice the 16-bit rate); Ada: the whitepaper's 330.3 (RTX 4090, FP32 accumulate) and the L4
// datasheet's 485 with sparsity, 242.5 dense; Ampere has no FP8 (0: peak_flops falls back to 16-bit).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>

#include "util/units.hpp"
#include "hw/gpu.hpp"
#include "hw/gpu_file.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {
constexpr double T = 1e12;

std::vector<GpuSpec> make_gpu_presets() {
  std::vector<GpuSpec> p;
  // H100 SXM5: 132 SMs, 228 KB shared memory per SM (227 KB per block), 50 MB L2, HBM3 3.35 TB/s.
  p.push_back({"h100-sxm", "NVIDIA H100 SXM5 80GB", "Hopper (sm_90)", 132, 228 * KiB, 227 * KiB, 65536,
               50 * MiB, 80 * GB, 3.35e12, 66.9 * T, 494.7 * T, 989.4 * T, 1978.9 * T, "HBM3",
               "NVIDIA H100 Tensor Core GPU datasheet (SXM5) and Hopper architecture whitepaper, tables 1-3"});
  // Two L2 partitions (the A100 layout, kept by Hopper). The fabric rule (l2_fabric_bytes) was
  // checked against lts__t_sectors_srcunit_ltcfabric in assets/measurements/h100-*.json.
  p.back().l2_partitions = 2;
  p.back().l2_partitions_source =
      "2 partitions: Hopper architecture whitepaper (L2 in two partitions, as A100); fabric rule checked "
      "against lts__t_sectors_srcunit_ltcfabric on an H100 (assets/measurements/h100-ncu.json, ncu-ladder2-h100.json)";
  // H200 SXM: the H100's die with 141 GB HBM3e at 4.8 TB/s.
  // L2 and memory as the device reports them (cudaGetDeviceProperties on a lent H200, driver 580.159.04,
  // 2026-12-02: l2CacheSize 62,914,560 B, totalGlobalMem 150,109,880,320 B); the H100's 50 MiB was
  // assumed here before. SM count, shared memory and registers were checked the same way and match.
  p.push_back({"h200", "NVIDIA H200 SXM 141GB", "Hopper (sm_90)", 132, 228 * KiB, 227 * KiB, 65536,
               60 * MiB, 150109880320ull, 4.8e12, 66.9 * T, 494.7 * T, 989.4 * T, 1978.9 * T, "HBM3e",
               "NVIDIA H200 Tensor Core GPU datasheet (SXM: 4.8 TB/s, FLOP/s); L2 (60 MiB) and memory (139.8 GiB) "
               "from cudaGetDeviceProperties on an H200 SXM; SM figures as H100 (same GH100 die), checked likewise"});
  p.back().l2_partitions = 2;
  p.back().l2_partitions_source = "as h100-sxm (same GH100 die); fabric rule checked on the H100, not the H200";
  // A100 SXM4: 108 SMs, 164 KB shared memory per SM (163 KB per block), 40 MB L2.
  p.push_back({"a100-40gb", "NVIDIA A100 SXM4 40GB", "Ampere (sm_80)", 108, 164 * KiB, 163 * KiB, 65536,
               40 * MiB, 40 * GB, 1.555e12, 19.5 * T, 156 * T, 312 * T, 0, "HBM2",
               "NVIDIA A100 Tensor Core GPU architecture whitepaper, table 3; A100 datasheet (1,555 GB/s)"});
  p.back().l2_partitions = 2;
  p.back().l2_partitions_source =
      "2 partitions: A100 whitepaper (\"each L2 partition localizes and caches data for memory accesses from SMs "
      "in the GPCs directly connected\"); fabric rule checked on the H100 only, assumed here";
  p.push_back({"a100-80gb", "NVIDIA A100 SXM4 80GB", "Ampere (sm_80)", 108, 164 * KiB, 163 * KiB, 65536,
               40 * MiB, 80 * GB, 2.039e12, 19.5 * T, 156 * T, 312 * T, 0, "HBM2e",
               "NVIDIA A100 datasheet (SXM4 80GB: 2,039 GB/s); SM figures from the A100 whitepaper"});
  p.back().l2_partitions = 2;
  p.back().l2_partitions_source =
      "2 partitions: A100 whitepaper (\"each L2 partition localizes and caches data for memory accesses from SMs "
      "in the GPCs directly connected\"); fabric rule checked on the H100 only, assumed here";
  // RTX 4090 (AD102): 128 SMs, 100 KB shared memory per SM (99 KB per block), 72 MB L2.
  p.push_back({"rtx-4090", "NVIDIA GeForce RTX 4090", "Ada Lovelace (sm_89)", 128, 100 * KiB, 99 * KiB, 65536,
               72 * MiB, 24 * GB, 1.008e12, 82.6 * T, 82.6 * T, 165.2 * T, 330.3 * T, "GDDR6X",
               "NVIDIA Ada Lovelace architecture whitepaper, appendix table (FP16/FP8 with FP32 accumulate)"});
  // L4 (AD104): 58 SMs, 48 MB L2, GDDR6 300 GB/s.
  p.push_back({"l4", "NVIDIA L4 24GB", "Ada Lovelace (sm_89)", 58, 100 * KiB, 99 * KiB, 65536, 48 * MiB,
               24 * GB, 300e9, 30.3 * T, 60 * T, 121 * T, 242.5 * T, "GDDR6",
               "NVIDIA L4 Tensor Core GPU datasheet; SM figures from the Ada whitepaper"});
  return p;
}

}  // namespace

double GpuSpec::peak_flops(DType t) const {
  switch (t) {
    case DType::fp32: return fp32_flops;
    case DType::tf32: return tf32_flops;
    case DType::fp16:
    case DType::bf16: return fp16_flops;
    case DType::fp8:
    case DType::int4: return fp8_flops > 0 ? fp8_flops : fp16_flops;
  }
  return fp16_flops;
}

const std::vector<GpuSpec>& gpu_presets() {
  static const std::vector<GpuSpec> presets = make_gpu_presets();
  return presets;
}

std::string_view default_gpu_name() { return "h100-sxm"; }

const GpuSpec& gpu_find(std::string_view name) {
  std::string key = lower(name);
  if (key == "h100") key = "h100-sxm";
  for (const auto& g : gpu_presets())
    if (g.name == key) return g;
  // A GPU the session opened (dashboard), then a GPU description file named by its path.
  for (const auto& g : gpu_session_gpus())
    if (lower(g.name) == key) return g;
  if (gpu_file_is_path(name)) return gpu_from_file(std::string(name));
  std::string names;
  for (const auto& g : gpu_presets()) names += (names.empty() ? "" : ", ") + g.name;
  throw InputError(fmt::format("--gpu: unknown GPU '{}' (known: {}), or the path of a GPU file", name, names));
}

GpuSpec gpu_apply_overrides(GpuSpec gpu, const GpuOverrides& o) {
  auto check = [](const std::optional<double>& v, const char* option, double max) {
    if (!v) return;
    if (!std::isfinite(*v) || *v <= 0 || *v > max)
      throw InputError(fmt::format("{} must be > 0 and at most {} (got {})", option, max, *v));
  };
  check(o.sram_kib, "--sram-kib", 1024.0 * 1024);  // 1 GiB of SRAM per SM is far past any chip
  check(o.l2_mib, "--l2-mib", 1024.0 * 1024);
  check(o.hbm_gbps, "--hbm-gbps", 1e6);
  if (o.sram_kib) {
    gpu.smem_per_sm = static_cast<u64>(*o.sram_kib * 1024.0);
    gpu.smem_per_block = gpu.smem_per_sm;
    gpu.overridden = true;
  }
  if (o.l2_mib) {
    gpu.l2_bytes = static_cast<u64>(*o.l2_mib * 1024.0 * 1024.0);
    gpu.overridden = true;
  }
  if (o.hbm_gbps) {
    gpu.hbm_bytes_per_s = *o.hbm_gbps * 1e9;
    gpu.overridden = true;
  }
  return gpu;
}

}  // namespace attnlab
