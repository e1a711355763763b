// Mapping a Hugging Face config.json onto ModelSpec. Each family's field names are read here and
// nowhere else; the rules for which layer is local, global or Mamba follow the families' own
// Transformers code (named at each rule), and the parameter count follows their tensors.
#include "models/hf_config.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "util/json_read.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {
using nlohmann::json;

// The same limits as the presets file: past these a config is a typo or a joke, not a model.
constexpr u64 max_width = 1ull << 24, max_vocab = 1ull << 24, max_experts = 65536;

// Reads fields of one JSON object, recording what was read and what was defaulted; every error
// names the file and the field.
struct Fields {
  const json& j;
  const std::string& path;
  HfConfigRead& out;

  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    throw InputError(fmt::format("{}: field '{}': {}", path, key, what));
  }
  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  // A field may be asked for by two rules (attention_bias): it is listed once.
  void note_read(std::string s) const {
    if (std::find(out.read.begin(), out.read.end(), s) == out.read.end()) out.read.push_back(std::move(s));
  }

  // An integer field in [lo, hi]; nullopt when absent or null.
  std::optional<u64> count(const char* key, u64 lo, u64 hi) const {
    if (!has(key)) return std::nullopt;
    const json& v = j.at(key);
    u64 x = 0;
    if (v.is_number_unsigned()) {
      x = v.get<u64>();
    } else if (v.is_number_integer()) {
      fail(key, fmt::format("must be at least {} (got {})", lo, v.get<long long>()));
    } else if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < 1.8e19 &&
               v.get<double>() == static_cast<double>(static_cast<u64>(v.get<double>()))) {
      x = static_cast<u64>(v.get<double>());  // "4096.0" is written by some exporters
    } else {
      fail(key, fmt::format("must be a whole number (got {})", v.dump()));
    }
    if (x < lo || x > hi) fail(key, fmt::format("must be between {} and {} (got {})", lo, hi, x));
    note_read(fmt::format("{} {}", key, x));
    return x;
  }
  // The first of several names a family uses for the same thing ("n_head", "num_attention_heads").
  std::optional<u64> count_any(std::initializer_list<const char*> keys, u64 lo, u64 hi) const {
    for (const char* k : keys)
      if (auto v = count(k, lo, hi)) return v;
    return std::nullopt;
  }
  u64 need(std::initializer_list<const char*> keys, u64 lo, u64 hi, const char* what) const {
    if (auto v = count_any(keys, lo, hi)) return *v;
    fail(*keys.begin(), fmt::format("missing ({})", what));
  }
  u64 or_default(const char* key, u64 lo, u64 hi, u64 def, const std::string& why) const {
    if (auto v = count(key, lo, hi)) return *v;
    out.defaulted.push_back(fmt::format("{} = {} ({})", key, def, why));
    return def;
  }
  std::optional<bool> flag(const char* key) const {
    if (!has(key)) return std::nullopt;
    if (!j.at(key).is_boolean()) fail(key, fmt::format("must be true or false (got {})", j.at(key).dump()));
    note_read(fmt::format("{} {}", key, j.at(key).get<bool>()));
    return j.at(key).get<bool>();
  }
  std::string text(const char* key) const {
    if (!has(key)) return {};
    if (!j.at(key).is_string()) fail(key, fmt::format("must be a string (got {})", j.at(key).dump()));
    return j.at(key).get<std::string>();
  }
};

// ---- which layer is what ---------------------------------------------------------------------

// The shortest pattern that, repeated over the layers, spells them: "LG" for Gemma 2's 42 layers.
std::string shortest_pattern(const std::string& layers) {
  for (size_t p = 1; p <= layers.size(); ++p) {
    bool ok = true;
    for (size_t i = p; i < layers.size() && ok; ++i) ok = layers[i] == layers[i % p];
    if (ok) return layers.substr(0, p);
  }
  return layers;
}

