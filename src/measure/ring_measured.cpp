// Reader of the "ring" section of measurement files and its comparison with the ring model.
#include "measure/ring_measured.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tuple>

#include "util/checked.hpp"
#include "util/errors.hpp"
#include "util/json_read.hpp"
#include "util/units.hpp"

namespace attnlab {

namespace {

RingMeasuredSchedule read_schedule(const JsonNode& n, u64 devices) {
  RingMeasuredSchedule s;
  const JsonNode pass = n.at("pass_ms");
  s.pass_ms = pass.at("median").positive();
  s.pass_min_ms = pass.at("min").positive();
  s.pass_max_ms = pass.at("max").positive();
  s.repeats = pass.at("repeats").count();
  if (!(s.pass_min_ms <= s.pass_ms && s.pass_ms <= s.pass_max_ms))
    pass.fail(fmt::format("must have min <= median <= max (got {} {} {})", s.pass_min_ms, s.pass_ms, s.pass_max_ms));
  s.compute_ms = n.at("compute_ms").non_negative();
  s.attn_ms = n.at("attn_ms").non_negative();
  s.transfer_ms = n.at("transfer_ms").non_negative();
  s.idle_ms = n.at("idle_ms").non_negative();
  if (n.has("steps"))
    for (const JsonNode& st : n.at("steps").items())
      s.steps.push_back({st.at("compute_ms").non_negative(), st.at("attn_ms").non_negative(), st.at("merge_ms").non_negative(),
                         st.at("transfer_ms").non_negative(), st.at("idle_ms").non_negative()});
  if (n.has("timeline")) {
    for (const JsonNode& e : n.at("timeline").items()) {
      RingMeasuredEvent ev;
      ev.step = e.at("step").count_or_zero();
      ev.device = e.at("device").count_or_zero();
      ev.kv_block = e.at("kv_block").count_or_zero();
      if (ev.step >= devices || ev.device >= devices || ev.kv_block >= devices)
        e.fail(fmt::format("step, device and kv_block must be below the {} devices", devices));
      ev.work = e.at("work").non_negative();
      ev.compute_start_ms = e.at("compute_start_ms").non_negative();
      ev.attn_end_ms = e.at("attn_end_ms").non_negative();
      ev.compute_end_ms = e.at("compute_end_ms").non_negative();
      if (!(ev.compute_start_ms <= ev.attn_end_ms && ev.attn_end_ms <= ev.compute_end_ms))
        e.fail("must have compute_start_ms <= attn_end_ms <= compute_end_ms");
      ev.sends = e.at("sends").boolean();
      if (ev.sends) {
        ev.send_start_ms = e.at("send_start_ms").non_negative();
        ev.send_end_ms = e.at("send_end_ms").non_negative();
        if (ev.send_end_ms < ev.send_start_ms) e.fail("must have send_start_ms <= send_end_ms");
      }
      s.timeline.push_back(ev);
    }
    // Products of file numbers in 128 bits: a u64 product wraps (2^32 devices x 2^32 = 0) and a
    // malformed file would pass the check.
    const u128 events = cmul(devices, devices, "timeline events");
    if (u128{s.timeline.size()} != events)
      n.at("timeline").fail(fmt::format("must hold devices x devices = {} events (got {})", to_string_u128(events),
                                        s.timeline.size()));
  }
  return s;
}

RingMeasuredRow read_row(const JsonNode& n) {
  RingMeasuredRow r;
  const JsonNode c = n.at("config");
  r.devices = c.at("devices").count();
  r.batch = c.at("batch").count();
  r.heads = c.at("heads").count();
  r.kv_heads = c.at("kv_heads").count();
  r.seq = c.at("seq").count();
  r.block = c.at("block").count();
  r.head_dim = c.at("head_dim").count();
  r.causal = c.at("causal").boolean();
  r.dtype = c.at("dtype").str();
  if (c.has("layout")) {
    const std::string l = c.at("layout").str();
    try {
      r.layout = ring_layout_parse(l);
    } catch (const InputError&) {
      c.at("layout").fail(fmt::format("must be contiguous, zigzag or striped (got '{}')", l));
    }
    if (r.layout == RingLayout::zigzag && r.block % 2 != 0)
      c.at("block").fail(fmt::format("must be even with the zigzag layout (two chunks of n / 2; got {})", r.block));
  }
  if (r.dtype != "bf16" && r.dtype != "fp16") c.at("dtype").fail(fmt::format("must be bf16 or fp16 (got '{}')", r.dtype));
  if (r.heads % r.kv_heads != 0) c.at("kv_heads").fail(fmt::format("must divide heads ({} heads, got {})", r.heads, r.kv_heads));
  if (u128{r.seq} != cmul(r.block, r.devices, "seq"))
    c.at("seq").fail(fmt::format("must be devices x block = {} (got {})", to_string_u128(cmul(r.block, r.devices)), r.seq));
  r.kv_bytes_per_step = n.at("kv_bytes_per_step").count();
  const u128 expect = cprod("kv_bytes_per_step", 2, r.batch, r.kv_heads, r.block, r.head_dim, 2);
  if (u128{r.kv_bytes_per_step} != expect)
    n.at("kv_bytes_per_step").fail(fmt::format("must be 2 b Hkv n d x 2 bytes = {} (got {})", to_string_u128(expect),
                                               r.kv_bytes_per_step));
  const JsonNode ck = n.at("check");
  r.check_ok = ck.at("ok").boolean();
  r.vs_single_max_abs = ck.at("vs_single_max_abs").non_negative();
  r.vs_single_rel_l2 = ck.at("vs_single_rel_l2").non_negative();
  r.max_abs_error = ck.at("max_abs_error").non_negative();
  r.rel_l2_error = ck.at("rel_l2_error").non_negative();
  if (ck.has("rows_checked")) r.rows_checked = ck.at("rows_checked").count_or_zero();
  if (ck.has("single_gpu_max_abs_error")) r.single_gpu_max_abs_error = ck.at("single_gpu_max_abs_error").non_negative();
  if (!r.check_ok) return r;  // a row that failed its check was not timed
  r.serial = read_schedule(n.at("serial"), r.devices);
  r.overlap = read_schedule(n.at("overlap"), r.devices);
  if (n.has("overlap_compute_first")) r.overlap_compute_first = read_schedule(n.at("overlap_compute_first"), r.devices);
  if (n.has("compute_only")) r.compute_only = read_schedule(n.at("compute_only"), r.devices);
  return r;
}
}  // namespace

double RingMeasuredRow::flops_per_block() const {
  return 4.0 * double(batch) * double(heads) * double(block) * double(block) * double(head_dim);
}
double RingMeasuredRow::attn_tflops() const {
  return serial.attn_ms > 0 ? flops_per_block() / (serial.attn_ms * 1e-3) / 1e12 : 0.0;
}
double RingMeasuredRow::link_gbps() const {
  return serial.transfer_ms > 0 ? double(kv_bytes_per_step) / (serial.transfer_ms * 1e-3) / 1e9 : 0.0;
}
double RingMeasuredRow::wait_ms() const {
  return overlap_compute_first ? overlap_compute_first->idle_ms : overlap.idle_ms;
}
bool RingMeasuredRow::hides() const {
  if (devices < 2) return true;
  return wait_ms() <= ring_hidden_threshold * double(devices - 1) * serial.transfer_ms;
}
double RingMeasuredRow::exposed_ms() const {
  const double floor_ms = compute_only ? compute_only->pass_ms
                                       : serial.pass_ms - double(devices - 1) * serial.transfer_ms;
  return overlap.pass_ms - floor_ms;
}
double RingMeasuredRow::compute_slowdown() const {
  return compute_only && compute_only->compute_ms > 0 ? overlap.compute_ms / compute_only->compute_ms - 1.0 : 0.0;
}

RingMeasurements ring_measured_parse(std::string_view json_text, std::string_view origin) {
  // The header (schema, version, device, date, command) is the common measurement file's: its
  // validator runs first, so a ring file is also a valid measurement file.
  const JsonDoc doc = json_parse(json_text, origin);
  const JsonNode root = doc.root();
  const Measurements base = measurement_read(root);
  if (!root.has("ring")) throw InputError(fmt::format("{}: has no \"ring\" section (not a ring-attention measurement)", origin));
  const JsonNode ring = root.at("ring");
  RingMeasurements m;
  m.device = base.device;
  m.date = base.date;
  m.command = base.command;
  m.tool = base.tool;
  m.devices = ring.at("devices").count();
  if (ring.has("device_names"))
    for (const JsonNode& n : ring.at("device_names").items()) m.device_names.push_back(n.str());
  m.nccl_version = ring.str_or("nccl_version", "");
  m.peer_access = ring.str_or("peer_access", "");
  m.kernel = ring.str_or("kernel", "");
  m.timing = ring.str_or("timing", "");
  if (ring.has("env"))
    for (const char* k : {"NCCL_NVLS_ENABLE", "TORCH_SYMM_MEM_DISABLE_MULTICAST", "NVSHMEM_DISABLE_NVLS"})
      if (ring.at("env").has(k)) m.env[k] = ring.at("env").at(k).str();
  if (ring.has("link_sizes"))
    for (const JsonNode& n : ring.at("link_sizes").items())
      m.link_sizes.push_back({n.at("bytes").count(), n.at("ms").positive(), n.at("gbps").positive()});
  for (const JsonNode& n : ring.at("rows").items()) {
    RingMeasuredRow r = read_row(n);
    if (r.devices != m.devices) n.at("config").at("devices").fail(fmt::format("must be ring.devices = {}", m.devices));
    m.rows.push_back(std::move(r));
  }
  return m;
}

RingMeasurements ring_measured_load(const std::filesystem::path& path) {
  return ring_measured_parse(file_read_text(path, "measurement file"), path.filename().string());
}

std::vector<std::filesystem::path> ring_measured_files(const std::filesystem::path& dir) {
  return measurement_files_with(dir, "ring");
}

std::string ring_gpu_preset_for(std::string_view device_name) {
  if (device_name.find("H200") != std::string_view::npos) return "h200";
  if (device_name.find("H100") != std::string_view::npos) return "h100-sxm";
  return "";
}

RingCalibration ring_calibrate(const RingMeasurements& m, const GpuSpec& gpu) {
  RingCalibration c;
  const double peak = gpu.peak_flops(DType::bf16);
  // Efficiency: the largest non-causal block (the kernel at full occupancy).
  for (const auto& r : m.rows)
    if (r.check_ok && !r.causal && r.block > c.efficiency_block && r.attn_tflops() > 0) {
      c.efficiency_block = r.block;
      c.efficiency = std::min(1.0, r.attn_tflops() * 1e12 / peak);
    }
  // Link: least squares t = a + x / B over every timed row's transfer (x bytes, t seconds).
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& r : m.rows) {
    if (!r.check_ok || r.serial.transfer_ms <= 0) continue;
    const double x = double(r.kv_bytes_per_step), y = r.serial.transfer_ms * 1e-3;
    n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double den = n * sxx - sx * sx;
  if (n >= 2 && den > 0) {
    const double slope = (n * sxy - sx * sy) / den;
    const double a = (sy - slope * sx) / n;
    if (slope > 0) c.link_bytes_per_s = 1.0 / slope;
    c.link_latency_s = std::max(0.0, a);
  }
  return c;
}

std::vector<RingComparedRow> ring_compare(const RingMeasurements& m, const RingConfig& base) {
  std::vector<RingComparedRow> out;
  for (const auto& r : m.rows) {
    if (!r.check_ok) continue;
    RingConfig c = base;
    c.seq = r.seq;
    c.devices = r.devices;
    c.batch = r.batch;
    c.heads = r.heads;
    c.kv_heads = r.kv_heads;
    c.head_dim = r.head_dim;
    c.causal = r.causal;
    c.layout = r.layout;
    RingComparedRow x;
    x.measured = r;
    x.model = ring_analyze(c);
    x.compute_ratio = r.serial.attn_ms * 1e-3 / x.model.compute_s;
    x.transfer_ratio = r.serial.transfer_ms * 1e-3 / x.model.transfer_s;
    x.step_measured_s = r.overlap.pass_ms * 1e-3 / double(r.devices);
    x.step_model_s = x.model.pass_s / double(r.devices);
    x.step_ratio = x.step_measured_s / x.step_model_s;
    x.model_hides = x.model.compute_s >= x.model.transfer_s;
    out.push_back(std::move(x));
  }
  return out;
}

u64 ring_measured_min_block(const RingMeasurements& m, u64 heads, u64 kv_heads, bool causal, RingLayout layout) {
  std::vector<std::pair<u64, bool>> series;
  for (const auto& r : m.rows)
    if (r.check_ok && r.heads == heads && r.kv_heads == kv_heads && r.causal == causal && r.layout == layout)
      series.push_back({r.block, r.hides()});
  std::sort(series.begin(), series.end());
  u64 best = 0;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    if (!it->second) break;
    best = it->first;
  }
  return best;
}

