// `attnlab kv`: the KV cache of a model, per token and layer, per token, per sequence and per
// batch; the same model as MHA / GQA / MQA / MLA side by side; and with --gpu, how many sequences
// fit next to the weights. Reproduces e.g. Llama 2 7B's 512 KiB per token at fp16, Mistral's 8x
// smaller cache at 32k tokens (rolling buffer, arXiv 2310.06825) and Jamba's 4GB at 256K (arXiv 2403.19887 Table 1).
#include <fmt/format.h>
#include <optional>

#include "cli/common.hpp"
#include "cli/model_options.hpp"
#include "models/kv_cache.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {
struct KvOptions {
  ModelCliOptions model;
  std::string dtype = "fp16";
  std::optional<long long> seq;
  long long batch = 1;
  std::optional<std::string> gpu;
  long long gpu_count = 1;
  std::optional<std::string> weight_dtype;
  std::string format = "table";
};

const std::vector<DType> kv_dtypes = {DType::fp32, DType::fp16, DType::bf16, DType::fp8, DType::int4};

struct KvRow {  // one model, fully resolved
  ModelSpec m;
  KvResult kv;
  std::vector<KvVariant> variants;
  std::optional<KvFit> fit;
  DType weight_dtype;
};

std::string shape_line(const ModelSpec& m) {
  std::string attn = fmt::format("{} heads, {} KV head{} ({}), head dim {}", m.heads, m.kv_heads, m.kv_heads == 1 ? "" : "s",
                                 attn_kind_name(m.attn_kind()), m.head_dim);
  if (m.is_mla())
    attn = fmt::format("{} heads of {} (MLA: latent {} + RoPE key {})", m.heads, m.head_dim, m.kv_lora_rank, m.rope_dim);
  return fmt::format("{}: {}, {}, {} layers ({}), {}{}", m.name, m.display, m.kind, m.layers, m.pattern_summary(), attn,
                     m.overridden ? " [overridden]" : "");
}

// What one attention layer caches per token, in words.
std::string cached_what(const ModelSpec& m) {
  if (m.is_mla()) return fmt::format("latent {} + RoPE key {}", m.kv_lora_rank, m.rope_dim);
  return fmt::format("K+V: 2 x {} x {}", m.kv_heads, m.head_dim);
}

std::string fit_text(const KvFit& f) {
  if (!f.weights_fit) return fmt::format("weights do not fit (need {} GPUs)", f.gpus_for_weights);
  return format_count(f.seqs_fit);
}

// "1.00x", "1/4", "1/14.2", "2.50x": fractions read better than 0.07x for a smaller cache.
std::string kv_ratio_text(double r) {
  if (r <= 0) return "-";
  if (r >= 0.995) return format_ratio(r);
  return fmt::format("1/{:.3g}", 1.0 / r);
}

void json_kv(JsonWriter& w, const KvResult& kv) {
  w.field("elems_per_token_layer", kv.elems_per_token_layer)
      .field("bytes_per_token_layer", kv.bytes_per_token_layer)
      .field("attention_layers", kv.attention_layers)
      .field("bytes_per_token", kv.bytes_per_token)
      .field("cached_token_layers", kv.cached_token_layers)
      .field("kv_bytes_per_seq", kv.kv_bytes_per_seq)
      .field("ssm_bytes_per_seq", kv.ssm_bytes_per_seq)
      .field("bytes_per_seq", kv.bytes_per_seq)
      .field("bytes_total", kv.bytes_total);
}

void json_model(JsonWriter& w, const ModelSpec& m) {
  w.field("name", m.name).field("display", m.display).field("kind", m.kind).field("layers", m.layers)
      .field("hidden", m.hidden).field("heads", m.heads).field("kv_heads", m.kv_heads).field("head_dim", m.head_dim)
      .field("attention", std::string(attn_kind_name(m.attn_kind()))).field("context", m.context)
      .field("pattern", m.pattern).field("window", m.window).field("kv_lora_rank", m.kv_lora_rank)
      .field("rope_dim", m.rope_dim).field("params", m.params).field("overridden", m.overridden);
  w.key("sources").begin_object();
  for (const auto& [k, v] : m.sources) w.field(k, v);
  w.end_object();
}

