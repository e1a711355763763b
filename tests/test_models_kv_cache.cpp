// KV-cache sizes worked out by hand: 2 (K and V) x kv_heads x head_dim x layers x bytes per value,
// and the paper figures they reproduce.
#include <doctest/doctest.h>

#include "hw/gpu.hpp"
#include "models/kv_cache.hpp"

using namespace attnlab;

namespace {
u128 per_token(const char* name, DType t = DType::fp16) {
  const ModelSpec& m = model_find(name);
  return kv_cache_size(m, t, m.context, 1).bytes_per_token;
}
constexpr u128 KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
}  // namespace

TEST_CASE("bytes per token of every preset at fp16") {
  SUBCASE("Llama 2 7B: 2 x 32 x 128 x 32 layers x 2 bytes = 512 KiB (the figure everyone quotes)") {
    const ModelSpec& m = model_find("llama-2-7b");
    KvResult kv = kv_cache_size(m, DType::fp16, 4096, 1);
    CHECK(kv.elems_per_token_layer == 8192);
    CHECK(kv.bytes_per_token_layer == 16384);
    CHECK(kv.bytes_per_token == 512 * KiB);
    CHECK(kv.bytes_per_seq == 2 * GiB);
    CHECK(kv.bytes_total == 2 * GiB);
  }
  SUBCASE("Llama 2 13B: 800 KB per token (vLLM paper, section 3: 2 x 5120 x 40 x 2)") {
    CHECK(per_token("llama-2-13b") == 819200);
  }
  SUBCASE("GQA models: 2 x 8 KV heads x 128 x layers x 2") {
    CHECK(per_token("llama-2-70b") == 327680);     // 320 KiB
    CHECK(per_token("llama-3-8b") == 131072);      // 128 KiB
    CHECK(per_token("llama-3-70b") == 327680);
    CHECK(per_token("llama-3.1-405b") == 516096);  // 126 layers
    CHECK(per_token("mistral-7b") == 131072);
    CHECK(per_token("mixtral-8x7b") == 131072);
    CHECK(per_token("falcon-40b") == 122880);      // 2 x 8 x 64 x 60 x 2
    CHECK(per_token("gemma-2-9b") == 344064);      // 2 x 8 x 256 x 42 x 2
    CHECK(per_token("qwen2.5-7b") == 57344);       // 2 x 4 x 128 x 28 x 2
  }
  SUBCASE("MHA and MQA") {
    CHECK(per_token("gpt2-medium") == 98304);      // 2 x 16 x 64 x 24 x 2
    CHECK(per_token("falcon-7b") == 8192);         // 2 x 1 x 64 x 32 x 2: MQA
    CHECK(per_token("modernbert-base") == 67584);  // 2 x 12 x 64 x 22 x 2
    CHECK(per_token("modernbert-large") == 114688);
  }
  SUBCASE("MLA caches latent + RoPE key: (512 + 64) x layers x 2") {
    const ModelSpec& m = model_find("deepseek-v2");
    KvResult kv = kv_cache_size(m, DType::fp16, 1, 1);
    CHECK(kv.elems_per_token_layer == 576);
    CHECK(kv.bytes_per_token == 69120);  // 67.5 KiB
    CHECK(per_token("deepseek-v3") == 70272);
  }
  SUBCASE("Jamba: only the 4 attention layers keep a cache") {
    CHECK(per_token("jamba") == 16384);
  }
}

TEST_CASE("dtypes: int4 is half a byte, counted exactly") {
  const ModelSpec& m = model_find("llama-2-7b");
  CHECK(kv_cache_size(m, DType::fp32, 1, 1).bytes_per_token == 1024 * KiB);
  CHECK(kv_cache_size(m, DType::bf16, 1, 1).bytes_per_token == 512 * KiB);
  CHECK(kv_cache_size(m, DType::fp8, 1, 1).bytes_per_token == 256 * KiB);
  CHECK(kv_cache_size(m, DType::int4, 1, 1).bytes_per_token == 128 * KiB);
  CHECK(kv_cache_size(m, DType::int4, 1, 1).bytes_per_token_layer == 4096);
}

