// Reading assets/models.json into ModelSpec, checking every field, and reshaping a model with user
// overrides. The file is data so that a teacher can add a model without a compiler; every check
// below names the file and the model so that a typo is found in one reading.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "models/hf_config.hpp"
#include "models/model_spec.hpp"
#include "util/json_read.hpp"
#include "util/text.hpp"

#ifndef ATTNLAB_SOURCE_ROOT
#define ATTNLAB_SOURCE_ROOT "."
#endif

namespace attnlab {

namespace {

LayerKind kind_of_letter(char c) {
  if (c == 'L') return LayerKind::local;
  if (c == 'M') return LayerKind::ssm;
  return LayerKind::global;
}

// Mamba's defaults (Gu & Dao 2023, arXiv 2312.00752: d_state 16, d_conv 4, expand 2), used when a
// user turns layers into 'M' on a model whose preset has no SSM shape.
constexpr SsmShape mamba_default_shape{16, 4, 2};

// ---- JSON reading (util/json_read: null is absent, counts are integers) ------------------------
// A problem with the model as a whole (not one field): "models.json: models[2] (llama-2-13b): ...".
[[noreturn]] void model_fail(const JsonNode& o, std::string_view what) {
  throw InputError(fmt::format("{}: {}: {}", o.origin(), o.path(), what));
}

ModelSpec read_model(const JsonNode& o) {
  static const std::vector<std::string> known = {
      "name", "display", "kind", "layers", "hidden", "heads", "kv_heads", "head_dim", "context", "pattern",
      "window", "kv_lora_rank", "rope_dim", "ssm", "params", "active_params", "weight_dtype", "sources"};
  if (!o.is_object()) o.fail("must be an object");
  for (const std::string& key : o.keys())
    if (std::find(known.begin(), known.end(), key) == known.end()) model_fail(o, fmt::format("unknown field '{}'", key));
  auto optional = [&](const char* key, u64 max) { return o.has(key) ? o.at(key).count_in(0, max) : 0; };

  ModelSpec m;
  m.name = o.at("name").str();
  m.display = o.at("display").str();
  m.kind = o.at("kind").str();
  if (m.kind != "decoder" && m.kind != "encoder" && m.kind != "hybrid")
    o.at("kind").fail(fmt::format("must be decoder, encoder or hybrid (got '{}')", m.kind));
  m.layers = o.at("layers").count_in(1, kMaxModelLayers);
  m.hidden = o.at("hidden").count_in(1, 1u << 24);
  m.heads = o.at("heads").count_in(1, kMaxModelHeads);
  m.kv_heads = o.at("kv_heads").count_in(1, kMaxModelHeads);
  m.head_dim = o.at("head_dim").count_in(1, kMaxModelDim);
  m.context = o.at("context").count_in(1, kMaxModelTokens);
  m.window = optional("window", kMaxModelTokens);
  m.kv_lora_rank = optional("kv_lora_rank", kMaxModelDim);
  m.rope_dim = optional("rope_dim", kMaxModelDim);
  m.params = o.at("params").count_or_zero();
  m.active_params = optional("active_params", ~u64{0});
  if (o.has("pattern")) m.pattern = o.at("pattern").str();
  if (o.has("weight_dtype")) {
    const JsonNode wd = o.at("weight_dtype");
    try {
      m.weight_dtype = parse_dtype(wd.str(), "weight_dtype", {DType::fp32, DType::fp16, DType::bf16, DType::fp8, DType::int4});
    } catch (const InputError& e) {
      model_fail(o, e.what());
    }
  }
  if (o.has("ssm")) {
    const JsonNode s = o.at("ssm");
    if (!s.is_object()) s.fail("must be an object {d_state, d_conv, expand}");
    m.ssm = SsmShape{s.at("d_state").count_in(1, kMaxModelDim), s.at("d_conv").count_in(1, kMaxModelDim),
                     s.at("expand").count_in(1, 64)};
  }
  const JsonNode sources = o.at("sources");
  for (const std::string& key : sources.keys()) {
    const std::string v = sources.at(key).str();
    if (v.empty()) sources.at(key).fail("must be a non-empty string");
    m.sources[key] = v;
  }
  for (const char* need : {"architecture", "params"})
    if (!m.sources.count(need)) model_fail(o, fmt::format("missing source '{}'", need));
  if (m.pattern.find('L') != std::string::npos && m.window > 0 && !m.sources.count("window"))
    model_fail(o, "a model with local layers needs a source 'window'");
  if (m.is_mla() && !m.sources.count("mla")) model_fail(o, "an MLA model needs a source 'mla'");
  if (m.pattern.find('M') != std::string::npos && !m.ssm) model_fail(o, "a model with 'M' layers needs 'ssm'");
  try {
    model_validate(m);
  } catch (const InputError& e) {
    model_fail(o, e.what());
  }
  return m;
}

std::string exe_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.parent_path().string();
}

struct Loaded {
  std::vector<ModelSpec> models;
  std::string path;
};

const Loaded& loaded() {
  static const Loaded l = [] {
    // A file named by the user is used or refused, never silently replaced by another one.
    if (const char* env = std::getenv("ATTNLAB_MODELS"); env && *env) return Loaded{load_model_presets(env), env};
    std::string tried;
    for (const auto& p : model_preset_search_paths()) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(p, ec)) return Loaded{load_model_presets(p), p};
      tried += (tried.empty() ? "" : ", ") + p;
    }
    throw InputError(fmt::format("model presets file models.json not found (tried {}); set ATTNLAB_MODELS to its path",
                                 tried));
  }();
  return l;
}
}  // namespace

