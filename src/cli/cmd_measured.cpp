// `attnlab measured`: what the kernels measured on a real GPU, readable on any laptop. Three views
// of the measurement files (assets/measurements/*.json, or --dir / --file for your own bench runs):
//   (default)  the files: device, driver, CUDA, date, how many runs, references and ncu records;
//   --runs     every timed kernel with its speed and its ratio to the PyTorch references of the
//              same config in the same file (same session, same GPU);
//   --ncu      the simulator against Nsight Compute: each record's DRAM and L2 bytes, measured and
//              simulated, inside the tolerance or not, known misses named with what the counters show;
//   --fp8      the FP8 rung beside the bf16 rung, the accuracy table, the quantization kernels
//              (measured_fp8.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "cli/common.hpp"
#include "cli/measured_backward.hpp"
#include "cli/measured_fp8.hpp"
#include "measure/measurement.hpp"
#include "measure/sim_vs_ncu.hpp"
#include "util/errors.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {

struct MeasuredOptions {
  std::string dir;
  std::vector<std::string> files;
  bool runs = false;
  bool ncu = false;
  bool why = false;
  bool fp8 = false;
  std::string part;    // --fp8: speed | accuracy | quantize ("" = all)
  std::string kernel;  // substring filter
  std::string format = "table";
};

struct LoadedFile {
  std::string name;
  Measurements m;
};

std::vector<std::filesystem::path> measured_paths(const MeasuredOptions& o) {
  std::vector<std::filesystem::path> paths;
  if (!o.files.empty()) {
    for (const auto& f : o.files) paths.emplace_back(f);
  } else {
    const std::filesystem::path dir = o.dir.empty() ? measurement_dir() : std::filesystem::path(o.dir);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      throw InputError(fmt::format("--dir: no such folder '{}'", dir.string()));
    paths = measurement_files(dir);
    if (paths.empty()) throw InputError(fmt::format("--dir: no measurement files (*.json) in '{}'", dir.string()));
  }
  return paths;
}

std::vector<LoadedFile> load(const std::vector<std::filesystem::path>& paths) {
  std::vector<LoadedFile> out;
  for (const auto& p : paths) out.push_back({p.filename().string(), measurement_load(p)});
  return out;
}

std::string config_label(const MeasuredConfig& c) {
  std::string s = fmt::format("B{} H{}/{} ", c.batch, c.heads, c.kv_heads);
  s += c.seq_q == c.seq_kv ? fmt::format("N{}", c.seq_q) : fmt::format("Nq{} Nkv{}", c.seq_q, c.seq_kv);
  s += fmt::format(" d{}", c.head_dim);
  if (c.causal) s += " causal";
  if (c.window_left >= 0 || c.window_right >= 0)
    s += fmt::format(" window {}/{}", c.window_left < 0 ? std::string("-") : std::to_string(c.window_left),
                     c.window_right < 0 ? std::string("-") : std::to_string(c.window_right));
  return s + " " + c.dtype;
}

bool wanted(const MeasuredOptions& o, const std::string& kernel) {
  return o.kernel.empty() || kernel.find(o.kernel) != std::string::npos;
}

// Word-wraps `text` at `width` columns, each line indented.
std::string wrap_words(const std::string& text, size_t width, const std::string& indent) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

