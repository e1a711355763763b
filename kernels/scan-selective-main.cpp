// attnlab-scan-selective: checks every variant of the selective scan (scan-selective.cu) against an
// fp64 reference, times it, and times flash attention of the same layer beside it (the crossover).
// What the rung does and what it measured: the header of scan-selective.cu.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <random>
#include <vector>

#include "attn.hpp"
#include "hw/gpu.hpp"
#include "launcher.hpp"
#include "scan-selective.hpp"
#include "sim/scan_traffic.hpp"

using namespace attnlab;
using namespace attnlab::kernels;

namespace {

std::uint16_t bf16_bits(float f) { return float_to_half_bits(f, ElemType::bf16); }
float bf16_val(std::uint16_t h) { return half_bits_to_float(h, ElemType::bf16); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-scan-selective: check, then time, Mamba's selective scan (kernels/scan-selective.cu), and flash attention beside it"};
  std::string json_path, only;
  int batch = 2, channels = 4096, repeats = 10, attn_heads = 16;
  std::string lens = "256,512,1024,2048,4096,8192,16384,32768";
  bool no_attn = false, check_only = false;
  app.add_option("--json", json_path, "Write the measurements here");
  app.add_option("--batch", batch, "Batch B")->check(CLI::Range(1, 64));
  app.add_option("--channels", channels, "Channels D (Mamba's d_inner; divisible by 4)")->check(CLI::Range(4, 65536));
  app.add_option("--lens", lens, "Comma-separated sequence lengths (multiples of 16)");
  app.add_option("--attn-heads", attn_heads, "Flash attention beside it: heads of d = 128 (d_model = D/2 = H·128)");
  app.add_option("--only", only, "Run only the variants whose name starts with this (e.g. \"S4\")");
  app.add_flag("--no-attn", no_attn, "Do not time attention");
  app.add_flag("--check", check_only, "Check every variant, time nothing (for compute-sanitizer; implies --no-attn)");
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  std::vector<int> Ls;
  auto before_gpu = [&]() -> std::optional<int> {
    Ls = parse_int_list(lens, "--lens", 16, 1 << 24);
    for (int L : Ls)
      if (L % 16) throw BadInput(fmt::format("--lens values must be multiples of 16 (got {})", L));
    if (channels % 4) throw BadInput(fmt::format("--channels must be divisible by 4 (got {})", channels));
    const auto& vs = scan_variants();
    if (!only.empty() &&
        std::none_of(vs.begin(), vs.end(), [&](const ScanVariant& v) { return std::string(v.name).rfind(only, 0) == 0; }))
      throw BadInput(fmt::format("--only must start the name of a variant, e.g. \"S4\" or \"R1 I8\" (got \"{}\")", only));
    return std::nullopt;
  };
  return run_program(app, argc, argv, "attnlab-scan-selective", before_gpu, [&](Program& prog) -> int {
    const DeviceFacts& dev = prog.dev;
    Measurements file = prog.begin_file();
    TimingOptions to;
    to.warmup = 3;
    to.repeats = repeats;
    double copy_gbps = 0;
    if (check_only) no_attn = true;
    else copy_gbps = copy_bandwidth_gbps(dev, to);
    struct Row {
      int L;
      std::string kernel;
      double ms, gbps, err;
      std::string note;
    };
    std::vector<Row> table;
    bool all_ok = true;
    std::mt19937_64 rng(20261123);
    const int B = batch, D = channels;
    for (int L : Ls) {
      const size_t ne = size_t(B) * D * L, nbc = size_t(B) * kN * L;
      // fresh random inputs per length: u, B, C in [-1, 1); delta in [-0.5, 0.5) around a bias that
      // puts Δ in [1e-3, 1e-1] (Mamba's dt init); A = −(1..16) scaled randomly; D in [-1, 1)
      std::uniform_real_distribution<float> U(-1.f, 1.f), U01(0.f, 1.f);
      std::vector<std::uint16_t> hu(ne), hd(ne), hB(nbc), hC(nbc);
      for (auto& x : hu) x = bf16_bits(U(rng));
      for (auto& x : hd) x = bf16_bits(0.5f * U(rng));
      for (auto& x : hB) x = bf16_bits(U(rng));
      for (auto& x : hC) x = bf16_bits(U(rng));
      std::vector<float> hA(size_t(D) * kN), hDs(D), hbias(D);
      for (int d = 0; d < D; ++d) {
        hDs[d] = U(rng);
        const float dt = std::exp(std::log(1e-3f) + U01(rng) * (std::log(1e-1f) - std::log(1e-3f)));
        hbias[d] = dt + std::log(-std::expm1(-dt));  // inverse softplus
        for (int n = 0; n < kN; ++n) hA[size_t(d) * kN + n] = -(n + 1) * (0.5f + U01(rng));
      }
      DeviceBuffer du(ne * 2), dd(ne * 2), dB(nbc * 2), dC(nbc * 2), dA(hA.size() * 4), dDs(D * 4), dbias(D * 4),
          dy(ne * 2);
      ATTN_CUDA(cudaMemcpy(du.get(), hu.data(), ne * 2, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dd.get(), hd.data(), ne * 2, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dB.get(), hB.data(), nbc * 2, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dC.get(), hC.data(), nbc * 2, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dA.get(), hA.data(), hA.size() * 4, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dDs.get(), hDs.data(), D * 4, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dbias.get(), hbias.data(), D * 4, cudaMemcpyHostToDevice));
      ScanParams p{static_cast<const __nv_bfloat16*>(du.get()), static_cast<const __nv_bfloat16*>(dd.get()),
                   static_cast<const __nv_bfloat16*>(dB.get()), static_cast<const __nv_bfloat16*>(dC.get()),
                   static_cast<const float*>(dA.get()), static_cast<const float*>(dDs.get()),
                   static_cast<const float*>(dbias.get()), static_cast<__nv_bfloat16*>(dy.get()), B, D, L};
      // fp64 reference for 48 channels (first, last, random) of every batch row
      std::vector<std::pair<int, int>> chk;
      for (int b = 0; b < B; ++b) {
        chk.push_back({b, 0});
        chk.push_back({b, D - 1});
        for (int k = 0; k < 22; ++k) chk.push_back({b, int(rng() % D)});
      }
      std::vector<std::vector<double>> ref;
      for (auto [b, d] : chk) {
        std::vector<double> x(kN, 0.0), yr(L);
        for (int t = 0; t < L; ++t) {
          const size_t i = (size_t(b) * D + d) * L + t;
          const double z = double(bf16_val(hd[i])) + hbias[d];
          const double dt = z > 20 ? z : std::log1p(std::exp(z));
          const double u = bf16_val(hu[i]);
          double acc = double(hDs[d]) * u;
          for (int n = 0; n < kN; ++n) {
            const size_t j = (size_t(b) * kN + n) * L + t;
            x[n] = std::exp(dt * hA[size_t(d) * kN + n]) * x[n] + dt * bf16_val(hB[j]) * u;
            acc += bf16_val(hC[j]) * x[n];
          }
          yr[t] = acc;
        }
        ref.push_back(std::move(yr));
      }
      // The counts are the simulator's (src/sim/scan_traffic): every input read once, y written once;
      // 7 FLOP per (b, d, t, n) and 4 per (b, d, t).
      ScanConfig sc;
      sc.batch = u64(B), sc.channels = u64(D), sc.seq = u64(L), sc.state = u64(kN);
      const ScanTraffic counts = scan_traffic(sc, gpu_find(default_gpu_name()));
      const double bytes = double(counts.min_bytes), flop = double(counts.flops);
      std::vector<std::uint16_t> hy(ne);
      double best_ms = 0;
      for (const ScanVariant& v : scan_variants()) {
        if ((v.R && D % v.R) || (!only.empty() && std::string(v.name).rfind(only, 0) != 0)) continue;
        ATTN_CUDA(cudaMemset(dy.get(), 0xFF, ne * 2));
        v.launch(p, nullptr);
        ATTN_CUDA(cudaGetLastError());
        ATTN_CUDA(cudaDeviceSynchronize());
        ATTN_CUDA(cudaMemcpy(hy.data(), dy.get(), ne * 2, cudaMemcpyDeviceToHost));
        size_t unwritten = 0, bad = 0;
        for (std::uint16_t h : hy)
          if (!std::isfinite(bf16_val(h))) ++unwritten;
        double maxerr = 0, num = 0, den = 0;
        std::string first;
        for (size_t k = 0; k < chk.size(); ++k) {
          auto [b, d] = chk[k];
          for (int t = 0; t < L; ++t) {
            const double got = bf16_val(hy[(size_t(b) * D + d) * L + t]), want = ref[k][t];
            const double e = std::fabs(got - want);
            maxerr = std::max(maxerr, e);
            num += e * e, den += want * want;
            if (!(e <= 1e-2 + 2e-2 * std::fabs(want))) {
              if (!bad++) first = fmt::format("b={} d={} t={}: got {} want {}", b, d, t, got, want);
            }
          }
        }
        const double rel = std::sqrt(num / den);
        const bool ok = unwritten == 0 && bad == 0 && rel < 1e-2;
        if (!ok) {
          all_ok = false;
          table.push_back({L, fmt::format("scan {}", v.name), 0, 0, maxerr,
                           fmt::format("CHECK FAILED: {} bad, {} unwritten, rel {:.2e} {}", bad, unwritten, rel, first)});
          continue;
        }
        if (check_only) {
          table.push_back({L, fmt::format("scan {}", v.name), 0, 0, maxerr, "checked"});
          continue;
        }
        auto ms = time_launches([&](cudaStream_t st) { v.launch(p, st); }, to, dev.l2_bytes, nullptr);
        MeasuredConfig cfg;  // the scan in the schema's words: heads = D channels, head_dim = N states
        cfg.batch = u64(B), cfg.heads = cfg.kv_heads = u64(D), cfg.seq_q = cfg.seq_kv = u64(L);
        cfg.head_dim = u64(kN), cfg.causal = true, cfg.dtype = "bf16", cfg.block_q = u64(v.block_q), cfg.block_kv = 0;
        CheckResult chk_result;
        chk_result.max_abs_error = maxerr, chk_result.rel_l2_error = rel;
        const double median = stats_of(ms).median, gbps = bytes / (median * 1e-3) / 1e9;
        table.push_back({L, fmt::format("scan {}", v.name), median, gbps, maxerr,
                         fmt::format("{:.1f}% of copy bw", 100 * gbps / copy_gbps)});
        if (best_ms == 0 || median < best_ms) best_ms = median;
        file.runs.push_back(measured_run(
            "scan-selective", 7, cfg, ms, flop, bytes, &chk_result,
            fmt::format("variant {} ({}); {:.1f}% of copy bandwidth {:.0f} GB/s; checked on {} channels", v.name,
                        v.R ? fmt::format("warp scan: {} channels per warp, {} steps per lane", v.R, v.ITEMS)
                            : fmt::format("states across lanes: 4 states of {} channel(s) per lane, {} channels per "
                                          "warp, {}-step tiles, {} of 4 exps per lane on the FMA pipe",
                                          v.channels_per_warp / 8, v.channels_per_warp, v.block_q, v.poly),
                        100 * gbps / copy_gbps, copy_gbps, chk.size())));
      }
      // flash attention of the same layer width (d_model = H·128), causal, our mma rung
      if (!no_attn) {
        AttnShape s;
        s.batch = B, s.heads = attn_heads, s.kv_heads = attn_heads, s.seq_q = L, s.seq_kv = L, s.head_dim = 128;
        s.causal = true;
        s.dtype = ElemType::bf16;
        // Checked like every run of ours: fresh random inputs, poisoned output, fp64 rows.
        const HostInputs in = make_inputs(s, 20261123ull + unsigned(L));
        DeviceBuffer q(in.q.size() * 2), k(in.k.size() * 2), v(in.v.size() * 2), o(in.q.size() * 2);
        ATTN_CUDA(cudaMemcpy(q.get(), in.q.data(), q.bytes(), cudaMemcpyHostToDevice));
        ATTN_CUDA(cudaMemcpy(k.get(), in.k.data(), k.bytes(), cudaMemcpyHostToDevice));
        ATTN_CUDA(cudaMemcpy(v.get(), in.v.data(), v.bytes(), cudaMemcpyHostToDevice));
        AttnProblem ap;
        ap.shape = s, ap.q = q.get(), ap.k = k.get(), ap.v = v.get(), ap.o = o.get();
        ap.scale = float(1.0 / std::sqrt(128.0));
        ATTN_CUDA(cudaMemset(o.get(), 0xFF, o.bytes()));
        ATTN_CUDA(attn_forward(KernelId::mma, ap, nullptr));
        ATTN_CUDA(cudaDeviceSynchronize());
        std::vector<std::uint16_t> out(in.q.size());
        ATTN_CUDA(cudaMemcpy(out.data(), o.get(), o.bytes(), cudaMemcpyDeviceToHost));
        const CheckResult r = check_output(s, in, out, pick_rows(s, 128, unsigned(L)),
                                           tolerance_for(KernelId::mma, s.dtype), ap.scale);
        if (!r.ok) {
          all_ok = false;
          table.push_back({L, "attn-mma (causal)", 0, 0, r.max_abs_error, "CHECK FAILED: " + r.first_failure});
          continue;
        }
        TimingOptions ta = to;
        ta.repeats = std::min(repeats, 10);
        auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(attn_forward(KernelId::mma, ap, st)); }, ta,
                                dev.l2_bytes, nullptr);
        const KernelTiles tiles = kernel_tiles(KernelId::mma, 128);
        MeasuredRun run = measured_run(
            "attn-mma", 3, measured_config(s, tiles.block_q, tiles.block_kv), ms, forward_flops(s),
            forward_min_bytes(s), &r,
            fmt::format("crossover partner of the scan at L = {} (same layer: d_model = {} = D/2)", L,
                        attn_heads * 128));
        file.runs.push_back(run);
        table.push_back({L, "attn-mma (causal)", run.time.median_ms, *run.gbps, r.max_abs_error,
                         fmt::format("{:.0f} TFLOP/s; scan/attn time {:.2f}", run.tflops, best_ms / run.time.median_ms)});
      }
    }
    attn_release();
    if (!check_only) prog.write_file(file, json_path);
    fmt::print("{:>6} {:<20} {:>10} {:>8} {:>9}  {}\n", "L", "kernel", "median ms", "GB/s", "max err", "note");
    for (const Row& r : table)
      fmt::print("{:>6} {:<20} {:>10.4f} {:>8.0f} {:>9.2e}  {}\n", r.L, r.kernel, r.ms, r.gbps, r.err, r.note);
    fmt::print("B{} D{} N{}; copy bandwidth {:.0f} GB/s; device {} driver {} CUDA {}\n", B, D, kN, copy_gbps, dev.name,
               dev.driver_version, dev.cuda_runtime);
    return all_ok ? 0 : 1;
  });
}
