#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "models/hf_config.hpp"
#include "models/kv_cache.hpp"

using namespace attnlab;

namespace {
std::string hf(const std::string& name) { return std::string(ATTNLAB_TEST_DATA) + "/hf/" + name + ".json"; }

const std::vector<std::string> preset_names = {
    "gpt2-medium", "llama-2-7b", "llama-2-13b", "llama-2-70b",  "llama-3-8b",      "llama-3-70b",
    "llama-3.1-405b", "mistral-7b", "mixtral-8x7b", "falcon-7b", "falcon-40b",     "gemma-2-9b",
    "qwen2.5-7b", "deepseek-v2", "deepseek-v3",  "modernbert-base", "modernbert-large", "jamba"};

// Where a model's published config.json and our preset (its paper or the checkpoint's tensors)
// say different things. Each is a fact about the files, not a tolerance: the test holds them exact.
// Context: the config's max_position_embeddings vs the preset's context.
const std::map<std::string, u64> config_context = {
    {"mistral-7b", 32768},    // config 32768; the paper's Table 1 context_len 8192
    {"deepseek-v2", 163840},  // config 163840 (YaRN from 4096); the paper's 128K
    {"deepseek-v3", 163840},
};
// Params: the preset is the checkpoint's tensors, or a rounded figure from a paper or model card.
const std::map<std::string, u128> config_params = {
    // Falcon's config ties lm_head to the embeddings (FalconConfig's default); the preset counts
    // the checkpoint's separately stored output matrix: 65024 x hidden more.
    {"falcon-7b", u128{6921720704}},
    {"falcon-40b", u128{41303293952}},
    // The config's vocab_size 256000; the Gemma 2 paper's embedding count is 256128 x 3584.
    {"gemma-2-9b", u128{9241705984}},
};
// Presets with rounded params: the config's count must be within 1% of them.
const std::vector<std::string> rounded_params = {"deepseek-v2", "deepseek-v3", "modernbert-base", "modernbert-large", "jamba"};

u128 abs_diff(u128 a, u128 b) { return a > b ? a - b : b - a; }
}  // namespace

TEST_CASE("hf_config: the published config.json of every preset gives the preset's numbers") {
  for (const auto& name : preset_names) {
    CAPTURE(name);
    const ModelSpec& p = model_find(name);
    HfConfigRead r = hf_config_load(hf(name));
    const ModelSpec& c = r.spec;
    CHECK(c.name == name);  // the file's stem
    CHECK(c.kind == p.kind);
    CHECK(c.layers == p.layers);
    CHECK(c.hidden == p.hidden);
    CHECK(c.heads == p.heads);
    CHECK(c.kv_heads == p.kv_heads);
    CHECK(c.head_dim == p.head_dim);
    CHECK(c.attn_kind() == p.attn_kind());
    CHECK(c.kv_lora_rank == p.kv_lora_rank);
    CHECK(c.rope_dim == p.rope_dim);
    CHECK(c.pattern == p.pattern);
    CHECK(c.window == p.window);
    CHECK(c.ssm.has_value() == p.ssm.has_value());
    if (c.ssm && p.ssm) {
      CHECK(c.ssm->d_state == p.ssm->d_state);
      CHECK(c.ssm->d_conv == p.ssm->d_conv);
      CHECK(c.ssm->expand == p.ssm->expand);
    }
    for (u64 l = 0; l < p.layers; ++l) CHECK(c.layer_kind(l) == p.layer_kind(l));
    CHECK(c.context == (config_context.count(name) ? config_context.at(name) : p.context));
    CHECK(dtype_bits(c.weight_dtype) >= dtype_bits(p.weight_dtype));  // gemma-2-9b and the BERTs ship fp32

    // The KV cache, per token and per sequence at the preset's context, in every dtype: exact.
    for (DType t : {DType::fp32, DType::fp16, DType::fp8, DType::int4}) {
      KvResult a = kv_cache_size(c, t, p.context, 3), b = kv_cache_size(p, t, p.context, 3);
      CHECK(a.elems_per_token_layer == b.elems_per_token_layer);
      CHECK(a.bytes_per_token_layer == b.bytes_per_token_layer);
      CHECK(a.attention_layers == b.attention_layers);
      CHECK(a.bytes_per_token == b.bytes_per_token);
      CHECK(a.kv_bytes_per_seq == b.kv_bytes_per_seq);
      CHECK(a.ssm_bytes_per_seq == b.ssm_bytes_per_seq);
      CHECK(a.bytes_total == b.bytes_total);
    }

    // Parameters: exact where the preset counts the checkpoint's tensors.
    if (config_params.count(name)) {
      CHECK(c.params == config_params.at(name));
    } else if (std::find(rounded_params.begin(), rounded_params.end(), name) != rounded_params.end()) {
      CHECK(to_double(abs_diff(c.params, p.params)) < 0.01 * to_double(p.params));
    } else {
      CHECK(c.params == p.params);
      CHECK(c.active_params == p.active_params);  // Mixtral: 12,879,925,248 with 2 of 8 experts
    }
    CHECK(c.sources.count("config: read") == 1);
  }
}

