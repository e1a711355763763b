// The FP8 tensor-core peaks of the GPU presets (dense, the datasheets' "with sparsity" figures
// halved): what the chapter 2 roofline's FP8 roof and the kernels panel's FP8 marker stand on.
#include <doctest/doctest.h>

#include "hw/gpu.hpp"

using namespace attnlab;

TEST_CASE("FP8 peaks: twice the 16-bit rate on Hopper and Ada, none on Ampere") {
  for (const char* name : {"h100-sxm", "h200"}) {
    CAPTURE(name);
    const GpuSpec& g = gpu_find(name);
    CHECK(g.fp8_flops == doctest::Approx(1978.9e12));  // 3,958 TFLOPS with sparsity / 2
    CHECK(g.peak_flops(DType::fp8) == doctest::Approx(2 * g.peak_flops(DType::bf16)).epsilon(1e-4));  // 1978.9 vs 2 x 989.4
  }
  // The H200's FP8 ridge: 1978.9 TFLOP/s over 4.8 TB/s of HBM3e.
  CHECK(gpu_find("h200").ridge_point(DType::fp8) == doctest::Approx(412.27).epsilon(1e-4));
  CHECK(gpu_find("rtx-4090").fp8_flops == doctest::Approx(330.3e12));
  CHECK(gpu_find("l4").fp8_flops == doctest::Approx(242.5e12));
  CHECK(gpu_find("a100-80gb").fp8_flops == 0);
}
