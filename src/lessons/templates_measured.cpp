// The `measured` template: a figure that only a real GPU can give (a kernel's time, its TFLOP/s),
// read from the measurement files the bench wrote (assets/measurements/*.json, through
// src/measure/measurement.hpp). Lessons quote measurements through it instead of typing them, so a
// new measurement run updates the text and a removed run is an error, never a stale number.
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>

#include "lessons/templates.hpp"
#include "measure/measurement.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

// The file named by `file=` ("h100-ladder" or "h100-ladder.json"), loaded once.
const Measurements& measured_file(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Measurements>> cache;
  const std::string stem = name.size() > 5 && name.ends_with(".json") ? name.substr(0, name.size() - 5) : name;
  if (stem.empty() || stem.find_first_of("/\\") != std::string::npos)
    throw InputError(fmt::format("key 'file' must name a file of {} (got '{}')", measurement_dir().string(), name));
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(stem);
  if (it != cache.end()) return *it->second;
  const std::filesystem::path path = measurement_dir() / (stem + ".json");
  if (!std::filesystem::exists(path)) {
    std::string known;
    for (const auto& f : measurement_files(measurement_dir()))
      known += (known.empty() ? "" : ", ") + f.stem().string();
    throw InputError(fmt::format("key 'file': no measurement file '{}' in {} (known: {})", stem,
                                 measurement_dir().string(), known.empty() ? "none" : known));
  }
  auto m = std::make_unique<Measurements>(measurement_load(path));
  return *cache.emplace(stem, std::move(m)).first->second;
}

TemplateValue measured_value(const TemplateArgs& a, const std::string& field) {
  const std::string& file = a.str("file");
  const Measurements& ms = measured_file(file);
  const std::string& kernel = a.str("kernel");
  const u64 batch = a.u64_in("batch", 1, u64{1} << 20);
  const u64 heads = a.u64_in("heads", 1, 4096);
  u64 kv_heads = a.u64_in("kv_heads", 0, 4096);
  if (kv_heads == 0) kv_heads = heads;
  const u64 seq = a.u64_in("seq", 1, u64{1} << 32);
  u64 seq_kv = a.u64_in("seq_kv", 0, u64{1} << 32);
  if (seq_kv == 0) seq_kv = seq;
  const u64 d = a.u64_in("d", 1, 4096);
  const bool causal = a.flag("causal");
  const std::string& dtype = a.str("dtype");

  std::string kernels;
  auto note_kernel = [&](const std::string& k) {
    if (kernels.find(k) == std::string::npos) kernels += (kernels.empty() ? "" : ", ") + k;
  };
  const MeasuredRun* found = nullptr;
  for (const auto* list : {&ms.runs, &ms.references})
    for (const MeasuredRun& r : *list) {
      note_kernel(r.kernel);
      const MeasuredConfig& c = r.config;
      if (found == nullptr && r.kernel == kernel && c.batch == batch && c.heads == heads && c.kv_heads == kv_heads &&
          c.seq_q == seq && c.seq_kv == seq_kv && c.head_dim == d && c.causal == causal && c.dtype == dtype)
        found = &r;
    }
  if (found == nullptr)
    throw InputError(fmt::format("{}.json has no run of kernel '{}' with batch={} heads={} kv_heads={} seq={} "
                                 "seq_kv={} d={} causal={} dtype={} (kernels in the file: {})",
                                 file, kernel, batch, heads, kv_heads, seq, seq_kv, d, causal, dtype, kernels));
  if (field == "tflops") return TemplateValue::of(found->tflops * 1e12, ValueUnit::flops_per_s);
  if (field == "time") return TemplateValue::of(found->time.median_ms * 1e-3, ValueUnit::seconds);
  if (!found->gbps) throw InputError(fmt::format("{}.json: kernel '{}' has no gbps figure", file, kernel));
  return TemplateValue::of(*found->gbps * 1e9, ValueUnit::bytes_per_s);  // bandwidth
}

}  // namespace

void register_templates_measured(std::vector<TemplateDef>& reg) {
  reg.push_back({"measured",
                 "A measurement of a real GPU run: one of our kernels or a PyTorch SDPA backend, read from "
                 "assets/measurements/FILE.json (see assets/measurements/README.md). Errors when the run is not there.",
                 "src/measure/measurement.hpp",
                 {{"file", "h100-ladder", "measurement file in assets/measurements, without .json"},
                  {"kernel", "torch-flash",
                   "attn-naive, attn-naive-cublas, attn-tiled, attn-mma, torch-flash, torch-cudnn, torch-efficient, "
                   "torch-math, ..."},
                  {"batch", "8", "batch"},
                  {"heads", "16", "query heads"},
                  {"kv_heads", "0", "K/V heads (0 = heads)"},
                  {"seq", "4096", "query length"},
                  {"seq_kv", "0", "key length (0 = seq)"},
                  {"d", "128", "head dimension"},
                  {"causal", "false", "causal mask"},
                  {"dtype", "bf16", "element type of Q, K, V, O"}},
                 {{"tflops", "FLOP/s reached: 4·B·H·Nq·Nkv·d (half when causal) / median time"},
                  {"time", "median time of one forward pass"},
                  {"bandwidth", "bytes of Q, K, V and O (each once) / median time"}},
                 "measured kernel=torch-flash field=tflops",
                 measured_value});
}

}  // namespace attnlab
