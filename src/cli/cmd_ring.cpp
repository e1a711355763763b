// `attnlab ring`: ring attention (Liu et al. 2023, arXiv 2310.01889) over P devices: per-device
// memory, K/V bytes per ring step, compute vs transfer time on a link preset, whether the transfers
// hide, the smallest block that hides them (the paper's n >= F/B), and the longest context that
// fits a memory budget as P grows. With --measured FILE: the rows of a ring-attention measurement
// (kernels/ring-attention.cpp, assets/measurements/ring-*.json) beside the model, with the ratios.
#include <fmt/format.h>
#include <optional>

#include "cli/common.hpp"
#include "cli/model_options.hpp"
#include "hw/link.hpp"
#include "measure/ring_measured.hpp"
#include "models/ring.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {
struct RingOptions {
  ModelCliOptions model;
  GpuOptions gpu;
  long long seq = 1 << 20;
  long long devices = 8;
  long long batch = 1;
  std::string dtype = "bf16";
  bool causal = false;
  std::string layout = "contiguous";
  std::string link = std::string(default_link_name());
  std::optional<double> link_gbps;
  std::optional<double> link_latency_us;
  double efficiency = 1.0;
  bool efficiency_given = false, gpu_given = false, link_given = false;
  std::string measured;
  bool calibrate = false;
  std::optional<double> memory_gib;
  long long max_devices = 1024;
  bool list_links = false;
  std::string format = "table";
};

std::string list_links(OutputFormat f) {
  Table t({{"link", false}, {"what", false}, {"per direction"}});
  for (const auto& l : link_presets())
    t.add_row({cell(l.name), cell(l.full_name), cell(format_rate(l.bytes_per_s, "B/s"), fmt::format("{}", l.bytes_per_s))});
  if (f == OutputFormat::csv) return t.to_csv();
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("default", std::string(default_link_name())).key("links").begin_array();
    for (const auto& l : link_presets())
      w.begin_object().field("name", l.name).field("full_name", l.full_name).field("bytes_per_s", l.bytes_per_s)
          .field("source", l.source).end_object();
    w.end_array().end_object();
    return w.str();
  }
  std::string out = t.to_text() + "\nSources:\n";
  for (const auto& l : link_presets()) out += fmt::format("  {:<8} {}\n", l.name, l.source);
  return out;
}

struct ScaleRow {
  u64 devices;
  RingResult r;
  u64 max_context;
};

double latency_s(const RingOptions& o) {
  if (!o.link_latency_us) return 0.0;
  if (!(*o.link_latency_us >= 0) || *o.link_latency_us > 1e6)
    throw InputError(fmt::format("--link-latency-us must be between 0 and 1000000 (got {})", *o.link_latency_us));
  return *o.link_latency_us * 1e-6;
}

