#include "sim/traffic_run.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>

#include "sim/hierarchy_run.hpp"

namespace attnlab {

// One algorithm's kernels and their closed forms (the totals when a kernel is sampled).
// Outside the anonymous namespace: TrafficRun::State (declared in the header) holds a vector of them.
struct TrafficAlgoPlan {
  Algo algo = Algo::flash2;
  TilePlan tiles;
  std::vector<KernelPlan> plans;
  std::vector<KernelCounts> exact;
};

namespace {

int method_rank(DramMethod m) { return m == DramMethod::trace ? 0 : m == DramMethod::sampled ? 1 : 2; }

TrafficAlgoPlan algo_plan(Algo a, const TilePlan& tiles, const AttnConfig& c, const TrafficOptions& opt) {
  TrafficAlgoPlan p{a, tiles, plan_algorithm(a, c, tiles), closed_form_counts(a, c, tiles)};
  if (opt.torch_layout_copies && a == Algo::flash2 && c.has_bwd())
    for (Tensor t : {Tensor::O, Tensor::dO}) {  // each kernel starts cold: the order does not matter
      p.plans.push_back(plan_layout_copy(c, t, p.tiles.Br_bwd, static_cast<std::uint32_t>(p.plans.size())));
      p.exact.push_back(closed_form_layout_copy(c, t));
    }
  return p;
}

// The hierarchy's bytes per kernel into the algorithm's totals, time estimate and fabric bytes.
AlgoTraffic algo_traffic(const TrafficAlgoPlan& p, std::vector<KernelHierarchy> hk, const AttnConfig& c, const GpuSpec& gpu) {
  AlgoTraffic r;
  r.algo = p.algo;
  r.tiles = p.tiles;
  const double peak = gpu.peak_flops(c.dtype), bw = gpu.hbm_bytes_per_s;
  for (size_t i = 0; i < p.plans.size(); ++i) {
    KernelTraffic k;
    k.bytes = std::move(hk[i]);
    k.flops = p.plans[i].flops;
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
  r.paper_io_fwd = p.algo == Algo::naive ? paper_io_standard_fwd(c) : paper_io_flash_fwd(c, gpu.smem_per_block);
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

struct TrafficRun::State {
  TrafficReport rep;
  std::vector<TrafficAlgoPlan> algos;     // sized once: the runs below point into it
  std::vector<HierarchyRun> runs;  // one per algorithm
  size_t next = 0;                 // the algorithm being simulated
  u64 planned = 0, done_before = 0;  // work units: all algorithms', and the finished ones'
  bool finished = false;
  std::string error;
};

TrafficRun::TrafficRun(const AttnConfig& c, const GpuSpec& gpu, const std::vector<Algo>& algos, const TrafficOptions& opt)
    : s_(std::make_unique<State>()) {
  validate(c);
  s_->rep.config = c;
  s_->rep.gpu = gpu;
  // Every algorithm's tiles first: a configuration one of them cannot run is refused before
  // seconds are spent simulating the others.
  std::vector<TilePlan> tiles;
  for (Algo a : algos) tiles.push_back(tiles_choose(a, c, gpu));
  s_->algos.reserve(algos.size());
  for (size_t i = 0; i < algos.size(); ++i) s_->algos.push_back(algo_plan(algos[i], tiles[i], c, opt));
  HierarchyOptions h = opt.hierarchy;
  h.l2_model = opt.l2_model;
  for (const auto& p : s_->algos) {
    s_->runs.emplace_back(p.plans, p.exact, gpu, h);
    s_->planned += std::min(s_->runs.back().work_planned(), UINT64_MAX - s_->planned);
  }
  s_->finished = algos.empty();
}

TrafficRun::~TrafficRun() = default;
TrafficRun::TrafficRun(TrafficRun&&) noexcept = default;
TrafficRun& TrafficRun::operator=(TrafficRun&&) noexcept = default;

bool TrafficRun::step(u64 work) {
  State& s = *s_;
  while (!s.finished) {
    HierarchyRun& run = s.runs[s.next];
    const u64 before = run.work_done();
    const bool algo_done = run.step(work);
    const u64 used = run.work_done() - before;
    work = work > used ? work - used : 0;
    if (!algo_done) return false;
    s.done_before += std::min(run.work_done(), UINT64_MAX - s.done_before);
    s.rep.results.push_back(algo_traffic(s.algos[s.next], run.take(), s.rep.config, s.rep.gpu));
    s.finished = ++s.next == s.runs.size();
  }
  return true;
}

bool TrafficRun::step_for(double seconds) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  constexpr u64 kSlice = 2048;  // work units between two looks at the clock (well under a millisecond)
  try {
    while (!step(kSlice))
      if (std::chrono::duration<double>(clock::now() - t0).count() >= seconds) return false;
  } catch (const std::exception& e) {
    s_->error = e.what();
    s_->finished = true;
    s_->rep.results.clear();
  }
  return true;
}

bool TrafficRun::done() const { return s_->finished; }

double TrafficRun::progress() const {
  if (s_->finished) return 1.0;
  const u64 now = s_->done_before + (s_->next < s_->runs.size() ? s_->runs[s_->next].work_done() : 0);
  // work_planned is an upper bound: an unfinished run stays below 100 %.
  return s_->planned == 0 ? 0.0 : std::min(0.99, static_cast<double>(now) / static_cast<double>(s_->planned));
}

const AttnConfig& TrafficRun::config() const { return s_->rep.config; }

const TrafficReport* TrafficRun::report() const {
  return s_->finished && s_->error.empty() ? &s_->rep : nullptr;
}

const std::string& TrafficRun::error() const { return s_->error; }

TrafficReport TrafficRun::take() {
  if (!report()) throw std::logic_error("TrafficRun::take: the run has not finished" + (s_->error.empty() ? "" : ": " + s_->error));
  return std::move(s_->rep);
}

TrafficSweep::TrafficSweep(std::vector<AttnConfig> configs, const GpuSpec& gpu, std::vector<Algo> algos,
                           const TrafficOptions& opt)
    : configs_(std::move(configs)), gpu_(gpu), algos_(std::move(algos)), opt_(opt) {}

bool TrafficSweep::step_for(double seconds) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  while (done() < size()) {
    const double left = seconds - std::chrono::duration<double>(clock::now() - t0).count();
    if (left <= 0 && run_) return false;  // a new run's planning still counts as this frame's slice
    std::string err;
    try {
      if (!run_) run_.emplace(configs_[done()], gpu_, algos_, opt_);
      if (!run_->step_for(std::max(left, 0.0))) return false;
      err = run_->error();
    } catch (const std::exception& e) {
      err = e.what();  // refused while planning (InputError)
    }
    if (err.empty()) reports_.emplace_back(run_->take());
    else reports_.emplace_back(std::nullopt);
    if (!err.empty() && error_.empty()) error_ = err;
    run_.reset();
  }
  return true;
}

}  // namespace attnlab
