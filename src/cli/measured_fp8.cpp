#include "cli/measured_fp8.hpp"

#include <fmt/format.h>

#include <optional>

#include "measure/fp8_measured.hpp"
#include "util/errors.hpp"
#include "util/json_read.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {

struct Fp8File {
  std::string name;
  Fp8Measurements m;
};

std::string shape_label(u64 b, u64 h, u64 hkv, u64 nq, u64 nkv, u64 d, bool causal) {
  std::string s = fmt::format("B{} H{}/{} ", b, h, hkv);
  s += nq == nkv ? fmt::format("N{}", nq) : fmt::format("Nq{} Nkv{}", nq, nkv);
  return s + fmt::format(" d{}{}", d, causal ? " causal" : "");
}
std::string fp8_shape_label(const MeasuredConfig& c) {
  return shape_label(c.batch, c.heads, c.kv_heads, c.seq_q, c.seq_kv, c.head_dim, c.causal);
}
std::string tile_label(const MeasuredConfig& c) {
  return c.block_q || c.block_kv ? fmt::format("{}x{}", c.block_q, c.block_kv) : std::string("-");
}
Cell ms_cell(std::optional<double> ms) {
  return ms ? cell(format_seconds(*ms * 1e-3), fmt::format("{}", *ms * 1e-3)) : cell("-", "");
}
Cell ratio_cell(std::optional<double> r) {
  return r ? cell(fmt::format("{:.2f}x", *r), fmt::format("{}", *r)) : cell("-", "");
}
Cell err_cell(double v) { return cell(fmt::format("{:.2e}", v), fmt::format("{}", v)); }
void opt_field(JsonWriter& w, std::string_view k, std::optional<double> v) {
  w.key(k);
  if (v) w.value(*v);
  else w.null();
}

// ---- speed: the FP8 rung beside the bf16 rung ---------------------------------------------------
Table speed_table(const std::vector<Fp8File>& files) {
  Table t({{"file", false}, {"kernel", false}, {"config", false}, {"Br x Bc", false}, {"FP8 median"}, {"FP8 TFLOP/s"},
           {"bf16 median"}, {"bf16 TFLOP/s"}, {"speed-up"}, {"quantize"}, {"with quantize"}});
  for (const auto& x : files)
    for (const auto& r : fp8_speed_rows(x.m.base, x.m.quantize))
      t.add_row({cell(x.name), cell(r.fp8.kernel), cell(fp8_shape_label(r.fp8.config)), cell(tile_label(r.fp8.config)),
                 ms_cell(r.fp8.time.median_ms), cell_num(r.fp8.tflops, 1),
                 ms_cell(r.bf16 ? std::optional<double>(r.bf16->time.median_ms) : std::nullopt),
                 r.bf16 ? cell_num(r.bf16->tflops, 1) : cell("-", ""), ratio_cell(r.speedup),
                 ms_cell(r.quantize_block_ms), ratio_cell(r.speedup_with_quantize)});
  return t;
}
void speed_json(JsonWriter& w, const std::vector<Fp8File>& files) {
  w.key("speed").begin_array();
  for (const auto& x : files)
    for (const auto& r : fp8_speed_rows(x.m.base, x.m.quantize)) {
      const auto& c = r.fp8.config;
      w.begin_object().field("file", x.name).field("kernel", r.fp8.kernel).field("batch", c.batch).field("heads", c.heads)
          .field("kv_heads", c.kv_heads).field("seq_q", c.seq_q).field("seq_kv", c.seq_kv).field("head_dim", c.head_dim)
          .field("causal", c.causal).field("block_q", c.block_q).field("block_kv", c.block_kv)
          .field("fp8_median_ms", r.fp8.time.median_ms).field("fp8_tflops", r.fp8.tflops);
      opt_field(w, "bf16_median_ms", r.bf16 ? std::optional<double>(r.bf16->time.median_ms) : std::nullopt);
      opt_field(w, "bf16_tflops", r.bf16 ? std::optional<double>(r.bf16->tflops) : std::nullopt);
      opt_field(w, "speedup", r.speedup);
      opt_field(w, "quantize_block_ms", r.quantize_block_ms);
      opt_field(w, "quantize_hadamard_ms", r.quantize_hadamard_ms);
      opt_field(w, "speedup_with_quantize", r.speedup_with_quantize);
      w.end_object();
    }
  w.end_array();
}

