// The model options shared by `attnlab kv`, `attnlab ring` and `attnlab paged`: --model plus an
// override for every field of a preset (--layers --heads --kv-heads --head-dim --window ...).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "models/model_spec.hpp"

namespace attnlab::cli {

struct ModelCliOptions {
  std::string model;
  ModelOverrides overrides;
};

inline void add_model_options(CLI::App* cmd, ModelCliOptions& m, const std::string& default_model,
                              const char* model_help) {
  m.model = default_model;
  cmd->add_option("--model", m.model, model_help)->default_val(default_model);
  auto& o = m.overrides;
  cmd->add_option("--layers", o.layers, "Override: number of layers");
  cmd->add_option("--heads", o.heads, "Override: query heads (an MHA model stays MHA unless --kv-heads is given)");
  cmd->add_option("--kv-heads", o.kv_heads, "Override: K/V heads (must divide --heads; 1 = MQA)");
  cmd->add_option("--head-dim", o.head_dim, "Override: size of one head (d_h)");
  cmd->add_option("--window", o.window,
                  "Override: sliding window of local layers, tokens (0 = none; on a model without local "
                  "layers, makes every attention layer local)");
  cmd->add_option("--kv-lora-rank", o.kv_lora_rank, "Override: MLA latent size d_c (0 turns MLA off)");
  cmd->add_option("--rope-dim", o.rope_dim, "Override: MLA decoupled RoPE key size d_h^R");
  cmd->add_option("--context", o.context, "Override: the model's context length, tokens");
  cmd->add_option("--pattern", o.pattern,
                  "Override: layer kinds repeated over the layers: G global, L local (window), M Mamba; e.g. LG");
  cmd->add_option("--params", o.params_b, "Override: parameters, in billions (for the weights' memory)");
}

// Splits "a,b,c" and resolves each name with the overrides applied.
inline std::vector<ModelSpec> resolve_models(const ModelCliOptions& m) {
  std::vector<ModelSpec> out;
  size_t start = 0;
  while (start <= m.model.size()) {
    size_t end = m.model.find(',', start);
    if (end == std::string::npos) end = m.model.size();
    std::string name = m.model.substr(start, end - start);
    if (name.empty()) throw InputError("--model: empty model name (use NAME or NAME,NAME,...)");
    out.push_back(model_apply_overrides(model_find(name), m.overrides));
    start = end + 1;
  }
  return out;
}

}  // namespace attnlab::cli
