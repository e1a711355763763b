// attn-window.cu: rung 6 of the ladder ("Kernel ladder II"): sliding-window attention on the mma
// rung. Query i sees keys i+off−wl .. i+off (causal, Mistral: W = 4096 keys incl. itself, wl = 4095)
// or i+off−wl .. i+off+wr (bidirectional, ModernBERT's local layers: 128 wide, wl = wr = 64);
// off = seq_kv − seq_q.
//
// What changes against rung 3, and why: a block's query rows q0..q0+Br−1 can only see keys
// first_key = q0+off−wl .. last_key = q0+Br−1+off(+wr). Key tiles outside [first_key, last_key]
// are never loaded or multiplied (the loop starts at tile j0 = first_key / Bc instead of 0), so
// the work per query row is O(W) instead of O(N): the speed-up over full attention grows like N / W
// until the window's edge tiles (masked element by element, like the causal diagonal) dominate.
// The kernel IS attn-mma.cu's: the window is two fields of AttnProblem (window_left/right), so the
// tile skipping is the same visible-range test that skips causal tiles above the diagonal. This
// file is the check and the bench; the simulator's count of skipped tiles is src/sim/window_tiles.
//
//   attnlab-attn-window --check                       ragged shapes, every row vs fp64 (+ lse)
//   attnlab-attn-window --json window.json            speed-up vs full attention over N
//
// MEASURED (H100): see assets/measurements/window-h100.json and its rows in the README there.
#include <cuda_runtime.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "attn.hpp"
#include "harness-cuda.hpp"
#include "harness.hpp"

using namespace attnlab::kernels;
using nlohmann::json;