// ---- the files --------------------------------------------------------------------------------
std::string render_files(const std::vector<LoadedFile>& files, OutputFormat f) {
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().key("files").begin_array();
    for (const auto& x : files) {
      const auto& d = x.m.device;
      w.begin_object().field("file", x.name).field("device", d.name).field("sm_count", d.sm_count)
          .field("driver_version", d.driver_version).field("cuda_runtime", d.cuda_runtime).field("date", x.m.date)
          .field("tool", x.m.tool).field("torch_version", x.m.torch_version).field("runs", u64(x.m.runs.size()))
          .field("references", u64(x.m.references.size())).field("ncu_records", u64(x.m.ncu.size()))
          .field("command", x.m.command).end_object();
    }
    w.end_array().end_object();
    return w.str();
  }
  Table t({{"file", false}, {"device", false}, {"driver", false}, {"CUDA", false}, {"date", false}, {"runs"},
           {"references"}, {"ncu"}, {"tool", false}});
  for (const auto& x : files) {
    const auto& d = x.m.device;
    t.add_row({cell(x.name), cell(d.name), cell(d.driver_version.empty() ? "-" : d.driver_version),
               cell(d.cuda_runtime), cell(x.m.date.substr(0, 10), x.m.date), cell_count(x.m.runs.size()),
               cell_count(x.m.references.size()), cell_count(x.m.ncu.size()), cell(x.m.tool)});
  }
  if (f == OutputFormat::csv) return t.to_csv();
  return "Measurement files (kernels measured on a real GPU; schema: assets/measurements/README.md)\n\n" +
         t.to_text() +
         "\nattnlab measured --runs     every timed kernel beside the PyTorch references of the same session\n"
         "attnlab measured --ncu      the simulator's bytes beside Nsight Compute's counters\n"
         "attnlab measured --fp8      FP8 attention: speed beside bf16, accuracy, quantization kernels\n"
         "attnlab ring --measured F   a ring-attention file beside the ring model\n";
}

// ---- the runs ---------------------------------------------------------------------------------
struct RunRow {
  const LoadedFile* file;
  const MeasuredRun* run;
  const MeasuredRun* flash;  // torch-flash of the same problem in the same file
  const MeasuredRun* best;   // the fastest reference of the same problem
};

std::vector<RunRow> run_rows(const std::vector<LoadedFile>& files, const MeasuredOptions& o) {
  std::vector<RunRow> rows;
  for (const auto& x : files)
    for (const auto& r : x.m.runs) {
      if (!wanted(o, r.kernel)) continue;
      RunRow row{&x, &r, nullptr, nullptr};
      for (const auto& ref : x.m.references) {
        if (!measured_same_problem(ref.config, r.config) || !(ref.time.median_ms > 0)) continue;
        if (ref.backend == "flash") row.flash = &ref;
        if (!row.best || ref.time.median_ms < row.best->time.median_ms) row.best = &ref;
      }
      rows.push_back(row);
    }
  return rows;
}

