// `attnlab steps`: how the cost of attention grows with the length of the text, for full
// attention and every efficient family the course teaches (sliding window, Longformer, strided,
// alternating, linear, SSM), with exact counts, per-token decode cost and memory, and what-if
// times. Three tables:
//   main    (default) per N and family: score entries or steps, FLOPs, decode cost and memory
//   scores  the course's score-matrix table: N² entries and their bytes at fp32/fp16
//   masks   the mask of each pattern drawn as an N×N grid (N <= 64)
// All numbers come from src/models/scaling.cpp and src/models/masks.cpp; this file only asks and
// formats.
//
// Bad input (exit 2, nothing on stdout): N <= 0 or not a whole number; k = 0; an unknown family;
// a --window (or --longformer-window, --local-window, --globals, --stride) that the user gave and
// that is longer than every N asked about: such a window covers the whole text in every row, so the
// question is almost certainly a typo. A *default* window longer than some N (Mistral's 4096 in the
// N = 10 row) is fine: the row is marked '*' and equals causal attention, which is what Mistral does
// with a 10-token prompt.
#include <algorithm>
#include <fmt/format.h>
#include <memory>

#include "cli/common.hpp"
#include "cli/model_options.hpp"
#include "models/masks.hpp"
#include "models/scaling.hpp"
#include "models/scaling_parse.hpp"
#include "util/parse_number.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {

constexpr u64 kMaxGridSeq = 64;

// A default of ScalingConfig as the option's text.
std::string text(u64 ScalingConfig::*field) { return std::to_string(ScalingConfig{}.*field); }

struct StepsOptions {
  std::vector<std::string> seq, families;
  // The defaults are ScalingConfig's, written once in src/models/scaling.hpp.
  std::string table = "main", format = "table", dtype = std::string(dtype_name(ScalingConfig{}.dtype));
  std::string head_dim = text(&ScalingConfig::head_dim), heads = text(&ScalingConfig::heads),
              layers = text(&ScalingConfig::layers), window = text(&ScalingConfig::window),
              longformer_window = text(&ScalingConfig::longformer_window), globals = text(&ScalingConfig::globals),
              stride = text(&ScalingConfig::stride), every_k = text(&ScalingConfig::every_k),
              local_window = text(&ScalingConfig::local_window), features = text(&ScalingConfig::features),
              state = text(&ScalingConfig::state), channels = text(&ScalingConfig::channels),
              conv_width = text(&ScalingConfig::conv_width);
  std::string baseline_seq, baseline_time;
  std::string config;  // --config: a model's config.json gives the shape options below
  bool causal = false, bidirectional = false;
  CLI::App* cmd = nullptr;  // to ask which options the user actually gave
  bool given(const char* name) const { return cmd->count(name) > 0; }
};

// --config: the model's heads, head size, layers, window (and its local/global rhythm) and SSM
// state, except where the option is given.
const ModelSpec* apply_config(StepsOptions& o) {
  if (o.config.empty()) return nullptr;
  const ModelSpec& m = model_find(o.config);
  auto set = [&](const char* opt, std::string& field, u64 v) {
    if (!o.given(opt)) field = std::to_string(v);
  };
  set("--heads", o.heads, m.heads);
  set("--head-dim", o.head_dim, m.head_dim);
  set("--layers", o.layers, m.layers);
  if (m.window > 0) {
    set("--window", o.window, m.window);
    // One global layer in the repeated pattern (ModernBERT's GLL): the alternating family's rhythm.
    if (std::count(m.pattern.begin(), m.pattern.end(), 'G') == 1 && m.pattern.find('L') != std::string::npos) {
      set("--every-k", o.every_k, m.pattern.size());
      set("--local-window", o.local_window, m.window);
    }
  }
  if (m.ssm) {
    set("--state", o.state, m.ssm->d_state);
    set("--channels", o.channels, m.ssm->expand * m.hidden);
    set("--conv-width", o.conv_width, m.ssm->d_conv);
  }
  return &m;
}

enum class TableKind { main, scores, masks };

struct Query {
  TableKind table = TableKind::main;
  OutputFormat format = OutputFormat::table;
  std::vector<u64> seqs;
  std::vector<Family> families;
  ScalingConfig cfg;
  bool has_baseline = false, has_time = false;
  u64 baseline_seq = 0;
  double baseline_seconds = 0;
};