// Layer kinds from an explicit list (newer Transformers write "layer_types"; Jamba's
// "layers_block_type"). Empty when the file has none.
std::string pattern_from_list(const Fields& f, const char* key, u64 layers) {
  if (!f.has(key)) return {};
  const json& v = f.j.at(key);
  if (!v.is_array()) f.fail(key, "must be a list of layer types");
  if (v.size() != layers) f.fail(key, fmt::format("has {} entries for {} layers", v.size(), layers));
  std::string s;
  for (const auto& e : v) {
    std::string t = e.is_string() ? e.get<std::string>() : "";
    if (t == "full_attention" || t == "attention" || t == "global") s += 'G';
    else if (t == "sliding_attention" || t == "local" || t == "chunked_attention") s += 'L';
    else if (t == "mamba" || t == "mamba2") s += 'M';
    else f.fail(key, fmt::format("unknown layer type {} (known: full_attention, sliding_attention, attention, mamba)", e.dump()));
  }
  f.out.read.push_back(fmt::format("{} ({} entries)", key, layers));
  return s;
}

// ---- parameters --------------------------------------------------------------------------------

struct Params {
  u128 total = 0, active = 0;
  std::string rule;
};

// The tensors of a layer stack, added up per family. Norm weights and biases are counted: the
// presets' figures are the checkpoints' tensors, and these rules reproduce them to the parameter.
struct Shape {
  std::string type;
  u64 layers, hidden, heads, kv_heads, head_dim, context;
  std::string pattern;  // per layer, full length
};

u128 mamba_layer_params(const Fields& f, u64 h, const SsmShape& s) {
  // Jamba's Mamba mixer: in_proj (x and gate), causal conv1d with bias, x_proj to (dt, B, C),
  // dt_proj with bias, A_log, D, out_proj, and the dt/B/C RMSNorms Jamba adds inside.
  u64 di = s.expand * h;
  u64 dt_rank = (h + 15) / 16;  // "auto" in Mamba's and Jamba's code
  if (f.has("mamba_dt_rank") && f.j.at("mamba_dt_rank").is_number()) dt_rank = *f.count("mamba_dt_rank", 1, max_width);
  bool proj_bias = f.flag("mamba_proj_bias").value_or(false), conv_bias = f.flag("mamba_conv_bias").value_or(true);
  u128 p = cprod("parameters", 2 * di, h) + (proj_bias ? 2 * di : 0);
  p += cprod("parameters", di, s.d_conv) + (conv_bias ? di : 0);
  p += cprod("parameters", di, dt_rank + 2 * s.d_state);
  p += cprod("parameters", dt_rank, di) + di;
  p += cprod("parameters", di, s.d_state) + di;
  p += cprod("parameters", di, h) + (proj_bias ? h : 0);
  p += dt_rank + 2 * s.d_state;
  return p;
}

