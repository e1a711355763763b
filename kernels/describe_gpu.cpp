// The GPU description file from cudaGetDeviceProperties (+ attributes for the clocks), and, with
// --measure, a copy-bandwidth and a GEMM measurement. Host code only (the runtime API and
// cuBLAS), so it is a .cpp. Peak figures that the properties imply are estimates from per-SM rates
// per architecture (named in the file's sources); measured figures say how they were measured.
// Order: properties, estimates, measurements, file.
#include "describe_gpu.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "harness-cuda.hpp"

namespace attnlab::kernels {

namespace {
using nlohmann::json;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(fmt::format("{}: {}", what, cudaGetErrorString(e)));
}
void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(fmt::format("{}: cuBLAS status {}", what, static_cast<int>(s)));
}
int attr(cudaDeviceAttr a, int dev) {
  int v = 0;
  check(cudaDeviceGetAttribute(&v, a, dev), "cudaDeviceGetAttribute");
  return v;
}

// Per-SM rates per clock by compute capability (dense, FP32 accumulate), from NVIDIA's
// architecture whitepapers: A100 (sm_80) 1024 FP16 FMA/clk/SM, 64 FP32 lanes; GA10x/AD10x (8.6,
// 8.9) 128 FP32 lanes and, on GeForce, 256 FP16-with-FP32-accumulate FMA/clk/SM (workstation and
// datacenter Ada parts such as L4 run 512: --measure tells); H100 (sm_90) 2048 FP16 FMA/clk/SM,
// 128 FP32 lanes; FP8 twice FP16 where it exists (8.9, 9.0).
struct Rates {
  double fp16_flop_per_clk_sm, fp32_flop_per_clk_sm;
  bool fp8;
  const char* arch;
};
Rates rates_of(int major, int minor) {
  if (major == 8 && minor == 0) return {2048, 128, false, "Ampere"};
  if (major == 8 && minor == 6) return {512, 256, false, "Ampere"};
  if (major == 8 && minor == 7) return {1024, 256, false, "Ampere (Orin)"};
  if (major == 8 && minor == 9) return {512, 256, true, "Ada Lovelace"};
  if (major == 9) return {4096, 256, true, "Hopper"};
  if (major >= 10) return {8192, 256, true, "Blackwell"};
  return {512, 128, false, "pre-Ampere"};
}

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "my-gpu" : out;
}