// ---- accuracy: one row per (input, shape, method) -----------------------------------------------
// RMSE of per-tensor scaling / this method's: how much this method cuts the error.
std::optional<double> vs_tensor(const Fp8Measurements& m, const Fp8AccuracyRow& r) {
  for (const auto& t : m.accuracy)
    if (t.method == "fp8-tensor" && t.input == r.input && t.batch == r.batch && t.heads == r.heads &&
        t.kv_heads == r.kv_heads && t.seq_q == r.seq_q && t.seq_kv == r.seq_kv && t.head_dim == r.head_dim &&
        t.causal == r.causal && r.rmse > 0)
      return t.rmse / r.rmse;
  return std::nullopt;
}
Table accuracy_table(const std::vector<Fp8File>& files) {
  Table t({{"file", false}, {"input", false}, {"shape", false}, {"method", false}, {"RMSE"}, {"rel. L2"}, {"max |err|"},
           {"per-tensor RMSE / this"}});
  for (const auto& x : files)
    for (const auto& in : {"random", "outliers"})
      for (const auto& r : x.m.accuracy) {
        if (r.input != in) continue;
        t.add_row({cell(x.name), cell(r.input),
                   cell(shape_label(r.batch, r.heads, r.kv_heads, r.seq_q, r.seq_kv, r.head_dim, r.causal)),
                   cell(std::string(fp8_method_label(r.method)), r.method), err_cell(r.rmse), err_cell(r.rel_l2),
                   err_cell(r.max_abs), ratio_cell(vs_tensor(x.m, r))});
      }
  return t;
}
void accuracy_json(JsonWriter& w, const std::vector<Fp8File>& files) {
  w.key("accuracy").begin_array();
  for (const auto& x : files)
    for (const auto& r : x.m.accuracy) {
      w.begin_object().field("file", x.name).field("input", r.input).field("method", r.method).field("batch", r.batch)
          .field("heads", r.heads).field("kv_heads", r.kv_heads).field("seq_q", r.seq_q).field("seq_kv", r.seq_kv)
          .field("head_dim", r.head_dim).field("causal", r.causal).field("rmse", r.rmse).field("rel_l2", r.rel_l2)
          .field("max_abs", r.max_abs);
      opt_field(w, "tensor_rmse_over_this", vs_tensor(x.m, r));
      w.end_object();
    }
  w.end_array();
}

// ---- quantize: the quantization kernels --------------------------------------------------------
Table quantize_table(const std::vector<Fp8File>& files) {
  Table t({{"file", false}, {"kernel", false}, {"config", false}, {"median"}, {"min"}, {"max"}, {"GB/s"}, {"note", false}});
  for (const auto& x : files)
    for (const auto& q : x.m.quantize)
      t.add_row({cell(x.name), cell(q.kernel), cell(fp8_shape_label(q.config)), ms_cell(q.time.median_ms),
                 ms_cell(q.time.min_ms), ms_cell(q.time.max_ms), cell_num(q.gbps, 0), cell(q.note)});
  return t;
}
void quantize_json(JsonWriter& w, const std::vector<Fp8File>& files) {
  w.key("quantize").begin_array();
  for (const auto& x : files)
    for (const auto& q : x.m.quantize) {
      const auto& c = q.config;
      w.begin_object().field("file", x.name).field("kernel", q.kernel).field("batch", c.batch).field("heads", c.heads)
          .field("kv_heads", c.kv_heads).field("seq_q", c.seq_q).field("seq_kv", c.seq_kv).field("head_dim", c.head_dim)
          .field("median_ms", q.time.median_ms).field("min_ms", q.time.min_ms).field("max_ms", q.time.max_ms)
          .field("repeats", q.time.repeats).field("gbps", q.gbps).field("note", q.note).end_object();
    }
  w.end_array();
}

}  // namespace

std::string measured_fp8_render(const std::vector<std::filesystem::path>& paths, bool named_files, std::string_view part,
                                OutputFormat f) {
  if (!part.empty() && part != "speed" && part != "accuracy" && part != "quantize")
    throw InputError(fmt::format("--part must be speed, accuracy or quantize (got '{}')", part));
  if (f == OutputFormat::csv && part.empty())
    throw InputError("--format csv with --fp8 needs --part speed, accuracy or quantize (one table per CSV)");
  std::vector<Fp8File> files;
  for (const auto& p : paths) {
    if (!named_files && !json_has_top_key(file_read_text(p, "measurement file"), "fp8")) continue;
    files.push_back({p.filename().string(), fp8_measured_load(p)});
  }
  if (files.empty())
    throw InputError("no measurement file in the folder has an \"fp8\" section (FP8 attention: see "
                     "assets/measurements/README.md, \"fp8\")");
  const bool all = part.empty();
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object();
    if (all || part == "speed") speed_json(w, files);
    if (all || part == "accuracy") accuracy_json(w, files);
    if (all || part == "quantize") quantize_json(w, files);
    w.end_object();
    return w.str();
  }
  if (f == OutputFormat::csv)
    return part == "speed" ? speed_table(files).to_csv()
                           : part == "accuracy" ? accuracy_table(files).to_csv() : quantize_table(files).to_csv();
  std::string out;
  if (all || part == "speed") {
    out += "FP8 attention beside our bf16 Hopper rung (attn-hopper), same problem, same file (same session, same GPU)\n\n";
    out += speed_table(files).to_text();
    out += "\nspeed-up: bf16 median / FP8 median (> 1: FP8 is faster). quantize: the block quantization kernel\n"
           "(fp8-quantize-block: bf16 Q, K, V -> e4m3 with a scale per tile, V transposed) of the same shape.\n"
           "with quantize: bf16 / the end-to-end run (quantize + attention timed together, kernel *-e2e) where\n"
           "the file has one, else bf16 / (FP8 + quantize): what a bf16 model pays when its inputs are not FP8.\n";
  }
  if (all || part == "accuracy") {
    if (!out.empty()) out += "\n";
    out += "Accuracy of O against an fp64 reference on the same inputs\n\n";
    out += accuracy_table(files).to_text();
    for (const auto& x : files)
      out += fmt::format("\n{}: outlier inputs have {:.3g}% of their entries scaled by {:.3g}.{}", x.name,
                         100 * x.m.outlier_fraction, x.m.outlier_scale, x.m.note.empty() ? "" : " " + x.m.note);
    out += "\n";
  }
  if (all || part == "quantize") {
    if (!out.empty()) out += "\n";
    out += "Quantization kernels (bf16 -> FP8 e4m3 with scales), timed on their own\n\n";
    out += quantize_table(files).to_text();
  }
  return out;
}

}  // namespace attnlab::cli