// ---- reading the options ----------------------------------------------------------------------

Query to_query(const StepsOptions& o) {
  Query q;
  q.format = parse_output_format(o.format);
  if (o.table == "main") q.table = TableKind::main;
  else if (o.table == "scores") q.table = TableKind::scores;
  else if (o.table == "masks") q.table = TableKind::masks;
  else throw InputError(fmt::format("--table must be main, scores or masks (got '{}')", o.table));

  if (o.seq.empty()) {
    if (q.table == TableKind::main) q.seqs = {10, 1000, 10000, 100000, 1000000};
    else if (q.table == TableKind::scores) q.seqs = {512, 2048, 8192, 32768};
    else q.seqs = {16};
  } else {
    u64 max = q.table == TableKind::masks ? kMaxGridSeq : scaling_max_seq;
    const char* what = q.table == TableKind::masks ? "--seq (with --table masks)" : "--seq";
    q.seqs = parse_whole_list(o.seq, what, 1, max);
  }

  if (o.families.empty()) {
    for (Family f : all_families())
      if (q.table != TableKind::masks || family_is_attention(f)) q.families.push_back(f);
  } else {
    for (const auto& name : o.families) {
      Family f = parse_family(name, "--families");
      if (q.table == TableKind::masks && !family_is_attention(f))
        throw InputError(fmt::format("--families: {} has no attention mask to draw (with --table masks)", name));
      if (std::find(q.families.begin(), q.families.end(), f) == q.families.end()) q.families.push_back(f);
    }
  }

  ScalingConfig& c = q.cfg;
  auto whole = [](const std::string& v, const char* opt, u64 min, u64 max) { return parse_whole(v, opt, min, max); };
  c.head_dim = whole(o.head_dim, "--head-dim", 1, 65536);
  c.heads = whole(o.heads, "--heads", 1, 65536);
  c.layers = whole(o.layers, "--layers", 1, 100000);
  c.every_k = whole(o.every_k, "--every-k", 1, 100000);
  c.features = whole(o.features, "--features", 1, 1u << 20);
  c.state = whole(o.state, "--state", 1, 1u << 20);
  c.channels = whole(o.channels, "--channels", 1, 1u << 24);
  c.conv_width = whole(o.conv_width, "--conv-width", 1, 1024);
  c.dtype = parse_dtype(o.dtype, "--dtype", {DType::fp32, DType::fp16, DType::bf16, DType::fp8});
  c.direction = o.causal ? Direction::causal : o.bidirectional ? Direction::bidirectional : Direction::paper;

  // The mask grids are for a handful of tokens: small windows unless the user says otherwise.
  bool grid = q.table == TableKind::masks;
  c.window = whole(o.given("--window") || !grid ? o.window : "4", "--window", 1, scaling_max_seq);
  c.longformer_window = whole(o.given("--longformer-window") || !grid ? o.longformer_window : "4",
                              "--longformer-window", 1, scaling_max_seq);
  c.local_window = whole(o.given("--local-window") || !grid ? o.local_window : "4", "--local-window", 1,
                         scaling_max_seq);
  c.globals = whole(o.globals, "--globals", 0, scaling_max_seq);
  c.stride = o.given("--stride") ? whole(o.stride, "--stride", 1, scaling_max_seq) : 0;

  if (!o.baseline_seq.empty()) {
    q.has_baseline = true;
    q.baseline_seq = whole(o.baseline_seq, "--baseline-seq", 1, scaling_max_seq);
  }
  if (!o.baseline_time.empty()) {
    if (!q.has_baseline) throw InputError("--baseline-time needs --baseline-seq (the length that takes that long)");
    q.has_time = true;
    q.baseline_seconds = parse_duration(o.baseline_time, "--baseline-time");
  }
  if (q.has_baseline && q.table != TableKind::main)
    throw InputError("--baseline-seq works with the main table only (not --table " + o.table + ")");

  // A size the user chose that exceeds every length in the question: see the file comment.
  u64 longest = *std::max_element(q.seqs.begin(), q.seqs.end());
  if (q.has_baseline) longest = std::max(longest, q.baseline_seq);
  auto uses = [&](Family f) { return std::find(q.families.begin(), q.families.end(), f) != q.families.end(); };
  auto not_longer = [&](const char* opt, u64 v, Family f, const char* why) {
    if (o.given(opt) && uses(f) && v > longest)
      throw InputError(fmt::format("{} must be at most the longest --seq ({}) (got {}): {}", opt, longest, v, why));
  };
  not_longer("--window", c.window, Family::window, "a window longer than the text is plain causal attention");
  not_longer("--longformer-window", c.longformer_window, Family::longformer,
             "a window longer than the text is full attention");
  not_longer("--globals", c.globals, Family::longformer, "there are not that many tokens to make global");
  not_longer("--local-window", c.local_window, Family::alternating,
             "a local window longer than the text is full attention");
  not_longer("--stride", c.stride, Family::strided, "a stride longer than the text is plain causal attention");
  return q;
}

