// Model presets: the attention shape of real models (layers, heads, KV heads, head size, sliding
// windows, MLA latent sizes, Mamba layers) and their parameter counts, each with its source.
//
// The presets are data: assets/models.json, read once. A model can also be reshaped by overrides
// (--layers, --kv-heads, --window ...) so that a learner can ask "what if Llama 2 used MQA?".
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hw/dtype.hpp"
#include "util/checked.hpp"

namespace attnlab {

// Past these a model's size is a typo, not a model: the presets file and a Hugging Face config.json
// are held to the same limits.
inline constexpr u64 kMaxModelLayers = 65536, kMaxModelHeads = 65536, kMaxModelDim = 65536,
                     kMaxModelTokens = 1ull << 30;

// What one layer keeps per token. Patterns spell a model's layers with one letter each.
enum class LayerKind {
  global,  // 'G': attention over every earlier token: caches the whole sequence
  local,   // 'L': sliding-window attention: caches at most `window` tokens
  ssm,     // 'M': Mamba / SSM layer: no KV cache, a fixed state per sequence
};

// How the K/V heads relate to the query heads (derived from the shape, never stored).
enum class AttnKind { mha, gqa, mqa, mla };
std::string_view attn_kind_name(AttnKind k);  // "MHA", "GQA", "MQA", "MLA"

// The fixed per-sequence state of a Mamba layer (Jamba's config.json names).
struct SsmShape {
  u64 d_state = 0;  // SSM state size per channel
  u64 d_conv = 0;   // causal convolution width (its last inputs are kept)
  u64 expand = 0;   // inner width = expand * hidden
};

struct ModelSpec {
  std::string name;     // preset key, e.g. "llama-2-7b"
  std::string display;  // "Llama 2 7B"
  std::string kind;     // "decoder", "encoder", "hybrid"
  u64 layers = 0;
  u64 hidden = 0;
  u64 heads = 0;         // query heads
  u64 kv_heads = 0;      // K/V heads (== heads for MHA, 1 for MQA); for MLA the decompressed heads
  u64 head_dim = 0;      // d_h of K and V
  u64 context = 0;       // longest sequence the model was built for (tokens)
  std::string pattern = "G";  // layer kinds, repeated cyclically over the layers
  u64 window = 0;        // tokens a local ('L') layer caches; 0 = local layers cache everything
  u64 kv_lora_rank = 0;  // MLA: latent size d_c (0 = not MLA)
  u64 rope_dim = 0;      // MLA: decoupled RoPE key size d_h^R, cached once per token and layer
  std::optional<SsmShape> ssm;  // for 'M' layers
  u128 params = 0;              // total parameters (all experts)
  u128 active_params = 0;       // parameters used per token (MoE); 0 = same as params
  DType weight_dtype = DType::bf16;  // how the released weights are stored
  std::map<std::string, std::string> sources;  // "architecture", "params", "window", "mla", ...
  bool overridden = false;  // true once a user override changed a field

  bool is_mla() const { return kv_lora_rank > 0; }
  AttnKind attn_kind() const;
  LayerKind layer_kind(u64 layer) const;  // layer in [0, layers)
  u64 count_layers(LayerKind k) const;
  u64 attention_layers() const { return layers - count_layers(LayerKind::ssm); }
  // "all global", "all local (window 4096)", "1 local : 1 global (window 4096)", ...
  std::string pattern_summary() const;
};

// Where assets/models.json is looked for, in order: $ATTNLAB_MODELS (a file: used or refused, never
// skipped), the source tree the binary was built from, then next to the binary (./assets,
// ../assets, ../share/attnlab).
std::vector<std::string> model_preset_search_paths();
// Reads and checks a presets file. Throws InputError naming the file (and the model) on a missing
// file, bad JSON, a missing or negative field, or a shape that does not add up.
std::vector<ModelSpec> load_model_presets(const std::string& path);
// The presets from the first file found on the search path (loaded once). Throws InputError
// naming every path tried when none exists.
const std::vector<ModelSpec>& model_presets();
// The file model_presets() was read from.
const std::string& model_presets_path();
// Finds a preset by name (case-insensitive); throws InputError listing the known names.
const ModelSpec& model_find(std::string_view name);
std::string model_names();  // "gpt2-medium, llama-2-7b, ..."

// User overrides of any field; values are signed so that "-5" gets our message. A --window on a
// model without local layers makes every attention layer local; --window 0 makes local layers global.
struct ModelOverrides {
  std::optional<long long> layers, heads, kv_heads, head_dim, window, kv_lora_rank, rope_dim, context;
  std::optional<long long> params_b;  // billions
  std::optional<std::string> pattern;
};
ModelSpec model_apply_overrides(ModelSpec m, const ModelOverrides& o);
// Checks a shape: positive sizes, kv_heads divides heads, pattern letters... Throws InputError
// naming the option (`--kv-heads must divide --heads (32 heads, got 5 KV heads)`).
void model_validate(const ModelSpec& m);

}  // namespace attnlab
