// Templates that ask the serving and scale-out models: speculative decoding (src/models/specdec.hpp),
// ring attention (src/models/ring.hpp) and PagedAttention's serving simulation (src/models/paged.hpp).
#include <fmt/format.h>
#include <map>
#include <mutex>

#include "hw/gpu.hpp"
#include "hw/link.hpp"
#include "lessons/templates.hpp"
#include "models/kv_cache.hpp"
#include "models/model_spec.hpp"
#include "models/paged.hpp"
#include "models/serve_workload.hpp"
#include "models/ring.hpp"
#include "models/specdec.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

TemplateValue specdec_value(const TemplateArgs& a, const std::string& field) {
  SpecDecParams p;
  p.alpha = a.number("alpha", 0.0, 1.0);
  p.gamma = a.u64_in("gamma", 0, 1024);
  p.c = a.number("c", 0.0, 1e6);
  specdec_validate(p);
  const u64 max_gamma = a.u64_in("max_gamma", 1, 1024);
  if (field == "tokens") return TemplateValue::of(specdec_expected_tokens(p.alpha, p.gamma), ValueUnit::plain);
  if (field == "speedup") return TemplateValue::of(specdec_speedup(p), ValueUnit::ratio);
  if (field == "best_gamma") return TemplateValue::of_count(specdec_best_gamma(p.alpha, p.c, max_gamma));
  if (field == "best_speedup") {
    SpecDecParams b = p;
    b.gamma = specdec_best_gamma(p.alpha, p.c, max_gamma);
    return TemplateValue::of(specdec_speedup(b), ValueUnit::ratio);
  }
  if (field == "all_accepted") return TemplateValue::of(specdec_tokens_pmf(p.alpha, p.gamma, p.gamma + 1), ValueUnit::plain);
  // pmf: P(a pass emits k tokens)
  const u64 k = a.u64_in("k", 1, p.gamma + 1);
  return TemplateValue::of(specdec_tokens_pmf(p.alpha, p.gamma, k), ValueUnit::plain);
}

RingConfig ring_config(const TemplateArgs& a) {
  const ModelSpec& m = model_find(a.str("model"));
  if (m.is_mla()) throw InputError(fmt::format("key 'model': ring attention needs K/V heads; {} uses MLA", m.name));
  const GpuSpec& g = gpu_find(a.str("gpu"));
  RingConfig c;
  c.seq = a.u64_in("seq", 1, u64{1} << 36);
  c.devices = a.u64_in("devices", 1, 65536);
  c.batch = a.u64_in("batch", 1, 1u << 20);
  c.heads = m.heads;
  c.kv_heads = m.kv_heads;
  c.head_dim = m.head_dim;
  c.dtype = a.dtype("dtype");
  c.causal = a.flag("causal");
  c.flops_per_s = g.peak_flops(c.dtype);
  c.efficiency = a.number("efficiency", 1e-6, 1.0);
  c.link_bytes_per_s = link_find(a.str("link")).bytes_per_s;
  return c;
}

TemplateValue ring_value(const TemplateArgs& a, const std::string& field) {
  const RingConfig c = ring_config(a);
  if (field == "max_context")
    return TemplateValue::of_count(ring_max_context(c, c.devices, gpu_find(a.str("gpu")).hbm_bytes));
  const RingResult r = ring_analyze(c);
  if (field == "block") return TemplateValue::of_count(r.block);
  if (field == "memory") return TemplateValue::of_count(r.memory.total, ValueUnit::bytes);
  if (field == "kv_per_step") return TemplateValue::of_count(r.kv_bytes_per_step, ValueUnit::bytes);
  if (field == "compute") return TemplateValue::of(r.compute_s, ValueUnit::seconds);
  if (field == "transfer") return TemplateValue::of(r.transfer_s, ValueUnit::seconds);
  if (field == "hidden") return TemplateValue::of_count(r.hidden ? 1 : 0);
  if (field == "min_block") return TemplateValue::of_count(r.min_block);
  if (field == "pass") return TemplateValue::of(r.pass_s, ValueUnit::seconds);
  if (field == "no_overlap") return TemplateValue::of(r.no_overlap_s, ValueUnit::seconds);
  if (field == "link_bw") return TemplateValue::of(c.link_bytes_per_s, ValueUnit::bytes_per_s);
  return TemplateValue::of(r.ideal_s, ValueUnit::seconds);  // ideal
}

