#include "models/kv_cache.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace attnlab {

namespace {

// GQA what-if: the largest divisor of `heads` in 2..8 that is below `heads` (8 groups is the
// Llama 2/3 choice; smaller models fall back to what divides). 0 = none (a prime head count).
u64 gqa_groups_for(u64 heads) {
  for (u64 g = std::min<u64>(8, heads - 1); g >= 2; --g)
    if (heads % g == 0) return g;
  return 0;
}
}  // namespace

u64 kv_elems_per_token_layer(const ModelSpec& m) {
  if (m.is_mla()) return m.kv_lora_rank + m.rope_dim;
  return 2 * m.kv_heads * m.head_dim;  // both below 2^16: no overflow in 64 bits
}

u64 ssm_elems_per_layer(const ModelSpec& m) {
  if (!m.ssm || m.count_layers(LayerKind::ssm) == 0) return 0;
  return to_u64(cprod("Mamba state", m.ssm->expand, m.hidden, m.ssm->d_state + m.ssm->d_conv), "Mamba state");
}

KvResult kv_cache_size(const ModelSpec& m, DType dtype, u64 seq, u64 batch) {
  KvResult r;
  r.dtype = dtype;
  r.seq = seq;
  r.batch = batch;
  const u128 bits = dtype_bits(dtype);
  r.elems_per_token_layer = kv_elems_per_token_layer(m);
  const u128 bits_token_layer = cmul(r.elems_per_token_layer, bits, "KV bits per token");
  r.bytes_per_token_layer = bits_to_bytes(bits_token_layer);
  r.attention_layers = m.attention_layers();
  r.bytes_per_token = bits_to_bytes(cmul(bits_token_layer, r.attention_layers, "KV bytes per token"));

  u128 kv_bits = 0;
  for (LayerKind k : {LayerKind::global, LayerKind::local, LayerKind::ssm}) {
    u64 n = m.count_layers(k);
    if (n == 0) continue;
    KvLayerGroup g{k, n};
    u128 group_bits = 0;
    if (k == LayerKind::global) {
      g.tokens_cached = seq;
    } else if (k == LayerKind::local) {
      g.window = m.window;
      g.tokens_cached = std::min(seq, m.window);  // the rolling buffer never holds more than W tokens
    }
    if (k == LayerKind::ssm) {
      group_bits = cprod("Mamba state bits", ssm_elems_per_layer(m), bits, n);
      r.ssm_bytes_per_seq = bits_to_bytes(group_bits);
    } else {
      r.cached_token_layers = cadd(r.cached_token_layers, cmul(g.tokens_cached, n), "cached tokens");
      group_bits = cprod("KV bits per sequence", bits_token_layer, g.tokens_cached, n);
      kv_bits = cadd(kv_bits, group_bits, "KV bits per sequence");
    }
    g.bytes_per_seq = bits_to_bytes(group_bits);
    r.groups.push_back(g);
  }
  r.kv_bytes_per_seq = bits_to_bytes(kv_bits);
  r.bytes_per_seq = cadd(r.kv_bytes_per_seq, r.ssm_bytes_per_seq, "cache bytes per sequence");
  r.bytes_total = cmul(r.bytes_per_seq, batch, "cache bytes for the batch");
  return r;
}

std::vector<KvVariant> kv_what_if(const ModelSpec& m, DType dtype, u64 seq, u64 batch) {
  std::vector<KvVariant> out;
  const AttnKind own = m.attn_kind();
  auto add = [&](AttnKind kind, ModelSpec s, std::string label, std::string note) {
    KvVariant v{kind, kind == own, true, std::move(label), std::move(note), std::move(s), {}};
    v.kv = kv_cache_size(v.spec, dtype, seq, batch);
    out.push_back(std::move(v));
  };
  ModelSpec base = m;
  base.kv_lora_rank = 0;
  base.rope_dim = 0;

  ModelSpec mha = base;
  mha.kv_heads = m.heads;
  add(AttnKind::mha, mha, "MHA", fmt::format("{} K/V heads, one per query head", m.heads));

  u64 groups = own == AttnKind::gqa ? m.kv_heads : gqa_groups_for(m.heads);
  if (groups == 0) {
    KvVariant v{AttnKind::gqa, false, false, "GQA", fmt::format("no GQA: {} heads has no divisor in 2..8", m.heads),
                base, {}};
    out.push_back(std::move(v));
  } else {
    ModelSpec gqa = base;
    gqa.kv_heads = groups;
    add(AttnKind::gqa, gqa, fmt::format("GQA-{}", groups),
        fmt::format("{} K/V heads, each shared by {} query heads", groups, m.heads / groups));
  }

  ModelSpec mqa = base;
  mqa.kv_heads = 1;
  add(AttnKind::mqa, mqa, "MQA", "1 K/V head shared by all query heads");

  ModelSpec mla = m;
  mla.kv_heads = m.heads;
  std::string note = "latent + RoPE key of the model";
  if (!m.is_mla()) {
    mla.kv_lora_rank = 4 * m.head_dim;
    mla.rope_dim = std::max<u64>(1, m.head_dim / 2);
    note = "DeepSeek-V2 ratios: latent 4 d_h, RoPE key d_h/2";
  }
  add(AttnKind::mla, mla, fmt::format("MLA-{}+{}", mla.kv_lora_rank, mla.rope_dim), note);
  return out;
}

u128 weight_bytes(const ModelSpec& m, DType weight_dtype) {
  return ceil_div(cmul(m.params, dtype_bits(weight_dtype), "weight bits"), 8);
}

KvFit kv_fit(const ModelSpec& m, const KvResult& kv, u128 gpu_memory_bytes, u64 gpu_count, DType weight_dtype) {
  KvFit f;
  f.memory_bytes = cmul(gpu_memory_bytes, gpu_count, "GPU memory");
  f.weight_bytes = weight_bytes(m, weight_dtype);
  f.weights_fit = f.weight_bytes <= f.memory_bytes;
  f.free_bytes = f.weights_fit ? f.memory_bytes - f.weight_bytes : 0;
  f.seqs_fit = kv.bytes_per_seq == 0 ? 0 : f.free_bytes / kv.bytes_per_seq;
  f.gpus_for_weights = gpu_memory_bytes == 0 ? 0 : to_u64(ceil_div(f.weight_bytes, gpu_memory_bytes), "GPUs");
  return f;
}

}  // namespace attnlab