Params count_params(const Fields& f, const Shape& s, const ModelSpec& m, HfConfigRead& out) {
  Params p;
  auto vocab = f.count("vocab_size", 1, max_vocab);
  if (!vocab && (s.type == "gemma3_text" || s.type == "gemma3")) {
    vocab = 262208;
    out.defaulted.push_back("vocab_size = 262208 (Gemma3TextConfig's default)");
  }
  if (!vocab) {
    out.notes.push_back("no vocab_size: parameters unknown (0); give --params for the weights' memory");
    p.rule = "not computed (no vocab_size)";
    return p;
  }
  const u64 V = *vocab, h = s.hidden, L = s.layers, H = s.heads, K = s.kv_heads, d = s.head_dim;
  const std::string& t = s.type;
  // Families whose configs default to tied input/output embeddings when the field is absent.
  const bool tie_default = t == "gpt2" || t == "falcon" || t == "gemma" || t == "gemma2" || t == "gemma3_text" ||
                           t == "gemma3" || t == "modernbert";
  const bool tied = f.flag("tie_word_embeddings").value_or(tie_default);
  if (!f.has("tie_word_embeddings"))
    out.defaulted.push_back(fmt::format("tie_word_embeddings = {} (the {} default)", tied, t.empty() ? "Transformers" : t));
  const u128 embed = cmul(V, h, "parameters");
  u128 total = 0, active = 0;
  auto add = [&](u128 both, u128 act) {
    total = cadd(total, both, "parameters");
    active = cadd(active, act, "parameters");
  };

  if (t == "gpt2") {
    // wte, wpe, per block: ln_1, c_attn (3h, bias), c_proj (bias), ln_2, MLP h->I->h with biases; ln_f.
    u64 I = f.or_default("n_inner", 1, max_width, 4 * h, "4 x n_embd");
    u128 block = 2 * h + (cmul(h, 3 * h) + 3 * h) + (cmul(h, h) + h) + 2 * h + (cmul(h, I) + I) + (cmul(I, h) + h);
    u128 all = embed + cmul(s.context, h) + cmul(block, L) + 2 * h;
    add(all, all);
    p.rule = "GPT-2: wte + wpe + blocks (LayerNorms, c_attn, c_proj, MLP with biases) + ln_f";
  } else if (t == "falcon" || t == "RefinedWeb" || t == "RefinedWebModel") {
    // Fused query_key_value of (H + 2K) heads, dense, MLP h->4h->h; one LayerNorm per block, two
    // with the new decoder architecture (ln_attn, ln_mlp).
    bool bias = f.flag("bias").value_or(false), nda = f.flag("new_decoder_architecture").value_or(false);
    u64 I = f.or_default("ffn_hidden_size", 1, max_width, 4 * h, "4 x hidden_size");
    u128 qkv = cmul(h, (H + 2 * K) * d) + (bias ? (H + 2 * K) * d : 0);
    u128 block = (nda ? 4 * h : 2 * h) + qkv + cmul(h, h) + (bias ? h : 0) + cmul(h, I) + cmul(I, h) + (bias ? I + h : 0);
    u128 all = embed + cmul(block, L) + 2 * h;
    add(all, all);
    p.rule = "Falcon: word embeddings + blocks (LayerNorm(s), fused QKV, dense, MLP) + ln_f";
  } else if (m.is_mla()) {
    // DeepSeek-V2/V3 MLA: q through a low-rank q_a/q_b (or q_proj), kv_a to (d_c + d_h^R), kv_b back to
    // K_nope and V for every head, o_proj; MoE from layer first_k_dense_replace on, with shared experts.
    u64 nope = m.head_dim, rope = m.rope_dim, dc = m.kv_lora_rank;
    u64 vd = f.or_default("v_head_dim", 1, kMaxModelDim, nope, "qk_nope_head_dim");
    u64 qr = f.count("q_lora_rank", 1, max_width).value_or(0);
    u128 attn = qr ? cmul(h, qr) + qr + cprod("parameters", qr, H, nope + rope) : cprod("parameters", h, H, nope + rope);
    attn += cmul(h, dc + rope) + dc + cprod("parameters", dc, H, nope + vd) + cprod("parameters", H, vd, h);
    u64 I = f.need({"intermediate_size"}, 1, max_width, "the dense FFN width");
    u64 E = f.count("n_routed_experts", 1, max_experts).value_or(0);
    u64 dense_layers = E ? f.or_default("first_k_dense_replace", 0, L, 0, "every layer MoE") : L;
    u64 moe_I = E ? f.need({"moe_intermediate_size"}, 1, max_width, "an expert's FFN width") : 0;
    u64 shared = E ? f.or_default("n_shared_experts", 0, max_experts, 0, "no shared expert") : 0;
    u64 topk = E ? f.need({"num_experts_per_tok"}, 1, E, "experts per token") : 0;
    bool corr = f.text("topk_method") == "noaux_tc";  // V3's gate has a per-expert bias
    u128 expert = cprod("parameters", 3, h, moe_I), norms = 2 * h;
    u128 dense = cprod("parameters", 3, h, I);
    u128 gate = E ? cmul(E, h) + (corr ? E : 0) : 0;
    add(cmul(dense_layers, attn + dense + norms), cmul(dense_layers, attn + dense + norms));
    u64 moe_layers = L - dense_layers;
    add(cmul(moe_layers, attn + norms + gate + cmul(expert, E + shared)),
        cmul(moe_layers, attn + norms + gate + cmul(expert, topk + shared)));
    add(embed + h + (tied ? 0 : embed), embed + h + (tied ? 0 : embed));
    p.rule = "MLA: embeddings + layers (q_a/q_b, kv_a, kv_b, o; dense FFN then MoE with shared experts) + norm + lm_head";
  } else {
    // Llama-style decoders (Llama, Mistral, Mixtral, Qwen2, Gemma 2/3, Jamba, and the default):
    // q/k/v/o projections, gated FFN (gate, up, down) or E experts of it with a router, RMSNorms.
    const bool gemma = t.rfind("gemma", 0) == 0;
    const bool qkv_bias = t == "qwen2" || t == "qwen2_moe" || f.flag("attention_bias").value_or(false);
    const bool o_bias = t != "qwen2" && t != "qwen2_moe" && f.flag("attention_bias").value_or(false);
    u128 attn = cmul(h, H * d) + cmul(h, 2 * K * d) + cmul(H * d, h);
    if (qkv_bias) attn += H * d + 2 * K * d;
    if (o_bias) attn += h;
    if (t == "gemma3_text" || t == "gemma3" || t == "qwen3" || t == "qwen3_moe") attn += 2 * d;  // q_norm, k_norm
    const bool bert = t == "modernbert";
    u64 I = f.need({"intermediate_size"}, 1, max_width, "the FFN width");
    u128 ffn = cprod("parameters", 3, h, I);
    if (bert) ffn = cprod("parameters", 2, h, I) + cmul(I, h);  // ModernBERT's Wi (h -> 2I, GLU) and Wo
    u64 E = f.count_any({"num_local_experts", "num_experts"}, 1, max_experts).value_or(0);
    u64 topk = E > 1 ? f.need({"num_experts_per_tok"}, 1, E, "experts per token") : 0;
    u64 period = 1, offset = 0;
    if (E > 1 && t == "jamba") {
      period = f.or_default("expert_layer_period", 1, L, 2, "Jamba's default");
      offset = f.or_default("expert_layer_offset", 0, L, 1, "Jamba's default");
    }
    u128 norms = (gemma ? 4 : 2) * h;
    u128 layer_sum = 0, layer_act = 0;
    for (u64 i = 0; i < L; ++i) {
      u128 mix = 0;
      if (s.pattern[i] == 'M') mix = mamba_layer_params(f, h, *m.ssm);
      else mix = attn;
      u128 mlp = ffn, mlp_act = ffn;
      if (E > 1 && i % period == offset) {
        mlp = cmul(ffn, E) + cmul(h, E);
        mlp_act = cmul(ffn, topk) + cmul(h, E);
      }
      u128 n = norms - (bert && i == 0 ? h : 0);  // ModernBERT's first block has no attention norm
      layer_sum = cadd(layer_sum, mix + mlp + n, "parameters");
      layer_act = cadd(layer_act, mix + mlp_act + n, "parameters");
    }
    u128 rest = embed + h + (tied ? 0 : embed);
    if (bert) rest += h + cmul(h, h) + h + V;  // embedding norm, head (dense + norm), decoder bias
    add(layer_sum + rest, layer_act + rest);
    p.rule = bert ? "ModernBERT: embeddings + layers (Wqkv, Wo, GLU MLP, LayerNorms) + head + decoder bias"
                  : "Llama-style: embeddings + layers (q, k, v, o, gated FFN or experts + router, norms) + norm + lm_head";
  }
  p.total = total;
  p.active = active == total ? 0 : active;
  p.rule += tied ? " (output tied to the embeddings)" : " (untied output)";
  return p;
}