// One scheme of `attnlab paged` on a generated workload, with the same defaults (500 ShareGPT-like
// requests, Llama 2 13B in fp16, 12 GiB of KV, blocks of 16, max length 2048). Runs are cached:
// a lesson's table asks the same run for several fields.
struct PagedRun {
  ServeMetrics m;
  u64 budget = 0;
  double mean_len = 0;  // prompt + output of the generated sequences, after capping
};

const PagedRun& paged_run(const TemplateArgs& a) {
  const std::string& scheme = a.str("scheme");
  ServeConfig c;
  if (scheme == "paged") c.scheme = AllocScheme::paged;
  else if (scheme == "max") c = {AllocScheme::contiguous, ReservePolicy::max_len};
  else if (scheme == "pow2") c = {AllocScheme::contiguous, ReservePolicy::pow2};
  else if (scheme == "oracle") c = {AllocScheme::contiguous, ReservePolicy::oracle};
  else throw InputError(fmt::format("key 'scheme' must be paged, max, pow2 or oracle (got '{}')", scheme));
  const ModelSpec& model = model_find(a.str("model"));
  const DType dtype = a.dtype("dtype");
  const u128 per_token = kv_cache_size(model, dtype, 1, 1).bytes_per_token;
  c.budget_tokens = serve_budget_from_gib(a.number("kv_gib", 1e-9, 1e6), per_token, "key 'kv_gib'");
  c.block_size = a.u64_in("block", 1, 65536);
  c.max_len = a.u64_in("max_len", 2, 1 << 24);
  c.share_prompt = a.flag("share");
  WorkloadSpec w;
  const WorkloadPreset& preset = workload_find(a.str("workload"));
  w.requests = a.u64_in("requests", 1, 100000);
  w.prompt = preset.prompt;
  w.output = preset.output;
  w.samples = a.u64_in("samples", 1, 64);
  w.max_len = c.max_len;
  w.seed = a.u64_in("seed", 0, u64{1} << 62);

  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", scheme, model.name, dtype_name(dtype),
                                      c.budget_tokens, c.block_size, c.max_len, c.share_prompt, preset.name,
                                      w.requests, w.samples, w.seed);
  static std::mutex mu;
  static std::map<std::string, PagedRun> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const std::vector<ServeRequest> requests = workload_generate(w);
  PagedRun r;
  r.m = serve_run(c, requests);
  r.budget = c.budget_tokens;
  u64 seqs = 0;
  for (const ServeRequest& q : requests)
    for (u64 out : q.outputs) {
      r.mean_len += static_cast<double>(q.prompt + out);
      ++seqs;
    }
  r.mean_len /= static_cast<double>(seqs);
  return cache.emplace(key, std::move(r)).first->second;
}

TemplateValue paged_value(const TemplateArgs& a, const std::string& field) {
  const PagedRun& r = paged_run(a);
  const SlotSums& l = serve_under_load(r.m);
  if (field == "used") return TemplateValue::of(l.share(l.used, r.budget), ValueUnit::plain);
  if (field == "reserved") return TemplateValue::of(l.share(l.reserved, r.budget), ValueUnit::plain);
  if (field == "internal") return TemplateValue::of(l.share(l.internal, r.budget), ValueUnit::plain);
  if (field == "external") return TemplateValue::of(l.share(l.external, r.budget), ValueUnit::plain);
  if (field == "free") return TemplateValue::of(l.share(l.free, r.budget), ValueUnit::plain);
  if (field == "waste") return TemplateValue::of(l.waste(), ValueUnit::plain);
  if (field == "avg_batch") return TemplateValue::of(l.avg_batch(), ValueUnit::plain);
  if (field == "max_batch") return TemplateValue::of_count(r.m.max_running_seqs);
  if (field == "steps") return TemplateValue::of_count(r.m.steps);
  if (field == "preempted") return TemplateValue::of_count(r.m.preemptions);
  if (field == "budget") return TemplateValue::of_count(r.budget);
  if (field == "sharing_saving") return TemplateValue::of(r.m.all.sharing_saving(), ValueUnit::plain);
  return TemplateValue::of(r.mean_len, ValueUnit::plain);  // mean_len
}

}  // namespace