// `attnlab ring --measured FILE`: every measured row beside the model of the same shape.
void run_ring_measured(const RingOptions& o, OutputFormat f) {
  const RingMeasurements m = ring_measured_load(o.measured);
  // The GPU: --gpu when given, else the preset the file's device stands for.
  GpuOptions go = o.gpu;
  if (!o.gpu_given) {
    const std::string preset = ring_gpu_preset_for(m.device.name);
    if (preset.empty())
      throw InputError(fmt::format("--gpu: no preset matches the measured device '{}'; name one", m.device.name));
    go.name = preset;
  }
  const GpuSpec gpu = resolve_gpu(go);
  LinkSpec link = link_find(o.link);
  RingConfig base;
  base.dtype = DType::bf16;
  base.flops_per_s = gpu.peak_flops(base.dtype);
  base.efficiency = o.efficiency;
  base.link_bytes_per_s = link.bytes_per_s;
  base.link_latency_s = latency_s(o);
  if (o.link_gbps) {
    if (!(*o.link_gbps > 0) || *o.link_gbps > 1e6)
      throw InputError(fmt::format("--link-gbps must be between 0 and 1000000 (got {})", *o.link_gbps));
    base.link_bytes_per_s = *o.link_gbps * 1e9;
  }
  const RingCalibration cal = ring_calibrate(m, gpu);
  std::string inputs;
  if (o.calibrate) {
    if (o.efficiency_given || o.link_gbps || o.link_latency_us || o.link_given)
      throw InputError("--calibrate takes the efficiency and the link from the file: drop --efficiency, --link, "
                       "--link-gbps and --link-latency-us");
    if (!ring_calibration_apply(cal, base))
      throw InputError("--calibrate: the file has too few transfers to fit the link");
    inputs = "calibrated from the file: " + ring_calibration_text(cal);
  } else {
    inputs = fmt::format("{} peak {} x{} efficiency; link {}{} per direction{}", gpu.name,
                         format_rate(base.flops_per_s, "FLOP/s"), base.efficiency, o.link_gbps ? "(given) " : link.name + " ",
                         format_rate(base.link_bytes_per_s, "B/s"),
                         base.link_latency_s > 0 ? fmt::format(" + {} latency", format_seconds(base.link_latency_s)) : "");
  }
  const std::vector<RingComparedRow> rows = ring_compare(m, base);

  // Series (same heads, kv heads, mask): the smallest block that hides, measured and modelled.
  const std::vector<RingSeries> series = ring_series(m, base);

  Table t({{"H/Hkv", false}, {"n"}, {"causal", false}, {"K/V/step"}, {"attn meas"}, {"attn model"}, {"ratio"},
           {"xfer meas"}, {"xfer model"}, {"ratio"}, {"step meas"}, {"step model"}, {"ratio"}, {"wait"},
           {"hides meas", false}, {"hides model", false}});
  auto secs = [](double s) { return cell(format_seconds(s), fmt::format("{}", s)); };
  for (const auto& x : rows) {
    const auto& r = x.measured;
    t.add_row({cell(fmt::format("{}/{}", r.heads, r.kv_heads)), cell_count(r.block), cell(r.causal ? "yes" : "no"),
               cell_bytes(r.kv_bytes_per_step), secs(r.serial.attn_ms * 1e-3), secs(x.model.compute_s),
               cell_num(x.compute_ratio, 2), secs(r.serial.transfer_ms * 1e-3), secs(x.model.transfer_s),
               cell_num(x.transfer_ratio, 2), secs(x.step_measured_s), secs(x.step_model_s), cell_num(x.step_ratio, 2),
               secs(r.wait_ms() * 1e-3), cell(r.hides() ? "yes" : "no"), cell(x.model_hides ? "yes" : "no")});
  }
  if (f == OutputFormat::csv) {
    print_out(t.to_csv());
    return;
  }
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("file", o.measured).field("device", m.device.name).field("devices", m.devices)
        .field("nccl_version", m.nccl_version).field("gpu", gpu.name).field("calibrated", o.calibrate)
        .field("flops_per_s", base.flops_per_s).field("efficiency", base.efficiency)
        .field("link_bytes_per_s", base.link_bytes_per_s).field("link_latency_s", base.link_latency_s);
    w.key("rows").begin_array();
    for (const auto& x : rows) {
      const auto& r = x.measured;
      w.begin_object().field("heads", r.heads).field("kv_heads", r.kv_heads).field("block", r.block)
          .field("seq", r.seq).field("causal", r.causal).field("kv_bytes_per_step", r.kv_bytes_per_step)
          .field("attn_s", r.serial.attn_ms * 1e-3).field("model_compute_s", x.model.compute_s)
          .field("compute_ratio", x.compute_ratio).field("transfer_s", r.serial.transfer_ms * 1e-3)
          .field("model_transfer_s", x.model.transfer_s).field("transfer_ratio", x.transfer_ratio)
          .field("step_s", x.step_measured_s).field("model_step_s", x.step_model_s).field("step_ratio", x.step_ratio)
          .field("wait_s", r.wait_ms() * 1e-3).field("exposed_s", r.exposed_ms() * 1e-3)
          .field("compute_slowdown", r.compute_slowdown()).field("hides", r.hides())
          .field("model_hides", x.model_hides).field("check_max_abs_error", r.max_abs_error)
          .field("vs_single_max_abs", r.vs_single_max_abs).end_object();
    }
    w.end_array().key("min_block").begin_array();
    for (const auto& s : series)
      w.begin_object().field("heads", s.heads).field("kv_heads", s.kv_heads).field("causal", s.causal)
          .field("measured", s.measured_min_block).field("smallest_timed", s.smallest_block())
          .field("model", s.model_min_block).end_object();
    w.end_array().end_object();
    print_out(w.str());
    return;
  }
  std::string out = fmt::format("Ring attention measured: {} ({} x {}, NCCL {}, {}), {}\n{}\nModel: {}\n\n", o.measured,
                                m.devices, m.device.name, m.nccl_version, m.kernel, m.date, m.command, inputs);
  out += t.to_text();
  out += "\nattn: the attention of one full block pair alone; xfer: one K/V block over the link alone (serial schedule);\n"
         "step: the overlapped pass / P; wait: the compute streams waiting for blocks; hides: wait < 10% of a transfer.\n";
  out += "\nSmallest block that hides the transfers:\n";
  for (const auto& s : series)
    out += fmt::format("  H {}/{}{}: measured {}, model {}\n", s.heads, s.kv_heads, s.causal ? " causal" : "",
                       s.measured_min_block == 0 ? std::string("none of the timed blocks")
                       : s.measured_min_block == s.smallest_block()
                           ? "<= " + format_count(s.measured_min_block) + " (every timed block hides)"
                           : format_count(s.measured_min_block),
                       format_count(s.model_min_block));
  if (!o.calibrate)
    out += fmt::format("\nCalibrated from the file (attnlab ring --measured {} --calibrate): efficiency {:.4f}, link {} + {}.\n",
                       o.measured, cal.efficiency, format_rate(cal.link_bytes_per_s, "B/s"), format_seconds(cal.link_latency_s));
  print_out(out);
}

