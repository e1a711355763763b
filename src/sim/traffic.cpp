#include "sim/traffic.hpp"

#include <algorithm>

#include "sim/traffic_run.hpp"

namespace attnlab {

u128 l2_fabric_bytes(u128 shared_dram_read, u128 private_dram_bytes, const GpuSpec& gpu) {
  if (gpu.l2_partitions < 2) return 0;
  const u128 far = gpu.l2_partitions - 1;
  return cadd(cmul(shared_dram_read, far, "L2 fabric bytes"),
              cmul(private_dram_bytes, far, "L2 fabric bytes") / gpu.l2_partitions, "L2 fabric bytes");
}

u128 AlgoTraffic::l2_total() const { return cadd(hbm.total(), l2_fabric, "L2 bytes"); }

double AlgoTraffic::intensity() const {
  const double bytes = to_double(dram.total());
  return bytes > 0 ? to_double(flops) / bytes : 0.0;
}

LevelBytes AlgoTraffic::hbm_of(Tensor t) const {
  LevelBytes s;
  for (const auto& k : kernels) s += k.bytes.hbm[static_cast<size_t>(t)];
  return s;
}
LevelBytes AlgoTraffic::dram_of(Tensor t) const {
  LevelBytes s;
  for (const auto& k : kernels) s += k.bytes.dram[static_cast<size_t>(t)];
  return s;
}

const AlgoTraffic* TrafficReport::find(Algo a) const {
  for (const auto& r : results)
    if (r.algo == a) return &r;
  return nullptr;
}

TrafficReport simulate_traffic(const AttnConfig& c, const GpuSpec& gpu, const std::vector<Algo>& algos,
                               const TrafficOptions& opt) {
  // The run the dashboard does in slices (sim/traffic_run.hpp), here in one call.
  TrafficRun run(c, gpu, algos, opt);
  run.step(UINT64_MAX);
  return run.take();
}

}  // namespace attnlab
