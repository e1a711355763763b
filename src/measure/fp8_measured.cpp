// Reader of the "fp8" section of measurement files, and the FP8-vs-bf16 pairing of their runs.
#include "measure/fp8_measured.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <tuple>

#include "util/errors.hpp"
#include "util/json_read.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {

// A string field that must be one of `allowed`.
std::string one_of(const JsonNode& n, const std::vector<std::string>& allowed) {
  std::string v = n.str();
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    n.fail(fmt::format("must be one of {} (got '{}')", join(allowed), v));
  return v;
}

Fp8AccuracyRow read_accuracy(const JsonNode& n) {
  static const std::vector<std::string> inputs = {"random", "outliers"};
  Fp8AccuracyRow r;
  r.input = one_of(n.at("input"), inputs);
  r.method = one_of(n.at("method"), fp8_methods());
  r.batch = n.at("batch").count();
  r.heads = n.at("heads").count();
  r.kv_heads = n.at("kv_heads").count();
  r.seq_q = n.at("seq_q").count();
  r.seq_kv = n.at("seq_kv").count();
  r.head_dim = n.at("head_dim").count();
  r.causal = n.at("causal").boolean();
  if (r.heads % r.kv_heads != 0)
    n.at("kv_heads").fail(fmt::format("must divide heads (got {} kv_heads for {} heads)", r.kv_heads, r.heads));
  r.rmse = n.at("rmse").non_negative();
  r.rel_l2 = n.at("rel_l2").non_negative();
  r.max_abs = n.at("max_abs").non_negative();
  // The largest error bounds the root mean square: a file where it does not was written wrong.
  if (r.max_abs < r.rmse * (1 - 1e-9))
    n.at("max_abs").fail(fmt::format("must be >= rmse (got {} < {})", r.max_abs, r.rmse));
  return r;
}

auto shape_key(const Fp8AccuracyRow& r) {
  return std::tie(r.input, r.method, r.batch, r.heads, r.kv_heads, r.seq_q, r.seq_kv, r.head_dim, r.causal);
}

Fp8QuantizeRow read_quantize(const JsonNode& n) {
  Fp8QuantizeRow q;
  q.kernel = one_of(n.at("kernel"), fp8_quantize_kernels());
  q.config = measured_config_read(n.at("config"));
  q.time = measured_time_read(n.at("time_ms"));
  q.gbps = n.at("gbps").positive();
  q.note = n.str_or("note", "");
  return q;
}

bool same_shape(const MeasuredConfig& a, const MeasuredConfig& b) {
  return a.batch == b.batch && a.heads == b.heads && a.kv_heads == b.kv_heads && a.seq_q == b.seq_q &&
         a.seq_kv == b.seq_kv && a.head_dim == b.head_dim;
}

}  // namespace

const std::vector<std::string>& fp8_methods() {
  static const std::vector<std::string> m = {"bf16", "fp8-tensor", "fp8-block", "fp8-block-hadamard"};
  return m;
}

std::string_view fp8_method_label(std::string_view method) {
  if (method == "bf16") return "bf16 (our Hopper rung)";
  if (method == "fp8-tensor") return "FP8, one scale per tensor";
  if (method == "fp8-block") return "FP8, one scale per tile";
  if (method == "fp8-block-hadamard") return "FP8, per tile + Hadamard";
  return "?";
}

const std::vector<std::string>& fp8_quantize_kernels() {
  static const std::vector<std::string> k = {"fp8-quantize-tensor", "fp8-quantize-block", "fp8-quantize-block-hadamard"};
  return k;
}

