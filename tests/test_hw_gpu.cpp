#include <doctest/doctest.h>

#include "hw/gpu.hpp"

using namespace attnlab;

TEST_CASE("GPU presets carry the datasheet figures") {
  SUBCASE("h100-sxm is the default") {
    const GpuSpec& g = gpu_find(default_gpu_name());
    CHECK(g.name == "h100-sxm");
    CHECK(g.sm_count == 132);
    CHECK(g.smem_per_sm == 228 * 1024);
    CHECK(g.smem_per_block == 227 * 1024);
    CHECK(g.l2_bytes == 50ull << 20);
    CHECK(g.hbm_bytes_per_s == doctest::Approx(3.35e12));
    CHECK(g.peak_flops(DType::bf16) == doctest::Approx(989.4e12));
    CHECK(g.ridge_point(DType::fp16) == doctest::Approx(295.3).epsilon(0.01));
  }
  SUBCASE("every required preset exists with positive figures and a source") {
    for (const char* name : {"h100-sxm", "h200", "a100-40gb", "a100-80gb", "rtx-4090", "l4"}) {
      const GpuSpec& g = gpu_find(name);
      CHECK(g.sm_count > 0);
      CHECK(g.smem_per_block <= g.smem_per_sm);
      CHECK(g.l2_bytes > 0);
      CHECK(g.hbm_bytes_per_s > 0);
      CHECK(g.fp16_flops > g.fp32_flops);
      CHECK(!g.source.empty());
    }
  }
  SUBCASE("A100 has no fp8: fp8 falls back to the fp16 rate") {
    const GpuSpec& g = gpu_find("a100-40gb");
    CHECK(g.fp8_flops == 0);
    CHECK(g.peak_flops(DType::fp8) == g.fp16_flops);
    CHECK(g.sm_count == 108);
    CHECK(g.hbm_bytes_per_s == doctest::Approx(1.555e12));
  }
  SUBCASE("names are case-insensitive; unknown names list the known ones") {
    CHECK(gpu_find("H200").name == "h200");
    CHECK_THROWS_WITH(gpu_find("tpu-v5"), doctest::Contains("--gpu: unknown GPU 'tpu-v5' (known: h100-sxm, h200"));
  }
}

TEST_CASE("GPU overrides replace figures and reject nonsense") {
  GpuOverrides o;
  o.sram_kib = 100;
  o.l2_mib = 10;
  o.hbm_gbps = 1000;
  GpuSpec g = gpu_apply_overrides(gpu_find("h100-sxm"), o);
  CHECK(g.smem_per_sm == 102400);
  CHECK(g.smem_per_block == 102400);
  CHECK(g.l2_bytes == 10ull << 20);
  CHECK(g.hbm_bytes_per_s == doctest::Approx(1e12));
  CHECK(g.overridden);
  GpuOverrides bad;
  bad.l2_mib = 0;
  CHECK_THROWS_WITH(gpu_apply_overrides(gpu_find("h100-sxm"), bad), doctest::Contains("--l2-mib must be > 0"));
  bad.l2_mib = -3;
  CHECK_THROWS_AS(gpu_apply_overrides(gpu_find("h100-sxm"), bad), InputError);
}