// ---- formatting helpers -------------------------------------------------------------------------

std::string flops_text(const PerLayer& p) {
  if (!p.total.exact()) return fmt::format("≈{:.2e} FLOP", p.mean_approx());
  // Past the last SI prefix (Y = 10^24) a prefix stops helping: write the power of ten.
  if (p.mean_approx() >= 1e27L) return fmt::format("{:.2e} FLOP", p.mean_approx());
  return format_flops(p.total.value() / p.layers);
}

std::string bytes_text(const PerLayer& p) {
  if (!p.total.exact()) return fmt::format("≈{:.2e} B", p.mean_approx());
  if (auto m = p.mean_exact()) return format_bytes(*m);
  return format_bytes(static_cast<double>(p.mean_approx()));
}

Cell per_layer_cell(const PerLayer& p, std::string (*text)(const PerLayer&)) {
  return cell(text(p), per_layer_raw(p));
}

// 64x, 0.65x, and below 1/100 the way people say it: "1/10,417" (ten thousand times less).
std::string cost_ratio_text(double r) {
  if (r >= 1.0 || r <= 0.0) return format_ratio(r);
  if (r >= 0.1) return fmt::format("{:.2f}x", r);
  if (r >= 0.01) return fmt::format("{:.3f}x", r);
  return "1/" + format_count(static_cast<u128>(1.0 / r + 0.5));
}

// 0.262M, 4.19M, 67.1M, 1.07B: the course's way of writing the table.
std::string short_count(u128 n) {
  static const char* suffix[] = {"", "K", "M", "B", "T", "P", "E"};
  double v = to_double(n);
  if (v < 1000) return to_string_u128(n);
  int s = 0;
  // From 100,000 on in millions, as the course writes 512² = 262,144 as "0.26M".
  while ((v >= 1000 || (s < 2 && v >= 100)) && s < 6) v /= 1000, ++s;
  return v >= 100 ? fmt::format("{:.0f}{}", v, suffix[s])
         : v >= 10 ? fmt::format("{:.1f}{}", v, suffix[s])
                   : fmt::format("{:.2f}{}", v, suffix[s]);
}

// '*' marks a window that covers the whole text (family_window_covers).
std::string pattern_text(Family f, const FamilyCost& c, const ScalingConfig& cfg) {
  std::string dir = c.causal ? "causal" : "bidir";
  const char* star = c.window_covers_seq ? "*" : "";
  switch (f) {
    case Family::full: return dir;
    case Family::window: return fmt::format("{} w={}{}", dir, cfg.window, star);
    case Family::longformer: return fmt::format("{} w={} g={}{}", dir, cfg.longformer_window, cfg.globals, star);
    case Family::strided: return fmt::format("{} s={}", dir, c.stride);
    case Family::alternating: return fmt::format("{} k={} w={}{}", dir, cfg.every_k, cfg.local_window, star);
    case Family::linear: return fmt::format("r={}", cfg.features);
    case Family::ssm: return fmt::format("D={} n={}", cfg.channels, cfg.state);
  }
  return dir;
}

void json_per_layer(JsonWriter& w, const std::string& key, const PerLayer& p) {
  w.key(key);
  if (auto m = p.mean_exact()) w.value(*m);
  else w.value(static_cast<double>(p.mean_approx()));
  w.key(key + "_stack");
  if (p.total.exact()) w.value(p.total.value());
  else w.value(static_cast<double>(p.total.approx()));
}

