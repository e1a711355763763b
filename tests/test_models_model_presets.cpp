#include <doctest/doctest.h>

#include "models/model_spec.hpp"

using namespace attnlab;

namespace {
std::string data(const char* name) { return std::string(ATTNLAB_TEST_DATA) + "/" + name; }
}  // namespace

TEST_CASE("model presets load from assets/models.json with the config.json figures") {
  SUBCASE("every required preset exists, with an architecture and a params source") {
    for (const char* name : {"gpt2-medium", "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b",
                             "llama-3.1-405b", "mistral-7b", "mixtral-8x7b", "falcon-7b", "falcon-40b", "gemma-2-9b",
                             "qwen2.5-7b", "deepseek-v2", "deepseek-v3", "modernbert-base", "modernbert-large", "jamba"}) {
      const ModelSpec& m = model_find(name);
      CHECK(m.name == name);
      CHECK(m.sources.count("architecture") == 1);
      CHECK(m.sources.count("params") == 1);
      CHECK(m.params > 0);
      CHECK(m.heads % m.kv_heads == 0);
    }
    CHECK(model_presets().size() == 18);
  }
  SUBCASE("shapes as published") {
    const ModelSpec& l7 = model_find("llama-2-7b");
    CHECK(l7.layers == 32);
    CHECK(l7.heads == 32);
    CHECK(l7.kv_heads == 32);
    CHECK(l7.head_dim == 128);
    CHECK(l7.attn_kind() == AttnKind::mha);
    CHECK(l7.params == 6738415616ull);
    const ModelSpec& l70 = model_find("llama-2-70b");
    CHECK(l70.layers == 80);
    CHECK(l70.kv_heads == 8);
    CHECK(l70.attn_kind() == AttnKind::gqa);
    CHECK(model_find("llama-3.1-405b").layers == 126);
    const ModelSpec& f7 = model_find("falcon-7b");
    CHECK(f7.heads == 71);
    CHECK(f7.kv_heads == 1);
    CHECK(f7.head_dim == 64);
    CHECK(f7.attn_kind() == AttnKind::mqa);
    const ModelSpec& ds = model_find("deepseek-v2");
    CHECK(ds.attn_kind() == AttnKind::mla);
    CHECK(ds.kv_lora_rank == 512);
    CHECK(ds.rope_dim == 64);
    CHECK(ds.layers == 60);
    CHECK(model_find("deepseek-v3").layers == 61);
    CHECK(model_find("deepseek-v3").weight_dtype == DType::fp8);
  }
  SUBCASE("layer patterns: sliding, alternating, every third global, 1 attention in 8") {
    const ModelSpec& mi = model_find("mistral-7b");
    CHECK(mi.window == 4096);
    CHECK(mi.count_layers(LayerKind::local) == 32);
    CHECK(mi.pattern_summary() == "all local (window 4096)");
    const ModelSpec& g = model_find("gemma-2-9b");
    CHECK(g.layer_kind(0) == LayerKind::local);
    CHECK(g.layer_kind(1) == LayerKind::global);
    CHECK(g.count_layers(LayerKind::local) == 21);
    CHECK(g.count_layers(LayerKind::global) == 21);
    // ModernBERT: layers 0, 3, 6, ... are global: 8 of 22 (base), 10 of 28 (large).
    const ModelSpec& mb = model_find("modernbert-base");
    CHECK(mb.layer_kind(0) == LayerKind::global);
    CHECK(mb.layer_kind(1) == LayerKind::local);
    CHECK(mb.layer_kind(21) == LayerKind::global);
    CHECK(mb.count_layers(LayerKind::global) == 8);
    CHECK(mb.count_layers(LayerKind::local) == 14);
    CHECK(model_find("modernbert-large").count_layers(LayerKind::global) == 10);
    // Jamba: attention at layers 4, 12, 20, 28.
    const ModelSpec& j = model_find("jamba");
    CHECK(j.attention_layers() == 4);
    CHECK(j.layer_kind(4) == LayerKind::global);
    CHECK(j.layer_kind(12) == LayerKind::global);
    CHECK(j.layer_kind(5) == LayerKind::ssm);
    CHECK(j.count_layers(LayerKind::ssm) == 28);
    CHECK(j.pattern_summary() == "4 global + 28 Mamba");
  }
  SUBCASE("names are case-insensitive; unknown names list the known ones") {
    CHECK(model_find("Llama-2-7B").name == "llama-2-7b");
    CHECK_THROWS_WITH(model_find("gpt-5"),
                      doctest::Contains("--model: unknown model 'gpt-5' (known: gpt2-medium, llama-2-7b"));
  }
  SUBCASE("the file is found from the source tree") {
    CHECK(model_presets_path().find("models.json") != std::string::npos);
  }
}

