// attnlab-bench: checks every rung against the fp64 CPU reference, then times it, over sweeps of
// configurations; writes a measurement file (schema: assets/measurements/README.md).
//
//   attnlab-bench --check                       correctness grid, every rung (CTest runs this; 77 = no GPU)
//   attnlab-bench --sweep key --json out.json   B8 H16 N4096, d 64/128, causal and not
//   attnlab-bench --sweep ladder,gqa --json f   the shipped sweeps
//   attnlab-bench --kernels mma --batch 8 --heads 16 --seq 4096 --dim 128 --causal
//   attnlab-bench --profile ...                 one forward per config, nothing else (for ncu)
//
// Order of work per config (llm.c's rule): reference once, every kernel checked on poisoned
// output, and only then timed.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "attn.hpp"
#include "describe_gpu.hpp"
#include "launcher.hpp"

using namespace attnlab;
using namespace attnlab::kernels;
using nlohmann::json;

namespace {

struct Options {
  bool check = false;
  std::string grid = "full";
  std::string sweep;
  std::string kernels;  // "" = every rung for --check, the ladder (naive, naive-cublas, tiled, mma) otherwise
  std::string json_path;
  bool profile = false;
  int batch = 8, heads = 16, kv_heads = 0, seq = 4096, seq_kv = 0, dim = 128;
  bool causal = false;
  std::string dtype = "bf16";
  int repeats = 10, warmup = 2;
  size_t check_rows = 256;
  unsigned long long seed = 20261123;
  bool no_flush = false;
  bool quiet = false;
  bool print_shapes = false;
};

std::vector<KernelId> parse_kernels(const std::string& list) {
  std::vector<KernelId> ids;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string name = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!name.empty()) {
      KernelId id = kernel_from_name(name);
      if (id == KernelId::none)
        throw BadInput("--kernels: unknown kernel '" + name + "' (known: naive, naive-cublas, tiled, mma, hopper)");
      ids.push_back(id);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return ids;
}

// The correctness grid: ragged lengths (not multiples of 16/32/64), GQA ratios 1..8, causal with
// Nq < Nkv (bottom-right mask), decode (Nq = 1), both head sizes. Small enough to compare every row.
std::vector<AttnShape> check_grid(const std::string& which, ElemType t) {
  if (which == "sanitizer")  // three sizes for compute-sanitizer (it runs ~100× slower)
    return {attn_shape(1, 2, 1, 77, 77, 64, true, t), attn_shape(1, 2, 2, 130, 130, 128, false, t),
            attn_shape(2, 4, 2, 200, 200, 64, true, t)};
  return {attn_shape(1, 1, 1, 64, 64, 64, false, t),    attn_shape(2, 4, 2, 100, 100, 64, true, t),
          attn_shape(1, 8, 1, 129, 129, 128, false, t), attn_shape(2, 4, 4, 257, 257, 128, true, t),
          attn_shape(1, 2, 2, 1, 300, 128, false, t),   attn_shape(1, 4, 1, 77, 333, 64, true, t),
          attn_shape(1, 2, 2, 1000, 1000, 128, true, t), attn_shape(3, 6, 3, 513, 513, 64, false, t),
          attn_shape(1, 8, 8, 31, 31, 128, true, t)};
}

// B·N kept near 32k tokens (B = 8 at N = 4096), H = 16: the ladder sweep of the shipped files.
std::vector<AttnShape> sweep(const std::string& name, ElemType t) {
  std::vector<AttnShape> v;
  if (name == "ladder") {
    for (int d : {64, 128})
      for (bool causal : {false, true})
        for (int n = 512; n <= 16384; n *= 2) v.push_back(attn_shape(32768 / n, 16, 16, n, n, d, causal, t));
  } else if (name == "gqa") {
    // Prefill at N = 4096 with kv_heads = 16, 4, 2 (ratios 1, 4, 8), then decode (Nq = 1).
    for (bool causal : {false, true})
      for (int kvh : {16, 4, 2}) v.push_back(attn_shape(8, 16, kvh, 4096, 4096, 128, causal, t));
    for (int kvh : {32, 8, 4}) v.push_back(attn_shape(64, 32, kvh, 1, 4096, 128, false, t));
  } else if (name == "key") {
    for (int d : {128, 64})
      for (bool causal : {false, true}) v.push_back(attn_shape(8, 16, 16, 4096, 4096, d, causal, t));
  } else if (name == "ncu") {
    // Three sizes per rung for the simulator-vs-Nsight comparison: K/V of a head in L2 or not.
    for (int n : {1024, 2048, 4096}) v.push_back(attn_shape(4, 16, 16, n, n, 128, false, t));
    v.push_back(attn_shape(4, 16, 16, 4096, 4096, 128, true, t));
    v.push_back(attn_shape(4, 16, 4, 4096, 4096, 128, false, t));
    v.push_back(attn_shape(4, 16, 16, 2048, 2048, 64, false, t));
  } else {
    throw BadInput("--sweep: unknown sweep '" + name + "' (known: ladder, gqa, key, ncu)");
  }
  return v;
}

// A progress bar on stderr; on a terminal it redraws one line, elsewhere (logs) it prints lines.
class Progress {
 public:
  Progress(size_t total, bool quiet) : total_(total), quiet_(quiet), tty_(isatty(2)) {}
  void step(const std::string& what) {
    ++done_;
    if (quiet_) return;
    const int width = 24;
    int fill = total_ ? int(width * done_ / total_) : width;
    std::string bar(fill, '#');
    bar.resize(width, '.');
    fmt::print(stderr, "{}[{}] {:>3}/{} {}{}", tty_ ? "\r" : "", bar, done_, total_, what, tty_ ? "\x1b[K" : "\n");
    if (tty_ && done_ == total_) fmt::print(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  size_t total_, done_ = 0;
  bool quiet_, tty_;
};

// The config a run of `id` on `s` is filed under (tiles and score dtype of the kernel).
MeasuredConfig config_of(const AttnShape& s, KernelId id) {
  std::string sd = kernel_info(id).score_dtype;
  if (sd == "input") sd = std::string(elem_name(s.dtype));
  const KernelTiles t = kernel_tiles(id, s.head_dim);
  return measured_config(s, t.block_q, t.block_kv, sd);
}

// The same config as JSON, for --print-shapes (kernels/ncu_collect.py reads these lines).
json config_json(const AttnShape& s, KernelId id) {
  const MeasuredConfig c = config_of(s, id);
  json j = {{"batch", c.batch},   {"heads", c.heads},       {"kv_heads", c.kv_heads}, {"seq_q", c.seq_q},
            {"seq_kv", c.seq_kv}, {"head_dim", c.head_dim}, {"causal", c.causal},     {"dtype", c.dtype},
            {"block_q", c.block_q}, {"block_kv", c.block_kv}};
  if (!c.score_dtype.empty()) j["score_dtype"] = c.score_dtype;
  return j;
}

// One problem on the device: inputs uploaded once, O and the workspace reused across kernels.
struct DeviceProblem {
  AttnShape s;
  DeviceBuffer q, k, v, o;
  DeviceProblem(const AttnShape& shape, const HostInputs& in) : s(shape) {
    q = DeviceBuffer(in.q.size() * 2);
    k = DeviceBuffer(in.k.size() * 2);
    v = DeviceBuffer(in.v.size() * 2);
    o = DeviceBuffer(q_elems(s) * 2);
    ATTN_CUDA(cudaMemcpy(q.get(), in.q.data(), q.bytes(), cudaMemcpyHostToDevice));
    ATTN_CUDA(cudaMemcpy(k.get(), in.k.data(), k.bytes(), cudaMemcpyHostToDevice));
    ATTN_CUDA(cudaMemcpy(v.get(), in.v.data(), v.bytes(), cudaMemcpyHostToDevice));
  }
  AttnProblem problem(const DeviceBuffer& ws) const {
    AttnProblem p;
    p.shape = s;
    p.q = q.get();
    p.k = k.get();
    p.v = v.get();
    p.o = o.get();
    p.scale = float(1.0 / std::sqrt(double(s.head_dim)));
    p.workspace = ws.get();
    p.workspace_bytes = ws.bytes();
    return p;
  }
};

// Why a kernel cannot run this shape here ("" = it can): kernel_choose's rules for this device,
// then the one thing they cannot know, the device memory free now for the naive rungs' S and P.
std::string unsupported(KernelId id, const AttnShape& s, const DeviceFacts& dev) {
  if (std::string why = kernel_unsupported(id, s, device_caps(dev)); !why.empty()) return why;
  size_t ws = attn_workspace_bytes(id, s);
  if (ws > 0) {
    size_t free_b = 0, total_b = 0;
    ATTN_CUDA(cudaMemGetInfo(&free_b, &total_b));
    if (ws > free_b * 0.95)
      return fmt::format("S/P need {:.1f} GB, {:.1f} GB free", ws / 1e9, free_b / 1e9);
  }
  return "";
}

// Runs `id` once on poisoned output and checks it. Returns the check result.
CheckResult run_and_check(KernelId id, DeviceProblem& dp, const HostInputs& in, const std::vector<RowId>& rows,
                          const DeviceBuffer& ws) {
  ATTN_CUDA(cudaMemset(dp.o.get(), 0xFF, dp.o.bytes()));  // poison: 0xFFFF is NaN in bf16 and fp16
  AttnProblem p = dp.problem(ws);
  // The mma rung can also return each row's log-sum-exp: checked here too (poisoned with NaN).
  const size_t n_rows = size_t(dp.s.batch) * dp.s.heads * dp.s.seq_q;
  DeviceBuffer lse(id == KernelId::mma ? n_rows * sizeof(float) : 0);
  if (lse.get()) {
    ATTN_CUDA(cudaMemset(lse.get(), 0xFF, lse.bytes()));
    p.lse = static_cast<float*>(lse.get());
  }
  ATTN_CUDA(attn_forward(id, p, nullptr));
  ATTN_CUDA(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(q_elems(dp.s));
  ATTN_CUDA(cudaMemcpy(out.data(), dp.o.get(), out.size() * 2, cudaMemcpyDeviceToHost));
  CheckExtras ex;
  std::vector<float> lse_host;
  if (lse.get()) {
    lse_host.resize(n_rows);
    ATTN_CUDA(cudaMemcpy(lse_host.data(), lse.get(), lse.bytes(), cudaMemcpyDeviceToHost));
    ex.lse = &lse_host;
  }
  return check_output(dp.s, in, out, rows, tolerance_for(id, dp.s.dtype), p.scale, ex);
}

int run_check(const Options& opt, const std::vector<KernelId>& ids, const DeviceFacts& dev) {
  std::vector<std::pair<AttnShape, KernelId>> work;
  for (ElemType t : {ElemType::bf16, ElemType::fp16})
    for (const AttnShape& s : check_grid(opt.grid, t))
      for (KernelId id : ids) work.push_back({s, id});
  Progress bar(work.size(), opt.quiet);
  int failed = 0, passed = 0;
  std::uint64_t seed = opt.seed;
  for (const auto& [s, id] : work) {
    const std::string label = fmt::format("{:<18} {}", kernel_info(id).name, shape_label(s));
    bar.step(label);
    std::string why = unsupported(id, s, dev);
    if (!why.empty()) {
      fmt::print("skip  {}: {}\n", label, why);
      continue;
    }
    HostInputs in = make_inputs(s, ++seed);  // fresh random inputs for every check
    DeviceProblem dp(s, in);
    DeviceBuffer ws(attn_workspace_bytes(id, s));
    CheckResult r = run_and_check(id, dp, in, pick_rows(s, 1u << 20, seed), ws);
    fmt::print("{}  {}: max|err| {:.2e}, rel L2 {:.2e}, {} rows{}{}\n", r.ok ? "ok  " : "FAIL", label,
               r.max_abs_error, r.rel_l2_error, r.rows_checked,
               id == KernelId::mma ? fmt::format(", lse max|err| {:.1e}", r.lse_max_error) : "",
               r.ok ? "" : " -- " + r.first_failure);
    (r.ok ? passed : failed)++;
  }
  attn_release();
  if (failed) {
    fmt::print("{} of {} checks FAILED\n", failed, failed + passed);
    return 1;
  }
  fmt::print("All results match ({} checks).\n", passed);
  return 0;
}

// The shapes a bench run covers: the named sweeps, or the one config of --batch/--heads/...
// Validated before the GPU is touched, so bad input fails the same way on every machine.
std::vector<AttnShape> requested_shapes(const Options& opt) {
  const ElemType t = opt.dtype == "fp16" ? ElemType::fp16 : ElemType::bf16;
  std::vector<AttnShape> shapes;
  if (!opt.sweep.empty()) {
    size_t pos = 0;
    while (true) {
      size_t comma = opt.sweep.find(',', pos);
      auto v = sweep(opt.sweep.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos), t);
      shapes.insert(shapes.end(), v.begin(), v.end());
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  } else {
    shapes.push_back(attn_shape(opt.batch, opt.heads, opt.kv_heads ? opt.kv_heads : opt.heads, opt.seq,
                           opt.seq_kv ? opt.seq_kv : opt.seq, opt.dim, opt.causal, t));
  }
  for (const AttnShape& s : shapes)
    if (std::string why = shape_problem(s); !why.empty()) throw BadInput(shape_label(s) + ": " + why);
  return shapes;
}

int run_bench(const Options& opt, const std::vector<AttnShape>& shapes, const std::vector<KernelId>& ids,
              const Program& prog) {
  const DeviceFacts& dev = prog.dev;
  Measurements file = prog.begin_file();
  // What each shape would run here (kernel_choose on this device): printed beside the table, so
  // that a learner sees the dispatch's choice and its reason for the device at hand.
  for (const AttnShape& s : shapes) {
    const KernelChoice c = kernel_choose(s, device_caps(dev));
    if (!opt.quiet && !opt.profile)
      fmt::print(stderr, "{}: kernel_choose picks {} ({})\n", shape_label(s), kernel_info(c.id).name, c.reason);
  }

  Progress bar(shapes.size() * ids.size(), opt.quiet || opt.profile);
  struct Row {
    std::string kernel, config, note;
    double ms = 0, tflops = 0, err = 0;
  };
  std::vector<Row> table;
  std::uint64_t seed = opt.seed;
  bool all_ok = true;
  for (const AttnShape& s : shapes) {
    HostInputs in = make_inputs(s, ++seed);  // fresh inputs per config, shared by its kernels
    DeviceProblem dp(s, in);
    const auto rows = pick_rows(s, opt.check_rows, seed);
    for (KernelId id : ids) {
      const KernelInfo& info = kernel_info(id);
      bar.step(fmt::format("{:<18} {}", info.name, shape_label(s)));
      std::string why = unsupported(id, s, dev);
      if (!why.empty()) {
        table.push_back({info.name, shape_label(s), "skipped: " + why});
        continue;
      }
      DeviceBuffer ws(attn_workspace_bytes(id, s));
      AttnProblem p = dp.problem(ws);
      if (opt.profile) {  // exactly one forward pass: what ncu should count
        ATTN_CUDA(attn_forward(id, p, nullptr));
        ATTN_CUDA(cudaDeviceSynchronize());
        continue;
      }
      CheckResult r = run_and_check(id, dp, in, rows, ws);  // checked before timed
      if (!r.ok) {
        all_ok = false;
        table.push_back({info.name, shape_label(s), "FAILED CHECK: " + r.first_failure});
        continue;
      }
      TimingOptions to{opt.warmup, opt.repeats, !opt.no_flush};
      // Long runs (naive at N = 16384 takes ~0.3 s) get fewer repeats: the spread is small there.
      auto t0 = std::chrono::steady_clock::now();
      ATTN_CUDA(attn_forward(id, p, nullptr));
      ATTN_CUDA(cudaDeviceSynchronize());
      double once = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (once > 0.2) to.repeats = std::min(to.repeats, 5), to.warmup = 1;
      auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(attn_forward(id, p, st)); }, to, dev.l2_bytes, nullptr);
      MeasuredRun run = measured_run(info.name, info.rung, config_of(s, id), ms, forward_flops(s),
                                     forward_min_bytes(s), &r);
      file.runs.push_back(run);
      table.push_back({info.name, shape_label(s), "", run.time.median_ms, run.tflops, r.max_abs_error});
    }
  }
  attn_release();
  if (opt.profile) return 0;

  prog.write_file(file, opt.json_path);
  fmt::print("{:<18} {:<34} {:>10} {:>9} {:>9}\n", "kernel", "config", "median ms", "TFLOP/s", "max err");
  for (const Row& r : table) {
    if (!r.note.empty())
      fmt::print("{:<18} {:<34} {}\n", r.kernel, r.config, r.note);
    else
      fmt::print("{:<18} {:<34} {:>10.3f} {:>9.1f} {:>9.2e}\n", r.kernel, r.config, r.ms, r.tflops, r.err);
  }
  prog.print_device();
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"attnlab-bench: check, then time, the attention kernels of kernels/ (needs a CUDA GPU)"};
  app.add_flag("--check", opt.check, "Run the correctness grid only (exit 0 all match, 1 a mismatch, 77 no GPU)");
  app.add_option("--grid", opt.grid, "Correctness grid for --check: full or sanitizer (3 small sizes)")
      ->check(CLI::IsMember({"full", "sanitizer"}));
  app.add_option("--sweep", opt.sweep, "Comma-separated sweeps: ladder, gqa, key, ncu (default: the one config below)");
  app.add_option("--kernels", opt.kernels,
                 "Comma-separated kernels: naive, naive-cublas, tiled, mma, hopper (sm_90 only; default: all five "
                 "with --check, the first four otherwise)");
  app.add_option("--json", opt.json_path, "Write the measurements here (schema: assets/measurements/README.md)");
  app.add_flag("--profile", opt.profile, "One forward per kernel and config, no check or timing (run under ncu)");
  app.add_option("--batch", opt.batch, "Batch size B")->check(CLI::Range(1, 4096));
  app.add_option("--heads", opt.heads, "Query heads H")->check(CLI::Range(1, 1024));
  app.add_option("--kv-heads", opt.kv_heads, "K/V heads (divides --heads; default = heads)")->check(CLI::Range(0, 1024));
  app.add_option("--seq", opt.seq, "Query length Nq (and Nkv unless --seq-kv)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--seq-kv", opt.seq_kv, "Key/value length Nkv (default = --seq)")->check(CLI::Range(0, 1 << 20));
  app.add_option("--dim", opt.dim, "Head dimension d")->check(CLI::Range(1, 512));
  app.add_flag("--causal", opt.causal, "Causal mask (bottom-right aligned)");
  app.add_option("--dtype", opt.dtype, "bf16 or fp16")->check(CLI::IsMember({"bf16", "fp16"}));
  app.add_option("--repeats", opt.repeats, "Timed repeats (median/min/max over them)")->check(CLI::Range(1, 1000));
  app.add_option("--warmup", opt.warmup, "Untimed warm-up launches")->check(CLI::Range(0, 100));
  app.add_option("--check-rows", opt.check_rows, "Rows compared with the fp64 reference per config")
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--seed", opt.seed, "Base seed of the random inputs (each check draws fresh ones from it)");
  app.add_flag("--no-flush", opt.no_flush, "Do not flush L2 between timed repeats");
  app.add_flag("--quiet", opt.quiet, "No progress bar");
  app.add_flag("--print-shapes", opt.print_shapes,
               "Print {kernel, rung, config} for every kernel and config of the run as JSON lines, and exit (no GPU needed)");
  std::string describe_path;  // --describe-gpu: kernels/describe_gpu.cpp writes the GPU file
  bool describe_measure = false;
  app.add_option("--describe-gpu", describe_path, "Write a GPU file (attnlab --gpu FILE) from this device's properties");
  app.add_flag("--measure", describe_measure, "With --describe-gpu: measure copy bandwidth and a bf16 GEMM too");
  std::vector<KernelId> ids;
  std::vector<AttnShape> shapes;
  // Input checks and --print-shapes need no GPU: bad input fails the same way on every machine.
  auto before_gpu = [&]() -> std::optional<int> {
    if (!describe_path.empty()) {  // its own device checks and exit codes
      std::string command = "attnlab-bench";
      for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
      return describe_gpu_run(describe_path, describe_measure, command);
    }
    ids = parse_kernels(!opt.kernels.empty() ? opt.kernels
                        : opt.check       ? "naive,naive-cublas,tiled,mma,hopper"
                                          : "naive,naive-cublas,tiled,mma");
    if (!opt.check) shapes = requested_shapes(opt);
    if (!opt.print_shapes) return std::nullopt;
    for (const AttnShape& s : shapes)  // for kernels/ncu_collect.py: one source for the sweep lists
      for (KernelId id : ids)
        fmt::print("{}\n", json{{"kernel", kernel_info(id).name}, {"rung", kernel_info(id).rung},
                                 {"config", config_json(s, id)}}
                                .dump());
    return 0;
  };
  return run_program(app, argc, argv, "attnlab-bench", before_gpu, [&](Program& prog) {
    return opt.check ? run_check(opt, ids, prog.dev) : run_bench(opt, shapes, ids, prog);
  });
}
