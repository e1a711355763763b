// Reader, writer and validator of measurement files (schema: assets/measurements/README.md).
#include "measure/measurement.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <utility>

#include "sim/flops.hpp"
#include "util/errors.hpp"
#include "util/json_read.hpp"

namespace attnlab {

namespace {
using nlohmann::json;

// The reading rules (null is absent, counts are integers, positive vs >= 0 by name) are
// util/json_read's, shared with the ring section and models.json.

// A rung number: checked before narrowing to int (4294967297 must not read as 1).
int read_rung(const JsonNode& r) {
  const u64 v = r.count_or_zero();
  if (v > 99) r.fail(fmt::format("must be 0..99 (got {})", v));
  return static_cast<int>(v);
}

MeasuredConfig read_config(const JsonNode& r) {
  MeasuredConfig c;
  c.batch = r.at("batch").count();
  c.heads = r.at("heads").count();
  c.kv_heads = r.at("kv_heads").count();
  c.seq_q = r.at("seq_q").count();
  c.seq_kv = r.at("seq_kv").count();
  c.head_dim = r.at("head_dim").count();
  c.causal = r.at("causal").boolean();
  c.dtype = r.at("dtype").str();
  if (c.dtype != "bf16" && c.dtype != "fp16" && c.dtype != "fp8")
    r.at("dtype").fail(fmt::format("must be bf16, fp16 or fp8 (got '{}')", c.dtype));
  c.score_dtype = r.str_or("score_dtype", "");
  if (!c.score_dtype.empty() && c.score_dtype != "fp32" && c.score_dtype != "bf16" && c.score_dtype != "fp16" &&
      c.score_dtype != "fp8")
    r.at("score_dtype").fail(fmt::format("must be fp32, bf16, fp16 or fp8 (got '{}')", c.score_dtype));
  c.block_q = r.count_or("block_q", 0);
  c.block_kv = r.count_or("block_kv", 0);
  // A window side must fit a sequence (<= 2^32): checked before narrowing to long long.
  for (auto [key, field] : {std::pair<const char*, long long*>{"window_left", &c.window_left},
                            std::pair<const char*, long long*>{"window_right", &c.window_right}}) {
    if (!r.has(key)) continue;
    const u64 v = r.at(key).count_or_zero();
    if (v > (u64{1} << 32)) r.at(key).fail(fmt::format("must be at most 4294967296 (got {})", v));
    *field = static_cast<long long>(v);
  }
  if (c.heads % c.kv_heads != 0)
    r.at("kv_heads").fail(fmt::format("must divide heads (got {} kv_heads for {} heads)", c.kv_heads, c.heads));
  return c;
}

MeasuredTime read_time(const JsonNode& t) {
  MeasuredTime time;
  time.median_ms = t.at("median").positive();
  time.min_ms = t.at("min").positive();
  time.max_ms = t.at("max").positive();
  time.repeats = t.at("repeats").count();
  if (time.min_ms > time.median_ms)
    t.at("min").fail(fmt::format("must be <= median (got {} > {})", time.min_ms, time.median_ms));
  if (time.median_ms > time.max_ms)
    t.at("max").fail(fmt::format("must be >= median (got {} < {})", time.max_ms, time.median_ms));
  return time;
}

MeasuredRun read_run(const JsonNode& r, bool reference) {
  MeasuredRun run;
  run.kernel = r.at("kernel").str();
  run.source = r.at("source").str();
  run.backend = r.str_or("backend", "");
  run.note = r.str_or("note", "");
  if (r.has("rung")) run.rung = read_rung(r.at("rung"));
  if (!reference && (run.rung < 1 || run.rung > 99)) r.at("rung").fail(fmt::format("must be 1..99 (got {})", run.rung));
  run.config = read_config(r.at("config"));
  run.time = read_time(r.at("time_ms"));
  run.tflops = r.at("tflops").positive();
  if (r.has("gbps")) run.gbps = r.at("gbps").positive();
  if (r.has("max_abs_error")) run.max_abs_error = r.at("max_abs_error").non_negative();
  if (r.has("rel_l2_error")) run.rel_l2_error = r.at("rel_l2_error").non_negative();
  return run;
}

}  // namespace

MeasuredRun measured_run_read(const JsonNode& r, bool reference) { return read_run(r, reference); }

namespace {

NcuRecord read_ncu(const JsonNode& r) {
  NcuRecord n;
  n.kernel = r.at("kernel").str();
  n.rung = read_rung(r.at("rung"));
  n.config = read_config(r.at("config"));
  n.launches = r.at("launches").count();
  n.options = r.str_or("options", "");
  const JsonNode m = r.at("metrics");
  for (const std::string& key : m.keys())
    if (m.has(key)) n.metrics[key] = m.at(key).non_negative();
  n.dram_read_bytes = m.at("dram__bytes_read.sum").non_negative();
  n.dram_write_bytes = m.at("dram__bytes_write.sum").non_negative();
  n.lts_bytes = m.at("lts__t_bytes.sum").non_negative();
  return n;
}

json config_json(const MeasuredConfig& c) {
  json j = {{"batch", c.batch},       {"heads", c.heads},   {"kv_heads", c.kv_heads},
            {"seq_q", c.seq_q},       {"seq_kv", c.seq_kv}, {"head_dim", c.head_dim},
            {"causal", c.causal},     {"dtype", c.dtype},   {"block_q", c.block_q},
            {"block_kv", c.block_kv}};
  if (!c.score_dtype.empty()) j["score_dtype"] = c.score_dtype;
  if (c.window_left >= 0) j["window_left"] = c.window_left;
  if (c.window_right >= 0) j["window_right"] = c.window_right;
  return j;
}

json run_json(const MeasuredRun& r) {
  json j = {{"kernel", r.kernel}, {"rung", r.rung}, {"source", r.source}, {"config", config_json(r.config)},
            {"time_ms", {{"median", r.time.median_ms}, {"min", r.time.min_ms}, {"max", r.time.max_ms},
                         {"repeats", r.time.repeats}}},
            {"tflops", r.tflops}};
  if (!r.backend.empty()) j["backend"] = r.backend;
  if (r.gbps) j["gbps"] = *r.gbps;
  if (r.max_abs_error) j["max_abs_error"] = *r.max_abs_error;
  if (r.rel_l2_error) j["rel_l2_error"] = *r.rel_l2_error;
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}
}  // namespace

MeasuredConfig measured_config_read(const JsonNode& n) { return read_config(n); }
MeasuredTime measured_time_read(const JsonNode& n) { return read_time(n); }

Measurements measurement_read(const JsonNode& root) {
  const std::string& origin = root.origin();
  if (!root.is_object()) throw InputError(fmt::format("{}: the top level must be a JSON object", origin));
  Measurements m;
  // The version is checked before anything else: a newer file may have renamed what we read next.
  if (!root.has("schema_version"))
    throw InputError(fmt::format("{}: schema_version is missing (not an attnlab measurement file?)", origin));
  // Compared as read, before narrowing: 4294967297 is a newer version, not version 1.
  const std::optional<u64> version = root.at("schema_version").whole();
  if (!version || *version == 0) throw InputError(fmt::format("{}: schema_version must be a positive integer", origin));
  if (*version > static_cast<u64>(measurement_schema_version))
    throw InputError(fmt::format(
        "{}: schema_version {} is newer than this attnlab reads (up to {}); update attnlab to read it", origin,
        *version, measurement_schema_version));
  m.schema_version = static_cast<int>(*version);
  if (root.str_or("schema", "") != measurement_schema_name)
    throw InputError(fmt::format("{}: schema must be \"{}\"", origin, measurement_schema_name));

  const JsonNode d = root.at("device");
  m.device.name = d.at("name").str();
  m.device.compute_capability = d.at("compute_capability").str();
  m.device.sm_count = d.at("sm_count").count();
  m.device.l2_bytes = d.at("l2_bytes").count();
  // Optional; 0 = not recorded, so a present value must be positive.
  m.device.memory_bytes = d.has("memory_bytes") ? d.at("memory_bytes").count() : 0;
  m.device.smem_per_block_optin = d.has("smem_per_block_optin") ? d.at("smem_per_block_optin").count() : 0;
  m.device.driver_version = d.at("driver_version").str();
  m.device.cuda_driver = d.at("cuda_driver").str();
  m.device.cuda_runtime = d.at("cuda_runtime").str();
  m.date = root.at("date").str();
  if (m.date.size() < 10 || m.date[4] != '-' || m.date[7] != '-')
    root.at("date").fail(fmt::format("must be an ISO 8601 date, e.g. 2026-11-23T10:00:00Z (got '{}')", m.date));
  m.command = root.at("command").str();
  m.tool = root.str_or("tool", "");
  m.torch_version = root.str_or("torch_version", "");
  for (const JsonNode& r : root.at("runs").items()) m.runs.push_back(read_run(r, false));
  if (root.has("references"))
    for (const JsonNode& r : root.at("references").items()) m.references.push_back(read_run(r, true));
  if (root.has("ncu"))
    for (const JsonNode& r : root.at("ncu").items()) m.ncu.push_back(read_ncu(r));
  return m;
}

Measurements measurement_parse(std::string_view json_text, std::string_view origin) {
  return measurement_read(json_parse(json_text, origin).root());
}

Measurements measurement_load(const std::filesystem::path& path) {
  return measurement_parse(file_read_text(path, "measurement file"), path.filename().string());
}

std::string measurement_to_json(const Measurements& m) {
  json j;
  j["schema"] = measurement_schema_name;
  j["schema_version"] = m.schema_version;
  j["device"] = {{"name", m.device.name},
                 {"compute_capability", m.device.compute_capability},
                 {"sm_count", m.device.sm_count},
                 {"l2_bytes", m.device.l2_bytes},
                 {"driver_version", m.device.driver_version},
                 {"cuda_driver", m.device.cuda_driver},
                 {"cuda_runtime", m.device.cuda_runtime}};
  // Optional fields: 0 means "not recorded" and is left out, as the reader expects (a present
  // value must be positive). Writing 0 broke the round trip (found by fuzz_measurement).
  if (m.device.memory_bytes != 0) j["device"]["memory_bytes"] = m.device.memory_bytes;
  if (m.device.smem_per_block_optin != 0) j["device"]["smem_per_block_optin"] = m.device.smem_per_block_optin;
  j["date"] = m.date;
  j["command"] = m.command;
  if (!m.tool.empty()) j["tool"] = m.tool;
  if (!m.torch_version.empty()) j["torch_version"] = m.torch_version;
  j["runs"] = json::array();
  for (const auto& r : m.runs) j["runs"].push_back(run_json(r));
  j["references"] = json::array();
  for (const auto& r : m.references) j["references"].push_back(run_json(r));
  j["ncu"] = json::array();
  for (const auto& n : m.ncu) {
    json metrics = json::object();
    for (const auto& [k, v] : n.metrics) metrics[k] = v;
    metrics["dram__bytes_read.sum"] = n.dram_read_bytes;
    metrics["dram__bytes_write.sum"] = n.dram_write_bytes;
    metrics["lts__t_bytes.sum"] = n.lts_bytes;
    json e = {{"kernel", n.kernel}, {"rung", n.rung}, {"config", config_json(n.config)},
              {"launches", n.launches}, {"metrics", metrics}};
    if (!n.options.empty()) e["options"] = n.options;
    j["ncu"].push_back(e);
  }
  return j.dump(2) + "\n";
}

double measurement_forward_flops(const MeasuredConfig& c) {
  return attention_forward_flops_approx({c.batch, c.heads, c.seq_q, c.seq_kv, c.head_dim, c.causal});
}

std::filesystem::path measurement_dir() {
  return std::filesystem::path(ATTNLAB_SOURCE_ROOT) / "assets" / "measurements";
}

std::vector<std::filesystem::path> measurement_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::filesystem::path> measurement_files_with(const std::filesystem::path& dir, std::string_view section) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : measurement_files(dir))
    if (json_has_top_key(file_read_text(p, "measurement file"), section)) out.push_back(p);
  return out;
}

bool measured_same_problem(const MeasuredConfig& a, const MeasuredConfig& b) {
  return a.batch == b.batch && a.heads == b.heads && a.kv_heads == b.kv_heads && a.seq_q == b.seq_q &&
         a.seq_kv == b.seq_kv && a.head_dim == b.head_dim && a.causal == b.causal && a.dtype == b.dtype &&
         a.window_left == b.window_left && a.window_right == b.window_right;
}

bool measured_same_launch(const MeasuredConfig& a, const MeasuredConfig& b) {
  return measured_same_problem(a, b) && a.block_q == b.block_q && a.block_kv == b.block_kv;
}

}  // namespace attnlab