bool ring_calibration_apply(const RingCalibration& c, RingConfig& base) {
  if (!(c.link_bytes_per_s > 0)) return false;
  base.efficiency = c.efficiency;
  base.link_bytes_per_s = c.link_bytes_per_s;
  base.link_latency_s = c.link_latency_s;
  return true;
}

std::string ring_calibration_text(const RingCalibration& c) {
  return fmt::format("efficiency {:.4f} (attention at n = {}), link {} + {} per transfer", c.efficiency,
                     format_count(c.efficiency_block), format_rate(c.link_bytes_per_s, "B/s"),
                     format_seconds(c.link_latency_s));
}

std::string RingSeries::label() const {
  return fmt::format("{} heads / {} K/V heads{}, {} mask", heads, kv_heads,
                     kv_heads == heads ? " (MHA)" : fmt::format(" (GQA-{})", heads / std::max<u64>(kv_heads, 1)),
                     causal ? "causal" : "full") +
         (layout == RingLayout::contiguous ? "" : fmt::format(", {} layout", ring_layout_name(layout)));
}

std::vector<RingSeries> ring_series(const RingMeasurements& m, const RingConfig& base) {
  std::vector<RingSeries> out;
  for (auto& x : ring_compare(m, base)) {
    const RingMeasuredRow& r = x.measured;
    auto it = std::find_if(out.begin(), out.end(), [&](const RingSeries& s) {
      return s.heads == r.heads && s.kv_heads == r.kv_heads && s.causal == r.causal && s.layout == r.layout;
    });
    if (it == out.end()) {
      RingSeries s;
      s.heads = r.heads, s.kv_heads = r.kv_heads, s.causal = r.causal, s.layout = r.layout;
      s.measured_min_block = ring_measured_min_block(m, r.heads, r.kv_heads, r.causal, r.layout);
      s.model_min_block = ring_min_block(x.model.config);
      out.push_back(std::move(s));
      it = out.end() - 1;
    }
    it->rows.push_back(std::move(x));
  }
  for (auto& s : out)
    std::sort(s.rows.begin(), s.rows.end(),
              [](const RingComparedRow& a, const RingComparedRow& b) { return a.measured.block < b.measured.block; });
  return out;
}