std::string render_json(const std::vector<KvRow>& rows, const KvOptions& o, const GpuSpec* gpu) {
  JsonWriter w;
  w.begin_object().field("dtype", std::string(dtype_name(rows[0].kv.dtype))).field("batch", rows[0].kv.batch);
  if (gpu) w.field("gpu", gpu->name).field("gpu_count", static_cast<long long>(o.gpu_count));
  w.field("presets_file", model_presets_path());
  w.key("models").begin_array();
  for (const auto& r : rows) {
    w.begin_object();
    w.key("model").begin_object();
    json_model(w, r.m);
    w.end_object();
    w.field("seq", r.kv.seq);
    json_kv(w, r.kv);
    w.key("layer_groups").begin_array();
    for (const auto& g : r.kv.groups) {
      const char* kind = g.kind == LayerKind::global ? "global" : g.kind == LayerKind::local ? "local" : "mamba";
      w.begin_object().field("kind", kind).field("layers", g.layers).field("window", g.window)
          .field("tokens_cached", g.tokens_cached).field("bytes_per_seq", g.bytes_per_seq).end_object();
    }
    w.end_array();
    w.key("what_if").begin_array();
    for (const auto& v : r.variants) {
      w.begin_object().field("label", v.label).field("attention", std::string(attn_kind_name(v.kind)))
          .field("is_model", v.is_model).field("possible", v.possible).field("note", v.note);
      if (v.possible) {
        w.field("kv_heads", v.spec.kv_heads);
        json_kv(w, v.kv);
      }
      w.end_object();
    }
    w.end_array();
    if (r.fit) {
      w.key("fit").begin_object().field("weight_dtype", std::string(dtype_name(r.weight_dtype)))
          .field("memory_bytes", r.fit->memory_bytes).field("weight_bytes", r.fit->weight_bytes)
          .field("weights_fit", r.fit->weights_fit).field("free_bytes", r.fit->free_bytes)
          .field("seqs_fit", r.fit->seqs_fit).field("gpus_for_weights", r.fit->gpus_for_weights).end_object();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

// Several models: one row each.
Table compare_table(const std::vector<KvRow>& rows, const GpuSpec* gpu) {
  std::vector<Table::Column> cols = {{"model", false}, {"attention", false}, {"layers", false}, {"cached/token/layer", false},
                                     {"per token/layer"}, {"per token"}, {"seq"}, {"per sequence"}, {"x batch"}};
  if (gpu) cols.push_back({"seqs that fit"});
  Table t(cols);
  for (const auto& r : rows) {
    std::vector<Cell> c = {cell(r.m.name), cell(std::string(attn_kind_name(r.m.attn_kind()))),
                           cell(r.m.pattern_summary()), cell(cached_what(r.m)), cell_bytes(r.kv.bytes_per_token_layer),
                           cell_bytes(r.kv.bytes_per_token), cell_count(r.kv.seq), cell_bytes(r.kv.bytes_per_seq),
                           cell_bytes(r.kv.bytes_total)};
    if (gpu) c.push_back(r.fit->weights_fit ? cell_count(r.fit->seqs_fit) : cell(fit_text(*r.fit), "0"));
    t.add_row(std::move(c));
  }
  return t;
}

Table variant_table(const KvRow& r, const GpuSpec* gpu) {
  std::vector<Table::Column> cols = {{"variant", false}, {"KV heads"}, {"cached/token/layer"}, {"per token/layer"},
                                     {"per token"}, {"per sequence"}, {"x batch"}, {"vs model"}};
  if (gpu) cols.push_back({"seqs that fit"});
  Table t(cols);
  for (const auto& v : r.variants) {
    std::string label = v.label + (v.is_model ? " (model)" : "");
    if (!v.possible) {
      std::vector<Cell> c = {cell(label), cell("-"), cell("-"), cell("-"), cell("-"), cell("-"), cell("-"), cell("-")};
      if (gpu) c.push_back(cell("-"));
      t.add_row(std::move(c));
      continue;
    }
    double ratio = r.kv.bytes_per_token == 0 ? 0 : to_double(v.kv.bytes_per_token) / to_double(r.kv.bytes_per_token);
    std::vector<Cell> c = {cell(label), cell(v.kind == AttnKind::mla ? "-" : format_count(v.spec.kv_heads),
                                             v.kind == AttnKind::mla ? "" : to_string_u128(v.spec.kv_heads)),
                           cell_count(v.kv.elems_per_token_layer), cell_bytes(v.kv.bytes_per_token_layer),
                           cell_bytes(v.kv.bytes_per_token), cell_bytes(v.kv.bytes_per_seq), cell_bytes(v.kv.bytes_total),
                           cell(kv_ratio_text(ratio), fmt::format("{}", ratio))};
    if (gpu) {
      KvFit f = kv_fit(v.spec, v.kv, r.fit->memory_bytes, 1, r.weight_dtype);
      c.push_back(f.weights_fit ? cell_count(f.seqs_fit) : cell("-", "0"));
    }
    t.add_row(std::move(c));
  }
  return t;
}

std::string render_table(const std::vector<KvRow>& rows, const KvOptions& o, const GpuSpec* gpu) {
  std::string out;
  const KvResult& kv0 = rows[0].kv;
  if (rows.size() > 1) {
    out += fmt::format("KV cache in {}, batch {}, each model at its context unless --seq is given\n\n",
                       dtype_name(kv0.dtype), format_count(kv0.batch));
    out += compare_table(rows, gpu).to_text();
    if (gpu)
      out += fmt::format("\nseqs that fit: on {} x {} ({}) after the weights in their dtype; activations not counted.\n",
                         o.gpu_count, gpu->name, format_bytes(rows[0].fit->memory_bytes));
    out += "\nSources:\n";
    for (const auto& r : rows)
      for (const auto& [k, v] : r.m.sources) out += fmt::format("  {} {}: {}\n", r.m.name, k, v);
    return out;
  }

  const KvRow& r = rows[0];
  const ModelSpec& m = r.m;
  out += shape_line(m) + "\n";
  out += fmt::format("KV cache in {} ({} bits per value), {} of {} tokens{}\n\n", dtype_name(kv0.dtype),
                     dtype_bits(kv0.dtype), kv0.batch == 1 ? "1 sequence" : format_count(kv0.batch) + " sequences",
                     format_count(kv0.seq), kv0.seq == m.context && !o.seq ? " (the model's context)" : "");
  Table t({{"quantity", false}, {"bytes"}, {"how", false}});
  t.add_row({cell("per token and layer"), cell_bytes(kv0.bytes_per_token_layer),
             cell(fmt::format("{} values ({})", format_count(kv0.elems_per_token_layer), cached_what(m)))});
  t.add_row({cell("per token"), cell_bytes(kv0.bytes_per_token),
             cell(fmt::format("x {} attention layers", kv0.attention_layers))});
  std::string how = fmt::format("{} tokens", format_count(kv0.seq));
  if (m.count_layers(LayerKind::local) > 0 && kv0.seq > m.window)
    how = fmt::format("local layers cap at the {}-token window", format_count(m.window));
  t.add_row({cell(kv0.ssm_bytes_per_seq > 0 ? "per sequence (KV)" : "per sequence"), cell_bytes(kv0.kv_bytes_per_seq), cell(how)});
  if (kv0.ssm_bytes_per_seq > 0)
    t.add_row({cell("per sequence (Mamba state)"), cell_bytes(kv0.ssm_bytes_per_seq),
               cell(fmt::format("{} layers x {} values, any length", m.count_layers(LayerKind::ssm),
                                format_count(ssm_elems_per_layer(m))))});
  t.add_row({cell(fmt::format("batch of {}", format_count(kv0.batch))), cell_bytes(kv0.bytes_total),
             cell(fmt::format("{} x per sequence", format_count(kv0.batch)))});
  out += t.to_text();

  if (r.kv.groups.size() > 1) {
    out += "\nBy layer kind (one sequence):\n";
    Table g({{"layers", false}, {"count"}, {"window"}, {"tokens cached"}, {"bytes"}});
    for (const auto& grp : r.kv.groups) {
      const char* kind = grp.kind == LayerKind::global ? "global" : grp.kind == LayerKind::local ? "local" : "Mamba";
      g.add_row({cell(kind), cell_count(grp.layers), grp.window ? cell_count(grp.window) : cell("-", ""),
                 grp.kind == LayerKind::ssm ? cell("fixed state", "") : cell_count(grp.tokens_cached),
                 cell_bytes(grp.bytes_per_seq)});
    }
    out += g.to_text();
  }

  out += fmt::format("\nThe same model with other attention (what-if, {} x {} tokens):\n", format_count(kv0.batch),
                     format_count(kv0.seq));
  out += variant_table(r, gpu).to_text();
  for (const auto& v : r.variants)
    if (!v.is_model || !v.possible) out += fmt::format("  {}: {}\n", v.label, v.note);

  if (r.fit) {
    const KvFit& f = *r.fit;
    out += fmt::format("\nOn {} x {} ({}): weights {} ({} params in {}), ", o.gpu_count, gpu->name,
                       format_bytes(f.memory_bytes), format_bytes(f.weight_bytes), format_count(m.params),
                       dtype_name(r.weight_dtype));
    if (f.weights_fit)
      out += fmt::format("{} left for the cache: {} sequences of {} tokens fit.\n", format_bytes(f.free_bytes),
                         format_count(f.seqs_fit), format_count(kv0.seq));
    else
      out += fmt::format("the weights alone need {} GPUs of this size.\n", f.gpus_for_weights);
    out += "  (activations, CUDA context and allocator slack are not counted)\n";
  }
  out += "\nSources:\n";
  for (const auto& [k, v] : m.sources) out += fmt::format("  {}: {}\n", k, v);
  return out;
}

std::string render_csv(const std::vector<KvRow>& rows, const GpuSpec* gpu) {
  if (rows.size() > 1) return compare_table(rows, gpu).to_csv();
  return variant_table(rows[0], gpu).to_csv();
}

void run_kv(const KvOptions& o) {
  OutputFormat f = parse_output_format(o.format);
  DType dtype = parse_dtype(o.dtype, "--dtype", kv_dtypes);
  u64 batch = require_range(o.batch, "--batch", 1, 1ll << 20);
  std::optional<u64> seq;
  if (o.seq) seq = require_range(*o.seq, "--seq", 1, 1ll << 30);
  u64 gpu_count = require_range(o.gpu_count, "--gpu-count", 1, 65536);
  std::optional<GpuSpec> gpu;
  if (o.gpu) gpu = gpu_find(*o.gpu);
  std::optional<DType> wdt;
  if (o.weight_dtype) wdt = parse_dtype(*o.weight_dtype, "--weight-dtype", kv_dtypes);

  std::vector<KvRow> rows;
  for (ModelSpec& m : resolve_models(o.model)) {
    KvRow r{m, {}, {}, {}, wdt.value_or(m.weight_dtype)};
    u64 s = seq.value_or(m.context);
    r.kv = kv_cache_size(m, dtype, s, batch);
    r.variants = kv_what_if(m, dtype, s, batch);
    if (gpu) r.fit = kv_fit(m, r.kv, gpu->hbm_bytes, gpu_count, r.weight_dtype);
    rows.push_back(std::move(r));
  }
  const GpuSpec* g = gpu ? &*gpu : nullptr;
  if (f == OutputFormat::json) print_out(render_json(rows, o, g));
  else if (f == OutputFormat::csv) print_out(render_csv(rows, g));
  else print_out(render_table(rows, o, g));
}
}  // namespace

void setup_kv(CLI::App& app) {
  auto o = std::make_shared<KvOptions>();
  auto* cmd = app.add_subcommand("kv", "KV-cache size of a model: per token, per sequence, MHA/GQA/MQA/MLA what-if, GPU fit");
  add_model_options(cmd, o->model, "llama-2-7b", "Model preset (see 'attnlab models'); several as a,b,c to compare");
  cmd->add_option("--dtype", o->dtype, "KV cache element type: fp32, fp16, bf16, fp8, int4")->default_val("fp16");
  cmd->add_option("--seq", o->seq, "Tokens per sequence (default: the model's context)");
  cmd->add_option("--batch", o->batch, "Sequences in the batch")->default_val(1);
  cmd->add_option("--gpu", o->gpu, "GPU preset: show how many sequences fit after the weights (see 'attnlab gpus')");
  cmd->add_option("--gpu-count", o->gpu_count, "GPUs whose memory holds weights and cache together")->default_val(1);
  cmd->add_option("--weight-dtype", o->weight_dtype, "Weight element type (default: the model's, usually bf16)");
  add_format_option(cmd, o->format);
  cmd->callback([o] { run_kv(*o); });
}

}  // namespace attnlab::cli