void run_ring(const RingOptions& o) {
  OutputFormat f = parse_output_format(o.format);
  if (o.list_links) {
    print_out(list_links(f));
    return;
  }
  if (!o.measured.empty()) {
    run_ring_measured(o, f);
    return;
  }
  if (o.calibrate) throw InputError("--calibrate needs --measured FILE");
  std::vector<ModelSpec> models = resolve_models(o.model);
  if (models.size() != 1) throw InputError("--model: ring takes one model");
  const ModelSpec& m = models[0];
  GpuSpec gpu = resolve_gpu(o.gpu);
  LinkSpec link = link_find(o.link);
  if (o.link_gbps) {
    if (!(*o.link_gbps > 0) || *o.link_gbps > 1e6)
      throw InputError(fmt::format("--link-gbps must be between 0 and 1000000 (got {})", *o.link_gbps));
    link.bytes_per_s = *o.link_gbps * 1e9;
    link.full_name += fmt::format(" (overridden: {} GB/s)", *o.link_gbps);
  }
  RingConfig c;
  c.seq = require_range(o.seq, "--seq", 1, 1ll << 36);
  c.devices = require_range(o.devices, "--devices", 1, 65536);
  c.batch = require_range(o.batch, "--batch", 1, 1 << 20);
  c.heads = m.heads;
  c.kv_heads = m.kv_heads;
  c.head_dim = m.head_dim;
  c.dtype = parse_dtype(o.dtype, "--dtype", {DType::fp32, DType::fp16, DType::bf16, DType::fp8});
  c.causal = o.causal;
  c.layout = ring_layout_parse(o.layout);
  c.flops_per_s = gpu.peak_flops(c.dtype);
  c.efficiency = o.efficiency;
  c.link_bytes_per_s = link.bytes_per_s;
  c.link_latency_s = latency_s(o);
  u64 max_devices = require_range(o.max_devices, "--max-devices", 1, 65536);
  u128 budget = gpu.hbm_bytes;
  if (o.memory_gib) {
    if (!(*o.memory_gib > 0) || *o.memory_gib > 1e6)
      throw InputError(fmt::format("--memory-gib must be between 0 and 1000000 (got {})", *o.memory_gib));
    budget = static_cast<u128>(*o.memory_gib * 1073741824.0);
  }
  if (m.is_mla())
    throw InputError("--model: ring attention here needs K/V heads; an MLA model's decompressed heads are its "
                     "--heads (use --kv-lora-rank 0)");

  const RingResult r = ring_analyze(c);
  const RingTimeline tl = ring_timeline(c);
  // The same pass under each layout (causal only: without a mask every layout does the same work).
  std::vector<RingResult> by_layout;
  if (c.causal)
    for (RingLayout l : kRingLayouts) {
      RingConfig cl = c;
      cl.layout = l;
      if (c.seq % ring_layout_granule(l, c.devices) == 0) by_layout.push_back(ring_analyze(cl));
    }
  std::vector<ScaleRow> scale;
  for (u64 p = 1; p <= max_devices; p *= 2) {
    if (p > c.seq) break;
    if (c.seq % ring_layout_granule(c.layout, p) != 0) break;  // the layout cannot split N over p devices
    RingConfig cp = c;
    cp.devices = p;
    scale.push_back({p, ring_analyze(cp), ring_max_context(c, p, budget)});
  }

  Table st({{"devices"}, {"block n"}, {"memory/device"}, {"K/V sent/step"}, {"compute/step"}, {"transfer/step"},
            {"hidden", false}, {"pass time"}, {"max context"}});
  for (const auto& s : scale)
    st.add_row({cell_count(s.devices), cell_count(s.r.block), cell_bytes(s.r.memory.total),
                cell_bytes(s.devices > 1 ? s.r.kv_bytes_per_step : 0),
                cell(format_seconds(s.r.compute_s), fmt::format("{}", s.r.compute_s)),
                cell(s.devices > 1 ? format_seconds(s.r.transfer_s) : "-", fmt::format("{}", s.devices > 1 ? s.r.transfer_s : 0.0)),
                cell(s.devices == 1 ? "-" : s.r.hidden ? "yes" : "no"),
                cell(format_seconds(s.r.pass_s), fmt::format("{}", s.r.pass_s)), cell_count(s.max_context)});

  if (f == OutputFormat::csv) {
    print_out(st.to_csv());
    return;
  }
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("model", m.name).field("heads", c.heads).field("kv_heads", c.kv_heads)
        .field("head_dim", c.head_dim).field("seq", c.seq).field("devices", c.devices).field("batch", c.batch)
        .field("dtype", std::string(dtype_name(c.dtype))).field("causal", c.causal)
        .field("layout", std::string(ring_layout_name(c.layout))).field("gpu", gpu.name)
        .field("flops_per_s", c.flops_per_s).field("efficiency", c.efficiency).field("link", link.name)
        .field("link_bytes_per_s", link.bytes_per_s).field("link_source", link.source).field("block", r.block);
    w.key("memory_per_device").begin_object().field("q", r.memory.q).field("o", r.memory.o)
        .field("kv_own", r.memory.kv_own).field("kv_incoming", r.memory.kv_incoming)
        .field("softmax_stats", r.memory.softmax_stats).field("total", r.memory.total).end_object();
    w.field("kv_bytes_per_step", r.kv_bytes_per_step).field("kv_bytes_per_device", r.kv_bytes_per_device)
        .field("flops_per_block", r.flops_per_block).field("flops_total", r.flops_total)
        .field("compute_s", r.compute_s).field("transfer_s", r.transfer_s).field("hidden", r.hidden)
        .field("min_block", r.min_block).field("pass_s", r.pass_s).field("no_overlap_s", r.no_overlap_s)
        .field("ideal_s", r.ideal_s).field("efficiency_vs_ideal", r.efficiency).field("busiest_work", r.busiest_work)
        .field("idlest_work", r.idlest_work).field("memory_budget_bytes", budget);
    w.key("layouts").begin_array();
    for (const auto& x : by_layout)
      w.begin_object().field("layout", std::string(ring_layout_name(x.config.layout))).field("pass_s", x.pass_s)
          .field("ideal_s", x.ideal_s).field("efficiency_vs_ideal", x.efficiency).field("busiest_work", x.busiest_work)
          .field("idlest_work", x.idlest_work).end_object();
    w.end_array();
    w.key("scaling").begin_array();
    for (const auto& s : scale)
      w.begin_object().field("devices", s.devices).field("block", s.r.block).field("memory_per_device", s.r.memory.total)
          .field("kv_bytes_per_step", s.r.kv_bytes_per_step).field("compute_s", s.r.compute_s)
          .field("transfer_s", s.r.transfer_s).field("hidden", s.r.hidden).field("pass_s", s.r.pass_s)
          .field("max_context", s.max_context).end_object();
    w.end_array();
    w.key("timeline").begin_array();
    for (const auto& e : tl.events)
      w.begin_object().field("step", e.step).field("device", e.device).field("kv_block", e.kv_block)
          .field("work", e.work).field("compute_start", e.compute_start).field("compute_end", e.compute_end)
          .field("sends", e.sends).field("send_start", e.send_start).field("send_end", e.send_end).end_object();
    w.end_array().end_object();
    print_out(w.str());
    return;
  }

  const double s_bytes = dtype_bits(c.dtype) / 8.0;
  std::string out = fmt::format(
      "Ring attention (Liu, Zaharia & Abbeel 2023, arXiv 2310.01889), forward pass of one attention layer\n"
      "{}: {} query heads, {} K/V heads, head dim {}; {}, batch {}{}\n"
      "N = {} tokens over P = {} devices: blocks of n = {} tokens{}\n"
      "{}: {} {} (x{} efficiency); link {}: {} per direction{}\n\n",
      m.name, c.heads, c.kv_heads, c.head_dim, dtype_name(c.dtype), c.batch, c.causal ? ", causal" : "",
      format_count(c.seq), c.devices, format_count(r.block),
      c.causal || c.layout != RingLayout::contiguous ? fmt::format(", {} layout", ring_layout_name(c.layout)) : "", gpu.name, format_rate(c.flops_per_s, "FLOP/s"),
      dtype_name(c.dtype), c.efficiency, link.name, format_rate(link.bytes_per_s, "B/s"),
      c.link_latency_s > 0 ? fmt::format(" + {} per transfer", format_seconds(c.link_latency_s)) : "");

  out += "Per-device memory:\n";
  Table mt({{"buffer", false}, {"size", false}, {"bytes"}});
  mt.add_row({cell("Q block"), cell("b n H d"), cell_bytes(r.memory.q)});
  mt.add_row({cell("O block (output being accumulated)"), cell("b n H d"), cell_bytes(r.memory.o)});
  mt.add_row({cell("K, V block computed on"), cell("2 b n Hkv d"), cell_bytes(r.memory.kv_own)});
  mt.add_row({cell("K, V block arriving"), cell("2 b n Hkv d"), cell_bytes(r.memory.kv_incoming)});
  mt.add_row({cell("softmax max and sum (fp32)"), cell("2 b n H"), cell_bytes(r.memory.softmax_stats)});
  mt.add_row({cell("total"), cell(c.heads == c.kv_heads ? "6 b n h + stats" : ""), cell_bytes(r.memory.total)});
  out += mt.to_text();

  out += "\nPer ring step:\n";
  Table pt({{"quantity", false}, {"value"}, {"how", false}});
  pt.add_row({cell("K/V sent to the next device"), cell_bytes(r.kv_bytes_per_step), cell("2 b n Hkv d s")});
  pt.add_row({cell("transfer time"), cell(format_seconds(r.transfer_s), fmt::format("{}", r.transfer_s)),
              cell(fmt::format("/ {}", format_rate(link.bytes_per_s, "B/s")))});
  pt.add_row({cell("compute (one full block pair)"), cell(format_flops(r.flops_per_block), to_string_u128(r.flops_per_block)),
              cell("4 b H n^2 d")});
  pt.add_row({cell("compute time"), cell(format_seconds(r.compute_s), fmt::format("{}", r.compute_s)),
              cell(fmt::format("/ {}", format_rate(c.flops_per_s * c.efficiency, "FLOP/s")))});
  out += pt.to_text();
  if (c.devices == 1)
    out += "One device: nothing to send.\n";
  else
    out += fmt::format("Transfers {} behind compute (compute / transfer = {:.3g}).\n",
                       r.hidden ? "hide" : "do NOT hide", r.compute_s / r.transfer_s);
  if (c.link_latency_s > 0)
    out += fmt::format("Smallest block that hides them: 4 b H d n^2 / F >= a + 2 b Hkv d s n / B with a = {} "
                       "-> {} tokens per device ({} tokens over {} devices).\n",
                       format_seconds(c.link_latency_s), format_count(r.min_block),
                       format_count(u128{r.min_block} * c.devices), c.devices);
  else
    out += fmt::format("Smallest block that hides them: n >= Hkv s F / (2 H B) = {} x {} x {:.4g} / (2 x {} x {:.4g}) "
                       "-> {} tokens per device ({} tokens over {} devices).\n",
                       c.kv_heads, s_bytes, c.flops_per_s * c.efficiency, c.heads, link.bytes_per_s,
                       format_count(r.min_block), format_count(u128{r.min_block} * c.devices), c.devices);
  if (c.link_latency_s == 0 && c.heads == c.kv_heads && c.dtype != DType::fp32 && c.dtype != DType::fp8)
    out += "  (MHA in 16 bits: n >= F/B, the paper's condition.)\n";

  out += fmt::format("\nWhole pass ({} steps): {} with overlap, {} if every step waited for its transfer, {} ideal "
                     "(all FLOPs spread evenly, free communication).\n",
                     c.devices, format_seconds(r.pass_s), format_seconds(r.no_overlap_s), format_seconds(r.ideal_s));
  if (c.causal) {
    out += "Causal, by layout: with contiguous blocks device i skips the K/V blocks of later positions, so device 0\n"
           "idles after step 0 while the last device works every step. Zigzag (device i holds chunks i and 2P-1-i)\n"
           "and striped (token t on device t mod P, arXiv 2311.09431) give every device the same work.\n";
    Table lt({{"layout", false}, {"busiest device"}, {"least busy"}, {"pass time"}, {"ideal"}, {"of ideal"}});
    for (const auto& x : by_layout)
      lt.add_row({cell(std::string(ring_layout_name(x.config.layout)) + (x.config.layout == c.layout ? " *" : "")),
                  cell(fmt::format("{:.3f} blocks", x.busiest_work), fmt::format("{}", x.busiest_work)),
                  cell(fmt::format("{:.3f} blocks", x.idlest_work), fmt::format("{}", x.idlest_work)),
                  cell(format_seconds(x.pass_s), fmt::format("{}", x.pass_s)),
                  cell(format_seconds(x.ideal_s), fmt::format("{}", x.ideal_s)),
                  cell(fmt::format("{:.1f}%", 100 * x.efficiency), fmt::format("{}", x.efficiency))});
    out += lt.to_text();
    out += "(work in full n x n block pairs over the pass; * = --layout)\n";
  }
  out += fmt::format("K/V each device sends over the pass: {} ({} steps x {}).\n", format_bytes(r.kv_bytes_per_device),
                     c.devices - 1, format_bytes(r.kv_bytes_per_step));

  if (c.devices <= 8) {
    out += "\nTimeline (which K/V block each device computes on, step by step):\n";
    std::vector<Table::Column> cols = {{"step"}};
    for (u64 i = 0; i < c.devices; ++i) cols.push_back({fmt::format("dev {}", i), false});
    cols.push_back({"step ends"});
    Table tt(cols);
    for (u64 s = 0; s < c.devices; ++s) {
      std::vector<Cell> row = {cell_count(s)};
      double end = 0;
      for (u64 i = 0; i < c.devices; ++i) {
        const RingEvent& e = tl.events[s * c.devices + i];
        std::string what = fmt::format("KV{}", e.kv_block);
        if (e.work == 0) what += " masked";
        else if (e.work < 1) what += fmt::format(" {:.0f}%", 100 * e.work);
        if (e.wait_s > 1e-15) what += fmt::format(" (+{} wait)", format_seconds(e.wait_s));
        row.push_back(cell(what));
        end = std::max(end, e.compute_end);
      }
      row.push_back(cell(format_seconds(end), fmt::format("{}", end)));
      tt.add_row(std::move(row));
    }
    out += tt.to_text();
  }

  out += fmt::format("\nAs P grows (same N, n = ceil(N / P); max context = P x the largest block that fits {} per device):\n",
                     format_bytes(budget));
  out += st.to_text();
  out += fmt::format("\nLink: {} ({}).\nForward pass of one layer; weights, other layers' activations and the backward "
                     "pass (which also sends dK, dV) are not counted.\n", link.full_name, link.source);
  print_out(out);
}
}  // namespace