std::string render_runs(const std::vector<LoadedFile>& files, const std::vector<BackwardFile>& bwd,
                        const MeasuredOptions& o, OutputFormat f) {
  const auto rows = run_rows(files, o);
  const size_t bwd_rows = measured_backward_run_count(bwd, o.kernel);
  if (rows.empty() && bwd_rows == 0)
    throw InputError(o.kernel.empty() ? "the measurement files have no timed runs"
                                      : fmt::format("--kernel: no run of a kernel matching '{}'", o.kernel));
  if (rows.empty() && f == OutputFormat::table) return measured_backward_runs_text(bwd, o.kernel).substr(1);
  // Speed-up of ours over a reference: its time / our time (> 1: ours is faster).
  auto speedup = [](const MeasuredRun& ours, const MeasuredRun* ref) -> std::optional<double> {
    if (!ref) return std::nullopt;
    return ref->time.median_ms / ours.time.median_ms;
  };
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().key("runs").begin_array();
    for (const auto& row : rows) {
      const auto& r = *row.run;
      const auto& c = r.config;
      w.begin_object().field("file", row.file->name).field("device", row.file->m.device.name)
          .field("kernel", r.kernel).field("rung", r.rung).field("batch", c.batch).field("heads", c.heads)
          .field("kv_heads", c.kv_heads).field("seq_q", c.seq_q).field("seq_kv", c.seq_kv).field("head_dim", c.head_dim)
          .field("causal", c.causal).field("dtype", c.dtype).field("block_q", c.block_q).field("block_kv", c.block_kv)
          .field("median_ms", r.time.median_ms)
          .field("tflops", r.tflops);
      w.key("gbps");
      if (r.gbps) w.value(*r.gbps); else w.null();
      w.key("max_abs_error");
      if (r.max_abs_error) w.value(*r.max_abs_error); else w.null();
      w.key("torch_flash_ms");
      if (row.flash) w.value(row.flash->time.median_ms); else w.null();
      w.key("vs_torch_flash");
      if (auto s = speedup(r, row.flash)) w.value(*s); else w.null();
      w.key("fastest_reference");
      if (row.best) w.value(row.best->kernel); else w.null();
      w.key("vs_fastest_reference");
      if (auto s = speedup(r, row.best)) w.value(*s); else w.null();
      w.end_object();
    }
    w.end_array();
    measured_backward_runs_json(w, bwd, o.kernel);
    w.end_object();
    return w.str();
  }
  // CSV is one table for every pass (backward rows after the forward ones), so it names the pass.
  const bool csv = f == OutputFormat::csv;
  std::vector<Table::Column> columns = {{"file", false}, {"kernel", false}, {"config", false}, {"Br x Bc", false},
                                        {"median"}, {"TFLOP/s"}, {"GB/s"}, {"max |err|"}, {"vs torch-flash"},
                                        {"fastest reference", false}, {"vs it"}};
  if (csv) columns.insert(columns.begin() + 2, {"pass", false});
  Table t(columns);
  for (const auto& row : rows) {
    const auto& r = *row.run;
    auto ratio = [&](const MeasuredRun* ref) {
      auto s = speedup(r, ref);
      return s ? cell(fmt::format("{:.2f}x", *s), fmt::format("{}", *s)) : cell("-", "");
    };
    const std::string tile = r.config.block_q || r.config.block_kv
                                 ? fmt::format("{}x{}", r.config.block_q, r.config.block_kv)
                                 : std::string("-");
    std::vector<Cell> cells = {cell(row.file->name), cell(r.kernel), cell(config_label(r.config)), cell(tile),
               cell(format_seconds(r.time.median_ms * 1e-3), fmt::format("{}", r.time.median_ms * 1e-3)),
               cell_num(r.tflops, 1), r.gbps ? cell_num(*r.gbps, 0) : cell("-", ""),
               r.max_abs_error ? cell(fmt::format("{:.1e}", *r.max_abs_error), fmt::format("{}", *r.max_abs_error))
                               : cell("-", ""),
               ratio(row.flash), cell(row.best ? row.best->kernel : "-"), ratio(row.best)};
    if (csv) cells.insert(cells.begin() + 2, cell("fwd"));
    t.add_row(std::move(cells));
  }
  if (csv) {
    measured_backward_runs_csv(t, bwd, o.kernel);
    return t.to_csv();
  }
  std::string out = fmt::format("{} timed runs{}\n\n", rows.size(),
                                o.kernel.empty() ? std::string() : fmt::format(" of kernels matching '{}'", o.kernel));
  out += t.to_text();
  out += "\nBr x Bc: the kernel's query x key tile (decode: query rows x keys per split). median: of the run's\n"
         "repeats (CUDA events, warm-up first, L2 emptied before each repeat). TFLOP/s counts 4·B·H·Nq·Nkv·d\n"
         "(half when causal); max |err|: against an fp64 CPU reference, checked before timing.\n"
         "vs: the reference's median time / ours, measured in the same session on the same GPU (> 1: ours is faster).\n";
  std::vector<std::string> devices;
  for (const auto& row : rows) {
    const auto& d = row.file->m.device;
    std::string line = fmt::format("  {}: {}, driver {}, CUDA {}, {}{}", row.file->name, d.name,
                                   d.driver_version.empty() ? "?" : d.driver_version, d.cuda_runtime,
                                   row.file->m.date.substr(0, 10),
                                   row.file->m.torch_version.empty() ? "" : ", PyTorch " + row.file->m.torch_version);
    if (std::find(devices.begin(), devices.end(), line) == devices.end()) devices.push_back(line);
  }
  out += "Measured on:\n";
  for (const auto& d : devices) out += d + "\n";
  return out + measured_backward_runs_text(bwd, o.kernel);
}

