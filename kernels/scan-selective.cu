// scan-selective.cu: rung 7 of the ladder ("Kernel ladder II"): Mamba's selective-scan forward,
// and where it overtakes flash attention as the sequence grows.
//
//   Δ_t  = softplus(delta[b,d,t] + bias[d])                  (input-dependent step)
//   x_t,n = exp(Δ_t A[d,n]) x_{t-1},n + Δ_t B[b,n,t] u[b,d,t]   (state n = 0..15, x_{-1} = 0)
//   y[b,d,t] = Σ_n C[b,n,t] x_t,n + D[d] u[b,d,t]
//
// u, delta, y: [B, D, L] bf16; B, C: [B, N, L] bf16 (one group shared by all channels, Mamba-1's
// "variable B/C"); A [D, N], D and bias [D] fp32. The z gate of Mamba's fused kernel is left out.
//
// What this rung teaches, and why it is written this way:
//   * The recurrence x_t = a_t x_{t-1} + b_t is a linear scan: pairs (a, b) compose associatively,
//     (a1, b1) ∘ (a2, b2) = (a1 a2, a2 b1 + b2), so a warp scans 32 × ITEMS steps in log2(32) shuffle
//     rounds: each lane first folds its ITEMS consecutive steps sequentially, the warp scans the 32
//     folds, and each lane then replays its steps from its exclusive prefix to emit y.
//   * A warp walks its channel(s) from t = 0 to L chunk by chunk, carrying the 16 states in
//     registers: no second pass over the data, no inter-block dependency, u/Δ/y are touched once
//     (16-byte loads). B and C are shared by every channel: R channels per warp reuse each load.
//   * The state never reaches memory: 16 states per channel are produced and consumed on chip.
//     That is the bandwidth argument for SSMs: bytes grow as L, not L².
//
// MEASURED (H100): see the table in kernels/NOTES-ladder2.md and assets/measurements/scan-h100.json
// (filled in after the device run).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "attn.hpp"
#include "harness-cuda.hpp"
#include "harness.hpp"

using namespace attnlab::kernels;
using nlohmann::json;

namespace {

constexpr int kN = 16;  // state size (Mamba's d_state)

struct ScanParams {
  const __nv_bfloat16 *u, *delta, *Bm, *Cm;
  const float *A, *Dskip, *bias;
  __nv_bfloat16* y;
  int B = 0, D = 0, L = 0;
};

__device__ __forceinline__ float softplus(float x) { return x > 20.f ? x : log1pf(__expf(x)); }

template <int ITEMS>
__device__ __forceinline__ void load_items(const __nv_bfloat16* p, bool ok, float out[ITEMS]) {
  static_assert(ITEMS % 8 == 0 || ITEMS == 4, "ITEMS: 4, 8 or 16");
  if (!ok) {
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) out[i] = 0.f;
    return;
  }
  if constexpr (ITEMS == 4) {
    uint2 v = *reinterpret_cast<const uint2*>(p);
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float2 f = __bfloat1622float2(h[i]);
      out[2 * i] = f.x, out[2 * i + 1] = f.y;
    }
  } else {
#pragma unroll
    for (int c = 0; c < ITEMS / 8; ++c) {
      uint4 v = *reinterpret_cast<const uint4*>(p + 8 * c);
      const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        float2 f = __bfloat1622float2(h[i]);
        out[8 * c + 2 * i] = f.x, out[8 * c + 2 * i + 1] = f.y;
      }
    }
  }
}