TEST_CASE("sequences, batches, windows and Mamba state") {
  SUBCASE("batch multiplies: Llama 2 7B, 8 x 4096 tokens = 16 GiB") {
    CHECK(kv_cache_size(model_find("llama-2-7b"), DType::fp16, 4096, 8).bytes_total == 16 * GiB);
  }
  SUBCASE("Mistral's rolling buffer: 8x less cache at 32k tokens (Mistral 7B paper, section 2)") {
    const ModelSpec& m = model_find("mistral-7b");
    KvResult capped = kv_cache_size(m, DType::fp16, 32768, 1);
    CHECK(capped.bytes_per_seq == 512 * MiB);  // 32 layers x 4096 tokens x 4 KiB
    ModelOverrides o;
    o.window = 0;
    KvResult full = kv_cache_size(model_apply_overrides(m, o), DType::fp16, 32768, 1);
    CHECK(full.bytes_per_seq == 4 * GiB);
    CHECK(full.bytes_per_seq / capped.bytes_per_seq == 8);
    // Below the window nothing is capped.
    CHECK(kv_cache_size(m, DType::fp16, 1000, 1).bytes_per_seq == 1000 * 128 * KiB);
  }
  SUBCASE("Gemma 2 9B at 8192: 21 global layers x 8192 + 21 local x 4096, 8 KiB each") {
    KvResult kv = kv_cache_size(model_find("gemma-2-9b"), DType::fp16, 8192, 1);
    CHECK(kv.bytes_per_seq == 2113929216ull);
    REQUIRE(kv.groups.size() == 2);
    CHECK(kv.groups[0].kind == LayerKind::global);
    CHECK(kv.groups[0].bytes_per_seq == 1409286144ull);
    CHECK(kv.groups[1].tokens_cached == 4096);
    CHECK(kv.groups[1].bytes_per_seq == 704643072ull);
  }
  SUBCASE("ModernBERT-base at 8192: 8 global layers x 8192 + 14 local x 128, 3 KiB each") {
    KvResult kv = kv_cache_size(model_find("modernbert-base"), DType::fp16, 8192, 1);
    CHECK(kv.bytes_per_seq == 206831616ull);
    CHECK(kv.cached_token_layers == 8 * 8192 + 14 * 128);
  }
  SUBCASE("Jamba Table 1 (arXiv 2403.19887): 4GB vs Mixtral 32GB vs Llama-2 7B 128GB at 256K, 16-bit") {
    const u64 n = 262144;
    CHECK(kv_cache_size(model_find("jamba"), DType::fp16, n, 1).kv_bytes_per_seq == 4 * GiB);
    CHECK(kv_cache_size(model_find("mixtral-8x7b"), DType::fp16, n, 1).bytes_per_seq == 32 * GiB);
    CHECK(kv_cache_size(model_find("llama-2-7b"), DType::fp16, n, 1).bytes_per_seq == 128 * GiB);
    // Jamba's Mamba layers add a fixed 28 x 2 x 4096 x (16 + 4) values = 8.75 MiB per sequence.
    KvResult j = kv_cache_size(model_find("jamba"), DType::fp16, n, 1);
    CHECK(ssm_elems_per_layer(model_find("jamba")) == 163840);
    CHECK(j.ssm_bytes_per_seq == 9175040);
    CHECK(j.bytes_per_seq == 4 * GiB + 9175040);
    CHECK(kv_cache_size(model_find("jamba"), DType::fp16, 10, 1).ssm_bytes_per_seq == 9175040);
  }
  SUBCASE("a hand-made hybrid: L G M L G M, window 32, 2 KV heads of 16") {
    ModelSpec tiny = load_model_presets(std::string(ATTNLAB_TEST_DATA) + "/models_tiny.json").at(0);
    KvResult kv = kv_cache_size(tiny, DType::fp16, 100, 3);
    CHECK(kv.bytes_per_token_layer == 128);
    CHECK(kv.bytes_per_token == 512);
    CHECK(kv.kv_bytes_per_seq == 33792);  // 2 x 100 x 128 + 2 x 32 x 128
    CHECK(kv.ssm_bytes_per_seq == 6144);  // 2 layers x 2 x 64 x (8 + 4) x 2 bytes
    CHECK(kv.bytes_per_seq == 39936);
    CHECK(kv.bytes_total == 119808);
    CHECK(kv_cache_size(tiny, DType::fp16, 20, 1).bytes_per_seq == 5120 + 5120 + 6144);
    KvResult q = kv_cache_size(tiny, DType::int4, 100, 1);
    CHECK(q.kv_bytes_per_seq == 8448);
    CHECK(q.ssm_bytes_per_seq == 1536);
  }
}