TEST_CASE("malformed presets files give one line naming the file and the model") {
  SUBCASE("missing file") {
    CHECK_THROWS_WITH(load_model_presets(data("models_no_such_file.json")),
                      doctest::Contains("models_no_such_file.json: cannot open the model presets file"));
  }
  SUBCASE("bad JSON names the line") {
    CHECK_THROWS_WITH(load_model_presets(data("models_bad_syntax.json")),
                      doctest::Contains("models_bad_syntax.json: not valid JSON"));
    CHECK_THROWS_WITH(load_model_presets(data("models_bad_syntax.json")), doctest::Contains("line 3"));
  }
  SUBCASE("missing field") {
    CHECK_THROWS_WITH(load_model_presets(data("models_missing_field.json")),
                      doctest::Contains("models_missing_field.json: models[0] (tiny).kv_heads is missing"));
  }
  SUBCASE("kv_heads not dividing heads") {
    CHECK_THROWS_WITH(load_model_presets(data("models_bad_kv_heads.json")),
                      doctest::Contains("models[0] (tiny): --kv-heads must divide --heads (4 heads, got 3 KV heads)"));
  }
  SUBCASE("a misspelt field is refused") {
    CHECK_THROWS_WITH(load_model_presets(data("models_unknown_field.json")),
                      doctest::Contains("models[0] (tiny): unknown field 'kv_head'"));
  }
  SUBCASE("negative sizes") {
    CHECK_THROWS_WITH(load_model_presets(data("models_negative.json")),
                      doctest::Contains("models[0] (tiny).layers must be between 1 and 65536 (got -2)"));
  }
  SUBCASE("a good hand-made file loads") {
    auto models = load_model_presets(data("models_tiny.json"));
    REQUIRE(models.size() == 1);
    CHECK(models[0].name == "tiny");
    CHECK(models[0].count_layers(LayerKind::local) == 2);
    CHECK(models[0].count_layers(LayerKind::global) == 2);
    CHECK(models[0].count_layers(LayerKind::ssm) == 2);
    CHECK(models[0].ssm->d_state == 8);
  }
}

TEST_CASE("model overrides reshape a preset and reject nonsense") {
  const ModelSpec& l7 = model_find("llama-2-7b");
  SUBCASE("--kv-heads 8 turns Llama 2 7B into GQA") {
    ModelOverrides o;
    o.kv_heads = 8;
    ModelSpec m = model_apply_overrides(l7, o);
    CHECK(m.kv_heads == 8);
    CHECK(m.attn_kind() == AttnKind::gqa);
    CHECK(m.overridden);
  }
  SUBCASE("--heads on an MHA model keeps it MHA") {
    ModelOverrides o;
    o.heads = 40;
    ModelSpec m = model_apply_overrides(l7, o);
    CHECK(m.kv_heads == 40);
  }
  SUBCASE("--window on a model without local layers makes them local; --window 0 makes them global") {
    ModelOverrides o;
    o.window = 4096;
    ModelSpec m = model_apply_overrides(l7, o);
    CHECK(m.pattern == "L");
    CHECK(m.count_layers(LayerKind::local) == 32);
    ModelOverrides off;
    off.window = 0;
    ModelSpec g = model_apply_overrides(model_find("gemma-2-9b"), off);
    CHECK(g.count_layers(LayerKind::global) == 42);
  }
  SUBCASE("--kv-lora-rank 0 turns MLA off and drops the RoPE key") {
    ModelOverrides o;
    o.kv_lora_rank = 0;
    ModelSpec m = model_apply_overrides(model_find("deepseek-v2"), o);
    CHECK(m.attn_kind() == AttnKind::mha);
    CHECK(m.rope_dim == 0);
    // ... and only then do K/V heads mean something: 128 heads in groups of 16
    o.kv_heads = 8;
    CHECK(model_apply_overrides(model_find("deepseek-v2"), o).attn_kind() == AttnKind::gqa);
  }
  SUBCASE("--kv-heads on an MLA model is refused: the latent does not depend on it") {
    ModelOverrides o;
    o.kv_heads = 8;
    CHECK_THROWS_WITH(model_apply_overrides(model_find("deepseek-v2"), o),
                      "--kv-heads does not change the cache of an MLA model (deepseek-v2 caches a latent of 512 + RoPE "
                      "key of 64 values, not K/V heads); add --kv-lora-rank 0 to turn MLA off");
  }
  SUBCASE("--pattern with Mamba layers gets Mamba's default state shape") {
    ModelOverrides o;
    o.pattern = "GM";
    ModelSpec m = model_apply_overrides(l7, o);
    REQUIRE(m.ssm.has_value());
    CHECK(m.ssm->d_state == 16);
    CHECK(m.count_layers(LayerKind::ssm) == 16);
  }
  SUBCASE("bad values name the option") {
    ModelOverrides o;
    o.kv_heads = 5;
    CHECK_THROWS_WITH(model_apply_overrides(l7, o), "--kv-heads must divide --heads (32 heads, got 5 KV heads)");
    ModelOverrides neg;
    neg.layers = -3;
    CHECK_THROWS_WITH(model_apply_overrides(l7, neg), "--layers must be between 1 and 65536 (got -3)");
    ModelOverrides rope;
    rope.rope_dim = 64;
    CHECK_THROWS_WITH(model_apply_overrides(l7, rope), doctest::Contains("--rope-dim needs an MLA model"));
    ModelOverrides pat;
    pat.pattern = "GXG";
    CHECK_THROWS_WITH(model_apply_overrides(l7, pat), doctest::Contains("--pattern must be 1 to 1024 letters"));
    ModelOverrides zero;
    zero.head_dim = 0;
    CHECK_THROWS_AS(model_apply_overrides(l7, zero), InputError);
  }
}
