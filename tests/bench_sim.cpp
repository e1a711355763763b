// Simulator speed benchmarks (not tests: speed goals are measured and reported, never asserted).
//   build/tests/attnlab_bench_sim
// 1. traffic flash2 with the L2 model, B=1 H=16 N=16384 d=128 (goal: under 1 s)
// 2. a 64-point sweep of N without the L2 model, naive+flash1+flash2 (goal: under 50 ms; the
//    dashboard's sliders redraw such sweeps)
#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <vector>

#include "sim/traffic.hpp"

using namespace attnlab;

template <typename F>
double median_ms(int reps, F f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main() {
  const GpuSpec& gpu = gpu_find("h100-sxm");
  AttnConfig c;
  c.batch = 1;
  c.heads = 16;
  c.seq = 16384;
  c.head_dim = 128;
  u128 dram = 0;
  const double big = median_ms(5, [&] { dram = simulate_traffic(c, gpu, {Algo::flash2}).results[0].dram.total(); });
  fmt::print("traffic flash2 + L2 model, B=1 H=16 N=16384 d=128: median {:.1f} ms over 5 runs (DRAM {} B)\n", big,
             to_string_u128(dram));

  TrafficOptions fast;
  fast.l2_model = false;
  const double sweep = median_ms(11, [&] {
    for (int i = 0; i < 64; ++i) {
      AttnConfig s = c;
      s.seq = 512 + static_cast<u64>(i) * 1024;
      simulate_traffic(s, gpu, {Algo::naive, Algo::flash1, Algo::flash2}, fast);
    }
  });
  fmt::print("64-point sweep of N (512..65024), naive+flash1+flash2, closed forms: median {:.2f} ms over 11 runs\n",
             sweep);
  return 0;
}