std::string_view attn_kind_name(AttnKind k) {
  switch (k) {
    case AttnKind::mha: return "MHA";
    case AttnKind::gqa: return "GQA";
    case AttnKind::mqa: return "MQA";
    case AttnKind::mla: return "MLA";
  }
  return "?";
}

AttnKind ModelSpec::attn_kind() const {
  if (is_mla()) return AttnKind::mla;
  if (kv_heads == heads) return AttnKind::mha;
  if (kv_heads == 1) return AttnKind::mqa;
  return AttnKind::gqa;
}

LayerKind ModelSpec::layer_kind(u64 layer) const {
  LayerKind k = kind_of_letter(pattern[layer % pattern.size()]);
  // A local layer without a window caches everything: it is a global layer for the cache.
  if (k == LayerKind::local && window == 0) return LayerKind::global;
  return k;
}

u64 ModelSpec::count_layers(LayerKind k) const {
  u64 n = 0;
  for (u64 l = 0; l < layers; ++l) n += layer_kind(l) == k;
  return n;
}

std::string ModelSpec::pattern_summary() const {
  u64 g = count_layers(LayerKind::global), l = count_layers(LayerKind::local), s = count_layers(LayerKind::ssm);
  if (l == 0 && s == 0) return "all global";
  if (g == 0 && s == 0) return fmt::format("all local (window {})", window);
  std::string out;
  auto add = [&](u64 n, const char* what) {
    if (n == 0) return;
    if (!out.empty()) out += " + ";
    out += fmt::format("{} {}", n, what);
  };
  add(g, "global");
  add(l, fmt::format("local (window {})", window).c_str());
  add(s, "Mamba");
  return out;
}

std::vector<std::string> model_preset_search_paths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("ATTNLAB_MODELS"); env && *env) paths.emplace_back(env);
  // fmt, not operator+: GCC 12 at -O3 reports a false -Warray-bounds on the concatenation.
  paths.push_back(fmt::format("{}/assets/models.json", ATTNLAB_SOURCE_ROOT));
  std::string dir = exe_dir();
  if (!dir.empty()) {
    paths.push_back(dir + "/assets/models.json");
    paths.push_back(dir + "/../assets/models.json");
    paths.push_back(dir + "/../share/attnlab/models.json");
  }
  return paths;
}

std::vector<ModelSpec> load_model_presets(const std::string& path) {
  const JsonDoc doc = json_parse(file_read_text(path, "model presets file"), path);
  const JsonNode root = doc.root();
  if (!root.is_object()) root.fail("must be an object with an array 'models'");
  const std::vector<JsonNode> items = root.at("models").items();
  if (items.empty()) root.at("models").fail("is empty");
  std::vector<ModelSpec> models;
  for (const JsonNode& item : items) {
    // The name in every message about the model, when it has one: a teacher looks for it by name.
    const std::string name = item.has("name") ? item.at("name").str() : "?";
    const JsonNode o = item.renamed(fmt::format("{} ({})", item.path(), name));
    ModelSpec m = read_model(o);
    for (const auto& prev : models)
      if (lower(prev.name) == lower(m.name)) model_fail(o, fmt::format("duplicate name '{}'", m.name));
    models.push_back(std::move(m));
  }
  return models;
}

const std::vector<ModelSpec>& model_presets() { return loaded().models; }
const std::string& model_presets_path() { return loaded().path; }