// ---- The writer -------------------------------------------------------------------------------

namespace {
using nlohmann::json;

json schedule_json(const RingMeasuredSchedule& s) {
  json j = {{"pass_ms", {{"median", s.pass_ms}, {"min", s.pass_min_ms}, {"max", s.pass_max_ms}, {"repeats", s.repeats}}},
            {"compute_ms", s.compute_ms},
            {"attn_ms", s.attn_ms},
            {"transfer_ms", s.transfer_ms},
            {"idle_ms", s.idle_ms}};
  json steps = json::array();
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const RingMeasuredStep& x = s.steps[i];
    steps.push_back({{"step", i}, {"compute_ms", x.compute_ms}, {"attn_ms", x.attn_ms}, {"merge_ms", x.merge_ms},
                     {"transfer_ms", x.transfer_ms}, {"idle_ms", x.idle_ms}});
  }
  j["steps"] = steps;
  json tl = json::array();
  for (const RingMeasuredEvent& e : s.timeline) {
    json x = {{"step", e.step},
              {"device", e.device},
              {"kv_block", e.kv_block},
              {"work", e.work},
              {"compute_start_ms", e.compute_start_ms},
              {"attn_end_ms", e.attn_end_ms},
              {"compute_end_ms", e.compute_end_ms},
              {"sends", e.sends}};
    if (e.sends) x["send_start_ms"] = e.send_start_ms, x["send_end_ms"] = e.send_end_ms;
    tl.push_back(x);
  }
  j["timeline"] = tl;
  return j;
}
}  // namespace