DType weight_dtype_of(const Fields& f, HfConfigRead& out) {
  if (f.has("quantization_config") && f.j.at("quantization_config").is_object()) {
    const json& q = f.j.at("quantization_config");
    std::string method = q.contains("quant_method") && q.at("quant_method").is_string() ? q.at("quant_method").get<std::string>() : "";
    if (method == "fp8") {
      out.read.push_back("quantization_config.quant_method fp8");
      return DType::fp8;
    }
    if (q.contains("bits") && q.at("bits").is_number_integer() && q.at("bits").get<long long>() == 4) {
      out.read.push_back(fmt::format("quantization_config ({} 4-bit)", method));
      return DType::int4;
    }
  }
  for (const char* key : {"torch_dtype", "dtype"}) {
    std::string s = f.text(key);
    if (s.empty()) continue;
    out.read.push_back(fmt::format("{} {}", key, s));
    if (s == "bfloat16") return DType::bf16;
    if (s == "float16") return DType::fp16;
    if (s == "float32") return DType::fp32;
    out.notes.push_back(fmt::format("{} '{}' is not one of bfloat16, float16, float32: weights counted in bf16", key, s));
    return DType::bf16;
  }
  out.defaulted.push_back("torch_dtype = bfloat16 (not in the file)");
  return DType::bf16;
}

// The model types whose fields this reader maps; anything else gets the standard fields and a note.
bool known_type(const std::string& t) {
  static const std::vector<std::string> known = {
      "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3",
      "gemma3_text", "gpt2", "falcon", "RefinedWeb", "RefinedWebModel", "deepseek_v2", "deepseek_v3", "modernbert",
      "jamba", "phi3", "starcoder2"};
  return std::find(known.begin(), known.end(), t) != known.end();
}