namespace {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

AttnShape make_shape(int b, int h, int kvh, int nq, int nkv, int d, bool causal, ElemType t) {
  AttnShape s;
  s.batch = b, s.heads = h, s.kv_heads = kvh, s.seq_q = nq, s.seq_kv = nkv, s.head_dim = d, s.causal = causal;
  s.dtype = t;
  return s;
}

struct Device {
  DeviceBuffer q, k, v, o, lse;
  AttnProblem p;
  Device(const AttnShape& s, const HostInputs& in, int wl, int wr) {
    q = DeviceBuffer(in.q.size() * 2), k = DeviceBuffer(in.k.size() * 2), v = DeviceBuffer(in.v.size() * 2);
    o = DeviceBuffer(in.q.size() * 2);
    lse = DeviceBuffer(size_t(s.batch) * s.heads * s.seq_q * sizeof(float));
    ATTN_CUDA(cudaMemcpy(q.get(), in.q.data(), q.bytes(), cudaMemcpyHostToDevice));
    ATTN_CUDA(cudaMemcpy(k.get(), in.k.data(), k.bytes(), cudaMemcpyHostToDevice));
    ATTN_CUDA(cudaMemcpy(v.get(), in.v.data(), v.bytes(), cudaMemcpyHostToDevice));
    p.shape = s, p.q = q.get(), p.k = k.get(), p.v = v.get(), p.o = o.get();
    p.scale = float(1.0 / std::sqrt(double(s.head_dim)));
    p.window_left = wl, p.window_right = wr;
  }
  // One forward on poisoned O and lse, then the fp64 check of `rows` (O and lse).
  CheckResult run_check(const HostInputs& in, const std::vector<RowId>& rows) {
    const AttnShape& s = p.shape;
    ATTN_CUDA(cudaMemset(o.get(), 0xFF, o.bytes()));
    ATTN_CUDA(cudaMemset(lse.get(), 0xFF, lse.bytes()));
    AttnProblem pl = p;
    pl.lse = static_cast<float*>(lse.get());
    ATTN_CUDA(attn_mma_forward(pl, nullptr));
    ATTN_CUDA(cudaDeviceSynchronize());
    std::vector<std::uint16_t> out(q_elems(s));
    std::vector<float> lse_h(size_t(s.batch) * s.heads * s.seq_q);
    ATTN_CUDA(cudaMemcpy(out.data(), o.get(), o.bytes(), cudaMemcpyDeviceToHost));
    ATTN_CUDA(cudaMemcpy(lse_h.data(), lse.get(), lse.bytes(), cudaMemcpyDeviceToHost));
    CheckExtras ex;
    ex.lse = &lse_h;
    ex.window_left = p.window_left;
    ex.window_right = p.window_right;
    return check_output(s, in, out, rows, tolerance_for(KernelId::mma, s.dtype), p.scale, ex);
  }
};

// Ragged sizes, GQA, Nq < Nkv, both d, windows narrower than a tile and wider than one, a window
// whose left edge leaves early rows with few keys; every row compared. Small enough for
// compute-sanitizer (the first three are its three sizes).
int run_check_grid(bool sanitizer_only) {
  struct Case {
    AttnShape s;
    int wl, wr;
  };
  int failed = 0, passed = 0;
  std::uint64_t seed = 20261126;
  for (ElemType t : {ElemType::bf16, ElemType::fp16}) {
    std::vector<Case> cases = {
        {make_shape(1, 2, 1, 77, 77, 64, true, t), 20, -1},
        {make_shape(1, 2, 2, 130, 130, 128, false, t), 17, 17},
        {make_shape(2, 4, 2, 200, 200, 64, true, t), 70, -1},
    };
    if (!sanitizer_only) {
      cases.push_back({make_shape(1, 4, 4, 333, 333, 128, false, t), 64, 64});
      cases.push_back({make_shape(1, 2, 2, 100, 300, 128, true, t), 50, -1});
      cases.push_back({make_shape(1, 4, 1, 1000, 1000, 128, true, t), 255, -1});
      cases.push_back({make_shape(2, 2, 2, 513, 513, 64, false, t), 0, 200});
    }
    for (const Case& c : cases) {
      HostInputs in = make_inputs(c.s, ++seed);
      Device dv(c.s, in, c.wl, c.wr);
      CheckResult r = dv.run_check(in, pick_rows(c.s, 1u << 20, seed));
      fmt::print("{}  attn-window {} wl={} wr={}: max|err| {:.2e}, rel L2 {:.2e}, lse max|err| {:.1e}, {} rows{}\n",
                 r.ok ? "ok  " : "FAIL", shape_label(c.s), c.wl, c.wr, r.max_abs_error, r.rel_l2_error,
                 r.lse_max_error, r.rows_checked, r.ok ? "" : " -- " + r.first_failure);
      (r.ok ? passed : failed)++;
    }
  }
  if (failed) {
    fmt::print("{} of {} checks FAILED\n", failed, failed + passed);
    return 1;
  }
  fmt::print("All results match ({} checks).\n", passed);
  return 0;
}

// Visible (query, key) pairs of one head: the FLOP count of a window run is 4·d per pair.
double visible_pairs(const AttnShape& s, int wl, int wr) {
  const long off = long(s.seq_kv) - s.seq_q;
  double pairs = 0;
  for (long i = 0; i < s.seq_q; ++i) {
    long hi = s.causal ? i + off : (wr >= 0 ? i + off + wr : s.seq_kv - 1);
    long lo = wl >= 0 ? i + off - wl : 0;
    hi = std::min<long>(hi, s.seq_kv - 1), lo = std::max<long>(lo, 0);
    if (hi >= lo) pairs += double(hi - lo + 1);
  }
  return pairs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-attn-window: check, then time, sliding-window attention (the mma rung with a window) "
               "against full attention"};
  std::string json_path, lens = "1024,2048,4096,8192,16384,32768";
  int tokens = 32768, heads = 16, repeats = 10;
  bool check = false, sanitizer = false, profile = false;
  app.add_flag("--check", check, "Correctness grid only (ragged shapes, every row; exit 0 match, 1 mismatch, 77 no GPU)");
  app.add_flag("--sanitizer", sanitizer, "With --check: only the three sizes compute-sanitizer runs");
  app.add_flag("--profile", profile, "One forward per variant and N, no check or timing (run under ncu)");
  app.add_option("--json", json_path, "Write the measurements here (schema: assets/measurements/README.md)");
  app.add_option("--lens", lens, "Comma-separated sequence lengths N");
  app.add_option("--tokens", tokens, "Batch × N held constant (B = tokens / N, at least 1)")->check(CLI::Range(1, 1 << 24));
  app.add_option("--heads", heads, "Heads (d = 128)")->check(CLI::Range(1, 256));
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::vector<int> Ns;
  try {
    for (size_t pos = 0; pos < lens.size();) {
      size_t c = lens.find(',', pos);
      Ns.push_back(std::stoi(lens.substr(pos, c - pos)));
      pos = c == std::string::npos ? lens.size() : c + 1;
    }
  } catch (const std::exception&) {
    fmt::print(stderr, "attnlab-attn-window: --lens must be comma-separated integers (got '{}')\n", lens);
    return 2;
  }
  for (int n : Ns)
    if (n < 1 || n > (1 << 20)) {
      fmt::print(stderr, "attnlab-attn-window: --lens values must be between 1 and 1048576 (got {})\n", n);
      return 2;
    }
  std::string command = "attnlab-attn-window";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  std::string why;
  if (!cuda_device_usable(why)) {
    fmt::print(stderr, "attnlab-attn-window: {} (skipped)\n", why);
    return 77;
  }
  try {
    if (check) return run_check_grid(sanitizer);
    DeviceFacts dev = device_facts();
    json doc;
    doc["schema"] = "attnlab-measurements";
    doc["schema_version"] = 1;
    doc["device"] = {{"name", dev.name},
                     {"compute_capability", fmt::format("{}.{}", dev.cc_major, dev.cc_minor)},
                     {"sm_count", dev.sm_count},
                     {"l2_bytes", dev.l2_bytes},
                     {"memory_bytes", dev.memory_bytes},
                     {"smem_per_block_optin", dev.smem_per_block_optin},
                     {"driver_version", dev.driver_version},
                     {"cuda_driver", dev.cuda_driver},
                     {"cuda_runtime", dev.cuda_runtime}};
    doc["date"] = utc_now();
    doc["command"] = command;
    doc["tool"] = "attnlab-attn-window 0.2.0";
    doc["runs"] = json::array();
    doc["flops_note"] = "tflops follows the schema (4·B·H·Nq·Nkv·d, half when causal, whatever the window); "
                        "tflops_visible_pairs counts only the (query, key) pairs the mask lets through, 4·d FLOP each";
    TimingOptions to;
    to.warmup = 2;
    to.repeats = repeats;
    struct Row {
      int N;
      std::string kernel, mask;
      double ms, tflops, err, speedup;
      std::string note;
    };
    std::vector<Row> table;
    bool all_ok = true;
    std::uint64_t seed = 20261125;
    struct Var {
      std::string kernel, mask;
      bool causal;
      int wl, wr;
    };
    const std::vector<Var> vars = {
        {"attn-mma", "causal (full)", true, -1, -1},
        {"attn-window", "causal W4096 (Mistral)", true, 4095, -1},
        {"attn-mma", "bidirectional (full)", false, -1, -1},
        {"attn-window", "bidirectional W128 (ModernBERT)", false, 64, 64},
    };
    for (int N : Ns) {
      const int B = std::max(1, tokens / N);
      for (bool causal : {true, false}) {
        AttnShape s = make_shape(B, heads, heads, N, N, 128, causal, ElemType::bf16);
        HostInputs in = make_inputs(s, ++seed);
        const auto rows = pick_rows(s, 128, seed);
        double base = 0;
        for (const Var& v : vars) {
          if (v.causal != causal) continue;
          Device dv(s, in, v.wl, v.wr);
          auto launch = [&](cudaStream_t st) { ATTN_CUDA(attn_mma_forward(dv.p, st)); };
          if (profile) {
            launch(nullptr);
            ATTN_CUDA(cudaDeviceSynchronize());
            continue;
          }
          CheckResult r = dv.run_check(in, rows);  // checked (O and lse) before timed
          if (!r.ok) {
            all_ok = false;
            table.push_back({N, v.kernel, v.mask, 0, 0, r.max_abs_error, 0, "CHECK FAILED: " + r.first_failure});
            continue;
          }
          auto ms = time_launches(launch, to, dev.l2_bytes, nullptr);
          Stats st = stats_of(ms);
          const double flop = 4.0 * 128 * visible_pairs(s, v.wl, v.wr) * B * heads;
          const double tf = flop / (st.median * 1e-3) / 1e12;
          if (v.kernel == "attn-mma") base = st.median;
          const double sp = base > 0 ? base / st.median : 0;
          table.push_back({N, v.kernel, v.mask, st.median, tf, r.max_abs_error, sp, ""});
          json cfg = {{"batch", B},          {"heads", heads},   {"kv_heads", heads},   {"seq_q", N},
                      {"seq_kv", N},         {"head_dim", 128},  {"causal", causal},    {"dtype", "bf16"},
                      {"block_q", kernel_tiles(KernelId::mma, 128).block_q},
                      {"block_kv", kernel_tiles(KernelId::mma, 128).block_kv}};
          if (v.wl >= 0) cfg["window_left"] = v.wl;
          if (v.wr >= 0 && !causal) cfg["window_right"] = v.wr;
          doc["runs"].push_back(
              {{"kernel", v.kernel},
               {"rung", v.kernel == "attn-mma" ? 3 : 6},
               {"source", "attnlab"},
               {"config", cfg},
               {"time_ms", {{"median", st.median}, {"min", st.min}, {"max", st.max}, {"repeats", ms.size()}}},
               {"tflops", forward_flops(s) / (st.median * 1e-3) / 1e12},
               {"tflops_visible_pairs", tf},
               {"max_abs_error", r.max_abs_error},
               {"rel_l2_error", r.rel_l2_error},
               {"note", fmt::format("{}; speed-up vs full {:.2f}x", v.mask, sp)}});
        }
      }
    }
    attn_release();
    if (profile) return 0;
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      f << doc.dump(2) << "\n";
    }
    fmt::print("{:>6} {:<12} {:<32} {:>10} {:>8} {:>9} {:>8}  {}\n", "N", "kernel", "mask", "median ms", "TFLOP/s",
               "max err", "speed-up", "note");
    for (const Row& r : table)
      fmt::print("{:>6} {:<12} {:<32} {:>10.4f} {:>8.1f} {:>9.2e} {:>7.2f}x  {}\n", r.N, r.kernel, r.mask, r.ms,
                 r.tflops, r.err, r.speedup, r.note);
    fmt::print("B = {} / N, H{} d128 bf16; TFLOP/s counts visible pairs only; device {} driver {} CUDA {}\n", tokens,
               heads, dev.name, dev.driver_version, dev.cuda_runtime);
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnlab-attn-window: {}\n", e.what());
    return 1;
  }
}