// ---- the simulator vs Nsight Compute ----------------------------------------------------------
std::string render_ncu(const std::vector<LoadedFile>& files, const std::vector<BackwardFile>& bwd,
                       const MeasuredOptions& o, OutputFormat f) {
  std::vector<SimVsNcu> rows;
  u64 unmodelled = 0;
  auto add = [&](const NcuRecord& n, const MeasuredDevice& device) {
    if (!wanted(o, n.kernel)) return;
    if (auto s = sim_vs_ncu(n, device)) rows.push_back(std::move(*s));
    else ++unmodelled;
  };
  for (const auto& x : files)
    for (const auto& n : x.m.ncu) add(n, x.m.device);
  for (const auto& x : bwd)  // whole backward passes: label "<kernel> bwd ..."
    for (const auto& n : x.m.ncu) add(n, x.m.file.device);
  if (rows.empty())
    throw InputError(o.kernel.empty() ? "the measurement files have no Nsight Compute records the simulator models"
                                      : fmt::format("--kernel: no ncu record of a kernel matching '{}'", o.kernel));
  auto verdict = [](const SimVsNcu& r, NcuLevel level) -> std::string {
    const bool within = level == NcuLevel::dram ? r.dram_within() : r.l2_within();
    if (within) return "ok";
    return ncu_known_miss(r.record, level) ? "known miss" : "MISS";
  };
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("dram_tolerance", sim_vs_ncu_dram_tolerance).field("l2_tolerance", sim_vs_ncu_l2_tolerance);
    w.key("records").begin_array();
    for (const auto& r : rows) {
      w.begin_object().field("record", r.label).field("kernel", r.record.kernel)
          .field("dram_measured_bytes", r.dram_meas).field("dram_simulated_bytes", r.dram_sim)
          .field("dram_rel", r.dram_rel()).field("dram", verdict(r, NcuLevel::dram))
          .field("l2_measured_bytes", r.l2_meas).field("l2_simulated_bytes", r.l2_sim).field("l2_rel", r.l2_rel())
          .field("l2", verdict(r, NcuLevel::l2)).end_object();
    }
    w.end_array().end_object();
    return w.str();
  }
  Table t({{"record", false}, {"DRAM ncu"}, {"DRAM sim"}, {"diff"}, {"", false}, {"L2 ncu"}, {"L2 sim"}, {"diff"},
           {"", false}});
  u64 dram_ok = 0, l2_ok = 0;
  for (const auto& r : rows) {
    dram_ok += r.dram_within();
    l2_ok += r.l2_within();
    auto mb = [](double b) { return cell(fmt::format("{:.1f} MB", b / 1e6), fmt::format("{}", b)); };
    auto pct = [](double v) { return cell(fmt::format("{:+.1f}%", 100 * v), fmt::format("{}", v)); };
    t.add_row({cell(r.label), mb(r.dram_meas), mb(r.dram_sim), pct(r.dram_rel()), cell(verdict(r, NcuLevel::dram)),
               mb(r.l2_meas), mb(r.l2_sim), pct(r.l2_rel()), cell(verdict(r, NcuLevel::l2))});
  }
  if (f == OutputFormat::csv) return t.to_csv();
  std::string out =
      "The simulator against Nsight Compute: one forward pass per record (\"bwd\": the whole backward, its\n"
      "kernels summed) under `ncu --clock-control none --cache-control all`; DRAM = dram__bytes_read.sum +\n"
      "dram__bytes_write.sum, L2 = lts__t_bytes.sum. The simulator is run on the same kernel, tile sizes and\n"
      "GPU (SM count and L2 as the device reported); its DRAM writes leave out the lines still dirty in L2\n"
      "when a kernel ends, which ncu's per-kernel counters do not see.\n\n";
  out += t.to_text();
  out += fmt::format("\nDRAM within ±{:.0f}%: {} of {} records; L2 within ±{:.0f}%: {} of {}.{}\n",
                     100 * sim_vs_ncu_dram_tolerance, dram_ok, rows.size(), 100 * sim_vs_ncu_l2_tolerance, l2_ok,
                     rows.size(),
                     unmodelled ? fmt::format(" ({} records have no simulator model)", unmodelled) : std::string());
  if (o.why) {
    out += "\nKnown misses (what the counters show; the model does not explain these yet):\n";
    for (const auto& k : ncu_known_misses()) {
      out += fmt::format("  {}{} {}{}{}{}:\n", k.kernel, k.backward ? " bwd" : "", k.level == NcuLevel::dram ? "DRAM" : "L2",
                         k.head_dim ? fmt::format(" d{}", k.head_dim) : "",
                         k.max_seq ? fmt::format(" N <= {}", k.max_seq) : "", k.causal_only ? " causal" : "");
      out += wrap_words(k.why, 96, "    ");
    }
  } else {
    out += "Known misses are explained with --why.\n";
  }
  return out;
}