bool is_encoder(const std::string& t, const json& j) {
  if (t == "bert" || t == "roberta" || t == "modernbert" || t == "distilbert" || t == "xlm-roberta" || t == "electra" ||
      t == "deberta" || t == "deberta-v2")
    return true;
  if (j.contains("architectures") && j.at("architectures").is_array())
    for (const auto& a : j.at("architectures"))
      if (a.is_string() && a.get<std::string>().find("MaskedLM") != std::string::npos) return true;
  return false;
}

HfConfigRead parse_hf_object(const json& top, const std::string& path, const std::string& name) {
  HfConfigRead out;
  if (!top.is_object()) throw InputError(fmt::format("{}: not a config.json (expected a JSON object)", path));
  // Multimodal configs (Gemma 3, Llava ...) keep the language model's fields in text_config.
  const json* jp = &top;
  if (!top.contains("num_hidden_layers") && !top.contains("n_layer") && top.contains("text_config") &&
      top.at("text_config").is_object()) {
    jp = &top.at("text_config");
    out.notes.push_back("fields read from text_config (the language model of a multimodal config)");
  }
  const json& j = *jp;
  Fields f{j, path, out};
  std::string type = f.text("model_type");
  if (type.empty()) type = Fields{top, path, out}.text("model_type");
  if (type.empty()) out.notes.push_back("no model_type: standard fields only");
  else if (!known_type(type))
    out.notes.push_back(fmt::format("model_type '{}' is not one this reader knows: standard fields only "
                                    "(num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, "
                                    "max_position_embeddings, sliding_window); check them",
                                    type));

  ModelSpec& m = out.spec;
  m.name = name;
  std::string display = Fields{top, path, out}.text("_name_or_path");
  m.display = display.empty() ? name : display;
  m.layers = f.need({"num_hidden_layers", "n_layer", "num_layers"}, 1, kMaxModelLayers, "the layer count");
  m.heads = f.need({"num_attention_heads", "n_head"}, 1, kMaxModelHeads, "the query head count");
  m.hidden = f.need({"hidden_size", "n_embd", "d_model"}, 1, max_width, "the model width");

  // K/V heads: GQA's num_key_value_heads; Falcon's multi_query (one K/V head) unless its new
  // decoder architecture names num_kv_heads; otherwise MHA.
  const bool falcon = type == "falcon" || type == "RefinedWeb" || type == "RefinedWebModel";
  std::optional<u64> kv;
  if (falcon) {
    bool nda = f.flag("new_decoder_architecture").value_or(false);
    if (nda) kv = f.need({"num_kv_heads", "n_head_kv"}, 1, kMaxModelHeads, "K/V heads of the new decoder architecture");
    else if (f.flag("multi_query").value_or(true)) kv = 1;
    if (!nda && !f.has("multi_query")) out.defaulted.push_back("multi_query = true (Falcon's default): 1 K/V head");
  }
  if (!kv) kv = f.count_any({"num_key_value_heads", "num_kv_heads", "n_head_kv"}, 1, kMaxModelHeads);
  if (!kv && !falcon && f.flag("multi_query").value_or(false)) kv = 1;
  if (!kv) {
    kv = m.heads;
    out.defaulted.push_back(fmt::format("num_key_value_heads = num_attention_heads ({}): MHA", m.heads));
  }
  m.kv_heads = *kv;
  if (m.heads % m.kv_heads != 0)
    f.fail(f.has("num_key_value_heads") ? "num_key_value_heads" : "num_kv_heads",
           fmt::format("{} K/V heads do not divide {} query heads", m.kv_heads, m.heads));

  // MLA: the cache holds a latent of kv_lora_rank plus one RoPE key of qk_rope_head_dim per token.
  m.kv_lora_rank = f.count("kv_lora_rank", 1, kMaxModelDim).value_or(0);
  if (m.is_mla()) {
    m.rope_dim = f.need({"qk_rope_head_dim"}, 1, kMaxModelDim, "MLA's decoupled RoPE key size");
    m.head_dim = f.need({"qk_nope_head_dim", "v_head_dim"}, 1, kMaxModelDim, "MLA's per-head size");
  } else if (auto hd = f.count("head_dim", 1, kMaxModelDim)) {
    m.head_dim = *hd;
  } else {
    if (m.hidden % m.heads != 0)
      f.fail("head_dim", fmt::format("missing, and hidden size {} is not a multiple of {} heads", m.hidden, m.heads));
    m.head_dim = m.hidden / m.heads;
    out.defaulted.push_back(fmt::format("head_dim = hidden_size / num_attention_heads = {}", m.head_dim));
  }

  if (auto c = f.count_any({"max_position_embeddings", "n_positions", "max_seq_len", "seq_length"}, 1, kMaxModelTokens)) {
    m.context = *c;
  } else {
    // Gemma 3's published text_config leaves out what equals Gemma3TextConfig's defaults.
    const bool gemma3 = type == "gemma3" || type == "gemma3_text";
    m.context = gemma3 ? 131072 : 2048;
    out.defaulted.push_back(falcon   ? "max_position_embeddings = 2048 (not in the file; the Falcon paper's 2,048)"
                            : gemma3 ? "max_position_embeddings = 131072 (Gemma3TextConfig's default)"
                                     : "max_position_embeddings = 2048 (not in the file; give --context)");
  }

  // ---- layer kinds ----
  std::string layers = pattern_from_list(f, "layer_types", m.layers);
  if (layers.empty()) layers = pattern_from_list(f, "layers_block_type", m.layers);
  u64 window = 0;
  auto sliding = [&]() { return f.count("sliding_window", 1, kMaxModelTokens); };
  if (layers.empty()) {
    layers.assign(m.layers, 'G');
    if (type == "gemma2") {
      // Gemma2DecoderLayer: layers with an even index slide (the first layer is local).
      window = f.need({"sliding_window"}, 1, kMaxModelTokens, "Gemma 2's local window");
      for (u64 i = 0; i < m.layers; ++i) layers[i] = i % 2 == 0 ? 'L' : 'G';
    } else if (type == "gemma3" || type == "gemma3_text") {
      // Gemma 3: every sliding_window_pattern-th layer is global, the others local.
      window = f.need({"sliding_window"}, 1, kMaxModelTokens, "Gemma 3's local window");
      u64 k = f.or_default("sliding_window_pattern", 1, kMaxModelLayers, 6, "Gemma 3's default: 5 local, 1 global");
      for (u64 i = 0; i < m.layers; ++i) layers[i] = (i + 1) % k == 0 ? 'G' : 'L';
    } else if (type == "modernbert") {
      // ModernBERT: global attention every global_attn_every_n_layers (layer 0 global), local otherwise.
      u64 k = f.or_default("global_attn_every_n_layers", 1, kMaxModelLayers, 3, "ModernBERT's default");
      window = f.or_default("local_attention", 1, kMaxModelTokens, 128, "ModernBERT's default");
      for (u64 i = 0; i < m.layers; ++i) layers[i] = i % k == 0 ? 'G' : 'L';
    } else if (type == "jamba") {
      // Jamba: layer i is attention when i % attn_layer_period == attn_layer_offset, Mamba otherwise.
      u64 period = f.or_default("attn_layer_period", 1, kMaxModelLayers, 8, "Jamba's default");
      u64 offset = f.or_default("attn_layer_offset", 0, kMaxModelLayers, 4, "Jamba's default");
      if (offset >= period) f.fail("attn_layer_offset", fmt::format("must be below attn_layer_period {} (got {})", period, offset));
      for (u64 i = 0; i < m.layers; ++i) layers[i] = i % period == offset ? 'G' : 'M';
    } else if (type == "qwen2" || type == "qwen2_moe" || type == "qwen3" || type == "qwen3_moe") {
      // Qwen2: a sliding window only with use_sliding_window, on layers from max_window_layers on.
      bool use = f.flag("use_sliding_window").value_or(false);
      if (use) {
        window = f.need({"sliding_window"}, 1, kMaxModelTokens, "the window of use_sliding_window");
        u64 first = f.or_default("max_window_layers", 0, kMaxModelLayers, 0, "every layer");
        for (u64 i = first; i < m.layers; ++i) layers[i] = 'L';
      } else if (f.has("sliding_window")) {
        out.notes.push_back("sliding_window ignored: use_sliding_window is false (every layer global)");
      }
    } else if (auto w = sliding()) {
      // Mistral and the default: one window on every layer.
      window = *w;
      layers.assign(m.layers, 'L');
    }
  } else if (layers.find('L') != std::string::npos) {
    window = f.need({"sliding_window"}, 1, kMaxModelTokens, "the window of the sliding_attention layers");
  }
  if (layers.find('M') != std::string::npos) {
    m.ssm = SsmShape{f.or_default("mamba_d_state", 1, kMaxModelDim, 16, "Mamba's default"),
                     f.or_default("mamba_d_conv", 1, kMaxModelDim, 4, "Mamba's default"),
                     f.or_default("mamba_expand", 1, 64, 2, "Mamba's default")};
  }
  m.window = window;
  m.pattern = shortest_pattern(layers);
  m.kind = layers.find('M') != std::string::npos ? "hybrid" : is_encoder(type, j) ? "encoder" : "decoder";
  m.weight_dtype = weight_dtype_of(Fields{top, path, out}, out);

  Shape shape{type, m.layers, m.hidden, m.heads, m.kv_heads, m.head_dim, m.context, layers};
  Params p = count_params(f, shape, m, out);
  m.params = p.total;
  m.active_params = p.active;

  try {
    model_validate(m);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }

  // Sources: where each figure came from, shown by `attnlab kv` and `attnlab models`.
  m.sources["architecture"] = fmt::format("config.json {}{}", path, type.empty() ? "" : fmt::format(" (model_type {})", type));
  m.sources["params"] = fmt::format("computed from the config: {}", p.rule);
  if (window > 0) m.sources["window"] = fmt::format("config.json {}: window {}", path, window);
  if (m.is_mla()) m.sources["mla"] = fmt::format("config.json {}: kv_lora_rank {}, qk_rope_head_dim {}", path, m.kv_lora_rank, m.rope_dim);
  m.sources["config: read"] = join(out.read, "; ");
  if (!out.defaulted.empty()) m.sources["config: defaulted"] = join(out.defaulted, "; ");
  if (!out.notes.empty()) m.sources["config: note"] = join(out.notes, "; ");
  return out;
}