TEST_CASE("hf_config: what was read, what was defaulted, and notes") {
  SUBCASE("Llama 2 7B: MHA written out, head_dim derived") {
    HfConfigRead r = hf_config_load(hf("llama-2-7b"));
    CHECK(r.spec.display == "meta-llama/Llama-2-7b-hf");
    CHECK(std::find(r.read.begin(), r.read.end(), "num_key_value_heads 32") != r.read.end());
    CHECK(std::find(r.defaulted.begin(), r.defaulted.end(), "head_dim = hidden_size / num_attention_heads = 128") !=
          r.defaulted.end());
    CHECK(r.spec.weight_dtype == DType::fp16);  // torch_dtype float16
    CHECK(r.notes.empty());
  }
  SUBCASE("Falcon 7B: multi_query gives one K/V head; no context in the file") {
    HfConfigRead r = hf_config_load(hf("falcon-7b"));
    CHECK(r.spec.kv_heads == 1);
    CHECK(r.spec.sources.at("config: defaulted").find("max_position_embeddings = 2048") != std::string::npos);
  }
  SUBCASE("DeepSeek-V3: fp8 weights from quantization_config") {
    CHECK(hf_config_load(hf("deepseek-v3")).spec.weight_dtype == DType::fp8);
  }
  SUBCASE("Qwen2.5: sliding_window ignored without use_sliding_window") {
    HfConfigRead r = hf_config_load(hf("qwen2.5-7b"));
    CHECK(r.spec.pattern == "G");
    CHECK(r.notes.size() == 1);
  }
  SUBCASE("an unknown model_type keeps the standard fields and says so") {
    HfConfigRead r = hf_config_parse(
        R"({"model_type": "mymodel", "num_hidden_layers": 12, "num_attention_heads": 12, "hidden_size": 768,
            "num_key_value_heads": 4, "max_position_embeddings": 2048, "sliding_window": 512})",
        "mine.json", "mine");
    CHECK(r.spec.layers == 12);
    CHECK(r.spec.kv_heads == 4);
    CHECK(r.spec.head_dim == 64);
    CHECK(r.spec.pattern == "L");
    CHECK(r.spec.window == 512);
    CHECK(r.spec.params == 0);  // no vocab_size
    REQUIRE(r.notes.size() == 2);
    CHECK(r.notes[0].find("model_type 'mymodel' is not one this reader knows") == 0);
  }
  SUBCASE("layer_types, when written, decides every layer") {
    HfConfigRead r = hf_config_parse(
        R"({"model_type": "llama", "num_hidden_layers": 4, "num_attention_heads": 8, "hidden_size": 512,
            "max_position_embeddings": 4096, "sliding_window": 256,
            "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention", "full_attention"]})",
        "lt.json", "lt");
    CHECK(r.spec.pattern == "LLLG");
    CHECK(r.spec.window == 256);
  }
}

