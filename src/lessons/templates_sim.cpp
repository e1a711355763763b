// Templates that ask the GPU presets (src/hw/gpu.hpp) and the traffic simulator (src/sim/traffic.hpp).
#include <fmt/format.h>
#include <map>
#include <mutex>

#include "hw/gpu.hpp"
#include "lessons/templates.hpp"
#include "sim/traffic.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

TemplateValue gpu_value(const TemplateArgs& a, const std::string& field) {
  const GpuSpec& g = gpu_find(a.str("name"));
  if (field == "sms") return TemplateValue::of_count(g.sm_count);
  if (field == "sram_per_sm") return TemplateValue::of_count(g.smem_per_sm, ValueUnit::bytes);
  if (field == "sram_per_block") return TemplateValue::of_count(g.smem_per_block, ValueUnit::bytes);
  if (field == "sram_total") return TemplateValue::of_count(cmul(g.smem_per_sm, g.sm_count, "SRAM bytes"), ValueUnit::bytes);
  if (field == "l2") return TemplateValue::of_count(g.l2_bytes, ValueUnit::bytes);
  if (field == "memory") return TemplateValue::of_count(g.hbm_bytes, ValueUnit::bytes);
  if (field == "hbm_bw") return TemplateValue::of(g.hbm_bytes_per_s, ValueUnit::bytes_per_s);
  if (field == "peak_flops") return TemplateValue::of(g.peak_flops(a.dtype("dtype")), ValueUnit::flops_per_s);
  if (field == "ridge") return TemplateValue::of(g.ridge_point(a.dtype("dtype")), ValueUnit::intensity);
  return TemplateValue::of_count(g.regs_per_sm);  // regs_per_sm
}

// Fields that need the L2 model (DRAM bytes and what is derived from them).
bool needs_l2(const std::string& field) {
  return field == "dram_bytes" || field == "time" || field == "intensity" || field == "flops_rate";
}

// Lessons ask the same configuration several times (a table of fields): simulate once.
const AlgoTraffic& traffic_cached(const AttnConfig& c, Algo algo, const std::string& gpu_name, bool l2) {
  static std::mutex mu;
  static std::map<std::string, TrafficReport> cache;
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", algo_name(algo), c.batch, c.heads,
                                      c.kv_heads, c.seq, c.head_dim, c.causal, dtype_name(c.dtype),
                                      c.score_dtype ? dtype_name(*c.score_dtype) : "-", pass_name(c.pass), c.block_q,
                                      c.block_kv, gpu_name, l2);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) {
    TrafficOptions opt;
    opt.l2_model = l2;
    it = cache.emplace(key, simulate_traffic(c, gpu_find(gpu_name), {algo}, opt)).first;
  }
  return it->second.results.front();
}

TemplateValue traffic_value(const TemplateArgs& a, const std::string& field) {
  AttnConfig c;
  c.seq = a.u64_in("seq", 1, kMaxSeq);
  c.head_dim = a.u64_in("d", 1, kMaxHeadDim);
  c.heads = a.u64_in("heads", 1, kMaxHeads);
  c.kv_heads = a.u64_in("kv_heads", 0, kMaxHeads);
  c.batch = a.u64_in("batch", 1, kMaxBatch);
  c.causal = a.flag("causal");
  c.dtype = a.dtype("dtype");
  if (a.has("score_dtype")) c.score_dtype = a.dtype("score_dtype");
  c.pass = parse_pass(a.str("pass"));
  c.block_q = a.u64_in("br", 0, kMaxSeq);
  c.block_kv = a.u64_in("bc", 0, kMaxSeq);
  Algo algo = parse_algo(a.str("algo"));
  const std::string& l2s = a.str("l2");
  if (l2s != "auto" && l2s != "on" && l2s != "off")
    throw InputError(fmt::format("key 'l2' must be auto, on or off (got '{}')", l2s));
  bool l2 = l2s == "on" || (l2s == "auto" && needs_l2(field));
  const std::string gpu_name = gpu_find(a.str("gpu")).name;
  const AlgoTraffic& r = traffic_cached(c, algo, gpu_name, l2);

  if (field == "hbm_bytes") return TemplateValue::of_count(r.hbm.total(), ValueUnit::bytes);
  if (field == "hbm_read") return TemplateValue::of_count(r.hbm.read, ValueUnit::bytes);
  if (field == "hbm_write") return TemplateValue::of_count(r.hbm.write, ValueUnit::bytes);
  if (field == "dram_bytes") return TemplateValue::of_count(r.dram.total(), ValueUnit::bytes);
  if (field == "sram_bytes") return TemplateValue::of_count(r.sram.total(), ValueUnit::bytes);
  if (field == "scores_bytes") {
    LevelBytes s = r.hbm_of(Tensor::S);
    s += r.hbm_of(Tensor::P);
    return TemplateValue::of_count(s.total(), ValueUnit::bytes);
  }
  if (field == "p_bytes") return TemplateValue::of_count(r.hbm_of(Tensor::P).total(), ValueUnit::bytes);
  if (field == "qkvo_bytes") {
    LevelBytes s;
    for (Tensor t : {Tensor::Q, Tensor::K, Tensor::V, Tensor::O}) s += r.hbm_of(t);
    return TemplateValue::of_count(s.total(), ValueUnit::bytes);
  }
  if (field == "flops") return TemplateValue::of_count(r.flops, ValueUnit::flops);
  if (field == "time") return TemplateValue::of(r.est_time_s, ValueUnit::seconds);
  if (field == "flops_rate")
    return TemplateValue::of(r.est_time_s > 0 ? to_double(r.flops) / r.est_time_s : 0.0, ValueUnit::flops_per_s);
  if (field == "intensity") return TemplateValue::of(r.intensity(), ValueUnit::intensity);
  if (field == "paper_io") return TemplateValue::of_count(r.paper_io_fwd, ValueUnit::bytes);
  if (field == "br") return TemplateValue::of_count(algo == Algo::naive ? r.tiles.T : r.tiles.Br);
  if (field == "bc") return TemplateValue::of_count(algo == Algo::naive ? r.tiles.T : r.tiles.Bc);
  if (field == "smem") return TemplateValue::of_count(c.has_fwd() ? r.tiles.smem_fwd : r.tiles.smem_bwd, ValueUnit::bytes);
  if (field == "kernels") return TemplateValue::of_count(r.kernels.size());
  // grid and waves: of the kernel doing the most FLOPs (flash1's init kernel is not the story).
  const KernelTraffic* main = r.kernels.empty() ? nullptr : &r.kernels.front();
  for (const auto& k : r.kernels)
    if (k.flops > main->flops) main = &k;
  if (main == nullptr) return TemplateValue::of_count(0);
  if (field == "waves") return TemplateValue::of_count(main->bytes.waves);
  return TemplateValue::of_count(main->bytes.grid);  // grid
}

}  // namespace

