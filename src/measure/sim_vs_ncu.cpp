#include "measure/sim_vs_ncu.hpp"

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <mutex>

#include "hw/gpu.hpp"
#include "measure/backward_measured.hpp"
#include "sim/decode_traffic.hpp"
#include "sim/scan_traffic.hpp"
#include "sim/traffic.hpp"
#include "sim/window_tiles.hpp"

namespace attnlab {

const std::vector<NcuKnownMiss>& ncu_known_misses() {
  // What the counters show where the model misses; each entry is re-checked by the test (may_fail)
  // so it starts passing, and can be removed, when the model learns the effect.
  static const std::vector<NcuKnownMiss> misses = {
      {"attn-mma", NcuLevel::l2, 64, 0, false,
       "SM-side L2 reads (srcunit_tex) are 0.67x the model's Q + O + Tr x (K + V) at B4 H16 N2048 (385 vs 571 MB); "
       "ncu-mma-l1: op_read sectors 13.76 M (440 MB) vs 554 MB modelled; 255 registers/thread, 2 blocks/SM; the "
       "ldgsts L1 hit counters read n/a on this chip, so the L1 hypothesis is untested; cause not established"},
      {"attn-mma", NcuLevel::l2, 128, 1024, false,
       "same effect at d128, strongest at small N: SM-side K/V reads are 0.72x (N1024), 0.78x (N2048), 0.85x "
       "(N4096) of Tr x (K + V); with the fabric term (measured 55 MB vs 51 modelled) the total lands at +25.0%"},
      {"attn-hopper-pertile", NcuLevel::l2, 64, 0, false,
       "one block per query tile (not persistent) at d64: lts__t_bytes 3.63 GB against 4.63 GB modelled at N4096 "
       "(+27.6%), +34.5% at N2048. The SM-side requests (srcunit_tex) are what falls short: 0.68x (N2048), 0.72x "
       "(N1024), 0.77x (N4096), 0.84x (N8192) of Q + O + Tr x (K + V), against 0.79-0.94x for the persistent "
       "ping-pong grid and 0.87-1.00x for the persistent grid without ping-pong, whose blocks run least in step. "
       "Reading: the more blocks load the same K/V tile at the same moment, the fewer requests reach L2, as if "
       "identical requests in flight were merged before L2; not proven"},
      {"attn-hopper-nopingpong", NcuLevel::dram, 64, 0, false,
       "DRAM reads 2.1-2.7x the model at N8192 d64 (829-1,069 MB in three runs against 403 MB for the ping-pong "
       "and per-tile grids on the same problem; at N16384 10.8 GB against 0.81 GB, not in the file), and the "
       "launch is 12-15% slower: K and V of a head come from DRAM again. The persistent grid is a static "
       "round-robin over query tiles in head order; without ping-pong the blocks drift apart, and the tiles in "
       "flight then span more heads than L2 keeps. Hypothesis (drift), not measured per block", 8192},
      {"scan-selective", NcuLevel::l2, 0, 0, false,
       "B and C (shared by all channels of a row) reach L2 far less often than once per block: measured "
       "srcunit_tex minus u/delta/y is 25-45x the unique B/C bytes for the I4/I8 variants and 274x for I16, "
       "against 1024/512/256 block reads modelled; L1 (and something beyond one-per-SM reuse) absorbs them"},
      {"scan-selective", NcuLevel::dram, 0, 1024, false,
       "DRAM writes: ~10-12 MB of the output y are still dirty in L2 when the kernel ends (measured writes "
       "4.3-6.7 MB of 16.8 at L1024, 55 of 67 at L4096, 256 of 268 at L16384), which ncu does not count; "
       "only the smallest size crosses 20%"},
  };
  return misses;
}

const NcuKnownMiss* ncu_known_miss(const NcuRecord& n, NcuLevel level) {
  for (const NcuKnownMiss& k : ncu_known_misses())
    if (n.kernel == k.kernel && k.level == level && (k.head_dim == 0 || k.head_dim == n.config.head_dim) &&
        (k.max_seq == 0 || n.config.seq_kv <= k.max_seq) && n.config.seq_kv >= k.min_seq &&
        (!k.causal_only || n.config.causal) && k.backward == (n.pass == "bwd"))
      return &k;
  return nullptr;
}

namespace {

double rel(double sim, double meas) { return meas > 0 ? sim / meas - 1.0 : (sim > 0 ? INFINITY : 0.0); }

// A record's dtype as the simulator's: "fp8" is FP8 attention (Q, K, V in e4m3 with per-tile
// scales, O in bf16: AttnConfig::out_type), the same convention as the measurement files.
DType dtype_of(const std::string& s) {
  if (s == "fp8") return DType::fp8;
  return s == "fp16" ? DType::fp16 : s == "bf16" ? DType::bf16 : DType::fp32;
}

// The preset of the measured chip, with the SM count and L2 size the device reported.
GpuSpec measured_gpu(const MeasuredDevice& dev) {
  GpuSpec gpu = gpu_find(dev.name.find("H200") != std::string::npos ? "h200" : "h100-sxm");
  if (dev.sm_count > 0) gpu.sm_count = dev.sm_count;
  if (dev.l2_bytes > 0) gpu.l2_bytes = dev.l2_bytes;
  return gpu;
}

// The measured side of a row, and its label.
SimVsNcu measured_side(const NcuRecord& n) {
  const MeasuredConfig& m = n.config;
  SimVsNcu x;
  x.record = n;
  const std::string kernel = n.pass == "bwd" ? n.kernel + " bwd" : n.kernel;
  x.label = n.kernel == "scan-selective"  // heads = channels D, seq = L, head_dim = state N
                ? fmt::format("{} B{} D{} L{} state {}", n.kernel, m.batch, m.heads, m.seq_q, m.head_dim)
                : fmt::format("{} B{} H{}/{} N{} d{}{}", kernel, m.batch, m.heads, m.kv_heads, m.seq_kv, m.head_dim,
                              m.causal ? " causal" : "");
  if (m.window_left >= 0) x.label += fmt::format(" wl{}", m.window_left);
  if (m.window_right >= 0) x.label += fmt::format(" wr{}", m.window_right);
  if (n.kernel.rfind("attn-decode", 0) == 0 || n.kernel == "scan-selective")
    x.label += fmt::format(" bq{} bkv{}", m.block_q, m.block_kv);
  x.dram_read_meas = n.dram_read_bytes;
  x.dram_write_meas = n.dram_write_bytes;
  x.dram_meas = n.dram_read_bytes + n.dram_write_bytes;
  x.l2_meas = n.lts_bytes;
  auto tex = n.metrics.find("lts__t_sectors_srcunit_tex.sum");
  x.l2_sm_meas = tex == n.metrics.end() ? 0 : tex->second * 32;
  return x;
}

void set_sim(SimVsNcu& x, u128 dram_read, u128 dram_write, u128 l2) {
  x.dram_read_sim = to_double(dram_read);
  x.dram_write_sim = to_double(dram_write);
  x.dram_sim = x.dram_read_sim + x.dram_write_sim;
  x.l2_sim = to_double(l2);
}

// Kernel ladder II records: decode, window and scan have models of their own.
bool simulate_ladder2(const NcuRecord& n, const GpuSpec& gpu, SimVsNcu& x) {
  const MeasuredConfig& m = n.config;
  if (n.kernel.rfind("attn-decode", 0) == 0) {
    DecodeConfig c;
    c.batch = m.batch, c.heads = m.heads, c.kv_heads = m.kv_heads, c.seq_kv = m.seq_kv, c.head_dim = m.head_dim;
    c.dtype = dtype_of(m.dtype);
    c.chunk = m.block_kv;
    c.rows_per_block = m.block_q;
    c.page_size = n.kernel.find("paged") != std::string::npos ? 16 : 0;
    const DecodeTraffic t = decode_traffic(c, gpu);
    set_sim(x, t.dram_read, t.dram_write, t.l2_total());
    return true;
  }
  if (n.kernel == "attn-window") {
    WindowConfig c;
    c.batch = m.batch, c.heads = m.heads, c.kv_heads = m.kv_heads, c.seq_q = m.seq_q, c.seq_kv = m.seq_kv;
    c.head_dim = m.head_dim, c.dtype = dtype_of(m.dtype), c.causal = m.causal;
    c.block_q = m.block_q, c.block_kv = m.block_kv;
    c.window_left = m.window_left, c.window_right = m.window_right;
    const WindowTiles w = window_tiles(c, gpu);
    set_sim(x, w.dram_read, w.dram_write, w.l2_total());
    return true;
  }
  if (n.kernel == "scan-selective") {
    ScanConfig c;
    c.batch = m.batch, c.channels = m.heads, c.seq = m.seq_q, c.state = m.head_dim, c.dtype = dtype_of(m.dtype);
    c.channels_per_warp = m.block_kv;
    const ScanTraffic t = scan_traffic(c, gpu);
    set_sim(x, t.dram_read, t.dram_write, t.l2_total());
    return true;
  }
  return false;
}

}  // namespace

double SimVsNcu::dram_rel() const { return rel(dram_sim, dram_meas); }
double SimVsNcu::l2_rel() const { return rel(l2_sim, l2_meas); }
bool SimVsNcu::dram_within() const { return std::fabs(dram_rel()) <= sim_vs_ncu_dram_tolerance; }
bool SimVsNcu::l2_within() const { return std::fabs(l2_rel()) <= sim_vs_ncu_l2_tolerance; }

std::string SimVsNcu::describe() const {
  return fmt::format("{}: DRAM measured {:.1f} MB (read {:.1f}, write {:.1f}), simulated {:.1f} MB (read {:.1f}, "
                     "write {:.1f}, {:.1f} more still dirty in L2 at kernel ends); L2 measured {:.1f} MB (from the "
                     "SMs {:.1f}), simulated {:.1f} MB",
                     label, dram_meas / 1e6, dram_read_meas / 1e6, dram_write_meas / 1e6, dram_sim / 1e6,
                     dram_read_sim / 1e6, dram_write_sim / 1e6, dram_write_at_end_sim / 1e6, l2_meas / 1e6,
                     l2_sm_meas / 1e6, l2_sim / 1e6);
}

namespace {

// Simulations already run in this process, by problem and chip: the same problem is measured in
// several sessions, and by the tiled and mma rungs with the same tiles (a third of the shipped
// attention records repeat one), so `attnlab measured --ncu` simulates each problem once.
const AlgoTraffic* simulate_once(const AttnConfig& c, const GpuSpec& gpu, Algo algo, const TrafficOptions& opt) {
  struct Done {
    AttnConfig config;
    GpuSpec gpu;
    Algo algo;
    TrafficOptions options;
    TrafficReport report;
  };
  static std::mutex mu;
  static std::deque<Done> done;  // a deque: the pointers handed out stay valid as it grows
  std::lock_guard<std::mutex> lock(mu);
  for (const Done& d : done)
    if (d.config == c && d.gpu == gpu && d.algo == algo && d.options == opt) return d.report.find(algo);
  done.push_back({c, gpu, algo, opt, simulate_traffic(c, gpu, {algo}, opt)});
  return done.back().report.find(algo);
}

}  // namespace

std::optional<SimVsNcu> sim_vs_ncu(const NcuRecord& n, const MeasuredDevice& device) {
  const MeasuredConfig& m = n.config;
  const GpuSpec gpu = measured_gpu(device);
  SimVsNcu x = measured_side(n);
  if (simulate_ladder2(n, gpu, x)) return x;
  if (m.seq_q != m.seq_kv) return std::nullopt;  // the attention models are self-attention only
  AttnConfig c;
  c.batch = m.batch;
  c.heads = m.heads;
  c.kv_heads = m.kv_heads;
  c.seq = m.seq_q;
  c.head_dim = m.head_dim;
  c.causal = m.causal;
  c.dtype = dtype_of(m.dtype);
  c.pass = Pass::fwd;
  Algo algo;
  TrafficOptions opt;
  if (n.pass == "bwd") {
    if (n.kernel != "attn-bwd-mma" && n.kernel != "attn-bwd-hopper" && n.kernel != "torch-flash") return std::nullopt;
    algo = Algo::flash2;
    c.pass = Pass::bwd;
    c.block_q_bwd = m.block_q;  // 0: FlashAttention-2's backward tiles (PyTorch's kernel)
    c.block_kv_bwd = m.block_kv;
    opt.torch_layout_copies = n.kernel == "torch-flash";
  } else if (n.kernel == "attn-naive" || n.kernel == "attn-naive-cublas") {
    algo = Algo::naive;
    c.score_dtype = dtype_of(m.score_dtype.empty() ? m.dtype : m.score_dtype);
  } else if (n.kernel == "attn-tiled" || n.kernel == "attn-mma" || n.kernel.rfind("attn-hopper", 0) == 0 ||
             n.kernel.rfind("attn-fp8-hopper", 0) == 0) {
    algo = Algo::flash2;
    c.block_q = m.block_q;
    c.block_kv = m.block_kv;
  } else {
    return std::nullopt;
  }
  const AlgoTraffic* r = simulate_once(c, gpu, algo, opt);
  if (r == nullptr) return std::nullopt;
  set_sim(x, r->dram.read, r->dram.write - r->dram_write_at_end, r->l2_total());
  x.dram_write_at_end_sim = to_double(r->dram_write_at_end);
  return x;
}

std::vector<SimVsNcu> sim_vs_ncu_all(const std::filesystem::path& dir) {
  std::vector<SimVsNcu> rows;
  for (const auto& path : measurement_files(dir)) {
    const Measurements m = measurement_load(path);
    for (const NcuRecord& n : m.ncu)
      if (auto x = sim_vs_ncu(n, m.device)) rows.push_back(std::move(*x));
  }
  for (const auto& path : backward_measured_files(dir)) {
    const BackwardMeasurements b = backward_measured_load(path);
    for (const NcuRecord& n : b.ncu)
      if (auto x = sim_vs_ncu(n, b.file.device)) rows.push_back(std::move(*x));
  }
  return rows;
}

}  // namespace attnlab
