// Templates that ask the models: presets (src/models/model_spec.hpp), the KV cache
// (src/models/kv_cache.hpp), masks (src/models/masks.hpp) and the scaling model (src/models/scaling.hpp).
#include <fmt/format.h>

#include "hw/gpu.hpp"
#include "lessons/templates.hpp"
#include "models/kv_cache.hpp"
#include "models/masks.hpp"
#include "models/model_spec.hpp"
#include "models/position.hpp"
#include "models/scaling.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

TemplateValue per_layer(const PerLayer& p, ValueUnit u) {
  if (auto e = p.mean_exact()) return TemplateValue::of_count(*e, u);
  return TemplateValue::of(static_cast<double>(p.mean_approx()), u);
}

TemplateValue count_value(const Count& c, ValueUnit u) {
  if (c.exact()) return TemplateValue::of_count(c.value(), u);
  return TemplateValue::of(static_cast<double>(c.approx()), u);
}

// The model, with the what-if keys applied (kv_heads=, window=, layers=).
ModelSpec model_from(const TemplateArgs& a) {
  ModelSpec m = model_find(a.str("model"));
  ModelOverrides o;
  auto opt = [&](const char* key, std::optional<long long>& dst) {
    if (a.has(key)) dst = static_cast<long long>(a.u64_in(key, 0, u64{1} << 40));
  };
  opt("kv_heads", o.kv_heads);
  opt("window", o.window);
  opt("layers", o.layers);
  if (o.kv_heads || o.window || o.layers) m = model_apply_overrides(m, o);
  return m;
}

TemplateValue model_value(const TemplateArgs& a, const std::string& field) {
  const ModelSpec m = model_from(a);
  if (field == "layers") return TemplateValue::of_count(m.layers);
  if (field == "attention_layers") return TemplateValue::of_count(m.attention_layers());
  if (field == "heads") return TemplateValue::of_count(m.heads);
  if (field == "kv_heads") return TemplateValue::of_count(m.kv_heads);
  if (field == "group") return TemplateValue::of_count(m.kv_heads == 0 ? 0 : m.heads / m.kv_heads);
  if (field == "head_dim") return TemplateValue::of_count(m.head_dim);
  if (field == "hidden") return TemplateValue::of_count(m.hidden);
  if (field == "context") return TemplateValue::of_count(m.context);
  if (field == "window") return TemplateValue::of_count(m.window);
  if (field == "kv_lora_rank") return TemplateValue::of_count(m.kv_lora_rank);
  if (field == "rope_dim") return TemplateValue::of_count(m.rope_dim);
  if (field == "params") return TemplateValue::of_count(m.params);
  return TemplateValue::of_count(m.active_params == 0 ? m.params : m.active_params);  // active_params
}

// The KV cache of the model, or of the same model with another attention kind (attn=mha|gqa|mqa|mla).
KvResult kv_of(const TemplateArgs& a) {
  const ModelSpec m = model_from(a);
  const DType dtype = a.dtype("dtype");
  const u64 seq = a.u64_in("seq", 1, u64{1} << 40);
  const u64 batch = a.u64_in("batch", 1, u64{1} << 24);
  const std::string& attn = a.str("attn");
  if (attn.empty()) return kv_cache_size(m, dtype, seq, batch);
  for (const auto& v : kv_what_if(m, dtype, seq, batch)) {
    std::string name(attn_kind_name(v.kind));
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name != attn) continue;
    if (!v.possible) throw InputError(fmt::format("key 'attn': no {} variant of {} ({})", attn, m.name, v.note));
    return v.kv;
  }
  throw InputError(fmt::format("key 'attn' must be mha, gqa, mqa or mla (got '{}')", attn));
}