void run_measured(const MeasuredOptions& o) {
  const OutputFormat f = parse_output_format(o.format);
  if (o.runs && o.ncu) throw InputError("give one of --runs and --ncu");
  if (o.fp8 && (o.runs || o.ncu)) throw InputError("--fp8 is a view of its own: give one of --runs, --ncu and --fp8");
  if (!o.part.empty() && !o.fp8) throw InputError("--part goes with --fp8");
  if (o.fp8 && !o.kernel.empty()) throw InputError("--kernel goes with --runs or --ncu");
  if (o.fp8) return print_out(measured_fp8_render(measured_paths(o), !o.files.empty(), o.part, f));
  if (!o.dir.empty() && !o.files.empty()) throw InputError("give one of --dir and --file");
  if (o.why && !o.ncu) throw InputError("--why goes with --ncu");
  if (!o.kernel.empty() && !o.runs && !o.ncu) throw InputError("--kernel goes with --runs or --ncu");
  const auto paths = measured_paths(o);
  const auto files = load(paths);
  const auto bwd = o.runs || o.ncu ? measured_backward_load(paths) : std::vector<BackwardFile>{};
  if (o.runs) return print_out(render_runs(files, bwd, o, f));
  if (o.ncu) return print_out(render_ncu(files, bwd, o, f));
  print_out(render_files(files, f));
}

}  // namespace

void setup_measured(CLI::App& app) {
  auto* cmd = app.add_subcommand("measured", "What the kernels measured on a real GPU: runs vs PyTorch, simulator vs Nsight Compute");
  auto o = std::make_shared<MeasuredOptions>();
  cmd->add_flag("--runs", o->runs, "Every timed kernel beside the PyTorch references of the same session");
  cmd->add_flag("--ncu", o->ncu, "The simulator's DRAM and L2 bytes beside Nsight Compute's counters");
  cmd->add_flag("--why", o->why, "With --ncu: explain the known misses");
  cmd->add_flag("--fp8", o->fp8,
                "FP8 attention (files with an \"fp8\" section): the FP8 rung beside the bf16 rung, the accuracy of "
                "each quantization method against fp64, the quantization kernels' times");
  cmd->add_option("--part", o->part, "With --fp8: only one table, speed | accuracy | quantize (CSV needs one)");
  cmd->add_option("--kernel", o->kernel, "Only kernels whose name contains this (attn-mma, decode, torch, ...)");
  cmd->add_option("--dir", o->dir, "Folder of measurement files (default: the shipped assets/measurements)");
  cmd->add_option("--file", o->files, "Measurement file(s) to read instead, e.g. your own attnlab-bench --json output");
  add_format_option(cmd, o->format);
  cmd->callback([o] { run_measured(*o); });
}

}  // namespace attnlab::cli