std::string file_stem(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  if (stem == "config") {  // ".../Llama-2-7b-hf/config.json": the folder names the model
    std::string parent = std::filesystem::path(path).parent_path().filename().string();
    if (!parent.empty() && parent != "." && parent != "..") stem = parent;
  }
  return stem.empty() ? path : stem;
}
}  // namespace

HfConfigRead hf_config_parse(std::string_view text, const std::string& path, const std::string& name) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw InputError(fmt::format("{}: not valid JSON: {}", path, what));
  }
  try {
    return parse_hf_object(doc, path, name);
  } catch (const OverflowError& e) {
    throw InputError(fmt::format("{}: sizes too large to count: {}", path, e.what()));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: unexpected value: {}", path, e.what()));
  }
}

namespace {
std::string read_config_text(const std::string& path) {
  std::string text = file_read_text(path, "model config");
  if (text.size() > (16u << 20)) throw InputError(fmt::format("{}: larger than 16 MiB: not a config.json", path));
  return text;
}
}  // namespace

HfConfigRead hf_config_load(const std::string& path) { return hf_config_parse(read_config_text(path), path, file_stem(path)); }

bool hf_config_is_path(std::string_view arg) {
  if (arg.size() >= 5 && arg.substr(arg.size() - 5) == ".json") return true;
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(std::string(arg)), ec);
}

const ModelSpec& model_from_config_file(const std::string& path) {
  static std::map<std::string, std::unique_ptr<ModelSpec>> cache;
  auto it = cache.find(path);
  if (it == cache.end()) it = cache.emplace(path, std::make_unique<ModelSpec>(hf_config_load(path).spec)).first;
  return *it->second;
}

namespace {
std::deque<ModelSpec>& model_session() {
  static std::deque<ModelSpec> models;
  return models;
}
}  // namespace

const ModelSpec& model_session_add(std::string_view text, const std::string& label) {
  ModelSpec m = hf_config_parse(text, label, file_stem(label)).spec;
  for (auto& s : model_session())
    if (s.name == m.name) return s = std::move(m);
  return model_session().emplace_back(std::move(m));
}

const ModelSpec& model_session_add_file(const std::string& path) { return model_session_add(read_config_text(path), path); }

const std::deque<ModelSpec>& model_session_models() { return model_session(); }

}  // namespace attnlab
