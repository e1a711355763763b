// Reader, writer and validator of measurement files (schema: assets/measurements/README.md).
#include "measure/measurement.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "sim/flops.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {
using nlohmann::json;

// Every lookup goes through a Reader that knows its JSON path, so an error names the spot:
// "h100.json: runs[2].config.head_dim must be a positive integer".
struct Reader {
  const json& j;
  std::string path;
  std::string_view origin;

  [[noreturn]] void fail(std::string_view what) const {
    throw InputError(fmt::format("{}: {} {}", origin, path, what));
  }
  Reader at(std::string_view key) const {
    if (!j.is_object()) fail("must be an object");
    auto it = j.find(std::string(key));
    std::string p = path.empty() ? std::string(key) : path + "." + std::string(key);
    if (it == j.end()) throw InputError(fmt::format("{}: {} is missing", origin, p));
    return Reader{*it, std::move(p), origin};
  }
  bool has(std::string_view key) const {
    return j.is_object() && j.contains(std::string(key)) && !j.at(std::string(key)).is_null();
  }
  std::string str() const {
    if (!j.is_string()) fail("must be a string");
    return j.get<std::string>();
  }
  u64 count(bool positive = true) const {
    if (!j.is_number_integer() || (j.is_number_integer() && !j.is_number_unsigned() && j.get<long long>() < 0))
      fail("must be a non-negative integer");
    u64 v = j.get<u64>();
    if (positive && v == 0) fail("must be a positive integer (got 0)");
    return v;
  }
  double number(bool allow_zero = false) const {
    if (!j.is_number()) fail("must be a number");
    double v = j.get<double>();
    if (!std::isfinite(v) || v < 0 || (!allow_zero && v == 0))
      fail(fmt::format("must be {} (got {})", allow_zero ? "a finite number >= 0" : "a positive number", v));
    return v;
  }
  bool boolean() const {
    if (!j.is_boolean()) fail("must be true or false");
    return j.get<bool>();
  }
  std::vector<Reader> items() const {
    if (!j.is_array()) fail("must be an array");
    std::vector<Reader> r;
    for (size_t i = 0; i < j.size(); ++i) r.push_back(Reader{j[i], fmt::format("{}[{}]", path, i), origin});
    return r;
  }
  std::string str_or(std::string_view key, std::string def) const { return has(key) ? at(key).str() : def; }
  // A rung number: checked before narrowing to int (4294967297 must not read as 1).
  int rung() const {
    const u64 v = count(false);
    if (v > 99) fail(fmt::format("must be 0..99 (got {})", v));
    return static_cast<int>(v);
  }
};

MeasuredConfig read_config(const Reader& r) {
  MeasuredConfig c;
  c.batch = r.at("batch").count();
  c.heads = r.at("heads").count();
  c.kv_heads = r.at("kv_heads").count();
  c.seq_q = r.at("seq_q").count();
  c.seq_kv = r.at("seq_kv").count();
  c.head_dim = r.at("head_dim").count();
  c.causal = r.at("causal").boolean();
  c.dtype = r.at("dtype").str();
  if (c.dtype != "bf16" && c.dtype != "fp16")
    r.at("dtype").fail(fmt::format("must be bf16 or fp16 (got '{}')", c.dtype));
  c.score_dtype = r.str_or("score_dtype", "");
  if (!c.score_dtype.empty() && c.score_dtype != "fp32" && c.score_dtype != "bf16" && c.score_dtype != "fp16")
    r.at("score_dtype").fail(fmt::format("must be fp32, bf16 or fp16 (got '{}')", c.score_dtype));
  c.block_q = r.has("block_q") ? r.at("block_q").count(false) : 0;
  c.block_kv = r.has("block_kv") ? r.at("block_kv").count(false) : 0;
  // A window side must fit a sequence (<= 2^32): checked before narrowing to long long.
  for (auto [key, field] : {std::pair<const char*, long long*>{"window_left", &c.window_left},
                            std::pair<const char*, long long*>{"window_right", &c.window_right}}) {
    if (!r.has(key)) continue;
    const u64 v = r.at(key).count(false);
    if (v > (u64{1} << 32)) r.at(key).fail(fmt::format("must be at most 4294967296 (got {})", v));
    *field = static_cast<long long>(v);
  }
  if (c.heads % c.kv_heads != 0)
    r.at("kv_heads").fail(fmt::format("must divide heads (got {} kv_heads for {} heads)", c.kv_heads, c.heads));
  return c;
}