// One warp = R channels of one batch row, the whole sequence; a lane owns ITEMS consecutive steps
// of each 32·ITEMS-step chunk. Requires L % ITEMS == 0 (steps past L are identities: Δ = 0).
template <int R, int ITEMS>
__global__ void __launch_bounds__(128) selective_scan_kernel(ScanParams p) {
  const int lane = threadIdx.x & 31;
  const int gw = blockIdx.x * 4 + (threadIdx.x >> 5);
  const int groups = p.D / R;
  if (gw >= p.B * groups) return;
  const int b = gw / groups, d0 = (gw % groups) * R;
  constexpr float kLog2e = 1.4426950408889634f;

  float Al[R][kN], carry[R][kN], Dsk[R], bias[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    Dsk[r] = p.Dskip[d0 + r];
    bias[r] = p.bias[d0 + r];
#pragma unroll
    for (int n = 0; n < kN; ++n) {
      Al[r][n] = p.A[(d0 + r) * kN + n] * kLog2e;
      carry[r][n] = 0.f;
    }
  }
  for (int c0 = 0; c0 < p.L; c0 += 32 * ITEMS) {
    const int t0 = c0 + lane * ITEMS;
    const bool ok = t0 < p.L;
    float dt[R][ITEMS], du[R][ITEMS], y[R][ITEMS];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const size_t row = (size_t(b) * p.D + d0 + r) * p.L + t0;
      float u[ITEMS];
      load_items<ITEMS>(p.u + row, ok, u);
      load_items<ITEMS>(p.delta + row, ok, dt[r]);
#pragma unroll
      for (int i = 0; i < ITEMS; ++i) {
        dt[r][i] = ok ? softplus(dt[r][i] + bias[r]) : 0.f;  // Δ = 0: a = 1, b = 0 (identity)
        du[r][i] = dt[r][i] * u[i];
        y[r][i] = Dsk[r] * u[i];
      }
    }
#pragma unroll
    for (int n = 0; n < kN; ++n) {
      float Bn[ITEMS], Cn[ITEMS];
      const size_t bc = (size_t(b) * kN + n) * p.L + t0;
      load_items<ITEMS>(p.Bm + bc, ok, Bn);
      load_items<ITEMS>(p.Cm + bc, ok, Cn);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        // n is a compile-time index (the loop is unrolled): Al and carry stay in registers.
        const float al = Al[r][n];
        float cy = carry[r][n];
        float a[ITEMS], bb[ITEMS];
        float Ag = 1.f, Xg = 0.f;
#pragma unroll
        for (int i = 0; i < ITEMS; ++i) {
          a[i] = exp2f(dt[r][i] * al);
          bb[i] = du[r][i] * Bn[i];
          Xg = fmaf(a[i], Xg, bb[i]);
          Ag *= a[i];
        }
        // inclusive warp scan of the lanes' folds
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
          const float Ap = __shfl_up_sync(0xffffffff, Ag, off);
          const float Xp = __shfl_up_sync(0xffffffff, Xg, off);
          if (lane >= off) {
            Xg = fmaf(Ag, Xp, Xg);
            Ag *= Ap;
          }
        }
        float Ae = __shfl_up_sync(0xffffffff, Ag, 1), Xe = __shfl_up_sync(0xffffffff, Xg, 1);
        if (lane == 0) Ae = 1.f, Xe = 0.f;
        float x = fmaf(Ae, cy, Xe);  // state just before this lane's first step
        const float A31 = __shfl_sync(0xffffffff, Ag, 31), X31 = __shfl_sync(0xffffffff, Xg, 31);
        cy = fmaf(A31, cy, X31);
        carry[r][n] = cy;
#pragma unroll
        for (int i = 0; i < ITEMS; ++i) {
          x = fmaf(a[i], x, bb[i]);
          y[r][i] = fmaf(Cn[i], x, y[r][i]);
        }
      }
    }
    if (ok) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        __nv_bfloat16* yo = p.y + (size_t(b) * p.D + d0 + r) * p.L + t0;
#pragma unroll
        for (int i = 0; i < ITEMS; i += 2)
          *reinterpret_cast<__nv_bfloat162*>(yo + i) = __floats2bfloat162_rn(y[r][i], y[r][i + 1]);
      }
    }
  }
}

struct Variant {
  const char* name;
  int R, ITEMS;
  void (*launch)(const ScanParams&, cudaStream_t);
};
template <int R, int ITEMS>
void launch_scan(const ScanParams& p, cudaStream_t st) {
  const int warps = p.B * (p.D / R);
  selective_scan_kernel<R, ITEMS><<<(warps + 3) / 4, 128, 0, st>>>(p);
}
const Variant kVariants[] = {
    {"R1 I8", 1, 8, launch_scan<1, 8>},
    {"R1 I16", 1, 16, launch_scan<1, 16>},
    {"R2 I8", 2, 8, launch_scan<2, 8>},
    {"R4 I4", 4, 4, launch_scan<4, 4>},
};

// Fill a bf16 buffer on the device with uniform [lo, hi) values from a hash (no zeros, no host copy).
__global__ void fill_kernel(__nv_bfloat16* p, size_t n, uint64_t seed, float lo, float hi) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    p[i] = __float2bfloat16(lo + (hi - lo) * float(z >> 40) * (1.0f / 16777216.0f));
  }
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

