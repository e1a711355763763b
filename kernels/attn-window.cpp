// attn-window.cpp: rung 6 of the ladder ("Kernel ladder II"): sliding-window attention on the mma
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
// file is the check and the bench (plain C++: no kernel of its own); the simulator's count of
// skipped tiles and visible pairs is src/sim/window_tiles, which this program's FLOP figures use.
//
//   attnlab-attn-window --check                       ragged shapes, every row vs fp64 (+ lse)
//   attnlab-attn-window --json window.json            speed-up vs full attention over N
//
// MEASURED (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, 2026-11-23; assets/measurements/
// window-h100.json; B = 32768 / N, H16 d128 bf16, median of 10, L2 flushed before each repeat):
//   N 32768 causal W4096 (Mistral)          3.708 ms vs full causal 14.849 ms: 4.00x, 278 TFLOP/s of visible pairs
//   N 32768 bidirectional W128 (ModernBERT) 0.337 ms vs full 29.903 ms: 88.8x, 103 TFLOP/s of visible pairs
//   N 4096 bidirectional W128               0.331 ms vs full 3.834 ms: 11.6x
// What limits it: a wide window runs at the mma rung's own rate (~280-295 TFLOP/s). A 128-key
// window is limited by the tile grid: a block of 128 rows visits the ~5 key tiles of 64 its band
// touches, i.e. computes ~320 keys per row for 129 visible ones (40%), and 103 / 285 = 36% is the
// visible-pair rate measured.
#include <CLI/CLI.hpp>
#include <cmath>
#include <fmt/format.h>
#include <vector>

#include "attn.hpp"
#include "hw/gpu.hpp"
#include "launcher.hpp"
#include "sim/window_tiles.hpp"

using namespace attnlab;
using namespace attnlab::kernels;

namespace {

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
        {attn_shape(1, 2, 1, 77, 77, 64, true, t), 20, -1},
        {attn_shape(1, 2, 2, 130, 130, 128, false, t), 17, 17},
        {attn_shape(2, 4, 2, 200, 200, 64, true, t), 70, -1},
    };
    if (!sanitizer_only) {
      cases.push_back({attn_shape(1, 4, 4, 333, 333, 128, false, t), 64, 64});
      cases.push_back({attn_shape(1, 2, 2, 100, 300, 128, true, t), 50, -1});
      cases.push_back({attn_shape(1, 4, 1, 1000, 1000, 128, true, t), 255, -1});
      cases.push_back({attn_shape(2, 2, 2, 513, 513, 64, false, t), 0, 200});
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

// FLOPs of a window run: 4·d per visible (query, key) pair, the pairs as src/sim/window_tiles counts
// them (the GPU argument only matters for its byte counts, not the FLOPs).
double window_flops(const AttnShape& s, int wl, int wr) {
  WindowConfig c;
  c.batch = u64(s.batch), c.heads = u64(s.heads), c.kv_heads = u64(s.kv_heads);
  c.seq_q = u64(s.seq_q), c.seq_kv = u64(s.seq_kv), c.head_dim = u64(s.head_dim), c.causal = s.causal;
  c.window_left = wl, c.window_right = wr;
  const KernelTiles t = kernel_tiles(KernelId::mma, s.head_dim);
  c.block_q = u64(t.block_q), c.block_kv = u64(t.block_kv);
  return double(window_tiles(c, gpu_find(default_gpu_name())).flops);
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
  std::vector<int> Ns;
  auto before_gpu = [&]() -> std::optional<int> {
    Ns = parse_int_list(lens, "--lens", 1, 1 << 20);
    return std::nullopt;
  };
  return run_program(app, argc, argv, "attnlab-attn-window", before_gpu, [&](Program& prog) -> int {
    if (check) return run_check_grid(sanitizer);
    const DeviceFacts& dev = prog.dev;
    Measurements file = prog.begin_file();
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
        AttnShape s = attn_shape(B, heads, heads, N, N, 128, causal, ElemType::bf16);
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
          const double median = stats_of(ms).median;
          const double tf = window_flops(s, v.wl, v.wr) / (median * 1e-3) / 1e12;
          if (v.kernel == "attn-mma") base = median;
          const double sp = base > 0 ? base / median : 0;
          table.push_back({N, v.kernel, v.mask, median, tf, r.max_abs_error, sp, ""});
          const KernelTiles tiles = kernel_tiles(KernelId::mma, s.head_dim);
          MeasuredConfig cfg = measured_config(s, tiles.block_q, tiles.block_kv);
          if (v.wl >= 0) cfg.window_left = v.wl;
          if (v.wr >= 0 && !causal) cfg.window_right = v.wr;
          // tflops by the schema's convention (the full or causal count, whatever the window); the
          // visible-pair rate, what the window really computes, goes into the note.
          file.runs.push_back(measured_run(v.kernel, v.kernel == "attn-mma" ? 3 : 6, cfg, ms, forward_flops(s), 0, &r,
                                           fmt::format("{}; speed-up vs full {:.2f}x; {:.1f} TFLOP/s of visible pairs "
                                                       "(4·d FLOP each)",
                                                       v.mask, sp, tf)));
        }
      }
    }
    attn_release();
    if (profile) return 0;
    prog.write_file(file, json_path);
    fmt::print("{:>6} {:<12} {:<32} {:>10} {:>8} {:>9} {:>8}  {}\n", "N", "kernel", "mask", "median ms", "TFLOP/s",
               "max err", "speed-up", "note");
    for (const Row& r : table)
      fmt::print("{:>6} {:<12} {:<32} {:>10.4f} {:>8.1f} {:>9.2e} {:>7.2f}x  {}\n", r.N, r.kernel, r.mask, r.ms,
                 r.tflops, r.err, r.speedup, r.note);
    fmt::print("B = {} / N, H{} d128 bf16; TFLOP/s counts visible pairs only; device {} driver {} CUDA {}\n", tokens,
               heads, dev.name, dev.driver_version, dev.cuda_runtime);
    return all_ok ? 0 : 1;
  });
}