TEST_CASE("hf_config: three models that are not presets, KV per token by hand") {
  SUBCASE("Qwen2.5-72B: 80 layers x 2 (K,V) x 8 KV heads x 128 x 2 bytes = 327,680 B") {
    ModelSpec m = hf_config_load(hf("other/qwen2.5-72b")).spec;
    CHECK(m.attn_kind() == AttnKind::gqa);
    CHECK(kv_cache_size(m, DType::fp16, 1, 1).bytes_per_token == u128{80} * 2 * 8 * 128 * 2);
    CHECK(m.context == 131072);
  }
  SUBCASE("Gemma 3 27B: 62 layers (10 global, 52 local of 1024) x 2 x 16 x 128 x 2 bytes") {
    ModelSpec m = hf_config_load(hf("other/gemma-3-27b-it")).spec;
    CHECK(m.pattern == "LLLLLG");
    CHECK(m.count_layers(LayerKind::global) == 10);
    CHECK(m.count_layers(LayerKind::local) == 52);
    KvResult kv = kv_cache_size(m, DType::fp16, 131072, 1);
    CHECK(kv.bytes_per_token == u128{62} * 2 * 16 * 128 * 2);  // 507,904 B before a window is full
    CHECK(kv.kv_bytes_per_seq == u128{10} * 131072 * 8192 + u128{52} * 1024 * 8192);
  }
  SUBCASE("Mixtral 8x22B: 56 layers x 2 x 8 x 128 x 2 bytes = 229,376 B") {
    ModelSpec m = hf_config_load(hf("other/mixtral-8x22b")).spec;
    CHECK(kv_cache_size(m, DType::fp16, 1, 1).bytes_per_token == u128{56} * 2 * 8 * 128 * 2);
    CHECK(m.head_dim == 128);  // 6144 / 48
    CHECK(m.params == u128{140620634112});
  }
}

TEST_CASE("hf_config: bad files are one line naming the file and the field") {
  auto err = [](const char* text) {
    try {
      hf_config_parse(text, "bad.json", "bad");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err("{not json").find("bad.json: not valid JSON: ") == 0);
  CHECK(err("[1, 2]") == "bad.json: not a config.json (expected a JSON object)");
  CHECK(err(R"({"num_hidden_layers": 32, "hidden_size": 4096})") ==
        "bad.json: field 'num_attention_heads': missing (the query head count)");
  CHECK(err(R"({"num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 5, "hidden_size": 4096})") ==
        "bad.json: field 'num_key_value_heads': 5 K/V heads do not divide 32 query heads");
  CHECK(err(R"({"num_hidden_layers": 1000000000, "num_attention_heads": 32, "hidden_size": 4096})") ==
        "bad.json: field 'num_hidden_layers': must be between 1 and 65536 (got 1000000000)");
  CHECK(err(R"({"num_hidden_layers": -3, "num_attention_heads": 32, "hidden_size": 4096})") ==
        "bad.json: field 'num_hidden_layers': must be at least 1 (got -3)");
  CHECK(err(R"({"num_hidden_layers": "32", "num_attention_heads": 32, "hidden_size": 4096})") ==
        "bad.json: field 'num_hidden_layers': must be a whole number (got \"32\")");
  CHECK(err(R"({"num_hidden_layers": 32, "num_attention_heads": 32, "hidden_size": 4001})") ==
        "bad.json: field 'head_dim': missing, and hidden size 4001 is not a multiple of 32 heads");
  CHECK(err(R"({"num_hidden_layers": 32, "num_attention_heads": 32, "hidden_size": 4096, "max_position_embeddings": 1e300})")
            .find("bad.json: field 'max_position_embeddings': must be") == 0);
  CHECK_THROWS_AS(hf_config_load(hf("does-not-exist")), InputError);
}

TEST_CASE("hf_config: a session model is found by name, and replaced when opened again") {
  const char* text = R"({"model_type": "llama", "num_hidden_layers": 2, "num_attention_heads": 4, "hidden_size": 256,
                        "max_position_embeddings": 1024})";
  const ModelSpec& m = model_session_add(text, "/tmp/tiny-session.json");
  CHECK(m.name == "tiny-session");
  CHECK(&model_find("tiny-session") == &m);
  model_session_add(R"({"model_type": "llama", "num_hidden_layers": 3, "num_attention_heads": 4, "hidden_size": 256})",
                    "/x/tiny-session.json");
  CHECK(model_find("tiny-session").layers == 3);
  CHECK(model_session_models().size() == 1);
  CHECK(hf_config_is_path("my/config.json"));
  CHECK_FALSE(hf_config_is_path("llama-2-7b"));
}
