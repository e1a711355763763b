#include <doctest/doctest.h>

#include "hw/gpu_file.hpp"

using namespace attnlab;

namespace {
std::string gpu_data(const std::string& name) { return std::string(ATTNLAB_TEST_DATA) + "/gpu/" + name + ".json"; }

std::string load_error(const std::string& name) {
  try {
    gpu_file_load(gpu_data(name));
  } catch (const InputError& e) {
    std::string msg = e.what();
    return msg.substr(msg.find("/gpu/") + 5);  // from the file name on: the test data folder moves
  }
  return "no error";
}
}  // namespace

TEST_CASE("gpu_file: the h200 preset written as a file gives the preset's figures") {
  const GpuSpec& p = gpu_find("h200");
  const GpuSpec& f = gpu_find(gpu_data("h200-as-preset"));  // every --gpu takes a path
  CHECK(f.name == "h200-file");
  CHECK(f.full_name == p.full_name);
  CHECK(f.sm_count == p.sm_count);
  CHECK(f.smem_per_sm == p.smem_per_sm);
  CHECK(f.smem_per_block == p.smem_per_block);
  CHECK(f.regs_per_sm == p.regs_per_sm);
  CHECK(f.l2_bytes == p.l2_bytes);
  CHECK(f.hbm_bytes == p.hbm_bytes);
  CHECK(f.hbm_bytes_per_s == doctest::Approx(p.hbm_bytes_per_s).epsilon(1e-12));  // 66.9e12 vs 66.9 * 1e12
  CHECK(f.fp32_flops == doctest::Approx(p.fp32_flops).epsilon(1e-12));  // 66.9e12 vs 66.9 * 1e12
  CHECK(f.tf32_flops == doctest::Approx(p.tf32_flops).epsilon(1e-12));  // 66.9e12 vs 66.9 * 1e12
  CHECK(f.fp16_flops == doctest::Approx(p.fp16_flops).epsilon(1e-12));  // 66.9e12 vs 66.9 * 1e12
  CHECK(f.fp8_flops == doctest::Approx(p.fp8_flops).epsilon(1e-12));  // 66.9e12 vs 66.9 * 1e12
  CHECK(f.l2_partitions == p.l2_partitions);
  CHECK(f.ridge_point(DType::bf16) == doctest::Approx(p.ridge_point(DType::bf16)).epsilon(1e-12));
  CHECK(f.source.find("file ") == 0);
  CHECK(&gpu_find(gpu_data("h200-as-preset")) == &f);  // read once
}

TEST_CASE("gpu_file: bad files are one line naming the file and the field") {
  CHECK(load_error("bad/no-sm-count") == "bad/no-sm-count.json: field 'sm_count': missing");
  CHECK(load_error("bad/bandwidth-in-gbps") ==
        "bad/bandwidth-in-gbps.json: field 'hbm_bytes_per_s': must be between 1e+09 and 1e+15 (got 4800)");
  CHECK(load_error("bad/block-over-sm") ==
        "bad/block-over-sm.json: field 'smem_per_block_bytes': must be between 1024 and 233472 (got 300000)");
  CHECK(load_error("bad/no-sources").find("bad/no-sources.json: field 'sources': missing: say where the figures come from") == 0);
  CHECK(load_error("bad/typo-field").find("bad/typo-field.json: field 'sm_cont': unknown (a typo?") == 0);
  CHECK(load_error("bad/not-json").find("bad/not-json.json: not valid JSON: ") == 0);
  CHECK(load_error("missing").find("missing.json: cannot open the GPU file") == 0);
}

TEST_CASE("gpu_file: a session GPU is found by name") {
  std::string text = R"({"schema": "attnlab-gpu-1", "name": "tiny-gpu", "sm_count": 8, "smem_per_sm_bytes": 65536,
      "smem_per_block_bytes": 49152, "l2_bytes": 4194304, "hbm_bytes": 8589934592, "hbm_bytes_per_s": 2.5e11,
      "fp32_flops": 5e12, "fp16_flops": 2e13, "sources": {"figures": "made up for the test"}})";
  const GpuSpec& g = gpu_session_add(text, "tiny.json");
  CHECK(&gpu_find("tiny-gpu") == &g);
  CHECK(g.tf32_flops == 1e13);  // half of fp16 when absent, and the source says so
  CHECK(g.source.find("tf32_flops: half of fp16_flops") != std::string::npos);
  CHECK(g.l2_partitions == 1);
  CHECK(gpu_file_is_path("x.json"));
  CHECK_FALSE(gpu_file_is_path("h100"));
}

TEST_CASE("gpu_file: the files attnlab-bench --describe-gpu wrote on an H200 (2026-12-02)") {
  // Properties: the same SMs and shared memory as the h200 preset, but the device reports a 60 MiB
  // L2 (the preset's 50 MiB is the H100's figure) and 143,771 MiB of memory.
  const GpuSpec d = gpu_file_load(gpu_data("h200-described"));
  CHECK(d.name == "nvidia-h200-described");
  CHECK(d.sm_count == 132);
  CHECK(d.smem_per_sm == 233472);
  CHECK(d.smem_per_block == 232448);
  CHECK(d.l2_bytes == 62914560);
  CHECK(d.hbm_bytes == 150109880320ull);
  CHECK(d.hbm_bytes_per_s == doctest::Approx(4.814304e12));  // 2 x 3201 MHz x 6016 bits / 8
  CHECK(d.fp16_flops == doctest::Approx(1.07053056e15));     // 132 x 1980 MHz x 4096
  // --measure: D2D copy 4.22 TB/s, cuBLAS bf16 8192^3 GEMM 878 TFLOP/s.
  const GpuSpec m = gpu_file_load(gpu_data("h200-measured"));
  CHECK(m.hbm_bytes_per_s == doctest::Approx(4.224137e12).epsilon(1e-6));
  CHECK(m.fp16_flops == doctest::Approx(8.777555e14).epsilon(1e-6));
  CHECK(m.source.find("hbm_bytes_per_s: measured: cudaMemcpyAsync") != std::string::npos);
}