TemplateValue kv_value(const TemplateArgs& a, const std::string& field) {
  const KvResult kv = kv_of(a);
  if (field == "per_token_layer") return TemplateValue::of_count(kv.bytes_per_token_layer, ValueUnit::bytes);
  if (field == "per_token") return TemplateValue::of_count(kv.bytes_per_token, ValueUnit::bytes);
  if (field == "per_seq") return TemplateValue::of_count(kv.bytes_per_seq, ValueUnit::bytes);
  if (field == "kv_per_seq") return TemplateValue::of_count(kv.kv_bytes_per_seq, ValueUnit::bytes);
  if (field == "ssm_per_seq") return TemplateValue::of_count(kv.ssm_bytes_per_seq, ValueUnit::bytes);
  if (field == "total") return TemplateValue::of_count(kv.bytes_total, ValueUnit::bytes);
  if (field == "elems_per_token_layer") return TemplateValue::of_count(kv.elems_per_token_layer);
  return TemplateValue::of_count(kv.attention_layers);  // attention_layers
}

TemplateValue kvfit_value(const TemplateArgs& a, const std::string& field) {
  const ModelSpec m = model_from(a);
  const KvResult kv = kv_of(a);
  const GpuSpec& g = gpu_find(a.str("gpu"));
  const u64 gpus = a.u64_in("gpus", 1, 1u << 16);
  const DType wd = a.has("weight_dtype") ? a.dtype("weight_dtype") : m.weight_dtype;
  const KvFit f = kv_fit(m, kv, g.hbm_bytes, gpus, wd);
  if (field == "weights") return TemplateValue::of_count(f.weight_bytes, ValueUnit::bytes);
  if (field == "free") return TemplateValue::of_count(f.free_bytes, ValueUnit::bytes);
  if (field == "seqs") return TemplateValue::of_count(f.seqs_fit);
  return TemplateValue::of_count(f.gpus_for_weights);  // gpus_for_weights
}

TemplateValue scores_value(const TemplateArgs& a, const std::string& field) {
  const ScoreMatrix s = scaling_score_matrix(a.u64_in("n", 1, scaling_max_seq), a.u64_in("d", 1, 65536), a.flag("causal"));
  if (field == "entries") return TemplateValue::of_count(s.entries);
  if (field == "computed") return TemplateValue::of_count(s.computed);
  if (field == "bytes_fp32") return TemplateValue::of_count(s.bytes_fp32, ValueUnit::bytes);
  if (field == "bytes_fp16") return TemplateValue::of_count(s.bytes_fp16, ValueUnit::bytes);
  return count_value(s.flops, ValueUnit::flops);  // flops
}

ScalingConfig scaling_config(const TemplateArgs& a) {
  ScalingConfig c;
  auto set = [&](const char* key, u64& dst) {
    if (a.has(key)) dst = a.u64_in(key, 0, scaling_max_seq);
  };
  set("d", c.head_dim);
  set("heads", c.heads);
  set("layers", c.layers);
  set("window", c.window);
  set("longformer_window", c.longformer_window);
  set("globals", c.globals);
  set("stride", c.stride);
  set("every_k", c.every_k);
  set("local_window", c.local_window);
  set("features", c.features);
  set("state", c.state);
  set("channels", c.channels);
  const std::string& dir = a.str("direction");
  if (dir == "causal") c.direction = Direction::causal;
  else if (dir == "bidirectional") c.direction = Direction::bidirectional;
  else if (dir != "paper") throw InputError(fmt::format("key 'direction' must be paper, causal or bidirectional (got '{}')", dir));
  if (a.has("dtype")) c.dtype = a.dtype("dtype");
  return c;
}

TemplateValue scaling_value(const TemplateArgs& a, const std::string& field) {
  const ScalingConfig cfg = scaling_config(a);
  const Family f = parse_family(a.str("family"), "family");
  const FamilyCost c = scaling_cost(f, a.u64_in("n", 1, scaling_max_seq), cfg);
  if (field == "work") return per_layer(c.work, ValueUnit::count);
  if (field == "flops") return per_layer(c.flops, ValueUnit::flops);
  if (field == "decode_keys") return per_layer(c.decode_keys, ValueUnit::count);
  if (field == "decode_flops") return per_layer(c.decode_flops, ValueUnit::flops);
  if (field == "decode_elements") return per_layer(c.decode_elements, ValueUnit::count);
  if (field == "stride") return TemplateValue::of_count(c.stride);
  return per_layer(c.decode_bytes, ValueUnit::bytes);  // decode_bytes
}