// Median of `reps` timed runs of `fn` (CUDA events), after `warm` untimed ones; milliseconds.
template <typename F>
double median_ms(F fn, int warm, int reps) {
  for (int i = 0; i < warm; ++i) fn();
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    check(cudaEventRecord(a), "cudaEventRecord");
    fn();
    check(cudaEventRecord(b), "cudaEventRecord");
    check(cudaEventSynchronize(b), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
    t.push_back(ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Device-to-device copy of `bytes`: read + write bytes over the median time (the convention of
// the TOOLCHAIN reference points: H100 ~3.0 TB/s, H200 ~4.26 TB/s).
double measure_copy(size_t bytes) {
  void *src = nullptr, *dst = nullptr;
  check(cudaMalloc(&src, bytes), "cudaMalloc (copy source)");
  check(cudaMalloc(&dst, bytes), "cudaMalloc (copy destination)");
  check(cudaMemset(src, 1, bytes), "cudaMemset");
  double ms = median_ms([&] { check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync"); }, 3, 20);
  cudaFree(src);
  cudaFree(dst);
  return 2.0 * static_cast<double>(bytes) / (ms * 1e-3);
}

// bf16 GEMM C = A B, M = N = K = n, FP32 accumulate (cuBLAS picks its tensor-core kernel).
double measure_gemm(int n) {
  size_t elems = static_cast<size_t>(n) * n;
  void *a = nullptr, *b = nullptr, *c = nullptr;
  check(cudaMalloc(&a, elems * 2), "cudaMalloc (A)");
  check(cudaMalloc(&b, elems * 2), "cudaMalloc (B)");
  check(cudaMalloc(&c, elems * 2), "cudaMalloc (C)");
  check(cudaMemset(a, 0, elems * 2), "cudaMemset");  // zeros: no denormal or overflow surprises
  check(cudaMemset(b, 0, elems * 2), "cudaMemset");
  cublasHandle_t h;
  check(cublasCreate(&h), "cublasCreate");
  const float alpha = 1.f, beta = 0.f;
  auto gemm = [&] {
    check(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, CUDA_R_16BF, n, b, CUDA_R_16BF, n, &beta, c,
                       CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
  };
  double ms = median_ms(gemm, 5, 20);
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  return 2.0 * n * static_cast<double>(n) * n / (ms * 1e-3);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
}  // namespace

int describe_gpu_run(const std::string& path, bool measure, const std::string& command) {
  std::string why;
  if (!cuda_device_usable(why)) {
    fmt::print(stderr, "attnlab-bench: {}.\nNo GPU file was written (exit code 77 = skipped).\n", why);
    return 77;
  }
  try {
    const int dev = 0;
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
    const DeviceFacts facts = device_facts();
    const int clock_khz = attr(cudaDevAttrClockRate, dev);
    const int mem_clock_khz = attr(cudaDevAttrMemoryClockRate, dev);
    const int bus_bits = attr(cudaDevAttrGlobalMemoryBusWidth, dev);
    const Rates r = rates_of(p.major, p.minor);
    const double clk = clock_khz * 1e3, sms = p.multiProcessorCount;

    // Estimates from the properties: peak DRAM = 2 transfers per memory clock x bus width (DDR);
    // peak FLOP/s = SMs x boost clock x per-SM rate of the architecture.
    double dram = 2.0 * mem_clock_khz * 1e3 * bus_bits / 8.0;
    double fp16 = sms * clk * r.fp16_flop_per_clk_sm, fp32 = sms * clk * r.fp32_flop_per_clk_sm;
    std::string cc = fmt::format("{}.{}", p.major, p.minor);
    json sources = {
        {"figures", fmt::format("cudaGetDeviceProperties of device 0 ({}), written by {} on {}", p.name, command, utc_now())},
        {"sm_count", "cudaDeviceProp::multiProcessorCount"},
        {"smem_per_sm_bytes", "cudaDeviceProp::sharedMemPerMultiprocessor"},
        {"smem_per_block_bytes", "cudaDeviceProp::sharedMemPerBlockOptin (the opt-in maximum of one block)"},
        {"l2_bytes", "cudaDeviceProp::l2CacheSize"},
        {"hbm_bytes", "cudaDeviceProp::totalGlobalMem"},
        {"hbm_bytes_per_s", fmt::format("estimate: 2 x memory clock {} MHz x {}-bit bus / 8", mem_clock_khz / 1000, bus_bits)},
        {"fp16_flops", fmt::format("estimate: {} SMs x {} MHz x {} FLOP/clk/SM (sm_{}{} dense FP16/BF16, FP32 accumulate)",
                                   p.multiProcessorCount, clock_khz / 1000, r.fp16_flop_per_clk_sm, p.major, p.minor)},
        {"fp32_flops", fmt::format("estimate: {} SMs x {} MHz x {} FLOP/clk/SM", p.multiProcessorCount, clock_khz / 1000,
                                   r.fp32_flop_per_clk_sm)},
        {"l2_partitions", "assumed from the architecture: 2 on A100/H100-class (sm_80, sm_90), 1 otherwise"}};
    json measured = json::object();
    if (measure) {
      size_t copy_bytes = std::min<size_t>(size_t{1} << 30, p.totalGlobalMem / 8);
      fmt::print(stderr, "measuring copy bandwidth ({} MiB device to device, median of 20)...\n", copy_bytes >> 20);
      double bw = measure_copy(copy_bytes);
      int n = p.totalGlobalMem >= (size_t{8} << 30) ? 8192 : 4096;
      fmt::print(stderr, "measuring a bf16 GEMM ({}^3, cuBLAS, FP32 accumulate, median of 20)...\n", n);
      double tf = measure_gemm(n);
      measured = {{"copy_bytes_per_s", bw},
                  {"copy_method", fmt::format("cudaMemcpyAsync device to device of {} bytes, (read + write) / median of 20", copy_bytes)},
                  {"gemm_bf16_flops", tf},
                  {"gemm_method", fmt::format("cublasGemmEx bf16 M=N=K={}, CUBLAS_COMPUTE_32F, 2MNK / median of 20", n)},
                  {"estimate_hbm_bytes_per_s", dram},
                  {"estimate_fp16_flops", fp16}};
      sources["hbm_bytes_per_s"] = fmt::format("measured: {} (estimate from the clocks: {:.3g} B/s)",
                                               measured["copy_method"].get<std::string>(), dram);
      sources["fp16_flops"] = fmt::format("measured: {} (estimate from the clocks: {:.3g} FLOP/s)",
                                          measured["gemm_method"].get<std::string>(), fp16);
      dram = bw;
      fp16 = tf;
    }
    json out = {
        {"schema", "attnlab-gpu-1"},
        {"name", slug(p.name) + (measure ? "-measured" : "-described")},
        {"full_name", p.name},
        {"arch", fmt::format("{} (sm_{}{})", r.arch, p.major, p.minor)},
        {"sm_count", p.multiProcessorCount},
        {"smem_per_sm_bytes", p.sharedMemPerMultiprocessor},
        {"smem_per_block_bytes", p.sharedMemPerBlockOptin},
        {"regs_per_sm", p.regsPerMultiprocessor},
        {"l2_bytes", p.l2CacheSize},
        {"hbm_bytes", p.totalGlobalMem},
        {"hbm_bytes_per_s", dram},
        {"fp32_flops", fp32},
        {"tf32_flops", fp16 / 2},
        {"fp16_flops", fp16},
        {"fp8_flops", r.fp8 ? 2 * fp16 : 0.0},
        {"memory_kind", bus_bits >= 4096 ? "HBM" : "GDDR"},
        {"l2_partitions", (p.major == 8 && p.minor == 0) || p.major == 9 ? 2 : 1},
        {"sources", sources},
        {"device",
         {{"compute_capability", cc},
          {"clock_mhz", clock_khz / 1000},
          {"memory_clock_mhz", mem_clock_khz / 1000},
          {"memory_bus_bits", bus_bits},
          {"driver", facts.driver_version},
          {"cuda_driver", facts.cuda_driver},
          {"cuda_runtime", facts.cuda_runtime},
          {"date", utc_now()}}}};
    if (measure) out["measured"] = measured;
    std::ofstream f(path);
    if (!f) {
      fmt::print(stderr, "attnlab-bench: --describe-gpu: cannot write {}\n", path);
      return 2;
    }
    f << out.dump(2) << "\n";
    fmt::print("{}: {} (sm_{}{}), {} SMs, {} KiB shared memory per SM ({} per block), L2 {} MiB, {:.1f} GiB at {:.0f} GB/s{}, "
               "{:.0f} TFLOP/s bf16{}\nwrote {}\n",
               out["name"].get<std::string>(), p.name, p.major, p.minor, p.multiProcessorCount,
               p.sharedMemPerMultiprocessor / 1024, p.sharedMemPerBlockOptin / 1024, p.l2CacheSize >> 20,
               p.totalGlobalMem / double(1ull << 30), dram / 1e9, measure ? " (measured copy)" : " (estimate)", fp16 / 1e12,
               measure ? " (measured GEMM)" : " (estimate)", path);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnlab-bench: --describe-gpu: {}\n", e.what());
    return 1;
  }
}

}  // namespace attnlab::kernels