void setup_ring(CLI::App& app) {
  auto o = std::make_shared<RingOptions>();
  auto* cmd = app.add_subcommand("ring", "Ring attention over P devices: memory, K/V traffic, compute vs link time, longest context");
  add_model_options(cmd, o->model, "llama-3-8b", "Model preset whose heads, K/V heads and head size are used");
  add_gpu_options(cmd, o->gpu);
  cmd->add_option("--seq", o->seq, "Tokens in the whole sequence (N)")->default_val(1 << 20);
  cmd->add_option("--devices", o->devices, "Devices in the ring (P)")->default_val(8);
  cmd->add_option("--batch", o->batch, "Sequences per batch")->default_val(1);
  cmd->add_option("--dtype", o->dtype, "Element type of Q, K, V, O: fp32, fp16, bf16, fp8")->default_val("bf16");
  cmd->add_flag("--causal", o->causal, "Causal mask: later K/V blocks are skipped");
  cmd->add_option("--layout", o->layout,
                  "Which tokens each device holds: contiguous (blocks), zigzag (chunks i and 2P-1-i: needs N divisible "
                  "by 2P) or striped (round-robin: N divisible by P); balances the causal work")
      ->default_val("contiguous");
  cmd->add_option("--link", o->link, "Link preset: nvlink4, nvlink3, pcie5, pcie4, ib-ndr, ib-hdr, ib-edr")
      ->default_val(std::string(default_link_name()));
  cmd->add_option("--link-gbps", o->link_gbps, "Override the link bandwidth, GB/s per direction");
  cmd->add_option("--link-latency-us", o->link_latency_us,
                  "Fixed cost of one transfer, microseconds (default 0; NCCL between two H200s: ~26 alone, ~44 fitted in the ring)");
  cmd->add_option("--efficiency", o->efficiency, "Fraction of the GPU's peak FLOP/s attention reaches (0, 1]")->default_val(1.0);
  cmd->add_option("--measured", o->measured,
                  "A ring-attention measurement file (assets/measurements/ring-*.json): each row beside the model");
  cmd->add_flag("--calibrate", o->calibrate,
                "With --measured: take the efficiency and the link (latency + bandwidth) from the file's own rows");
  cmd->add_option("--memory-gib", o->memory_gib, "Memory budget per device for the max-context column (default: the GPU's)");
  cmd->add_option("--max-devices", o->max_devices, "Largest P in the scaling table")->default_val(1024);
  cmd->add_flag("--list-links", o->list_links, "List the link presets with their sources");
  add_format_option(cmd, o->format);
  cmd->callback([o, cmd] {
    o->gpu_given = cmd->get_option("--gpu")->count() > 0;
    o->efficiency_given = cmd->get_option("--efficiency")->count() > 0;
    o->link_given = cmd->get_option("--link")->count() > 0;
    run_ring(*o);
  });
}

}  // namespace attnlab::cli