void register_templates_serving(std::vector<TemplateDef>& reg) {
  reg.push_back({"specdec",
                 "Speculative decoding with acceptance rate alpha and gamma draft tokens (see `attnlab specdec`).",
                 "src/models/specdec.hpp",
                 {{"alpha", "0.8", "probability that the target accepts a draft token"},
                  {"gamma", "5", "draft tokens per target pass"},
                  {"c", "0.05", "cost of one draft token / cost of one target pass"},
                  {"max_gamma", "16", "largest gamma searched by best_gamma"},
                  {"k", "1", "pmf: tokens emitted by one pass"}},
                 {{"tokens", "expected tokens per target pass"},
                  {"speedup", "expected speed-up over plain decoding"},
                  {"best_gamma", "gamma with the largest expected speed-up"},
                  {"best_speedup", "the speed-up at best_gamma"},
                  {"all_accepted", "probability that all gamma drafts are accepted"},
                  {"pmf", "probability that one pass emits k tokens"}},
                 "specdec alpha=0.8 gamma=5 c=0.05 field=speedup",
                 specdec_value});
  reg.push_back({"ring",
                 "Ring attention: one layer's forward pass over P devices in a ring (see `attnlab ring`).",
                 "src/models/ring.hpp",
                 {{"model", "llama-3-8b", "model preset for heads, K/V heads and head size"},
                  {"seq", "1048576", "tokens in the whole sequence N"},
                  {"devices", "8", "devices in the ring P"},
                  {"batch", "1", "sequences"},
                  {"dtype", "bf16", "element type"},
                  {"causal", "false", "causal mask"},
                  {"gpu", "h100-sxm", "GPU preset (peak FLOP/s, memory)"},
                  {"link", "nvlink4", "link preset (see `attnlab ring --list-links`)"},
                  {"efficiency", "1", "fraction of peak FLOP/s attention reaches"}},
                 {{"block", "tokens per device n = N / P"},
                  {"memory", "memory per device for one layer"},
                  {"kv_per_step", "K/V bytes each device sends per step"},
                  {"compute", "compute time of one block pair"},
                  {"transfer", "transfer time of one K/V block"},
                  {"hidden", "1 when transfers hide behind compute"},
                  {"min_block", "smallest block n for which transfers hide"},
                  {"pass", "time of the whole pass, with overlap"},
                  {"no_overlap", "time if every step waited for its transfer"},
                  {"ideal", "time with perfect balance and free communication"},
                  {"max_context", "longest N that fits the GPUs' memory with P devices"},
                  {"link_bw", "link bandwidth per direction"}},
                 "ring model=llama-3-8b seq=1048576 devices=8 field=block",
                 ring_value});
  reg.push_back({"paged",
                 "PagedAttention vs contiguous reservation: one scheme of `attnlab paged` on a generated request "
                 "stream. Shares are of the KV memory, averaged over the steps in which requests wait for memory.",
                 "src/models/paged.hpp",
                 {{"scheme", "paged", "paged, or contiguous reserving max (max-len), pow2 or oracle (the exact length)"},
                  {"workload", "sharegpt", "length distributions: sharegpt or alpaca (the vLLM paper's means)"},
                  {"requests", "500", "requests, all arriving at step 0"},
                  {"samples", "1", "parallel samples per request"},
                  {"share", "true", "paged: samples share their prompt's blocks"},
                  {"seed", "1", "seed of the request stream"},
                  {"model", "llama-2-13b", "model preset for the bytes per token"},
                  {"dtype", "fp16", "element type of the cache"},
                  {"kv_gib", "12", "KV memory in GiB"},
                  {"block", "16", "tokens per block"},
                  {"max_len", "2048", "longest sequence; what contiguous max reserves"}},
                 {{"used", "share of the memory holding token states"},
                  {"reserved", "share reserved for tokens still to come"},
                  {"internal", "share held but never to be used (internal fragmentation)"},
                  {"external", "share free but in holes too small (external fragmentation)"},
                  {"free", "share free and usable (not counted as waste)"},
                  {"waste", "(reserved + internal + external) / memory held"},
                  {"avg_batch", "sequences running per step, on average"},
                  {"max_batch", "most sequences running at once"},
                  {"steps", "decoding steps until every request finished"},
                  {"preempted", "paged: requests evicted and recomputed"},
                  {"budget", "KV memory in token slots"},
                  {"sharing_saving", "paged: share of blocks saved by sharing prompts"},
                  {"mean_len", "mean final length (prompt + output) of the sequences"}},
                 "paged scheme=max field=waste",
                 paged_value});
}

}  // namespace attnlab
