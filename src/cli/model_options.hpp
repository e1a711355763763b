// The model options shared by `attnlab kv`, `attnlab ring` and `attnlab paged`: --model plus an
// override for every field of a preset (--layers --heads --kv-heads --head-dim --window ...).
#pragma once
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "models/hf_config.hpp"
#include "models/model_spec.hpp"

namespace attnlab::cli {

struct ModelCliOptions {
  std::string model;
  std::vector<std::string> configs;     // --config FILE (repeatable): Hugging Face config.json files
  CLI::Option* model_opt = nullptr;     // to tell a given --model from its default
  ModelOverrides overrides;
};

inline void add_model_options(CLI::App* cmd, ModelCliOptions& m, const std::string& default_model,
                              const char* model_help) {
  m.model = default_model;
  m.model_opt = cmd->add_option("--model", m.model, model_help)->default_val(default_model);
  cmd->add_option("--config", m.configs,
                  "A model's Hugging Face config.json, read as is (instead of --model, or beside it to compare; "
                  "repeatable). The sources list the fields read and defaulted");
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
  // --config alone replaces the default model; with a --model given, both are shown.
  if (!m.configs.empty() && m.model_opt && m.model_opt->count() == 0) out.clear();
  for (const auto& path : m.configs) out.push_back(model_apply_overrides(model_from_config_file(path), m.overrides));
  return out;
}

// "From <file>: read ...; defaulted ...; note ...": the lines `traffic` and `steps` print under a
// table built from a --config (kv and models show the same in their sources).
inline std::string config_summary(const ModelSpec& m, const std::string& used) {
  std::string out = fmt::format("\nModel from {}: {}.\n", m.sources.count("architecture") ? m.sources.at("architecture") : m.name, used);
  for (const char* key : {"config: read", "config: defaulted", "config: note"})
    if (m.sources.count(key)) out += fmt::format("  {}: {}\n", key + 8, m.sources.at(key));
  return out;
}

}  // namespace attnlab::cli