TEST_CASE("what-if: the same model as MHA / GQA / MQA / MLA") {
  SUBCASE("Llama 2 7B") {
    auto v = kv_what_if(model_find("llama-2-7b"), DType::fp16, 4096, 1);
    REQUIRE(v.size() == 4);
    CHECK(v[0].label == "MHA");
    CHECK(v[0].is_model);
    CHECK(v[0].kv.bytes_per_token == 524288);
    CHECK(v[1].label == "GQA-8");
    CHECK(v[1].kv.bytes_per_token == 131072);
    CHECK(v[2].kv.bytes_per_token == 16384);
    CHECK(v[3].label == "MLA-512+64");  // DeepSeek-V2's ratios for d_h = 128
    CHECK(v[3].kv.bytes_per_token == 36864);
  }
  SUBCASE("DeepSeek-V2 as MHA: 32768 / 576 = 56.9x more; MLA equals GQA with 2.25 groups (paper Table 1)") {
    auto v = kv_what_if(model_find("deepseek-v2"), DType::fp16, 1, 1);
    CHECK(v[0].kv.bytes_per_token == 3932160);  // 2 x 128 x 128 x 60 x 2
    CHECK(v[3].is_model);
    CHECK(v[3].kv.bytes_per_token == 69120);
    CHECK(v[3].kv.elems_per_token_layer * 4 == 2 * 9 * 128);  // 576 = 2 x 2.25 x d_h
  }
  SUBCASE("Falcon 7B has 71 heads, a prime: no GQA exists") {
    auto v = kv_what_if(model_find("falcon-7b"), DType::fp16, 1, 1);
    CHECK_FALSE(v[1].possible);
    CHECK(v[1].note == "no GQA: 71 heads has no divisor in 2..8");
    CHECK(v[2].is_model);
    CHECK(v[0].kv.bytes_per_token == 71 * 8192);
  }
  SUBCASE("smaller head counts fall back to what divides: ModernBERT-base's 12 heads -> GQA-6") {
    auto v = kv_what_if(model_find("modernbert-base"), DType::fp16, 1, 1);
    CHECK(v[1].label == "GQA-6");
  }
}

TEST_CASE("what fits on a GPU after the weights") {
  SUBCASE("Llama 2 7B on one H100 80GB: (80e9 - 2 x 6,738,415,616) / 2 GiB = 30 sequences of 4096") {
    const ModelSpec& m = model_find("llama-2-7b");
    KvResult kv = kv_cache_size(m, DType::fp16, 4096, 1);
    KvFit f = kv_fit(m, kv, gpu_find("h100-sxm").hbm_bytes, 1, DType::bf16);
    CHECK(f.weight_bytes == 13476831232ull);
    CHECK(f.free_bytes == 66523168768ull);
    CHECK(f.seqs_fit == 30);
    CHECK(f.weights_fit);
  }
  SUBCASE("Llama 2 70B does not fit one H100 (138 GB of weights) but fits two") {
    const ModelSpec& m = model_find("llama-2-70b");
    KvResult kv = kv_cache_size(m, DType::fp16, 4096, 1);
    KvFit one = kv_fit(m, kv, 80000000000ull, 1, DType::bf16);
    CHECK_FALSE(one.weights_fit);
    CHECK(one.seqs_fit == 0);
    CHECK(one.gpus_for_weights == 2);
    KvFit two = kv_fit(m, kv, 80000000000ull, 2, DType::bf16);
    CHECK(two.weights_fit);
    CHECK(two.free_bytes == 160000000000ull - 137953296384ull);
    CHECK(two.seqs_fit == 16);  // 22,046,703,616 / 1,342,177,280 = 16.4
  }
}