void register_templates_hw_sim(std::vector<TemplateDef>& reg) {
  reg.push_back({"gpu",
                 "A figure of a GPU preset (see `attnlab gpus`).",
                 "src/hw/gpu.hpp",
                 {{"name", "h100-sxm", "GPU preset"}, {"dtype", "fp16", "element type for peak_flops and ridge"}},
                 {{"sms", "streaming multiprocessors"},
                  {"sram_per_sm", "shared memory (SRAM) per SM"},
                  {"sram_per_block", "shared memory one thread block may use"},
                  {"sram_total", "shared memory of all SMs together"},
                  {"regs_per_sm", "32-bit registers per SM"},
                  {"l2", "L2 cache size"},
                  {"memory", "device memory (HBM) capacity"},
                  {"hbm_bw", "peak device-memory bandwidth"},
                  {"peak_flops", "dense tensor-core FLOP/s for dtype"},
                  {"ridge", "roofline ridge point: FLOP per DRAM byte where compute time = memory time"}},
                 "gpu name=h100-sxm field=hbm_bw",
                 gpu_value});
  reg.push_back({"traffic",
                 "One attention layer through the simulator (see `attnlab traffic`): bytes per memory level, "
                 "FLOPs, time estimate.",
                 "src/sim/traffic.hpp",
                 {{"algo", "flash2", "naive, flash1 or flash2"},
                  {"seq", "4096", "sequence length N"},
                  {"d", "128", "head dimension d"},
                  {"heads", "16", "query heads"},
                  {"kv_heads", "0", "K/V heads (0 = same as heads)"},
                  {"batch", "1", "batch size"},
                  {"causal", "false", "causal mask"},
                  {"dtype", "fp16", "element type of Q, K, V, O (fp8: Q, K, V in FP8 with a scale per tile, O bf16)"},
                  {"score_dtype", "", "element type of naive's S and P (default: dtype)"},
                  {"pass", "fwd", "fwd, bwd or fwd+bwd"},
                  {"gpu", "h100-sxm", "GPU preset"},
                  {"br", "0", "query tile rows Br (0 = the algorithm's default)"},
                  {"bc", "0", "key tile rows Bc (0 = the algorithm's default)"},
                  {"l2", "auto", "L2 model: on, off, auto (on for DRAM-derived fields)"}},
                 {{"hbm_bytes", "global-memory bytes read + written"},
                  {"hbm_read", "global-memory bytes read"},
                  {"hbm_write", "global-memory bytes written"},
                  {"dram_bytes", "DRAM bytes after the L2 cache"},
                  {"sram_bytes", "SRAM bytes read + written"},
                  {"scores_bytes", "global-memory bytes of the score matrices S and P"},
                  {"p_bytes", "global-memory bytes of P alone (naive: the softmax writes it; PV and the backward read it)"},
                  {"qkvo_bytes", "global-memory bytes of Q, K, V and O"},
                  {"flops", "floating-point operations"},
                  {"time", "roofline time estimate"},
                  {"flops_rate", "FLOP/s the estimate implies"},
                  {"intensity", "FLOP per DRAM byte"},
                  {"paper_io", "the paper's IO-complexity expression, bytes (forward)"},
                  {"br", "query tile rows Br (naive: GEMM tile)"},
                  {"bc", "key tile rows Bc (naive: GEMM tile)"},
                  {"smem", "SRAM one thread block needs"},
                  {"kernels", "kernel launches"},
                  {"grid", "thread blocks of the main kernel (the one doing the most FLOPs)"},
                  {"waves", "waves of thread blocks over the SMs (main kernel)"}},
                 "traffic algo=naive seq=4096 d=128 field=hbm_bytes",
                 traffic_value});
}

}  // namespace attnlab
