// `attnlab models`: the model presets (assets/models.json) with their attention shape, parameter
// count and KV cache per token, and where every figure comes from.
#include <fmt/format.h>
#include <optional>

#include "cli/common.hpp"
#include "models/kv_cache.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {
struct ModelsOptions {
  std::optional<std::string> model;
  bool sources = false;
  std::string format = "table";
};

std::string params_text(u128 p) {
  if (p == 0) return "-";
  return fmt::format("{:.3g}B", to_double(p) / 1e9);
}

void run_models(const ModelsOptions& o) {
  OutputFormat f = parse_output_format(o.format);
  std::vector<ModelSpec> list;
  if (o.model) list.push_back(model_find(*o.model));
  else list = model_presets();

  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("presets_file", model_presets_path()).key("models").begin_array();
    for (const auto& m : list) {
      KvResult kv = kv_cache_size(m, DType::fp16, m.context, 1);
      w.begin_object().field("name", m.name).field("display", m.display).field("kind", m.kind)
          .field("layers", m.layers).field("hidden", m.hidden).field("heads", m.heads).field("kv_heads", m.kv_heads)
          .field("head_dim", m.head_dim).field("attention", std::string(attn_kind_name(m.attn_kind())))
          .field("context", m.context).field("pattern", m.pattern).field("window", m.window)
          .field("global_layers", m.count_layers(LayerKind::global)).field("local_layers", m.count_layers(LayerKind::local))
          .field("mamba_layers", m.count_layers(LayerKind::ssm)).field("kv_lora_rank", m.kv_lora_rank)
          .field("rope_dim", m.rope_dim).field("params", m.params).field("active_params", m.active_params)
          .field("weight_dtype", std::string(dtype_name(m.weight_dtype)))
          .field("kv_bytes_per_token_fp16", kv.bytes_per_token);
      w.key("sources").begin_object();
      for (const auto& [k, v] : m.sources) w.field(k, v);
      w.end_object().end_object();
    }
    w.end_array().end_object();
    print_out(w.str());
    return;
  }

  Table t({{"model", false}, {"kind", false}, {"layers"}, {"hidden"}, {"heads"}, {"KV heads"}, {"head dim"},
           {"attention", false}, {"layer kinds", false}, {"context"}, {"params"}, {"KV/token fp16"}});
  for (const auto& m : list) {
    KvResult kv = kv_cache_size(m, DType::fp16, m.context, 1);
    std::string attn(attn_kind_name(m.attn_kind()));
    if (m.is_mla()) attn += fmt::format(" {}+{}", m.kv_lora_rank, m.rope_dim);
    t.add_row({cell(m.name), cell(m.kind), cell_count(m.layers), cell_count(m.hidden), cell_count(m.heads),
               cell_count(m.kv_heads), cell_count(m.head_dim), cell(attn), cell(m.pattern_summary(), m.pattern),
               cell_count(m.context), cell(params_text(m.params), to_string_u128(m.params)),
               cell_bytes(kv.bytes_per_token)});
  }
  if (f == OutputFormat::csv) {
    print_out(t.to_csv());
    return;
  }
  std::string out = t.to_text();
  out += fmt::format("\n{} presets from {}.\n", list.size(), model_presets_path());
  out += "KV/token: K and V (or the MLA latent + RoPE key) of every attention layer for one token, fp16.\n";
  if (o.sources || o.model) {
    out += "\nSources:\n";
    for (const auto& m : list) {
      out += fmt::format("  {}\n", m.name);
      for (const auto& [k, v] : m.sources) out += fmt::format("    {}: {}\n", k, v);
    }
  } else {
    out += "Sources of every figure: 'attnlab models --sources' (or --model NAME).\n";
  }
  print_out(out);
}
}  // namespace

void setup_models(CLI::App& app) {
  auto o = std::make_shared<ModelsOptions>();
  auto* cmd = app.add_subcommand("models", "List the model presets (layers, heads, KV heads, windows, MLA) with sources");
  cmd->add_option("--model", o->model, "Show one preset only, with its sources");
  cmd->add_flag("--sources", o->sources, "Print the source of every figure under the table");
  add_format_option(cmd, o->format);
  cmd->callback([o] { run_models(*o); });
}

}  // namespace attnlab::cli