std::string ring_measured_to_json(const RingMeasurements& m) {
  Measurements header;
  header.device = m.device;
  header.date = m.date;
  header.command = m.command;
  header.tool = m.tool;
  json doc = json::parse(measurement_to_json(header));
  json ring;
  ring["devices"] = m.devices;
  ring["device_names"] = m.device_names;
  ring["nccl_version"] = m.nccl_version;
  ring["peer_access"] = m.peer_access;
  ring["env"] = json::object();
  for (const auto& [k, v] : m.env) ring["env"][k] = v;
  ring["kernel"] = m.kernel;
  ring["timing"] = m.timing;
  // The schedules' meaning (text, not read back): kernels/ring-attention.cpp runs them.
  ring["schedules"] = {
      {"serial", "each transfer waits for its step's compute: compute and transfer timed alone"},
      {"overlap", "the transfer of step s beside its compute, the transfer issued first (the ring as built)"},
      {"overlap_compute_first", "the same dependencies, the compute issued first"},
      {"compute_only", "no transfer: every step computes on the GPU's own block (the floor of a perfectly hidden transfer)"}};
  if (!m.link_sizes.empty())
    ring["link_probe"] = {{"bytes", m.link_sizes.back().bytes}, {"gbps", m.link_sizes.back().gbps},
                          {"note", "ncclSend/ncclRecv to the ring neighbours, no compute; the largest message"}};
  ring["link_sizes"] = json::array();
  for (const RingLinkPoint& p : m.link_sizes) ring["link_sizes"].push_back({{"bytes", p.bytes}, {"ms", p.ms}, {"gbps", p.gbps}});
  ring["rows"] = json::array();
  for (const RingMeasuredRow& r : m.rows) {
    json row = {{"config", {{"devices", r.devices}, {"batch", r.batch}, {"heads", r.heads}, {"kv_heads", r.kv_heads},
                            {"seq", r.seq}, {"block", r.block}, {"head_dim", r.head_dim}, {"causal", r.causal},
                            {"dtype", r.dtype}, {"layout", std::string(ring_layout_name(r.layout))}}},
                {"kv_bytes_per_step", r.kv_bytes_per_step},
                {"flops_per_block", r.flops_per_block()},
                {"check", {{"ok", r.check_ok},
                           {"vs_single_max_abs", r.vs_single_max_abs},
                           {"vs_single_rel_l2", r.vs_single_rel_l2},
                           {"rows_checked", r.rows_checked},
                           {"max_abs_error", r.max_abs_error},
                           {"rel_l2_error", r.rel_l2_error},
                           {"single_gpu_max_abs_error", r.single_gpu_max_abs_error}}}};
    if (r.check_ok) {  // a row that failed its check was not timed: it carries `check` only
      row["serial"] = schedule_json(r.serial);
      row["overlap"] = schedule_json(r.overlap);
      if (r.overlap_compute_first) row["overlap_compute_first"] = schedule_json(*r.overlap_compute_first);
      if (r.compute_only) row["compute_only"] = schedule_json(*r.compute_only);
    }
    ring["rows"].push_back(row);
  }
  doc["ring"] = ring;
  return doc.dump(2) + "\n";
}

void ring_measured_write(const RingMeasurements& m, const std::filesystem::path& path) {
  const std::string text = ring_measured_to_json(m);
  (void)ring_measured_parse(text, path.filename().string());  // what we write must read back
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write the measurement file", path.string()));
}

}  // namespace attnlab