Fp8Measurements fp8_measured_parse(std::string_view json_text, std::string_view origin) {
  // The ordinary part first: an FP8 file is also a valid measurement file.
  const JsonDoc doc = json_parse(json_text, origin);
  const JsonNode root = doc.root();
  Fp8Measurements m;
  m.base = measurement_read(root);
  if (!root.has("fp8")) throw InputError(fmt::format("{}: has no \"fp8\" section (not an FP8 attention measurement)", origin));
  const JsonNode f = root.at("fp8");
  if (!f.is_object()) f.fail("must be an object");
  m.note = f.str_or("note", "");
  m.outlier_fraction = f.at("outlier_fraction").positive();
  if (m.outlier_fraction > 1) f.at("outlier_fraction").fail(fmt::format("must be at most 1 (got {})", m.outlier_fraction));
  m.outlier_scale = f.at("outlier_scale").positive();
  const std::vector<JsonNode> rows = f.at("accuracy").items();
  if (rows.empty()) f.at("accuracy").fail("must list at least one row");
  for (size_t i = 0; i < rows.size(); ++i) {
    Fp8AccuracyRow r = read_accuracy(rows[i]);
    for (size_t k = 0; k < m.accuracy.size(); ++k)
      if (shape_key(m.accuracy[k]) == shape_key(r))
        rows[i].fail(fmt::format("repeats {}[{}] (the same input, method and shape)", f.at("accuracy").path(), k));
    m.accuracy.push_back(std::move(r));
  }
  if (f.has("quantize"))
    for (const JsonNode& n : f.at("quantize").items()) m.quantize.push_back(read_quantize(n));
  return m;
}

Fp8Measurements fp8_measured_load(const std::filesystem::path& path) {
  return fp8_measured_parse(file_read_text(path, "measurement file"), path.filename().string());
}

std::vector<std::filesystem::path> fp8_measured_files(const std::filesystem::path& dir) {
  return measurement_files_with(dir, "fp8");
}

const Fp8AccuracyRow* fp8_accuracy_find(const Fp8Measurements& m, std::string_view input, std::string_view method,
                                        u64 head_dim, u64 seq, bool causal) {
  const Fp8AccuracyRow* best = nullptr;
  for (const auto& r : m.accuracy)
    if (r.input == input && r.method == method && (head_dim == 0 || r.head_dim == head_dim) &&
        (seq == 0 || r.seq_q == seq) && r.causal == causal && (best == nullptr || r.seq_q > best->seq_q))
      best = &r;
  return best;
}

bool fp8_same_problem_but_dtype(const MeasuredConfig& fp8, const MeasuredConfig& bf16) {
  MeasuredConfig c = bf16;
  c.dtype = fp8.dtype;
  return fp8.dtype == "fp8" && bf16.dtype == "bf16" && measured_same_problem(fp8, c);
}

std::vector<Fp8SpeedRow> fp8_speed_rows(const Measurements& m, const std::vector<Fp8QuantizeRow>& quantize) {
  std::vector<Fp8SpeedRow> out;
  for (const MeasuredRun& r : m.runs) {
    if (r.config.dtype != "fp8" || r.kernel.ends_with(fp8_e2e_suffix)) continue;
    Fp8SpeedRow row;
    row.fp8 = r;
    const std::string e2e_name = r.kernel + std::string(fp8_e2e_suffix);
    for (const MeasuredRun& e : m.runs)
      if (e.kernel == e2e_name && measured_same_problem(e.config, r.config) && !row.e2e) row.e2e = e;
    for (const MeasuredRun& b : m.runs)
      if (b.kernel == fp8_bf16_rung && fp8_same_problem_but_dtype(r.config, b.config) &&
          (!row.bf16 || b.time.median_ms < row.bf16->time.median_ms))
        row.bf16 = b;
    if (row.bf16) row.speedup = row.bf16->time.median_ms / r.time.median_ms;
    for (const Fp8QuantizeRow& q : quantize) {
      if (!same_shape(q.config, r.config)) continue;
      if (q.kernel == "fp8-quantize-block") row.quantize_block_ms = q.time.median_ms;
      if (q.kernel == "fp8-quantize-block-hadamard") row.quantize_hadamard_ms = q.time.median_ms;
    }
    if (row.bf16 && row.e2e)
      row.speedup_with_quantize = row.bf16->time.median_ms / row.e2e->time.median_ms;
    else if (row.bf16 && row.quantize_block_ms)
      row.speedup_with_quantize = row.bf16->time.median_ms / (r.time.median_ms + *row.quantize_block_ms);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace attnlab