void json_config(JsonWriter& w, const Query& q) {
  const ScalingConfig& c = q.cfg;
  w.key("config").begin_object();
  w.field("head_dim", c.head_dim).field("heads", c.heads).field("layers", c.layers).field("window", c.window)
      .field("longformer_window", c.longformer_window).field("globals", c.globals);
  w.key("stride");
  if (c.stride) w.value(c.stride); else w.value("floor(sqrt(N))");
  w.field("every_k", c.every_k).field("local_window", c.local_window).field("features", c.features)
      .field("state", c.state).field("channels", c.channels).field("conv_width", c.conv_width)
      .field("dtype", std::string(dtype_name(c.dtype)))
      .field("direction", std::string(c.direction == Direction::paper    ? "paper"
                                      : c.direction == Direction::causal ? "causal"
                                                                         : "bidirectional"));
  w.end_object();
}

// ---- main table ---------------------------------------------------------------------------------

struct StepsRow {
  FamilyCost cost;
  FamilyCost full;  // full attention, same direction, same N: the "vs full" reference
  std::string pattern;
  double vs_full = 0, baseline_ratio = 0, seconds = 0;
};

std::vector<StepsRow> compute_rows(const Query& q) {
  std::vector<StepsRow> rows;
  for (u64 n : q.seqs) {
    for (Family f : q.families) {
      StepsRow r;
      r.cost = scaling_cost(f, n, q.cfg);
      ScalingConfig same = q.cfg;
      same.direction = r.cost.causal ? Direction::causal : Direction::bidirectional;
      r.full = scaling_cost(Family::full, n, same);
      r.vs_full = scaling_ratio(r.cost.flops, r.full.flops);
      r.pattern = pattern_text(f, r.cost, q.cfg);
      if (q.has_baseline) {
        FamilyCost base = scaling_cost(f, q.baseline_seq, q.cfg);
        r.baseline_ratio = scaling_ratio(r.cost.flops, base.flops);
        if (q.has_time) r.seconds = scaling_whatif_seconds(r.cost, base, q.baseline_seconds);
      }
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

bool shows(const Query& q, Family f) { return std::find(q.families.begin(), q.families.end(), f) != q.families.end(); }

std::string render_main(const Query& q) {
  std::vector<StepsRow> rows = compute_rows(q);
  const ScalingConfig& c = q.cfg;
  ReceptiveField rf = scaling_receptive_field(c.window, c.layers, family_causal(Family::window, c.direction));

  if (q.format == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("table", "main");
    json_config(w, q);
    if (q.has_baseline) {
      w.key("baseline").begin_object().field("seq", q.baseline_seq);
      if (q.has_time) w.field("seconds", q.baseline_seconds);
      w.end_object();
    }
    w.key("receptive_field").begin_object().field("window", c.window).field("layers", c.layers)
        .field("paper", rf.paper).field("exact", rf.exact).end_object();
    w.key("rows").begin_array();
    for (const StepsRow& r : rows) {
      const FamilyCost& x = r.cost;
      bool attention = family_is_attention(x.family);
      w.begin_object().field("seq", x.n).field("family", std::string(family_name(x.family)))
          .field("label", std::string(family_label(x.family))).field("paper", std::string(family_paper(x.family)))
          .field("causal", x.causal).field("pattern", r.pattern).field("window_covers_seq", r.cost.window_covers_seq)
          .field("layers", x.work.layers);
      if (x.family == Family::strided) w.field("stride", x.stride);
      if (attention) json_per_layer(w, "score_entries_per_head", x.work);
      else w.field("steps", x.n);
      if (x.family == Family::ssm) json_per_layer(w, "scan_state_updates_per_layer", x.scan_updates);
      json_per_layer(w, "flops_per_layer", x.flops);
      w.field("flops_vs_full", r.vs_full);
      if (attention) json_per_layer(w, "decode_keys_per_head", x.decode_keys);
      json_per_layer(w, "decode_flops_per_token", x.decode_flops);
      json_per_layer(w, "decode_elements_per_layer", x.decode_elements);
      json_per_layer(w, "decode_bytes_per_layer", x.decode_bytes);
      w.field("rounded", !x.flops.total.exact() || !x.decode_bytes.total.exact() || !x.work.total.exact());
      if (q.has_baseline) w.field("baseline_ratio", r.baseline_ratio);
      if (q.has_time) w.field("predicted_seconds", r.seconds);
      w.end_object();
    }
    w.end_array().end_object();
    return w.str() + "\n";
  }

  std::vector<Table::Column> cols{{"N"},          {"family", false}, {"pattern", false}, {"scores/head"},
                                  {"steps"},      {"FLOPs/layer"},   {"vs full"},         {"decode FLOPs/token"},
                                  {"decode memory/layer"}};
  if (q.has_baseline) cols.push_back({fmt::format("x N={}", format_count(q.baseline_seq))});
  if (q.has_time) cols.push_back({"time"});
  Table t(cols);
  u64 last_n = 0;
  bool any_covered = false, any_rounded = false;
  for (const StepsRow& r : rows) {
    const FamilyCost& x = r.cost;
    if (last_n != 0 && x.n != last_n) t.add_separator();
    last_n = x.n;
    any_covered = any_covered || r.cost.window_covers_seq;
    any_rounded = any_rounded || !x.flops.total.exact();
    bool attention = family_is_attention(x.family);
    std::vector<Cell> row{cell_count(x.n), cell(std::string(family_label(x.family)), std::string(family_name(x.family))),
                          cell(r.pattern),
                          attention ? cell(per_layer_text(x.work), per_layer_raw(x.work)) : cell("-", ""),
                          attention ? cell("-", "") : cell_count(x.n),
                          per_layer_cell(x.flops, flops_text),
                          cell(cost_ratio_text(r.vs_full), fmt::format("{}", r.vs_full)),
                          per_layer_cell(x.decode_flops, flops_text),
                          per_layer_cell(x.decode_bytes, bytes_text)};
    if (q.has_baseline) row.push_back(cell(cost_ratio_text(r.baseline_ratio), fmt::format("{}", r.baseline_ratio)));
    if (q.has_time) row.push_back(cell(format_seconds(r.seconds), fmt::format("{}", r.seconds)));
    t.add_row(std::move(row));
  }
  if (q.format == OutputFormat::csv) return t.to_csv();

  std::string out = t.to_text();
  out += fmt::format(
      "\nPer layer of {} heads × d={} (d_model {}), {} layers, {} caches. scores/head = allowed (query, key)\n"
      "pairs of one head; an SSM or linear attention forms none: it takes N steps. FLOPs = 4·d·heads·scores\n"
      "(attention), 4·N·r·d·heads (linear), 6·N·D·n (SSM); projections left out. vs full = FLOPs against\n"
      "full attention with the same mask direction. decode = the newest token at context N (each pattern's\n"
      "causal form); memory = the KV cache or recurrent state it keeps, per layer.\n",
      c.heads, c.head_dim, c.heads * c.head_dim, c.layers, dtype_name(c.dtype));
  if (shows(q, Family::window)) {
    bool causal_window = family_causal(Family::window, c.direction);
    out += fmt::format(
        "Sliding window: receptive field {} × {} layers = {} tokens (Mistral's figure);\n"
        "exactly {} when each query sees {}.\n",
        format_count(c.window), c.layers, format_count(rf.paper), format_count(rf.exact),
        causal_window ? fmt::format("itself and the {} previous keys", format_count(c.window - 1))
                      : fmt::format("{} keys on each side", format_count(c.window / 2)));
  }
  if (shows(q, Family::alternating))
    out += fmt::format("Alternating: layers 0, {}, {} ... global, the others a {}-token local window; scores and\n"
                       "FLOPs are the mean over the {} layers.\n",
                       c.every_k, 2 * c.every_k, c.local_window, c.layers);
  if (shows(q, Family::strided) && c.stride == 0) out += "Strided: stride s = floor(sqrt(N)) for each N.\n";
  if (any_covered) out += "* the window covers the whole text: the same as full attention in that direction.\n";
  if (any_rounded) out += "≈ past 2^128: rounded, not exact.\n";
  if (q.has_time)
    out += fmt::format("time: if N = {} takes {}, each family's time scales with its FLOPs (same GPU, same efficiency).\n",
                       format_count(q.baseline_seq), format_seconds(q.baseline_seconds));
  out += "Masks: full/window/longformer/strided/alternating are drawn by 'attnlab steps --table masks'.\n"
         "Papers: window 2310.06825, longformer 2004.05150, strided 1904.10509, alternating 2412.13663,\n"
         "linear 2009.14794, ssm 2312.00752 (arXiv).\n";
  return out;
}

// ---- the course's score-matrix table ---------------------------------------------------------------

std::string render_scores(const Query& q) {
  bool causal = q.cfg.direction == Direction::causal;
  std::vector<ScoreMatrix> rows;
  for (u64 n : q.seqs) rows.push_back(scaling_score_matrix(n, q.cfg.head_dim, causal));
  if (q.format == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("table", "scores").field("head_dim", q.cfg.head_dim).field("causal", causal);
    w.key("rows").begin_array();
    for (const auto& s : rows) {
      w.begin_object().field("seq", s.n).field("entries", s.entries).field("computed", s.computed)
          .field("bytes_fp32", s.bytes_fp32).field("bytes_fp16", s.bytes_fp16);
      w.key("flops");
      if (s.flops.exact()) w.value(s.flops.value()); else w.value(static_cast<double>(s.flops.approx()));
      w.end_object();
    }
    w.end_array().end_object();
    return w.str() + "\n";
  }
  Table t({{"N"}, {"score entries N²"}, {"≈"}, {"computed"}, {"fp32 matrix"}, {"fp16 matrix"}, {"FLOPs 4·N²·d"}});
  for (const auto& s : rows)
    t.add_row({cell_count(s.n), cell_count(s.entries), cell(short_count(s.entries), to_string_u128(s.entries)),
               cell_count(s.computed), cell_bytes(s.bytes_fp32), cell_bytes(s.bytes_fp16),
               cell(s.flops.exact() ? format_flops(s.flops.value()) : count_text(s.flops), count_raw(s.flops))});
  if (q.format == OutputFormat::csv) return t.to_csv();
  std::string out = t.to_text();
  out += fmt::format(
      "\nOne head's N×N score matrix as a naive kernel writes it (whole, even when causal: the masked half\n"
      "is filled, not skipped). The course's table labels the entries column 'Attention FLOPs'; the FLOPs\n"
      "are 4·N²·d{} with d = {}. FlashAttention never writes this matrix.\n",
      causal ? " (causal: 4·d·N(N+1)/2)" : "", q.cfg.head_dim);
  return out;
}

// ---- mask grids -------------------------------------------------------------------------------------

std::string render_masks(const Query& q) {
  struct Grid {
    u64 n, layer;
    Family f;
    MaskPattern m;
    u128 allowed;
  };
  std::vector<Grid> grids;
  for (u64 n : q.seqs)
    for (Family f : q.families) {
      MaskPattern m = family_mask(f, n, q.cfg);
      std::vector<u64> layers{0};
      if (m.kind == MaskKind::alternating && m.every_k > 1) layers.push_back(1);
      for (u64 layer : layers) grids.push_back({n, layer, f, m, mask_count(m, n, layer)});
    }
  if (q.format == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("table", "masks").key("grids").begin_array();
    for (const auto& g : grids) {
      w.begin_object().field("seq", g.n).field("family", std::string(family_name(g.f)))
          .field("paper", std::string(family_paper(g.f))).field("pattern", mask_describe(g.m)).field("layer", g.layer)
          .field("layer_is_global", mask_layer_is_global(g.m, g.layer)).field("allowed", g.allowed)
          .field("cells", u128{g.n} * g.n);
      w.key("rows").begin_array();
      std::string text = mask_grid_text(g.m, g.n, g.layer);
      for (size_t i = 0; i < text.size(); i += g.n + 1) w.value(text.substr(i, g.n));
      w.end_array().end_object();
    }
    w.end_array().end_object();
    return w.str() + "\n";
  }
  if (q.format == OutputFormat::csv) {
    Table t({{"N"}, {"family", false}, {"layer"}, {"query"}, {"keys", false}});
    for (const auto& g : grids) {
      std::string text = mask_grid_text(g.m, g.n, g.layer);
      for (u64 r = 0; r < g.n; ++r)
        t.add_row({cell_count(g.n), cell(std::string(family_name(g.f))), cell_count(g.layer), cell_count(r),
                   cell(text.substr(r * (g.n + 1), g.n))});
    }
    return t.to_csv();
  }
  std::string out;
  for (const auto& g : grids) {
    std::string layer;
    if (g.m.kind == MaskKind::alternating) layer = g.layer == 0 ? ", layer 0 (global)" : ", layer 1 (local)";
    out += fmt::format("{}: {}{}, N = {}: {} of {} cells allowed{}\n", family_label(g.f), mask_describe(g.m), layer,
                       g.n, format_count(g.allowed), format_count(u128{g.n} * g.n),
                       family_paper(g.f).empty() ? "" : fmt::format(" [{}]", family_paper(g.f)));
    out += mask_grid_text(g.m, g.n, g.layer) + "\n";
  }
  out += "Rows are queries, columns keys, '#' allowed. Small defaults for drawing (w=4); set --window etc.\n";
  return out;
}

}  // namespace

void setup_steps(CLI::App& app) {
  auto o = std::make_shared<StepsOptions>();
  auto* cmd = app.add_subcommand(
      "steps", "How attention's cost grows with text length: full vs window, sparse, linear and SSM (Mamba)");
  o->cmd = cmd;
  cmd->add_option("--seq", o->seq,
                  "Text lengths N, e.g. 10,1e3,2^15 (default 10,1e3,1e4,1e5,1e6; scores: 512..32768; masks: 16)")
      ->delimiter(',');
  cmd->add_option("--families", o->families,
                  "Which families: full,window,longformer,strided,alternating,linear,ssm (default all)")
      ->delimiter(',');
  cmd->add_option("--table", o->table, "main (per family), scores (the course's N² table), masks (grids)")
      ->default_val("main");
  auto* causal = cmd->add_flag("--causal", o->causal, "Every attention mask causal (decoder)");
  auto* bidir = cmd->add_flag("--bidirectional", o->bidirectional, "Every attention mask bidirectional (encoder)");
  causal->excludes(bidir);
  cmd->add_option("-d,--head-dim", o->head_dim, "Head dimension d")->default_val(o->head_dim);
  cmd->add_option("--heads", o->heads, "Attention heads per layer")->default_val(o->heads);
  cmd->add_option("--layers", o->layers, "Layers (receptive field; alternating's average)")->default_val(o->layers);
  cmd->add_option("-w,--window", o->window, "Sliding window w, keys a query sees (Mistral: 4096)")->default_val(o->window);
  cmd->add_option("--longformer-window", o->longformer_window, "Longformer window w (w/2 each side)")
      ->default_val(o->longformer_window);
  cmd->add_option("-g,--globals", o->globals, "Longformer global tokens g (positions 0..g-1)")->default_val(o->globals);
  cmd->add_option("--stride", o->stride, "Strided attention stride s (default floor(sqrt(N)))");
  cmd->add_option("-k,--every-k", o->every_k, "Alternating: a global layer every k layers (ModernBERT: 3)")
      ->default_val(o->every_k);
  cmd->add_option("--local-window", o->local_window, "Alternating: local window (ModernBERT: 128)")
      ->default_val(o->local_window);
  cmd->add_option("-r,--features", o->features, "Linear attention: random features r (state r×d per head)")
      ->default_val(o->features);
  cmd->add_option("--state", o->state, "SSM state size n per channel (Mamba: 16)")->default_val(o->state);
  cmd->add_option("--channels", o->channels, "SSM channels D (Mamba: 2 × d_model = 1536)")->default_val(o->channels);
  cmd->add_option("--conv-width", o->conv_width, "SSM short convolution width (Mamba: 4)")->default_val(o->conv_width);
  cmd->add_option("--dtype", o->dtype, "Element type of KV caches and states: fp32, fp16, bf16, fp8")
      ->default_val(o->dtype);
  cmd->add_option("--baseline-seq", o->baseline_seq, "What-if: compare every N with this length");
  cmd->add_option("--baseline-time", o->baseline_time, "What-if: the time at --baseline-seq (1s, 250ms, 2min)");
  add_format_option(cmd, o->format);
  cmd->add_option("--config", o->config,
                  "A model's Hugging Face config.json: its heads, head size, layers, window and SSM state");
  cmd->footer(whole_numbers_footer());
  cmd->callback([o] {
    StepsOptions eff = *o;
    const ModelSpec* model = apply_config(eff);
    Query q = to_query(eff);
    std::string out = q.table == TableKind::main     ? render_main(q)
                      : q.table == TableKind::scores ? render_scores(q)
                                                     : render_masks(q);
    if (model && q.format == OutputFormat::table)
      out += config_summary(*model, fmt::format("{} heads, head size {}, {} layers{}", eff.heads, eff.head_dim,
                                                eff.layers, model->window ? ", window " + eff.window : ""));
    print_out(out);
  });
}

}  // namespace attnlab::cli
