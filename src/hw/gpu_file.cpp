// Reading a GPU description file into GpuSpec. Every figure is checked against a range that real
// GPUs sit well inside, so that a unit slip (GB for bytes, TFLOP/s for FLOP/s) is an error naming
// the field, not a roofline that is silently a thousand times off.
#include "util/units.hpp"
#include "hw/gpu_file.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/json_read.hpp"

namespace attnlab {

namespace {
using nlohmann::json;

struct Fields {
  const json& j;
  const std::string& path;

  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    throw InputError(fmt::format("{}: field '{}': {}", path, key, what));
  }
  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  u64 count(const char* key, u64 lo, u64 hi) const {
    if (!has(key)) fail(key, "missing");
    const json& v = j.at(key);
    if (!v.is_number_integer()) fail(key, fmt::format("must be a whole number (got {})", v.dump()));
    if (!v.is_number_unsigned()) fail(key, fmt::format("must be at least {} (got {})", lo, v.get<long long>()));
    u64 x = v.get<u64>();
    if (x < lo || x > hi) fail(key, fmt::format("must be between {} and {} (got {})", lo, hi, x));
    return x;
  }
  double rate(const char* key, double lo, double hi) const {
    if (!has(key)) fail(key, "missing");
    const json& v = j.at(key);
    if (!v.is_number()) fail(key, fmt::format("must be a number (got {})", v.dump()));
    double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi) fail(key, fmt::format("must be between {:g} and {:g} (got {:g})", lo, hi, x));
    return x;
  }
  std::string text(const char* key, bool required) const {
    if (!has(key)) {
      if (required) fail(key, "missing");
      return {};
    }
    if (!j.at(key).is_string() || j.at(key).get<std::string>().empty()) fail(key, "must be a non-empty string");
    return j.at(key).get<std::string>();
  }
};


GpuSpec parse_gpu_object(const json& j, const std::string& path) {
  if (!j.is_object()) throw InputError(fmt::format("{}: not a GPU file (expected a JSON object)", path));
  static const std::vector<std::string> known = {
      "schema", "name", "full_name", "arch", "sm_count", "smem_per_sm_bytes", "smem_per_block_bytes", "regs_per_sm",
      "l2_bytes", "hbm_bytes", "hbm_bytes_per_s", "fp32_flops", "tf32_flops", "fp16_flops", "fp8_flops", "memory_kind",
      "l2_partitions", "sources", "device", "measured", "about"};
  for (const auto& [key, value] : j.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw InputError(fmt::format("{}: field '{}': unknown (a typo? known: name, sm_count, smem_per_sm_bytes, "
                                   "smem_per_block_bytes, l2_bytes, hbm_bytes, hbm_bytes_per_s, fp32_flops, "
                                   "fp16_flops, sources ...)", path, key));
  Fields f{j, path};
  if (f.text("schema", true) != "attnlab-gpu-1")
    f.fail("schema", fmt::format("must be \"attnlab-gpu-1\" (got \"{}\")", j.at("schema").get<std::string>()));
  GpuSpec g;
  g.name = f.text("name", true);
  g.full_name = f.has("full_name") ? f.text("full_name", true) : g.name;
  g.arch = f.has("arch") ? f.text("arch", true) : "unknown";
  g.memory_kind = f.has("memory_kind") ? f.text("memory_kind", true) : "DRAM";
  g.sm_count = f.count("sm_count", 1, 4096);
  g.smem_per_sm = f.count("smem_per_sm_bytes", KiB, 16 * KiB * KiB);
  g.smem_per_block = f.count("smem_per_block_bytes", KiB, g.smem_per_sm);
  g.regs_per_sm = f.has("regs_per_sm") ? f.count("regs_per_sm", 1024, 1u << 24) : 65536;
  g.l2_bytes = f.count("l2_bytes", KiB, 1ull << 34);
  g.hbm_bytes = f.count("hbm_bytes", 1ull << 20, 1ull << 50);
  g.hbm_bytes_per_s = f.rate("hbm_bytes_per_s", 1e9, 1e15);
  g.fp32_flops = f.rate("fp32_flops", 1e9, 1e18);
  g.fp16_flops = f.rate("fp16_flops", 1e9, 1e18);
  g.tf32_flops = f.has("tf32_flops") ? f.rate("tf32_flops", 1e9, 1e18) : g.fp16_flops / 2;
  g.fp8_flops = f.has("fp8_flops") ? f.rate("fp8_flops", 0, 1e18) : 0;  // 0 = no FP8 tensor cores
  g.l2_partitions = f.has("l2_partitions") ? f.count("l2_partitions", 1, 16) : 1;

  if (!f.has("sources") || !j.at("sources").is_object() || j.at("sources").empty())
    f.fail("sources", "missing: say where the figures come from (an object of \"field\": \"source\")");
  std::string src = fmt::format("file {}", path);
  for (const auto& [key, value] : j.at("sources").items()) {
    if (!value.is_string() || value.get<std::string>().empty())
      throw InputError(fmt::format("{}: field 'sources.{}': must be a non-empty string", path, key));
    src += fmt::format("; {}: {}", key, value.get<std::string>());
  }
  if (!f.has("tf32_flops")) src += "; tf32_flops: half of fp16_flops (not in the file)";
  g.source = src;
  if (g.l2_partitions > 1) g.l2_partitions_source = fmt::format("file {}", path);
  return g;
}

std::string read_text(const std::string& path) {
  std::string text = file_read_text(path, "GPU file");
  if (text.size() > (1u << 20)) throw InputError(fmt::format("{}: larger than 1 MiB: not a GPU file", path));
  return text;
}

std::deque<GpuSpec>& gpu_session() {
  static std::deque<GpuSpec> gpus;
  return gpus;
}
}  // namespace

GpuSpec gpu_file_parse(std::string_view text, const std::string& path) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw InputError(fmt::format("{}: not valid JSON: {}", path, what));
  }
  try {
    return parse_gpu_object(doc, path);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: unexpected value: {}", path, e.what()));
  }
}

GpuSpec gpu_file_load(const std::string& path) { return gpu_file_parse(read_text(path), path); }

bool gpu_file_is_path(std::string_view arg) {
  if (arg.size() >= 5 && arg.substr(arg.size() - 5) == ".json") return true;
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(std::string(arg)), ec);
}

const GpuSpec& gpu_from_file(const std::string& path) {
  static std::map<std::string, std::unique_ptr<GpuSpec>> cache;
  auto it = cache.find(path);
  if (it == cache.end()) it = cache.emplace(path, std::make_unique<GpuSpec>(gpu_file_load(path))).first;
  return *it->second;
}

const GpuSpec& gpu_session_add(std::string_view text, const std::string& label) {
  GpuSpec g = gpu_file_parse(text, label);
  for (auto& s : gpu_session())
    if (s.name == g.name) return s = std::move(g);
  return gpu_session().emplace_back(std::move(g));
}

const std::deque<GpuSpec>& gpu_session_gpus() { return gpu_session(); }

}  // namespace attnlab