uint16_t bf16_bits(float f) { return float_to_half_bits(f, ElemType::bf16); }
float bf16_val(uint16_t h) { return half_bits_to_float(h, ElemType::bf16); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-scan: check, then time, Mamba's selective scan (kernels/scan-selective.cu), and flash attention beside it"};
  std::string json_path;
  int batch = 2, channels = 4096, repeats = 10, attn_heads = 16;
  std::string lens = "256,512,1024,2048,4096,8192,16384,32768";
  bool no_attn = false, check_only = false;
  app.add_option("--json", json_path, "Write the measurements here");
  app.add_option("--batch", batch, "Batch B")->check(CLI::Range(1, 64));
  app.add_option("--channels", channels, "Channels D (Mamba's d_inner; divisible by 4)")->check(CLI::Range(4, 65536));
  app.add_option("--lens", lens, "Comma-separated sequence lengths (multiples of 16)");
  app.add_option("--attn-heads", attn_heads, "Flash attention beside it: heads of d = 128 (d_model = D/2 = H·128)");
  app.add_flag("--no-attn", no_attn, "Do not time attention");
  app.add_flag("--check", check_only, "Check every variant, time nothing (for compute-sanitizer; implies --no-attn)");
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::vector<int> Ls;
  for (size_t pos = 0; pos < lens.size();) {
    size_t c = lens.find(',', pos);
    Ls.push_back(std::stoi(lens.substr(pos, c - pos)));
    pos = c == std::string::npos ? lens.size() : c + 1;
  }
  for (int L : Ls)
    if (L < 16 || L % 16) {
      fmt::print(stderr, "attnlab-scan: --lens values must be multiples of 16 (got {})\n", L);
      return 2;
    }
  if (channels % 4) {
    fmt::print(stderr, "attnlab-scan: --channels must be divisible by 4 (got {})\n", channels);
    return 2;
  }
  std::string command = "attnlab-scan";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  std::string why;
  if (!cuda_device_usable(why)) {
    fmt::print(stderr, "attnlab-scan: {} (skipped)\n", why);
    return 77;
  }
  try {
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
    doc["tool"] = "attnlab-scan 0.1.0";
    doc["runs"] = json::array();
    doc["crossover_runs"] = json::array();
    doc["config_note"] =
        "scan runs: batch = B, heads = kv_heads = D channels, seq_q = seq_kv = L, head_dim = state size N (16), "
        "block_q = steps per warp chunk (32*ITEMS); tflops counts 7 FLOP per (b, d, t, n) (exp counted as one); "
        "gbps = (u, delta read, y written, B and C read once, A/D/bias) / median";
    TimingOptions to;
    to.warmup = 3;
    to.repeats = repeats;
    double copy_gbps = 0;
    if (check_only) no_attn = true;
    else {
      const size_t n = size_t(1) << 30;
      DeviceBuffer a(n), c(n);
      ATTN_CUDA(cudaMemset(a.get(), 1, n));
      auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(cudaMemcpyAsync(c.get(), a.get(), n, cudaMemcpyDeviceToDevice, st)); },
                              to, dev.l2_bytes, nullptr);
      copy_gbps = 2.0 * n / (stats_of(ms).median * 1e-3) / 1e9;
      doc["copy_bandwidth_gbps"] = copy_gbps;
    }
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
      std::vector<uint16_t> hu(ne), hd(ne), hB(nbc), hC(nbc);
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
      const double bytes = 2.0 * 3 * ne + 2.0 * 2 * nbc + 4.0 * (D * kN + 2 * D);
      const double flop = 7.0 * ne * kN;
      std::vector<uint16_t> hy(ne);
      double best_ms = 0;
      for (const Variant& v : kVariants) {
        if (D % v.R) continue;
        ATTN_CUDA(cudaMemset(dy.get(), 0xFF, ne * 2));
        v.launch(p, nullptr);
        ATTN_CUDA(cudaGetLastError());
        ATTN_CUDA(cudaDeviceSynchronize());
        ATTN_CUDA(cudaMemcpy(hy.data(), dy.get(), ne * 2, cudaMemcpyDeviceToHost));
        size_t unwritten = 0, bad = 0;
        for (uint16_t h : hy)
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
        Stats s = stats_of(ms);
        const double gbps = bytes / (s.median * 1e-3) / 1e9;
        table.push_back({L, fmt::format("scan {}", v.name), s.median, gbps, maxerr,
                         fmt::format("{:.1f}% of copy bw", 100 * gbps / copy_gbps)});
        if (best_ms == 0 || s.median < best_ms) best_ms = s.median;
        doc["runs"].push_back({{"kernel", "scan-selective"},
                               {"rung", 7},
                               {"source", "attnlab"},
                               {"config", {{"batch", B}, {"heads", D}, {"kv_heads", D}, {"seq_q", L}, {"seq_kv", L},
                                           {"head_dim", kN}, {"causal", true}, {"dtype", "bf16"},
                                           {"block_q", 32 * v.ITEMS}, {"block_kv", 0}}},
                               {"time_ms", {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"repeats", ms.size()}}},
                               {"tflops", flop / (s.median * 1e-3) / 1e12},
                               {"gbps", gbps},
                               {"max_abs_error", maxerr},
                               {"rel_l2_error", rel},
                               {"note", fmt::format("variant {} ({} channels per warp, {} steps per lane); {:.1f}% of copy "
                                                    "bandwidth {:.0f} GB/s; checked on {} channels",
                                                    v.name, v.R, v.ITEMS, 100 * gbps / copy_gbps, copy_gbps, chk.size())}});
      }
      // flash attention of the same layer width (d_model = H·128), causal, our mma rung
      if (!no_attn) {
        AttnShape s;
        s.batch = B, s.heads = attn_heads, s.kv_heads = attn_heads, s.seq_q = L, s.seq_kv = L, s.head_dim = 128;
        s.causal = true;
        s.dtype = ElemType::bf16;
        const size_t qe = size_t(B) * attn_heads * L * 128;
        DeviceBuffer q(qe * 2), k(qe * 2), v(qe * 2), o(qe * 2);
        fill_kernel<<<1024, 256>>>(static_cast<__nv_bfloat16*>(q.get()), qe, 1, -2.5f, 2.5f);
        fill_kernel<<<1024, 256>>>(static_cast<__nv_bfloat16*>(k.get()), qe, 2, -2.5f, 2.5f);
        fill_kernel<<<1024, 256>>>(static_cast<__nv_bfloat16*>(v.get()), qe, 3, -1.f, 1.f);
        ATTN_CUDA(cudaGetLastError());
        AttnProblem ap;
        ap.shape = s, ap.q = q.get(), ap.k = k.get(), ap.v = v.get(), ap.o = o.get();
        ap.scale = float(1.0 / std::sqrt(128.0));
        TimingOptions ta = to;
        ta.repeats = std::min(repeats, 10);
        auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(attn_forward(KernelId::mma, ap, st)); }, ta,
                                dev.l2_bytes, nullptr);
        Stats st = stats_of(ms);
        const double tf = forward_flops(s) / (st.median * 1e-3) / 1e12;
        table.push_back({L, "attn-mma (causal)", st.median, forward_min_bytes(s) / (st.median * 1e-3) / 1e9, 0,
                         fmt::format("{:.0f} TFLOP/s; scan/attn time {:.2f}", tf, best_ms / st.median)});
        // Not in "runs" (every run there was checked first): this one is timed only.
        doc["crossover_runs"].push_back({{"kernel", "attn-mma"},
                               {"rung", 3},
                               {"source", "attnlab"},
                               {"config", {{"batch", B}, {"heads", attn_heads}, {"kv_heads", attn_heads}, {"seq_q", L},
                                           {"seq_kv", L}, {"head_dim", 128}, {"causal", true}, {"dtype", "bf16"},
                                           {"block_q", kernel_tiles(KernelId::mma, 128).block_q},
                                           {"block_kv", kernel_tiles(KernelId::mma, 128).block_kv}}},
                               {"time_ms", {{"median", st.median}, {"min", st.min}, {"max", st.max}, {"repeats", ms.size()}}},
                               {"tflops", tf},
                               {"gbps", forward_min_bytes(s) / (st.median * 1e-3) / 1e9},
                               {"note", fmt::format("crossover partner of the scan at L = {} (same layer: d_model = {} = "
                                                    "D/2); timed only here, checked by attnlab-bench",
                                                    L, attn_heads * 128)}});
      }
    }
    attn_release();
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      f << doc.dump(2) << "\n";
    }
    fmt::print("{:>6} {:<20} {:>10} {:>8} {:>9}  {}\n", "L", "kernel", "median ms", "GB/s", "max err", "note");
    for (const Row& r : table)
      fmt::print("{:>6} {:<20} {:>10.4f} {:>8.0f} {:>9.2e}  {}\n", r.L, r.kernel, r.ms, r.gbps, r.err, r.note);
    fmt::print("B{} D{} N{}; copy bandwidth {:.0f} GB/s; device {} driver {} CUDA {}\n", B, D, kN, copy_gbps, dev.name,
               dev.driver_version, dev.cuda_runtime);
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnlab-scan: {}\n", e.what());
    return 1;
  }
}