TemplateValue receptive_value(const TemplateArgs& a, const std::string& field) {
  const ReceptiveField r = scaling_receptive_field(a.u64_in("window", 1, scaling_max_seq), a.u64_in("layers", 1, 100000),
                                                   a.flag("causal"));
  return TemplateValue::of_count(field == "paper" ? r.paper : r.exact);
}

MaskPattern mask_from(const TemplateArgs& a) {
  const bool causal = a.flag("causal");
  const MaskKind k = parse_mask_kind(a.str("pattern"), "pattern");
  auto w = [&] { return a.u64_in("w", 1, mask_max_seq); };
  switch (k) {
    case MaskKind::full: return mask_full(causal || a.str("pattern") == "causal");
    case MaskKind::window: return mask_window(w(), causal);
    case MaskKind::strided: return mask_strided(a.u64_in("stride", 1, mask_max_seq), causal);
    case MaskKind::longformer: return mask_longformer(w(), a.u64_in("globals", 0, mask_max_seq), causal);
    case MaskKind::alternating: return mask_alternating(a.u64_in("every_k", 1, 100000), w(), causal);
  }
  return mask_full(causal);
}

TemplateValue mask_value(const TemplateArgs& a, const std::string& field) {
  const MaskPattern p = mask_from(a);
  const u64 n = a.u64_in("n", 1, mask_max_seq);
  const u64 layer = a.u64_in("layer", 0, 1u << 20);
  if (field == "cells") return TemplateValue::of_count(mask_count(p, n, layer));
  if (field == "newest_row") return TemplateValue::of_count(mask_row_count(p, n, n - 1, layer));
  // fraction of the n x n matrix that is computed
  const u128 all = cmul(n, n, "mask cells");
  return TemplateValue::of(to_double(mask_count(p, n, layer)) / to_double(all), ValueUnit::plain);
}

TemplateValue rope_value(const TemplateArgs& a, const std::string& field) {
  const u64 d = a.u64_in("d", 2, 1u << 16);
  const u64 pair = a.u64_in("pair", 0, 1u << 16);
  const double base = a.number("base", 1.0, 1e12);
  if (field == "theta") return TemplateValue::of(rope_theta(pair, d, base), ValueUnit::plain);
  if (field == "wavelength") return TemplateValue::of(rope_wavelength(pair, d, base), ValueUnit::plain);
  // pairs
  if (d % 2 != 0) throw InputError(fmt::format("key 'd' must be even (got {})", d));
  return TemplateValue::of_count(d / 2);
}

TemplateValue alibi_value(const TemplateArgs& a, const std::string& field) {
  const u64 heads = a.u64_in("heads", 1, 1u << 16);
  const u64 head = a.u64_in("head", 0, heads - 1);
  const double slope = alibi_slopes(heads)[head];
  if (field == "slope") return TemplateValue::of(slope, ValueUnit::plain);
  // bias at a distance
  const u64 dist = a.u64_in("distance", 0, u64{1} << 40);
  return TemplateValue::of(alibi_bias(slope, dist, 0), ValueUnit::plain);
}

const std::vector<TemplateParam>& model_params() {
  static const std::vector<TemplateParam> p = {
      {"model", "llama-2-7b", "model preset (see `attnlab models`)"},
      {"kv_heads", "", "what-if: another number of K/V heads"},
      {"window", "", "what-if: sliding window of local layers (0 = none)"},
      {"layers", "", "what-if: another number of layers"}};
  return p;
}

std::vector<TemplateParam> with(std::vector<TemplateParam> base, std::vector<TemplateParam> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

}  // namespace

