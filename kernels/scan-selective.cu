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
// MEASURED (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, 2026-11-23 10:12 UTC; assets/measurements/
// scan-h100.json, `attnlab-scan-selective --json`, median of 10, L2 flushed; copy bandwidth 3008 GB/s
// read+write in the same run). B2 D4096 N16, bytes = u, δ, y, B, C once (1.61 GB at L = 32768):
//       L   best warp scan (R·I·)        best S4 ("S4 R1 P0 shfl pk")      attn-mma causal H16 d128
//    1024   0.1668 ms  10.1% of copy     0.0772 ms  21.9%  (2.16x)         0.0728 ms
//    4096   0.8023 ms   8.4%             0.2911 ms  23.1%  (2.76x)         0.6177 ms
//   32768   6.3569 ms   8.4%             2.2803 ms  23.5%  (2.79x)        29.4047 ms
// Goal ≥ 60% of the bandwidth roofline: NOT met (23.5%, short by 2.6x). What limits it (ncu, L = 16384,
// S4 R1 P0 shfl pk): issue slots 59% busy, MUFU (XU) 52% of peak, shared-memory wavefronts 48%,
// 2 warps per scheduler (grid-limited: B·D·16 states / 4 per lane = 1024 warps), DRAM 21%: latency-
// and issue-bound, with the exp floor below (~52% of the roofline for any all-MUFU design) and a
// shared-memory floor (≥ 2 wavefronts per warp-state for fp32 B/C, 1 for packed bf16) close behind.
// The crossover with attention moved from L = 4096…8192 to L = 1024…2048.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "scan-selective.hpp"

using namespace attnlab::kernels;