std::string model_names() {
  std::string names;
  for (const auto& m : model_presets()) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

const ModelSpec& model_find(std::string_view name) {
  std::string key = lower(name);
  for (const auto& m : model_presets())
    if (lower(m.name) == key) return m;
  // A model the session opened (dashboard), then a config.json named by its path.
  for (const auto& m : model_session_models())
    if (lower(m.name) == key) return m;
  if (hf_config_is_path(name)) return model_from_config_file(std::string(name));
  throw InputError(fmt::format("--model: unknown model '{}' (known: {}), or the path of a config.json", name, model_names()));
}

void model_validate(const ModelSpec& m) {
  auto range = [](u64 v, const char* opt, u64 lo, u64 hi) {
    if (v < lo || v > hi) throw InputError(fmt::format("{} must be between {} and {} (got {})", opt, lo, hi, v));
  };
  range(m.layers, "--layers", 1, kMaxModelLayers);
  range(m.heads, "--heads", 1, kMaxModelHeads);
  range(m.kv_heads, "--kv-heads", 1, kMaxModelHeads);
  range(m.head_dim, "--head-dim", 1, kMaxModelDim);
  range(m.context, "--context", 1, kMaxModelTokens);
  range(m.window, "--window", 0, kMaxModelTokens);
  range(m.kv_lora_rank, "--kv-lora-rank", 0, kMaxModelDim);
  range(m.rope_dim, "--rope-dim", 0, kMaxModelDim);
  if (m.kv_heads > m.heads || m.heads % m.kv_heads != 0)
    throw InputError(fmt::format("--kv-heads must divide --heads ({} heads, got {} KV heads)", m.heads, m.kv_heads));
  if (m.rope_dim > 0 && m.kv_lora_rank == 0)
    throw InputError(fmt::format("--rope-dim needs an MLA model (--kv-lora-rank > 0; got rope dim {})", m.rope_dim));
  if (m.pattern.empty() || m.pattern.size() > 1024 ||
      m.pattern.find_first_not_of("GLM") != std::string::npos)
    throw InputError(fmt::format("--pattern must be 1 to 1024 letters G (global), L (local), M (Mamba) (got '{}')",
                                 m.pattern));
}

ModelSpec model_apply_overrides(ModelSpec m, const ModelOverrides& o) {
  auto take = [&](const std::optional<long long>& v, const char* opt, long long lo, long long hi, u64& field) {
    if (!v) return;
    if (*v < lo || *v > hi) throw InputError(fmt::format("{} must be between {} and {} (got {})", opt, lo, hi, *v));
    field = static_cast<u64>(*v);
    m.overridden = true;
  };
  // Changing the heads of an MHA (or MLA) model without naming its K/V heads keeps it MHA.
  const bool keep_mha = m.kv_heads == m.heads && o.heads && !o.kv_heads;
  take(o.layers, "--layers", 1, kMaxModelLayers, m.layers);
  take(o.heads, "--heads", 1, kMaxModelHeads, m.heads);
  take(o.kv_heads, "--kv-heads", 1, kMaxModelHeads, m.kv_heads);
  take(o.head_dim, "--head-dim", 1, kMaxModelDim, m.head_dim);
  take(o.context, "--context", 1, kMaxModelTokens, m.context);
  take(o.kv_lora_rank, "--kv-lora-rank", 0, kMaxModelDim, m.kv_lora_rank);
  take(o.rope_dim, "--rope-dim", 0, kMaxModelDim, m.rope_dim);
  if (keep_mha) m.kv_heads = m.heads;
  if (o.pattern) {
    m.pattern = *o.pattern;
    m.overridden = true;
  }
  if (o.window) {
    take(o.window, "--window", 0, kMaxModelTokens, m.window);
    // A window on a model without local layers: make every attention layer local.
    if (m.window > 0 && !o.pattern && m.pattern.find('L') == std::string::npos) {
      for (char& c : m.pattern)
        if (c == 'G') c = 'L';
    }
  }
  if (o.kv_lora_rank && *o.kv_lora_rank == 0) m.rope_dim = 0;  // turning MLA off drops its RoPE key
  // An MLA model caches its latent, whatever its K/V heads: a --kv-heads there would change nothing
  // and the user would believe the figures answered the question.
  if (o.kv_heads && m.is_mla())
    throw InputError(fmt::format("--kv-heads does not change the cache of an MLA model ({} caches a latent of {} + "
                                 "RoPE key of {} values, not K/V heads); add --kv-lora-rank 0 to turn MLA off",
                                 m.name, m.kv_lora_rank, m.rope_dim));
  if (o.params_b) {
    if (*o.params_b < 0 || *o.params_b > 1e6)
      throw InputError(fmt::format("--params must be between 0 and 1000000 billion (got {})", *o.params_b));
    m.params = static_cast<u128>(std::llround(*o.params_b * 1e9));
    m.active_params = 0;
    m.overridden = true;
  }
  if (m.pattern.find('M') != std::string::npos && !m.ssm) m.ssm = mamba_default_shape;
  model_validate(m);
  return m;
}

}  // namespace attnlab
