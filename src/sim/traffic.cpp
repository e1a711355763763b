#include "sim/traffic.hpp"

#include <algorithm>

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

namespace {
int method_rank(DramMethod m) { return m == DramMethod::trace ? 0 : m == DramMethod::sampled ? 1 : 2; }

AlgoTraffic simulate_one(Algo a, const TilePlan& tiles, const AttnConfig& c, const GpuSpec& gpu,
                         const TrafficOptions& opt) {
  AlgoTraffic r;
  r.algo = a;
  r.tiles = tiles;
  auto plans = plan_algorithm(a, c, r.tiles);
  auto exact = closed_form_counts(a, c, r.tiles);
  if (opt.torch_layout_copies && a == Algo::flash2 && c.has_bwd())
    for (Tensor t : {Tensor::O, Tensor::dO}) {  // each kernel starts cold: the order does not matter
      plans.push_back(plan_layout_copy(c, t, r.tiles.Br_bwd, static_cast<std::uint32_t>(plans.size())));
      exact.push_back(closed_form_layout_copy(c, t));
    }

  HierarchyOptions h = opt.hierarchy;
  h.l2_model = opt.l2_model;
  std::vector<KernelHierarchy> hk = hierarchy_run(plans, exact, gpu, h);

  const double peak = gpu.peak_flops(c.dtype), bw = gpu.hbm_bytes_per_s;
  for (size_t i = 0; i < plans.size(); ++i) {
    KernelTraffic k;
    k.bytes = std::move(hk[i]);
    k.flops = plans[i].flops;
    // A grid smaller than the GPU leaves SMs idle: only grid/SMs of the peak is reachable.
    const double busy = std::min(1.0, static_cast<double>(k.bytes.grid) / static_cast<double>(gpu.sm_count));
    k.est_time_s = std::max(to_double(k.flops) / (peak * busy), to_double(k.bytes.dram_total().total()) / bw);
    r.hbm += k.bytes.hbm_total();
    r.dram += k.bytes.dram_total();
    r.sram += k.bytes.sram;
    r.dram_write_at_end = cadd(r.dram_write_at_end, k.bytes.dram_write_at_end, "bytes");
    r.flops = cadd(r.flops, k.flops, "FLOPs");
    r.est_time_s += k.est_time_s;
    r.events_total = cadd(r.events_total, k.bytes.events_total, "events");
    r.events_simulated += k.bytes.events_simulated;
    if (method_rank(k.bytes.method) > method_rank(r.method)) r.method = k.bytes.method;
    r.kernels.push_back(std::move(k));
  }
  r.paper_io_fwd = a == Algo::naive ? paper_io_standard_fwd(c) : paper_io_flash_fwd(c, gpu.smem_per_block);
  // Shared tensors: those the SMs read more often than DRAM delivers them (several blocks read
  // them: K/V in flash, the GEMM operands in naive). The rest is private to one block.
  u128 shared = 0, priv = 0;
  for (size_t t = 0; t < kTensorCount; ++t) {
    const LevelBytes h = r.hbm_of(static_cast<Tensor>(t)), d = r.dram_of(static_cast<Tensor>(t));
    if (h.read > d.read) shared = cadd(shared, d.read, "bytes");
    else priv = cadd(priv, d.read, "bytes");
    priv = cadd(priv, d.write, "bytes");
  }
  r.l2_fabric = l2_fabric_bytes(shared, priv, gpu);
  return r;
}
}  // namespace

TrafficReport simulate_traffic(const AttnConfig& c, const GpuSpec& gpu, const std::vector<Algo>& algos,
                               const TrafficOptions& opt) {
  validate(c);
  TrafficReport rep;
  rep.config = c;
  rep.gpu = gpu;
  // Every algorithm's tiles first: a configuration one of them cannot run is refused before
  // seconds are spent simulating the others.
  std::vector<TilePlan> tiles;
  for (Algo a : algos) tiles.push_back(tiles_choose(a, c, gpu));
  for (size_t i = 0; i < algos.size(); ++i) rep.results.push_back(simulate_one(algos[i], tiles[i], c, gpu, opt));
  return rep;
}

}  // namespace attnlab