MeasuredRun read_run(const Reader& r, bool reference) {
  MeasuredRun run;
  run.kernel = r.at("kernel").str();
  run.source = r.at("source").str();
  run.backend = r.str_or("backend", "");
  run.note = r.str_or("note", "");
  if (r.has("rung")) run.rung = r.at("rung").rung();
  if (!reference && (run.rung < 1 || run.rung > 99)) r.at("rung").fail(fmt::format("must be 1..99 (got {})", run.rung));
  run.config = read_config(r.at("config"));
  Reader t = r.at("time_ms");
  run.time.median_ms = t.at("median").number();
  run.time.min_ms = t.at("min").number();
  run.time.max_ms = t.at("max").number();
  run.time.repeats = t.at("repeats").count();
  if (run.time.min_ms > run.time.median_ms)
    t.at("min").fail(fmt::format("must be <= median (got {} > {})", run.time.min_ms, run.time.median_ms));
  if (run.time.median_ms > run.time.max_ms)
    t.at("max").fail(fmt::format("must be >= median (got {} < {})", run.time.max_ms, run.time.median_ms));
  run.tflops = r.at("tflops").number();
  if (r.has("gbps")) run.gbps = r.at("gbps").number();
  if (r.has("max_abs_error")) run.max_abs_error = r.at("max_abs_error").number(true);
  if (r.has("rel_l2_error")) run.rel_l2_error = r.at("rel_l2_error").number(true);
  return run;
}

NcuRecord read_ncu(const Reader& r) {
  NcuRecord n;
  n.kernel = r.at("kernel").str();
  n.rung = r.at("rung").rung();
  n.config = read_config(r.at("config"));
  n.launches = r.at("launches").count();
  n.options = r.str_or("options", "");
  Reader m = r.at("metrics");
  if (!m.j.is_object()) m.fail("must be an object");
  for (auto it = m.j.begin(); it != m.j.end(); ++it) n.metrics[it.key()] = m.at(it.key()).number(true);
  n.dram_read_bytes = m.at("dram__bytes_read.sum").number(true);
  n.dram_write_bytes = m.at("dram__bytes_write.sum").number(true);
  n.lts_bytes = m.at("lts__t_bytes.sum").number(true);
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

Measurements measurement_parse(std::string_view json_text, std::string_view origin) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number too large for a double ("1e400"). nlohmann's
    // message carries the byte offset; keep it on one line.
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw InputError(fmt::format("{}: not valid JSON ({})", origin, what));
  }
  Reader root{doc, "", origin};
  if (!doc.is_object()) throw InputError(fmt::format("{}: the top level must be a JSON object", origin));
  Measurements m;
  // The version is checked before anything else: a newer file may have renamed what we read next.
  if (!root.has("schema_version"))
    throw InputError(fmt::format("{}: schema_version is missing (not an attnlab measurement file?)", origin));
  const json& v = doc.at("schema_version");
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<long long>() < 1) || v.get<u64>() == 0)
    throw InputError(fmt::format("{}: schema_version must be a positive integer", origin));
  // Compared as read, before narrowing: 4294967297 is a newer version, not version 1.
  const u64 version = v.get<u64>();
  if (version > static_cast<u64>(measurement_schema_version))
    throw InputError(fmt::format(
        "{}: schema_version {} is newer than this attnlab reads (up to {}); update attnlab to read it", origin,
        version, measurement_schema_version));
  m.schema_version = static_cast<int>(version);
  if (root.str_or("schema", "") != measurement_schema_name)
    throw InputError(fmt::format("{}: schema must be \"{}\"", origin, measurement_schema_name));

  Reader d = root.at("device");
  m.device.name = d.at("name").str();
  m.device.compute_capability = d.at("compute_capability").str();
  m.device.sm_count = d.at("sm_count").count();
  m.device.l2_bytes = d.at("l2_bytes").count();
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
  for (const Reader& r : root.at("runs").items()) m.runs.push_back(read_run(r, false));
  if (root.has("references"))
    for (const Reader& r : root.at("references").items()) m.references.push_back(read_run(r, true));
  if (root.has("ncu"))
    for (const Reader& r : root.at("ncu").items()) m.ncu.push_back(read_ncu(r));
  return m;
}

Measurements measurement_load(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a folder, not a measurement file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the measurement file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: cannot read the measurement file", path.string()));
  return measurement_parse(ss.str(), path.filename().string());
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

}  // namespace attnlab