namespace {


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

// ---------------------------------------------------------------------------------------------
// Variant "S": states across lanes, time walked sequentially (no warp scan).
//
// Why: the warp-scan kernel above spends ~13 instructions per (b, d, t, n) (the fold, 5 shuffle
// rounds of (A, X) pairs, the replay) and its loads are consumed as soon as they are issued. Here a
// lane owns G = 4 states n of one channel and walks t one step at a time:
//     a = 2^(Δ·A·log2e)   x = a·x + (Δu)·B_n   y_part += C_n·x
// i.e. 5 issue slots per state (FMUL, MUFU.EX2, FMUL, FFMA, FFMA). 4 lanes share a channel (8
// channels per warp, 32 per block of 128 threads): B·D·16/4 threads = 1024 warps for B2 D4096.
// Per tile of T = 64 steps a block
//   * prefetches the next tile's u, δ (its 32 channels) and B, C into registers (16-byte loads,
//     in flight during the whole tile's arithmetic),
//   * computes Δ = softplus(δ + bias), Δu and D·u once per (d, t) into shared memory (fp32), and B, C
//     once per block (fp32, [t][n] so that a lane reads its 4 states' B or C with one LDS.128),
//   * walks the tile; every 16 steps the 4 lanes of a channel reduce their partial y through shared
//     memory (4 STS.128 + 4 LDS.128 + 12 FADD per 64 states) and write 4 consecutive y each.
// What limits it (counted, before measuring): the exps. There is one 2^x per (b, d, t, n): 4.3 G for
// B2 D4096 L32768. MUFU.EX2 runs at 16/clk/SM (a warp's EX2 holds its SM sub-partition's MUFU for
// 8 clk) while the sub-partition issues 1 instruction/clk: MUFU alone needs 8 clk per warp-state,
// 254 K warp-states per sub-partition at this size = 2.0 M clk ≈ 1.03 ms at 1.98 GHz, against a byte
// floor of 0.54 ms (1.61 GB at 3.0 TB/s): an all-MUFU kernel cannot pass ~52% of the bandwidth
// roofline. POLY > 0 moves POLY of a lane's 4 exps to the FMA pipe (2^f by a degree-4 polynomial,
// 2^j into the exponent field: 9 issue slots instead of 2), trading MUFU time for issue slots:
// with ~7 issue slots per MUFU state (loads, reduction, softplus and Δu shares included) and
// softplus's 2 MUFU per (d, t), the balance point is ~8 clk per warp-state either way, so the
// design is compute-bound near 50-55% of the roofline at best. (A needs A < 0, as Mamba's
// A = −exp(A_log); Δ·A·log2e is clamped at −125 for the polynomial, where 2^x is 0 to fp32 anyway.)
// Measured (the file header's table; ncu at L = 16384): the first version (S4 R1 P0 smem, 1.26 ms)
// was not MUFU-bound (XU 47% of peak) but shared-memory-bound: 3.45 wavefronts per warp-state, the
// LSU data pipe 70% busy — a 16-byte LDS costs 4 wavefronts even when the 32 lanes read only 4
// distinct addresses, so fp32 B and C alone cost 2. Hence the variants: shuffle reduction (3.14
// wavefronts, 1.21 ms), packed bf16 B/C (2.14 wavefronts, 1.13 ms, issue 59% busy), 2 channels per
// lane (R2: half the B/C reads but 246 registers and 1 warp per scheduler: 1.60 ms), and exps on the
// FMA pipe (P1: slower everywhere, 1.28 ms with pk, since MUFU is not the binding unit).
namespace states {
constexpr int G = 4;            // states per lane (of each of its R channels)
constexpr int LPC = kN / G;     // lanes per channel
constexpr int GPW = 32 / LPC;   // lane groups per warp (a group holds R channels)
constexpr int CH = 32;          // channels per block: 128 / R threads
constexpr int T = 64;           // steps per tile
constexpr int TP = T + 4;       // padded row (floats): rows of 8 channels land on distinct banks
constexpr int SUB = 16;         // steps per y reduction
constexpr int RP = SUB + 4;     // padded reduction row
static_assert(SUB / LPC == 4, "each lane writes 4 consecutive y");
}  // namespace states

__device__ __forceinline__ uint32_t prmt_b32(uint32_t a, uint32_t b, uint32_t sel) {
  uint32_t r;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(sel));
  return r;
}
__device__ __forceinline__ float ex2_mufu(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
__device__ __forceinline__ float lg2_mufu(float x) {
  float y;
  asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
// 2^(dt·al) on the FMA pipe, for dt·al in [−125, 125]: j = round(dt·al) by adding 1.5·2^23 (the FFMA
// rounds the exact product), f = dt·al − j in [−½, ½], 2^f = 1 + f·q(f) with q fitted to
// (2^f − 1)/f (relative error of 2^f − 1 below 1.5e-5, so a decay close to 1 keeps its rate), and
// j added into the exponent field: (bits of 1.5·2^23 + j) << 23 is j << 23 modulo 2^32.
__device__ __forceinline__ float ex2_poly(float dt, float al) {
  constexpr float kMagic = 12582912.f;
  const float t = fmaf(dt, al, kMagic);
  const float j = t - kMagic;
  const float f = fmaf(dt, al, -j);
  float q = fmaf(0.009618100934734338f, f, 0.05583728791947211f);
  q = fmaf(q, f, 0.24023252345796728f);
  q = fmaf(q, f, 0.6931368578221198f);
  const float p = fmaf(q, f, 1.f);
  return __int_as_float(__float_as_int(p) + (__float_as_int(t) << 23));
}
// softplus with two MUFU ops: ln(1 + e^z); for e^z < 1/64 the series e − e²/2 + e³/3 (1 + e rounds
// away e's low bits), for z > 20 z itself.
__device__ __forceinline__ float softplus_fast(float z) {
  constexpr float kLog2e = 1.4426950408889634f, kLn2 = 0.6931471805599453f;
  const float e = ex2_mufu(z * kLog2e);
  const float series = e * fmaf(e, fmaf(e, 1.f / 3.f, -0.5f), 1.f);
  const float lg = lg2_mufu(1.f + e) * kLn2;
  return z > 20.f ? z : (e < 1.f / 64.f ? series : lg);
}

// R channels per lane (the same 4 states n of each): a lane reads B and C once per step for 4R
// states, so the shared-memory reads per state fall from 2.5 floats (R = 1) to 1.5 (R = 2); the
// block keeps 32 channels with 128 / R threads. SHFL: y's reduction over the 4 lanes of a channel
// by a shuffle reduce-scatter (12 SHFL per 16 steps) instead of shared memory (9 vector accesses).
// PACK: B and C stay bf16 in shared memory, a lane's 4 B and 4 C of a step in one 16-byte word
// (measured: a 16-byte LDS costs 4 wavefronts even when the warp reads only 4 distinct addresses, so
// fp32 B/C cost 2 wavefronts per warp-state, the largest share of the ~3 per warp-state that kept
// the shared-memory pipe at 70%); unpacking costs 8 integer ops per step per lane.
template <int R, int POLY, bool SHFL, bool PACK = false>
__global__ void __launch_bounds__(128 / R) selective_scan_states_kernel(ScanParams p) {
  using namespace states;
  static_assert(POLY >= 0 && POLY <= G, "POLY: 0..G exps per lane on the FMA pipe");
  constexpr int NT = 128 / R, WARPS = NT / 32;
  __shared__ __align__(16) float s_dt[CH][TP], s_du[CH][TP], s_Du[CH][TP];
  __shared__ __align__(16) float s_bc[PACK ? 1 : T][2 * kN];
  // PACK: row t, group g: {B n0|n1, B n2|n3, C n0|n1, C n2|n3} of n = 4g..4g+3 (low half = even n)
  __shared__ __align__(16) uint32_t s_bcp[PACK ? T : 1][kN];
  __shared__ __align__(16) float s_red[SHFL ? 1 : WARPS][SHFL ? 1 : R][32][RP];
  __shared__ float s_bias[CH], s_D[CH];
  constexpr float kLog2e = 1.4426950408889634f;
  const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
  const int blocks_per_row = (p.D + CH - 1) / CH;
  const int b = blockIdx.x / blocks_per_row, d0 = (blockIdx.x % blocks_per_row) * CH;
  // this lane's states: channels c[r] = w·8R + 8r + group (8 groups of a warp read 8 distinct rows)
  const int grp = lane / LPC, g = lane % LPC;
  int c[R];
  bool dok[R];
  float Al[R][G], x[R][G], lim[R][G];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    c[r] = w * GPW * R + GPW * r + grp;
    dok[r] = d0 + c[r] < p.D;
#pragma unroll
    for (int s = 0; s < G; ++s) {
      Al[r][s] = dok[r] ? p.A[size_t(d0 + c[r]) * kN + g * G + s] * kLog2e : 0.f;
      x[r][s] = 0.f;
      lim[r][s] = 125.f / fmaxf(-Al[r][s], 1e-30f);  // Δ above this: 2^(Δ·Al) < 2^-125, i.e. 0
    }
  }
  if (tid < CH) {
    s_bias[tid] = d0 + tid < p.D ? p.bias[d0 + tid] : 0.f;
    s_D[tid] = d0 + tid < p.D ? p.Dskip[d0 + tid] : 0.f;
  }
  // prefetch roles (256 u/δ chunks and 256 B/C chunks of 8 steps per tile): u/δ chunk q = tid + NT·k:
  // channel q / 8, steps 8 (q % 8) ..; B/C chunk q: tensor q / 128 (B, C), state q % 16, steps 8 (q % 128 / 16) ..
  constexpr int PF = 256 / NT;
  uint4 pu[PF], pd[PF], pbc[PF];
  auto prefetch = [&](int tt) {
#pragma unroll
    for (int k = 0; k < PF; ++k) {
      const int q = tid + NT * k, cc = q / 8, t = tt + 8 * (q % 8);
      const bool ok = d0 + cc < p.D && t < p.L;
      const size_t row = (size_t(b) * p.D + d0 + cc) * p.L + t;
      pu[k] = ok ? *reinterpret_cast<const uint4*>(p.u + row) : make_uint4(0, 0, 0, 0);
      pd[k] = ok ? *reinterpret_cast<const uint4*>(p.delta + row) : make_uint4(0, 0, 0, 0);
      if constexpr (!PACK) {
        const int n = q % 16, tb = tt + 8 * ((q % 128) / 16);
        const __nv_bfloat16* src = (q < 128 ? p.Bm : p.Cm) + (size_t(b) * kN + n) * p.L + tb;
        pbc[k] = tb < p.L ? *reinterpret_cast<const uint4*>(src) : make_uint4(0, 0, 0, 0);
      } else {  // chunk pairs (k even, k + 1) = states (2m, 2m + 1) of one tensor
        const int u = tid + NT * (k / 2), m = u % 8, tp = tt + 8 * ((u / 8) % 8), n2 = 2 * m + (k % 2);
        const __nv_bfloat16* s2 = (u / 64 ? p.Cm : p.Bm) + (size_t(b) * kN + n2) * p.L + tp;
        pbc[k] = tp < p.L ? *reinterpret_cast<const uint4*>(s2) : make_uint4(0, 0, 0, 0);
      }
    }
  };
  prefetch(0);
  for (int tt = 0; tt < p.L; tt += T) {
    __syncthreads();  // the previous tile's readers are done (and s_bias / s_D are written)
#pragma unroll
    for (int k = 0; k < PF; ++k) {
      const int q = tid + NT * k, cc = q / 8, kk = q % 8;
      const bool ok = d0 + cc < p.D && tt + 8 * kk < p.L;
      const __nv_bfloat162* hu = reinterpret_cast<const __nv_bfloat162*>(&pu[k]);
      const __nv_bfloat162* hd = reinterpret_cast<const __nv_bfloat162*>(&pd[k]);
      float dt[8], du[8], Du[8];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float2 u2 = __bfloat1622float2(hu[i]), d2 = __bfloat1622float2(hd[i]);
        // a step past L (or a channel past D) is the identity: Δ = 0 gives a = 1, Δu = 0
        dt[2 * i] = ok ? softplus_fast(d2.x + s_bias[cc]) : 0.f;
        dt[2 * i + 1] = ok ? softplus_fast(d2.y + s_bias[cc]) : 0.f;
        du[2 * i] = dt[2 * i] * u2.x, du[2 * i + 1] = dt[2 * i + 1] * u2.y;
        Du[2 * i] = s_D[cc] * u2.x, Du[2 * i + 1] = s_D[cc] * u2.y;
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        *reinterpret_cast<float4*>(&s_dt[cc][8 * kk + 4 * h]) = make_float4(dt[4 * h], dt[4 * h + 1], dt[4 * h + 2], dt[4 * h + 3]);
        *reinterpret_cast<float4*>(&s_du[cc][8 * kk + 4 * h]) = make_float4(du[4 * h], du[4 * h + 1], du[4 * h + 2], du[4 * h + 3]);
        *reinterpret_cast<float4*>(&s_Du[cc][8 * kk + 4 * h]) = make_float4(Du[4 * h], Du[4 * h + 1], Du[4 * h + 2], Du[4 * h + 3]);
      }
      if constexpr (!PACK) {
        const __nv_bfloat162* hb = reinterpret_cast<const __nv_bfloat162*>(&pbc[k]);
        const int n = q % 16, kb = (q % 128) / 16, col = (q < 128 ? 0 : kN) + n;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float2 v = __bfloat1622float2(hb[i]);
          s_bc[8 * kb + 2 * i][col] = v.x;
          s_bc[8 * kb + 2 * i + 1][col] = v.y;
        }
      }
    }
    if constexpr (PACK) {
      // this thread's B/C chunks are states n = 2m (chunk k = 0) and 2m + 1 (k = 1) of one tensor,
      // 8 steps: pair them per step (prmt picks the two low or the two high halves)
#pragma unroll
      for (int h = 0; h < PF / 2; ++h) {
        const int u = tid + NT * h, m = u % 8, kb = (u / 8) % 8, tensor = u / 64;
        const uint32_t* lo = reinterpret_cast<const uint32_t*>(&pbc[2 * h]);
        const uint32_t* hi = reinterpret_cast<const uint32_t*>(&pbc[2 * h + 1]);
        const int col = 4 * (m / 2) + 2 * tensor + (m % 2);
#pragma unroll
        for (int i = 0; i < 8; ++i) s_bcp[8 * kb + i][col] = prmt_b32(lo[i / 2], hi[i / 2], i % 2 ? 0x7632 : 0x5410);
      }
    }
    if (tt + T < p.L) prefetch(tt + T);  // in flight while this tile is walked
    __syncthreads();  // this tile's Δ, Δu, D·u and B/C (s_dt, s_du, s_Du, s_bc/s_bcp) are in shared memory before any thread walks it
    for (int s0 = 0; s0 < T && tt + s0 < p.L; s0 += SUB) {  // L % 16 == 0: a sub-chunk is whole
      float yp[R][SUB];
#pragma unroll
      for (int i = 0; i < SUB; i += 4) {
        float dtv[R][4], duv[R][4];
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const float4 dt4 = *reinterpret_cast<const float4*>(&s_dt[c[r]][s0 + i]);
          const float4 du4 = *reinterpret_cast<const float4*>(&s_du[c[r]][s0 + i]);
          dtv[r][0] = dt4.x, dtv[r][1] = dt4.y, dtv[r][2] = dt4.z, dtv[r][3] = dt4.w;
          duv[r][0] = du4.x, duv[r][1] = du4.y, duv[r][2] = du4.z, duv[r][3] = du4.w;
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          float Bv[4], Cv[4];
          if constexpr (PACK) {
            const uint4 w4 = *reinterpret_cast<const uint4*>(&s_bcp[s0 + i + j][4 * g]);
            Bv[0] = __uint_as_float(w4.x << 16), Bv[1] = __uint_as_float(w4.x & 0xffff0000u);
            Bv[2] = __uint_as_float(w4.y << 16), Bv[3] = __uint_as_float(w4.y & 0xffff0000u);
            Cv[0] = __uint_as_float(w4.z << 16), Cv[1] = __uint_as_float(w4.z & 0xffff0000u);
            Cv[2] = __uint_as_float(w4.w << 16), Cv[3] = __uint_as_float(w4.w & 0xffff0000u);
          } else {
            const float4 B4 = *reinterpret_cast<const float4*>(&s_bc[s0 + i + j][G * g]);
            const float4 C4 = *reinterpret_cast<const float4*>(&s_bc[s0 + i + j][kN + G * g]);
            Bv[0] = B4.x, Bv[1] = B4.y, Bv[2] = B4.z, Bv[3] = B4.w;
            Cv[0] = C4.x, Cv[1] = C4.y, Cv[2] = C4.z, Cv[3] = C4.w;
          }
#pragma unroll
          for (int r = 0; r < R; ++r) {
            float acc = 0.f;
#pragma unroll
            for (int s = 0; s < G; ++s) {
              const float a = s < G - POLY ? ex2_mufu(dtv[r][j] * Al[r][s])
                                           : ex2_poly(fminf(dtv[r][j], lim[r][s]), Al[r][s]);
              x[r][s] = fmaf(a, x[r][s], duv[r][j] * Bv[s]);
              acc = s == 0 ? Cv[s] * x[r][s] : fmaf(Cv[s], x[r][s], acc);
            }
            yp[r][i + j] = acc;
          }
        }
      }
      // y over the 4 lanes of a channel: lane g ends with the sums of steps 4g .. 4g + 3
#pragma unroll
      for (int r = 0; r < R; ++r) {
        float4 y4 = *reinterpret_cast<const float4*>(&s_Du[c[r]][s0 + 4 * g]);
        if constexpr (SHFL) {
          const bool hi = g & 2, odd = g & 1;
          float h8[8], h4[4];
#pragma unroll
          for (int k = 0; k < 8; ++k) {  // exchange halves with the lane 2 apart
            const float send = hi ? yp[r][k] : yp[r][8 + k], keep = hi ? yp[r][8 + k] : yp[r][k];
            h8[k] = keep + __shfl_xor_sync(0xffffffff, send, 2);
          }
#pragma unroll
          for (int k = 0; k < 4; ++k) {  // then quarters with the lane 1 apart
            const float send = odd ? h8[k] : h8[4 + k], keep = odd ? h8[4 + k] : h8[k];
            h4[k] = keep + __shfl_xor_sync(0xffffffff, send, 1);
          }
          y4.x += h4[0], y4.y += h4[1], y4.z += h4[2], y4.w += h4[3];
        } else {
          float* mine = &s_red[SHFL ? 0 : w][SHFL ? 0 : r][lane][0];
#pragma unroll
          for (int i = 0; i < SUB; i += 4)
            *reinterpret_cast<float4*>(mine + i) = make_float4(yp[r][i], yp[r][i + 1], yp[r][i + 2], yp[r][i + 3]);
          __syncwarp();
#pragma unroll
          for (int l = 0; l < LPC; ++l) {
            const float4 v = *reinterpret_cast<const float4*>(&s_red[SHFL ? 0 : w][SHFL ? 0 : r][grp * LPC + l][4 * g]);
            y4.x += v.x, y4.y += v.y, y4.z += v.z, y4.w += v.w;
          }
          __syncwarp();
        }
        if (dok[r]) {
          __nv_bfloat162* yo = reinterpret_cast<__nv_bfloat162*>(p.y + (size_t(b) * p.D + d0 + c[r]) * p.L + tt + s0 + 4 * g);
          yo[0] = __floats2bfloat162_rn(y4.x, y4.y);
          yo[1] = __floats2bfloat162_rn(y4.z, y4.w);
        }
      }
    }
  }
}