void register_templates_models(std::vector<TemplateDef>& reg) {
  reg.push_back({"model",
                 "A figure of a model preset's shape (see `attnlab models`).",
                 "src/models/model_spec.hpp",
                 model_params(),
                 {{"layers", "layers"},
                  {"attention_layers", "layers with attention (not Mamba)"},
                  {"heads", "query heads"},
                  {"kv_heads", "K/V heads"},
                  {"group", "query heads per K/V head"},
                  {"head_dim", "head dimension"},
                  {"hidden", "model width"},
                  {"context", "context length the model was built for"},
                  {"window", "sliding window of local layers (0 = none)"},
                  {"kv_lora_rank", "MLA latent size d_c"},
                  {"rope_dim", "MLA decoupled RoPE key size"},
                  {"params", "parameters (all experts)"},
                  {"active_params", "parameters used per token"}},
                 "model model=llama-2-70b field=kv_heads",
                 model_value});
  reg.push_back({"kv",
                 "The KV cache of a model (see `attnlab kv`).",
                 "src/models/kv_cache.hpp",
                 with(model_params(), {{"seq", "4096", "tokens per sequence"},
                                       {"batch", "1", "sequences"},
                                       {"dtype", "fp16", "element type of the cache"},
                                       {"attn", "", "what-if: mha, gqa, mqa or mla instead of the model's own"}}),
                 {{"per_token_layer", "one token in one attention layer"},
                  {"per_token", "one token in all layers"},
                  {"per_seq", "one sequence of seq tokens (KV + Mamba state)"},
                  {"kv_per_seq", "one sequence, KV only"},
                  {"ssm_per_seq", "one sequence, Mamba state only"},
                  {"total", "the whole batch"},
                  {"elems_per_token_layer", "values cached per token and layer"},
                  {"attention_layers", "layers that cache K/V"}},
                 "kv model=llama-2-7b seq=4096 field=total",
                 kv_value});
  reg.push_back({"kvfit",
                 "How many sequences fit in GPU memory next to the weights.",
                 "src/models/kv_cache.hpp",
                 with(model_params(), {{"seq", "4096", "tokens per sequence"},
                                       {"batch", "1", "sequences (unused by the fit itself)"},
                                       {"dtype", "fp16", "element type of the cache"},
                                       {"attn", "", "what-if: mha, gqa, mqa or mla"},
                                       {"gpu", "h100-sxm", "GPU preset"},
                                       {"gpus", "1", "GPUs pooled"},
                                       {"weight_dtype", "", "element type of the weights (default: the model's)"}}),
                 {{"weights", "bytes of the weights"},
                  {"free", "memory left after the weights"},
                  {"seqs", "whole sequences whose cache fits in what is left"},
                  {"gpus_for_weights", "GPUs needed just for the weights"}},
                 "kvfit model=llama-2-7b gpu=a100-40gb seq=4096 field=seqs",
                 kvfit_value});
  reg.push_back({"scores",
                 "The N x N score matrix of one head (what naive attention writes).",
                 "src/models/scaling.hpp",
                 {{"n", "4096", "sequence length N"}, {"d", "64", "head dimension"}, {"causal", "false", "causal mask"}},
                 {{"entries", "N^2 entries"},
                  {"computed", "entries computed (N(N+1)/2 when causal)"},
                  {"bytes_fp32", "size in fp32"},
                  {"bytes_fp16", "size in fp16"},
                  {"flops", "4 d x computed"}},
                 "scores n=100000 field=entries",
                 scores_value});
  const ScalingConfig kScaling;  // the defaults the help names, as `attnlab steps` takes them
  reg.push_back({"steps",
                 "Cost of one attention family at length n, per layer (see `attnlab steps`).",
                 "src/models/scaling.hpp",
                 {{"family", "full", "full, window, longformer, strided, alternating, linear, ssm"},
                  {"n", "4096", "sequence length"},
                  {"direction", "paper", "paper, causal or bidirectional"},
                  {"d", "", fmt::format("head dimension ({})", kScaling.head_dim)},
                  {"heads", "", fmt::format("heads ({})", kScaling.heads)},
                  {"layers", "", fmt::format("layers ({})", kScaling.layers)},
                  {"window", "", fmt::format("sliding window ({})", kScaling.window)},
                  {"longformer_window", "", fmt::format("Longformer window ({})", kScaling.longformer_window)},
                  {"globals", "", fmt::format("Longformer global tokens ({})", kScaling.globals)},
                  {"stride", "", "strided: stride (0 = sqrt N)"},
                  {"every_k", "", fmt::format("alternating: global every k layers ({})", kScaling.every_k)},
                  {"local_window", "", fmt::format("alternating: local window ({})", kScaling.local_window)},
                  {"features", "", fmt::format("linear: random features r ({})", kScaling.features)},
                  {"state", "", fmt::format("ssm: state size n ({})", kScaling.state)},
                  {"channels", "", fmt::format("ssm: channels D ({})", kScaling.channels)},
                  {"dtype", "", fmt::format("element type of caches and states ({})", dtype_name(kScaling.dtype))}},
                 {{"work", "score entries per head (linear, ssm: steps)"},
                  {"flops", "FLOPs per layer"},
                  {"decode_keys", "keys the newest token reads, per head"},
                  {"decode_flops", "FLOPs per new token, per layer"},
                  {"decode_elements", "values kept for decoding, per layer"},
                  {"decode_bytes", "bytes kept for decoding, per layer"},
                  {"stride", "the stride used (strided)"}},
                 "steps family=ssm n=100000 field=work",
                 scaling_value});
  reg.push_back({"receptive",
                 "How far back a stack of sliding-window layers can see.",
                 "src/models/scaling.hpp",
                 {{"window", "4096", "window w"}, {"layers", "32", "layers"}, {"causal", "true", "causal windows"}},
                 {{"paper", "w x layers, the papers' figure"}, {"exact", "positions reached under attnlab's window convention"}},
                 "receptive window=4096 layers=32 field=paper",
                 receptive_value});
  reg.push_back({"mask",
                 "Cells an attention mask allows (see src/models/masks.hpp for the conventions).",
                 "src/models/masks.hpp",
                 {{"pattern", "full", "full, causal, window, strided, longformer, alternating"},
                  {"n", "4096", "sequence length"},
                  {"causal", "false", "causal direction"},
                  {"w", "128", "window"},
                  {"stride", "64", "strided: stride"},
                  {"globals", "1", "longformer: global tokens"},
                  {"every_k", "3", "alternating: global every k layers"},
                  {"layer", "0", "which layer (alternating)"}},
                 {{"cells", "allowed (query, key) cells"},
                  {"newest_row", "keys the last query sees"},
                  {"fraction", "allowed cells / N^2"}},
                 "mask pattern=window n=4096 w=128 field=cells",
                 mask_value});
  reg.push_back({"rope",
                 "Rotary position embedding: the rotation speed of each pair of dimensions.",
                 "src/models/position.hpp",
                 {{"d", "128", "head dimension"}, {"pair", "0", "pair index i (0 .. d/2 - 1)"}, {"base", "10000", "RoPE base"}},
                 {{"theta", "angle per token of pair i: base^(-2i/d)"},
                  {"wavelength", "tokens per full turn of pair i: 2 pi / theta"},
                  {"pairs", "pairs of dimensions: d / 2"}},
                 "rope d=128 pair=63 field=wavelength",
                 rope_value});
  reg.push_back({"alibi",
                 "ALiBi: the slope of each head and the bias it adds at a distance.",
                 "src/models/position.hpp",
                 {{"heads", "8", "heads"}, {"head", "0", "which head (0 = steepest)"}, {"distance", "1", "query - key"}},
                 {{"slope", "the head's slope m"}, {"bias", "-m x distance, added to the score"}},
                 "alibi heads=8 head=0 field=slope",
                 alibi_value});
}

}  // namespace attnlab
