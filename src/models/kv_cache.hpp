// KV-cache size: how many bytes a model keeps per token, per layer, per sequence and per batch,
// for MHA / GQA / MQA (2 x kv_heads x head_dim per token and layer), MLA (the latent plus one RoPE
// key), sliding-window layers (capped at the window) and Mamba layers (a fixed state instead).
// Every KV byte count in attnlab is computed here.
#pragma once
#include <string>
#include <vector>

#include "hw/dtype.hpp"
#include "models/model_spec.hpp"
#include "util/checked.hpp"

namespace attnlab {

// Values one attention layer caches per token: 2*kv_heads*head_dim (K and V), or for MLA
// kv_lora_rank + rope_dim (DeepSeek-V2 section 2.1: the latent c_KV and the decoupled key k^R).
u64 kv_elems_per_token_layer(const ModelSpec& m);
// Values one Mamba layer keeps per sequence: expand*hidden*(d_state + d_conv). 0 without 'M' layers.
u64 ssm_elems_per_layer(const ModelSpec& m);

// The layers of one kind and what they cache at the asked length.
struct KvLayerGroup {
  LayerKind kind;
  u64 layers = 0;
  u64 window = 0;         // local layers: the window; 0 otherwise
  u64 tokens_cached = 0;  // per layer and sequence: min(seq, window) for local layers, seq for global
  u128 bytes_per_seq = 0; // all layers of the group, one sequence
};

struct KvResult {
  DType dtype = DType::fp16;
  u64 seq = 0, batch = 0;
  u64 elems_per_token_layer = 0;
  u128 bytes_per_token_layer = 0;  // one attention layer, one token (rounded up to a byte for int4)
  u64 attention_layers = 0;
  u128 bytes_per_token = 0;        // all attention layers, one token, before any window is full
  u128 cached_token_layers = 0;    // sum over attention layers of the tokens each caches
  u128 kv_bytes_per_seq = 0;       // KV of one sequence of `seq` tokens (windows capped)
  u128 ssm_bytes_per_seq = 0;      // Mamba state of one sequence (independent of seq)
  u128 bytes_per_seq = 0;          // kv + ssm
  u128 bytes_total = 0;            // bytes_per_seq * batch
  std::vector<KvLayerGroup> groups;
};

// Exact sizes in bits, rounded up to bytes once per figure. Throws OverflowError past 128 bits.
KvResult kv_cache_size(const ModelSpec& m, DType dtype, u64 seq, u64 batch);

// The same model with another attention kind (what-if). MHA: kv_heads = heads; GQA: the model's
// groups if it has them, else the largest divisor of heads in 2..8; MQA: one K/V head; MLA: the
// model's latent if it has one, else DeepSeek-V2's ratios d_c = 4 d_h, d_h^R = d_h / 2.
struct KvVariant {
  AttnKind kind;
  bool is_model = false;  // the model's own attention
  bool possible = true;   // false: no such variant (GQA with a prime number of heads)
  std::string label;      // "GQA-8", "MLA-512+64", "MHA"
  std::string note;       // why impossible, or how the variant was chosen
  ModelSpec spec;
  KvResult kv;
};
std::vector<KvVariant> kv_what_if(const ModelSpec& m, DType dtype, u64 seq, u64 batch);

// What fits in a GPU's memory (or several GPUs' together) after the weights.
struct KvFit {
  u128 memory_bytes = 0;   // capacity of all GPUs counted
  u128 weight_bytes = 0;   // params * weight bits / 8
  bool weights_fit = false;
  u128 free_bytes = 0;     // memory - weights (0 when the weights do not fit)
  u128 seqs_fit = 0;       // whole sequences of kv.seq tokens that fit in free_bytes
  u64 gpus_for_weights = 0;  // GPUs of this size needed just to hold the weights
};
KvFit kv_fit(const ModelSpec& m, const KvResult& kv, u128 gpu_memory_bytes, u64 gpu_count, DType weight_dtype);
u128 weight_bytes(const ModelSpec& m, DType weight_dtype);

}  // namespace attnlab