template <int R, int ITEMS>
void launch_scan(const ScanParams& p, cudaStream_t st) {
  const int warps = p.B * (p.D / R);
  selective_scan_kernel<R, ITEMS><<<(warps + 3) / 4, 128, 0, st>>>(p);
}
template <int R, int POLY, bool SHFL, bool PACK = false>
void launch_states(const ScanParams& p, cudaStream_t st) {
  const int blocks = p.B * ((p.D + states::CH - 1) / states::CH);
  selective_scan_states_kernel<R, POLY, SHFL, PACK><<<blocks, 128 / R, 0, st>>>(p);
}
const ScanVariant kVariants[] = {
    {"R1 I8", 1, 8, launch_scan<1, 8>, 256, 1},
    {"R1 I16", 1, 16, launch_scan<1, 16>, 512, 1},
    {"R2 I8", 2, 8, launch_scan<2, 8>, 256, 2},
    {"R4 I4", 4, 4, launch_scan<4, 4>, 128, 4},
    {"S4 R1 P0 smem", 0, 0, launch_states<1, 0, false>, states::T, 8},
    {"S4 R1 P1 smem", 0, 0, launch_states<1, 1, false>, states::T, 8, 1},
    {"S4 R1 P0 shfl", 0, 0, launch_states<1, 0, true>, states::T, 8},
    {"S4 R2 P0 shfl", 0, 0, launch_states<2, 0, true>, states::T, 16},
    {"S4 R1 P0 shfl pk", 0, 0, launch_states<1, 0, true, true>, states::T, 8},
    {"S4 R1 P1 shfl pk", 0, 0, launch_states<1, 1, true, true>, states::T, 8, 1},
};

}  // namespace

namespace attnlab::kernels {

const std::vector<ScanVariant>& scan_variants() {
  static const std::vector<ScanVariant> v(std::begin(kVariants), std::end(kVariants));
  return v;
}

}  // namespace attnlab::kernels
