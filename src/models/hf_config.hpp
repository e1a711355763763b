// A model's own Hugging Face config.json read as is, into the same ModelSpec the presets give.
//
// Users ask "what about MY model?" far more than about our presets, and the models that other
// calculators get wrong are the ones whose cache is not 2 x heads x head_dim per layer: GQA, MQA
// (Falcon's multi_query), MLA (DeepSeek's kv_lora_rank), sliding windows (Mistral), alternating
// local/global layers (Gemma 2/3, ModernBERT) and Mamba hybrids (Jamba). Each of those has its own
// field names; this file maps them in one place. What the file does not say is defaulted and said
// so: the spec's sources list every field read, every default and every note, so that `attnlab kv`
// and `attnlab models` show where each figure came from.
#pragma once
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "models/model_spec.hpp"

namespace attnlab {

struct HfConfigRead {
  ModelSpec spec;
  std::vector<std::string> read;       // "num_hidden_layers 32", "sliding_window 4096"
  std::vector<std::string> defaulted;  // "num_key_value_heads = num_attention_heads (32): MHA"
  std::vector<std::string> notes;      // "model_type 'foo' is not known: standard fields only"
};

// Parses the text of a config.json. `path` names the file in every error, which is one line:
// "<path>: field 'num_attention_heads': missing (the query head count)". Throws InputError on bad
// JSON, a missing or mistyped field, a size out of range, heads not divisible by KV heads.
// `name` is the spec's name (the file's stem when read from a file).
HfConfigRead hf_config_parse(std::string_view text, const std::string& path, const std::string& name);
// Reads and parses a file.
HfConfigRead hf_config_load(const std::string& path);

// True when a --model / --config value names a file rather than a preset: it ends in ".json" or
// is an existing regular file.
bool hf_config_is_path(std::string_view arg);

// The spec read from a file, cached for the process (so that references stay valid, like presets).
const ModelSpec& model_from_config_file(const std::string& path);

// Models a session added (the dashboard's "Open a model config..."): shown after the presets in
// every model picker. model_session_add parses `text` (a config.json's contents; `label` names it
// in errors and becomes the model's name) and returns the stored spec; a second model of the same
// name replaces the first.
const ModelSpec& model_session_add(std::string_view text, const std::string& label);
// The same for a file: InputError naming the file when it cannot be read or parsed.
const ModelSpec& model_session_add_file(const std::string& path);
const std::deque<ModelSpec>& model_session_models();

}  // namespace attnlab
