// attn-decode.cu: rung 5 of the ladder ("Kernel ladder II"): decode attention, one query token per
// sequence against a long KV cache; MHA, GQA and MQA; split-KV with a combine step
// (flash-decoding); a paged variant that reads K/V through a block table (PagedAttention).
//
// What changes against the mma rung, and why:
//   * Decode has seq_q = 1, so a 64- or 128-row query tile idles. Here the "rows" of the tensor-core
//     tile are the G query heads that share one K/V head (GQA group): one block reads each K/V row
//     ONCE for the whole group. MHA uses 1 of 16 rows, GQA-8 8 of 16: the tensor cores have so much
//     headroom that the waste costs nothing; what matters is that every K/V byte is read once.
//   * One head's cache is long (32768 keys) and there are few heads, so one block per head would
//     leave most SMs idle: the keys are split into chunks, one block per (chunk, kv head, batch)
//     (flash-decoding), each writes an unnormalised partial O with its (max, sum); a second small
//     kernel combines the splits with the same rescaling the online softmax uses.
//   * No shared memory and no ldmatrix: K and V go straight from global memory into mma fragments
//     with 16-byte loads. The head dimension of Q and K is permuted consistently (a dot product does
//     not care about the order of its terms) so that each lane's K fragment is 4 contiguous 16-byte
//     pieces; V's keys are paired with a byte permute (prmt) and the output dimensions are permuted
//     so that each lane owns contiguous runs of O. Every K/V byte is loaded by exactly one lane.
//   * Paged: K/V live in pages of `page_size` tokens ([pages, kv_heads, page_size, d]) placed at
//     random in a pool; block_table[b][p] names the page that holds tokens p·P .. p·P+P-1. A warp's
//     16-key step lies in one page (P is a multiple of 16), so the table costs one 4-byte load per
//     4 KiB of K and V.
//
// Variants (all checked, all timed): plain; prefetch (the next 16-key step's K/V loads are issued
// before this step's math: 8 KiB more in flight per warp); fused (prefetch, and the last block of a
// head group merges the splits instead of a second kernel); prefetch-w8 (prefetch with 8 warps per
// block: at GQA-8 / 32 splits the 128 blocks sit one per SM, so 8 warps double the loads in flight);
// -pdl (the combine kernel is launched with programmatic dependent launch: it is scheduled while the
// split kernel drains and waits on griddepcontrol.wait, so the launch gap leaves the critical path);
// cpasync-s2/s4/s6 (each warp keeps 2/4/6 steps in flight through a cp.async ring in shared memory).
//
// MEASURED (H100 80GB HBM3, driver 580.159.04, CUDA 13.0, PyTorch 2.11.0+cu130, 2026-11-23 16:00 UTC;
// assets/measurements/decode-h100.json; L2 emptied by reads before each repeat, PyTorch timed the
// same way; copy bandwidth 3034 GB/s read+write; median of 20). "read only" = a kernel that only
// reads the same K/V bytes, timed the same way: the ceiling at this size, launch and ramp included.
//   B1 H32 L32768 d128    best variant                   µs    GB/s  % copy | read only        | PyTorch default  ours/torch
//   MHA   (32 kv heads)   prefetch-pdl, chunk 2048      183.2   2931   96.6%  | 175.8 µs 100.7%  | 212.6 µs         1.16x
//   GQA-4 ( 8 kv heads)   prefetch-w8-pdl, chunk 2048    52.4   2563   84.5%  |  47.3 µs  93.6%  |  54.3 µs         1.04x
//   GQA-8 ( 4 kv heads)   prefetch-w8-pdl, chunk 1024    32.1   2089   68.9%  |  26.6 µs  83.1%  |  35.6 µs         1.11x
//   MQA   ( 1 kv head)    prefetch-w8-pdl, chunk  512    20.2    830   27.4%  |   9.3 µs  59.4%  |  24.8 µs         1.23x
//   paged (16-token pages) vs contiguous: +1.7% / +3.5% / +4.3% / +8.4%.
// PyTorch's times move between runs more than ours: 3 minutes earlier (same binaries) it measured
// 199.8 / 54.4 / 33.8 / 18.7 µs, ours 183.0 / 52.4 / 32.1 / 19.9 µs (1.09x / 1.04x / 1.05x / 0.94x).
// What the -pdl launch buys: 1.2-2.0 µs per step (GQA-8 34.0 -> 32.1 µs, MQA 21.4 -> 20.2 µs).
// Why GQA-8 stays short of 90% of the copy bandwidth: at 67 MB even a kernel that does nothing but
// read reaches 83.1% (26.6 µs); the split kernel alone takes 29.5 µs (75.1%), the combine and its
// launch 2.6 µs more. MQA (16 MiB of K/V) asks for its K/V twice (two 16-row blocks) and even a pure
// read of 16 MiB reaches only 59.4%.
// The cp.async ring was SLOWER everywhere (GQA-8 40.7 µs, MHA 248 µs = 71.4%): ncu (GQA-8, 4 stages)
// shows L2 throughput 70.8% while DRAM is 52.8% and an L2 hit rate of 51.5% (2.6% for prefetch-w8):
// the 16-byte copies of 4 lanes that share a 32-byte sector reach L2 as separate requests, so L2
// serves every sector about twice; copies laid out lane-contiguous (then ldmatrix with a swizzle, as
// in the mma rung) would be the fix, not done. Kept as the measured counter-example.
//
// Limits: bf16 only, head_dim 128 only, group size up to 16 per block (MQA with 32 query heads runs
// two blocks per K/V head, so it requests K/V twice: 32 MiB for the 16 MiB cache at L = 32768).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <vector>

#include "harness-cuda.hpp"
#include "harness.hpp"

using namespace attnlab::kernels;
using nlohmann::json;

namespace {

constexpr int kD = 128;      // head dimension this file is compiled for
constexpr int kWarps = 4;    // warps per block
constexpr int kStep = 16;    // keys per warp step (two n-tiles of 8 for QK, one k-step for PV)

struct DecodeParams {
  const __nv_bfloat16* q;  // [B, H, D]
  const __nv_bfloat16* k;  // contiguous: [B, KVH, L, D]; paged: pool [pages, KVH, P, D]
  const __nv_bfloat16* v;
  const int* block_table;  // [B, max_pages] or nullptr (contiguous)
  int page_size = 0, max_pages = 0;
  float* part_o;   // [B, H, splits, D] unnormalised partial O
  float* part_ml;  // [B, H, splits, 2]: (max in log2 units, sum)
  int* counters = nullptr;  // fused combine: [B, KVH·head_chunks] finished-split counts, zeroed once
                            // (each launch leaves them at 0); nullptr = separate combine kernel
  __nv_bfloat16* o;  // [B, H, D]
  int B = 0, H = 0, KVH = 0, L = 0, G = 0, splits = 0, chunk = 0;
  float scale_log2 = 0;
};

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (low half) = lo
  return *reinterpret_cast<uint32_t*>(&v);
}
__device__ __forceinline__ uint32_t prmt(uint32_t a, uint32_t b, uint32_t sel) {
  uint32_t r;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(sel));
  return r;
}
__device__ __forceinline__ void mma16816(float c[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                         uint32_t b0, uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
__device__ __forceinline__ uint4 ldg16(const void* p) {
  uint4 r;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p));
  return r;
}

// cp.async (sm_80+): a 16-byte global -> shared copy that does not wait; .cg skips L1 (each byte
// is read once). The "memory" clobbers keep the compiler from moving shared-memory reads of a slot
// across the copy that refills it.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(s), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(kPending) : "memory");
}
// Programmatic dependent launch (sm_90): the split kernel lets the combine kernel be scheduled
// before it ends; the combine waits for the split kernel's results. Both are no-ops when the
// combine was launched without the programmatic-serialization attribute.
__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_wait_for_primary() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Address of key `key` (< L) of (b, kvh), contiguous or paged.
template <bool kPaged>
__device__ __forceinline__ const __nv_bfloat16* key_row(const __nv_bfloat16* base, const DecodeParams& p, int b,
                                                        int kvh, int key) {
  if constexpr (kPaged) {
    const int page = __ldg(&p.block_table[b * p.max_pages + key / p.page_size]);
    return base + ((size_t(page) * p.KVH + kvh) * p.page_size + key % p.page_size) * kD;
  } else {
    return base + ((size_t(b) * p.KVH + kvh) * p.L + key) * kD;
  }
}

// grid (splits, KVH * head_chunks, B), block 128. Block = one chunk of keys of one K/V head, for
// up to 16 of its query heads (the mma rows).
// kW: warps per block (4; 8 in the "-w8" variants: with 128 blocks for 132 SMs, as in GQA-8 at
// 32 splits, a block is alone on its SM, so 8 warps double the loads in flight there; the per-warp
// partial O then needs 64 KiB of dynamic shared memory).
// kStages > 0 (the "cpasync" variants): instead of one prefetched step in registers, each warp keeps
// kStages steps of its K/V in flight with cp.async into its own ring of shared-memory slots (8 KiB
// per step). Each lane copies exactly the 16 pieces it will later use, to [piece][lane], and reads
// them back itself, so no barrier is needed: cp.async.wait_group makes a lane's own copies visible
// to that lane. 4 warps x 4 stages = 128 KiB in flight per block instead of 32 KiB.
template <bool kPaged, bool kPrefetch, int kW = kWarps, int kStages = 0>
__global__ void __launch_bounds__(kW * 32) decode_split_kernel(DecodeParams p) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int split = blockIdx.x, b = blockIdx.z;
  const int head_chunks = (p.G + 15) / 16;
  const int kvh = blockIdx.y / head_chunks, hc = blockIdx.y % head_chunks;
  const int rows = min(16, p.G - hc * 16);  // valid mma rows (query heads) in this block
  const int h0 = kvh * p.G + hc * 16;        // first query head

  // Q fragments, permuted head dimension: k-step s uses physical dims 32(s/2) + 8t + 4(s%2) + {0,1}
  // (a0/a1) and + {2,3} (a2/a3). Rows g and g+8 are query heads h0+g, h0+g+8 (zero past `rows`).
  uint32_t qa[8][4];
#pragma unroll
  for (int s = 0; s < 8; ++s) {
    const int dim = 32 * (s >> 1) + 8 * t + 4 * (s & 1);
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int r = g + 8 * half;
      uint32_t lo = 0, hi = 0;
      if (r < rows) {
        const uint32_t* qr = reinterpret_cast<const uint32_t*>(p.q + (size_t(b) * p.H + h0 + r) * kD + dim);
        lo = qr[0];
        hi = qr[1];
      }
      qa[s][half] = lo;       // a0 (row g) / a1 (row g+8): logical k 2t, 2t+1
      qa[s][2 + half] = hi;   // a2 / a3: logical k 2t+8, 2t+9
    }
  }

  float o[16][4];
#pragma unroll
  for (int j = 0; j < 16; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};  // rows g, g+8 (per-lane partial l)

  const int key_begin = split * p.chunk;
  const int key_end = min(p.L, key_begin + p.chunk);
  // One step's K/V fragments. Software pipelining: the loads of step i+1 are issued before step i
  // is computed, so a warp always has 8 KiB in flight instead of stalling on every step.
  struct Tile {
    uint4 ka[4], kbb[4], va[4][2];
  };
  auto load = [&](int k0, Tile& T) {
    // K rows k0+g and k0+8+g (4 pieces each), V rows k0+{2t,2t+1,8+2t,9+2t} (2 pieces each)
    const __nv_bfloat16* kb = key_row<kPaged>(p.k, p, b, kvh, k0);
    const __nv_bfloat16* vb = key_row<kPaged>(p.v, p, b, kvh, k0);
    const int last = key_end - 1 - k0;  // keys past `last` are masked; their loads are clamped
    const int ra = min(g, last), rb = min(8 + g, last);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      T.ka[i] = ldg16(kb + ra * kD + 32 * i + 8 * t);
      T.kbb[i] = ldg16(kb + rb * kD + 32 * i + 8 * t);
    }
    const int vr[4] = {min(2 * t, last), min(2 * t + 1, last), min(8 + 2 * t, last), min(9 + 2 * t, last)};
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      T.va[r][0] = ldg16(vb + vr[r] * kD + 8 * g);
      T.va[r][1] = ldg16(vb + vr[r] * kD + 64 + 8 * g);
    }
  };
  constexpr int kStride = kW * kStep;
  // One 16-key step of this warp: S = Q Kᵀ, online softmax, O += P V on the fragments in `cur`.
  auto compute = [&](const Tile& cur, int k0) {
    const int last = key_end - 1 - k0;
    const uint4* ka = cur.ka;
    const uint4* kbb = cur.kbb;
    const uint4 (*va)[2] = cur.va;
    // ---- S = Q Kᵀ for keys k0..k0+7 (sa) and k0+8..k0+15 (sb)
    float sa[4] = {0, 0, 0, 0}, sb[4] = {0, 0, 0, 0};
#pragma unroll
    for (int s = 0; s < 8; ++s) {
      const uint4& x = ka[s >> 1];
      const uint4& y = kbb[s >> 1];
      mma16816(sa, qa[s][0], qa[s][1], qa[s][2], qa[s][3], (s & 1) ? x.z : x.x, (s & 1) ? x.w : x.y);
      mma16816(sb, qa[s][0], qa[s][1], qa[s][2], qa[s][3], (s & 1) ? y.z : y.x, (s & 1) ? y.w : y.y);
    }
    // columns: sa[0..1] keys 2t, 2t+1; sb[0..1] keys 8+2t, 9+2t (rows g); [2..3] the same for row g+8
    const int ka0 = 2 * t, kb0 = 8 + 2 * t;
    float x[2][4];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      x[hr][0] = ka0 <= last ? sa[2 * hr] * p.scale_log2 : -INFINITY;
      x[hr][1] = ka0 + 1 <= last ? sa[2 * hr + 1] * p.scale_log2 : -INFINITY;
      x[hr][2] = kb0 <= last ? sb[2 * hr] * p.scale_log2 : -INFINITY;
      x[hr][3] = kb0 + 1 <= last ? sb[2 * hr + 1] * p.scale_log2 : -INFINITY;
    }
    // ---- online softmax per row (4 lanes t share a row)
    float pr[2][4], alpha[2];
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      float mx = fmaxf(fmaxf(x[hr][0], x[hr][1]), fmaxf(x[hr][2], x[hr][3]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
      const float mn = fmaxf(m[hr], mx);
      const float base = mn == -INFINITY ? 0.f : mn;  // a row with no key yet keeps everything at 0
      alpha[hr] = exp2f(m[hr] - base);
      m[hr] = mn;
      float sum = 0;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        pr[hr][c] = exp2f(x[hr][c] - base);
        sum += pr[hr][c];
      }
      l[hr] = l[hr] * alpha[hr] + sum;
    }
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      o[j][0] *= alpha[0];
      o[j][1] *= alpha[0];
      o[j][2] *= alpha[1];
      o[j][3] *= alpha[1];
    }
    // ---- O += P V. A = P (keys 2t,2t+1 | 8+2t,9+2t), B = V with keys paired by prmt.
    const uint32_t a0 = pack_bf16(pr[0][0], pr[0][1]), a1 = pack_bf16(pr[1][0], pr[1][1]);
    const uint32_t a2 = pack_bf16(pr[0][2], pr[0][3]), a3 = pack_bf16(pr[1][2], pr[1][3]);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      // n-tile j, column g = physical dim 8g + j (j < 8) or 64 + 8g + (j-8): word (j%8)/2 of piece j/8
      const int piece = j >> 3, w = (j & 7) >> 1;
      const uint32_t sel = (j & 1) ? 0x7632 : 0x5410;
      auto word = [&](const uint4& u) { return w == 0 ? u.x : w == 1 ? u.y : w == 2 ? u.z : u.w; };
      const uint32_t b0 = prmt(word(va[0][piece]), word(va[1][piece]), sel);
      const uint32_t b1 = prmt(word(va[2][piece]), word(va[3][piece]), sel);
      mma16816(o[j], a0, a1, a2, a3, b0, b1);
    }
  };
  extern __shared__ float4 sm_dyn[];  // [kW][16][kD] floats (partial O), then the cp.async slots
  if constexpr (kStages > 0) {
    // Slot (stage st, this warp): 16 pieces x 32 lanes of 16 bytes, piece-major so that a warp's
    // 16-byte reads of one piece hit 32 consecutive 16-byte words (no bank conflict).
    uint4* slots = reinterpret_cast<uint4*>(sm_dyn + kW * 16 * kD / 4) + size_t(warp) * 16 * 32;
    auto slot = [&](int st) { return slots + size_t(st) * kW * 16 * 32; };
    auto issue = [&](int k0, int st) {  // the same pieces `load` reads, as cp.async into slot st
      const __nv_bfloat16* kb = key_row<kPaged>(p.k, p, b, kvh, k0);
      const __nv_bfloat16* vb = key_row<kPaged>(p.v, p, b, kvh, k0);
      const int last = key_end - 1 - k0;
      const int ra = min(g, last), rb = min(8 + g, last);
      uint4* d = slot(st) + lane;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        cp_async16(d + i * 32, kb + ra * kD + 32 * i + 8 * t);
        cp_async16(d + (4 + i) * 32, kb + rb * kD + 32 * i + 8 * t);
      }
      const int vr[4] = {min(2 * t, last), min(2 * t + 1, last), min(8 + 2 * t, last), min(9 + 2 * t, last)};
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        cp_async16(d + (8 + 2 * r) * 32, vb + vr[r] * kD + 8 * g);
        cp_async16(d + (9 + 2 * r) * 32, vb + vr[r] * kD + 64 + 8 * g);
      }
    };
    const int first = key_begin + warp * kStep;
    const int steps = first < key_end ? (key_end - first + kStride - 1) / kStride : 0;
    // Prologue: steps 0 .. kStages-2 in flight. Every iteration commits one group, empty or not,
    // so that "group i" is always step i and wait_group<kStages-1> means "step `it` has landed".
#pragma unroll
    for (int st = 0; st < kStages - 1; ++st) {
      if (st < steps) issue(first + st * kStride, st);
      cp_async_commit();
    }
    for (int it = 0; it < steps; ++it) {
      // Refill the slot that step it-1 used: its values are already in registers and consumed.
      if (it + kStages - 1 < steps) issue(first + (it + kStages - 1) * kStride, (it + kStages - 1) % kStages);
      cp_async_commit();
      cp_async_wait<kStages - 1>();
      const uint4* d = slot(it % kStages) + lane;
      Tile cur;
#pragma unroll
      for (int i = 0; i < 4; ++i) cur.ka[i] = d[i * 32], cur.kbb[i] = d[(4 + i) * 32];
#pragma unroll
      for (int r = 0; r < 4; ++r) cur.va[r][0] = d[(8 + 2 * r) * 32], cur.va[r][1] = d[(9 + 2 * r) * 32];
      compute(cur, first + it * kStride);
    }
  } else {
    Tile cur;
    if (kPrefetch && key_begin + warp * kStep < key_end) load(key_begin + warp * kStep, cur);
    for (int k0 = key_begin + warp * kStep; k0 < key_end; k0 += kStride) {
      Tile nxt;
      if constexpr (kPrefetch) {
        if (k0 + kStride < key_end) load(k0 + kStride, nxt);
      } else {
        load(k0, cur);
      }
      compute(cur, k0);
      if constexpr (kPrefetch) cur = nxt;
    }
  }
  // This block's K/V reads are done: the combine kernel (launched with programmatic dependent
  // launch) may be scheduled now; it still waits for this grid's results before reading them.
  pdl_launch_dependents();

  // ---- finish the warp: full row sums; then combine the 4 warps through shared memory
  float(*sm_o)[16][kD] = reinterpret_cast<float(*)[16][kD]>(sm_dyn);
  __shared__ float sm_m[kW][16], sm_l[kW][16];
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    l[hr] += __shfl_xor_sync(0xffffffff, l[hr], 1);
    l[hr] += __shfl_xor_sync(0xffffffff, l[hr], 2);
  }
  if (t == 0) {
    sm_m[warp][g] = m[0];
    sm_m[warp][g + 8] = m[1];
    sm_l[warp][g] = l[0];
    sm_l[warp][g + 8] = l[1];
  }
  // C fragment of n-tile j: row g cols 2t, 2t+1 -> physical dims 8(2t)+j', 8(2t+1)+j' (+64 for j >= 8)
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const int jj = j & 7, off = (j >> 3) * 64;
    sm_o[warp][g][off + 16 * t + jj] = o[j][0];
    sm_o[warp][g][off + 16 * t + 8 + jj] = o[j][1];
    sm_o[warp][g + 8][off + 16 * t + jj] = o[j][2];
    sm_o[warp][g + 8][off + 16 * t + 8 + jj] = o[j][3];
  }
  __syncthreads();
  const int dim = threadIdx.x;  // the first 128 threads = 128 dims
  for (int r = 0; r < rows && dim < kD; ++r) {
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kW; ++w) mx = fmaxf(mx, sm_m[w][r]);
    float acc = 0, lsum = 0;
#pragma unroll
    for (int w = 0; w < kW; ++w) {
      const float f = sm_m[w][r] == -INFINITY ? 0.f : exp2f(sm_m[w][r] - mx);
      acc += f * sm_o[w][r][dim];
      lsum += f * sm_l[w][r];
    }
    const size_t row = (size_t(b) * p.H + h0 + r) * p.splits + split;
    p.part_o[row * kD + dim] = acc;
    if (dim == 0) {
      p.part_ml[row * 2] = mx;
      p.part_ml[row * 2 + 1] = lsum;
    }
  }
  if (p.counters == nullptr) return;  // the combine runs as its own kernel

  // Fused combine: the last block of this (b, kv head, head chunk) to finish merges all splits, so
  // no second launch (and no cold read of the partials) sits on the critical path. The fence
  // publishes this block's partials before the count says they are there (CUDA's
  // threadFenceReduction pattern); the last block reads them from L2 (__ldcg, L1 is not coherent).
  __shared__ int is_last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    int* counter = &p.counters[size_t(b) * gridDim.y + blockIdx.y];
    is_last = atomicAdd(counter, 1) == p.splits - 1;
    if (is_last) *counter = 0;  // every other block of the group has counted: ready for the next launch
  }
  __syncthreads();
  if (!is_last) return;
  __threadfence();
  // Warp w merges rows w, w + 4, ...; lane l owns dims 4l .. 4l + 3.
  for (int r = warp; r < rows; r += kW) {
    const size_t row0 = (size_t(b) * p.H + h0 + r) * p.splits;
    float gm = -INFINITY;
    for (int sp = lane; sp < p.splits; sp += 32) gm = fmaxf(gm, __ldcg(&p.part_ml[(row0 + sp) * 2]));
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) gm = fmaxf(gm, __shfl_xor_sync(0xffffffffu, gm, o));
    float gl = 0;
    for (int sp = lane; sp < p.splits; sp += 32) {
      const float m_s = __ldcg(&p.part_ml[(row0 + sp) * 2]);
      gl += (m_s == -INFINITY ? 0.f : exp2f(m_s - gm)) * __ldcg(&p.part_ml[(row0 + sp) * 2 + 1]);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) gl += __shfl_xor_sync(0xffffffffu, gl, o);
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll 4
    for (int sp = 0; sp < p.splits; ++sp) {
      const float m_s = __ldcg(&p.part_ml[(row0 + sp) * 2]);
      const float f = m_s == -INFINITY ? 0.f : exp2f(m_s - gm);
      const float4 v = __ldcg(reinterpret_cast<const float4*>(&p.part_o[(row0 + sp) * kD + 4 * lane]));
      acc.x += f * v.x, acc.y += f * v.y, acc.z += f * v.z, acc.w += f * v.w;
    }
    const float inv = 1.f / gl;
    __nv_bfloat16* out = p.o + (size_t(b) * p.H + h0 + r) * kD + 4 * lane;
    reinterpret_cast<uint32_t*>(out)[0] = pack_bf16(acc.x * inv, acc.y * inv);
    reinterpret_cast<uint32_t*>(out)[1] = pack_bf16(acc.z * inv, acc.w * inv);
  }
}

// grid B*H, block 128: O = Σ_s 2^(m_s − M) O_s / Σ_s 2^(m_s − M) l_s, M = max_s m_s.
// Written for latency, not bandwidth (it moves ~splits·512 B per head): the split statistics are
// read by all threads at once and reduced in the block, and the weighted sum over splits is
// unrolled so that its loads are in flight together. A first version looped over the splits one
// dependent load at a time in 32 blocks and took ~5 µs at 32 splits, ~20 µs at 128: as long as the
// whole GQA-8 split kernel.
constexpr int kMaxSplits = 2048;
__global__ void __launch_bounds__(kD) decode_combine_kernel(DecodeParams p) {
  __shared__ float w[kMaxSplits];
  __shared__ float red[kD / 32];
  pdl_wait_for_primary();  // the split kernel's partials are complete and visible after this
  const int bh = blockIdx.x, tid = threadIdx.x, lane = tid & 31, wid = tid >> 5;
  const float* ml = p.part_ml + size_t(bh) * p.splits * 2;
  const float* po = p.part_o + size_t(bh) * p.splits * kD;
  float mx = -INFINITY;
  for (int s = tid; s < p.splits; s += kD) mx = fmaxf(mx, ml[2 * s]);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  if (lane == 0) red[wid] = mx;
  __syncthreads();
  mx = red[0];
#pragma unroll
  for (int i = 1; i < kD / 32; ++i) mx = fmaxf(mx, red[i]);
  __syncthreads();  // everyone has read red before it is reused for the sum
  float ls = 0;
  for (int s = tid; s < p.splits; s += kD) {
    const float m = ml[2 * s];
    const float f = m == -INFINITY ? 0.f : exp2f(m - mx);
    w[s] = f;
    ls += f * ml[2 * s + 1];
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) ls += __shfl_xor_sync(0xffffffffu, ls, o);
  if (lane == 0) red[wid] = ls;
  __syncthreads();
  float lsum = 0;
#pragma unroll
  for (int i = 0; i < kD / 32; ++i) lsum += red[i];
  float acc = 0;
#pragma unroll 8
  for (int s = 0; s < p.splits; ++s) acc += w[s] * po[size_t(s) * kD + tid];
  p.o[size_t(bh) * kD + tid] = __float2bfloat16(acc / lsum);
}

// One way to run a decode step (all are checked and timed by the bench).
struct Variant {
  const char* name;   // the kernel name in the measurement file (paged: "attn-decode-paged" + the suffix)
  const char* suffix;
  bool prefetch = false, fused = false, wide = false;
  int stages = 0;     // > 0: the cp.async ring of this many steps per warp
  bool pdl = false;   // combine kernel with programmatic dependent launch (sm_90)
};
constexpr Variant kVariants[] = {
    {"attn-decode", "", false, false, false, 0, false},
    {"attn-decode-prefetch", "-prefetch", true, false, false, 0, false},
    {"attn-decode-fused", "-fused", true, true, false, 0, false},
    {"attn-decode-prefetch-w8", "-prefetch-w8", true, false, true, 0, false},
    {"attn-decode-prefetch-pdl", "-prefetch-pdl", true, false, false, 0, true},
    {"attn-decode-prefetch-w8-pdl", "-prefetch-w8-pdl", true, false, true, 0, true},
    {"attn-decode-cpasync-s2-pdl", "-cpasync-s2-pdl", false, false, false, 2, true},
    {"attn-decode-cpasync-s4", "-cpasync-s4", false, false, false, 4, false},
    {"attn-decode-cpasync-s4-pdl", "-cpasync-s4-pdl", false, false, false, 4, true},
    {"attn-decode-cpasync-s6-pdl", "-cpasync-s6-pdl", false, false, false, 6, true},
};

// Dynamic shared memory of a variant: the per-warp partial O, then the cp.async slots.
size_t variant_smem(const Variant& v) {
  const int warps = v.wide ? 8 : kWarps;
  return size_t(warps) * 16 * kD * 4 + size_t(v.stages) * warps * 16 * 32 * 16;
}

template <bool kPaged, bool kPrefetch, int kW, int kStages>
cudaError_t launch_split(const DecodeParams& p, dim3 grid, size_t smem, cudaStream_t st) {
  static bool raised = false;  // above 48 KiB of dynamic shared memory needs an explicit opt-in
  if (!raised) {
    const cudaError_t e = cudaFuncSetAttribute(decode_split_kernel<kPaged, kPrefetch, kW, kStages>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
    if (e != cudaSuccess) return e;
    raised = true;
  }
  decode_split_kernel<kPaged, kPrefetch, kW, kStages><<<grid, kW * 32, smem, st>>>(p);
  return cudaGetLastError();
}

template <bool kPaged>
cudaError_t launch_split_variant(const DecodeParams& p, const Variant& v, dim3 grid, cudaStream_t st) {
  const size_t smem = variant_smem(v);
  if (v.stages == 2) return launch_split<kPaged, false, kWarps, 2>(p, grid, smem, st);
  if (v.stages == 4) return launch_split<kPaged, false, kWarps, 4>(p, grid, smem, st);
  if (v.stages == 6) return launch_split<kPaged, false, kWarps, 6>(p, grid, smem, st);
  if (v.wide) return launch_split<kPaged, true, 8, 0>(p, grid, smem, st);
  if (v.prefetch) return launch_split<kPaged, true, kWarps, 0>(p, grid, smem, st);
  return launch_split<kPaged, false, kWarps, 0>(p, grid, smem, st);
}

cudaError_t decode_forward(const DecodeParams& p, const Variant& v, cudaStream_t st) {
  if (p.splits > kMaxSplits) return cudaErrorInvalidValue;  // the combine keeps one weight per split
  const int head_chunks = (p.G + 15) / 16;
  dim3 grid(p.splits, p.KVH * head_chunks, p.B);
  cudaError_t e = p.block_table ? launch_split_variant<true>(p, v, grid, st) : launch_split_variant<false>(p, v, grid, st);
  if (e != cudaSuccess || p.counters != nullptr) return e;
  if (!v.pdl) {
    decode_combine_kernel<<<p.B * p.H, kD, 0, st>>>(p);
    return cudaGetLastError();
  }
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(p.B * p.H);
  cfg.blockDim = dim3(kD);
  cfg.stream = st;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, decode_combine_kernel, p);
}

// The read ceiling at a given size: a kernel that only reads `bytes` (K then V) with 16-byte loads,
// 8 independent loads in flight per thread, 4 blocks of 512 threads per SM, and folds them into
// one word (written only if it equals an impossible value, so the loads cannot be dropped). Timed
// like the decode kernels, it says what fraction of the copy bandwidth a read of this many bytes
// can reach at all, launch and ramp included.
__global__ void __launch_bounds__(512) read_stream_kernel(const uint4* a, size_t na, const uint4* b, size_t nb,
                                                         unsigned* sink) {
  unsigned acc = 0;
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  for (int part = 0; part < 2; ++part) {
    const uint4* base = part == 0 ? a : b;
    const size_t n = part == 0 ? na : nb;
    size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
    for (; i + 7 * stride < n; i += 8 * stride) {
      uint4 x[8];
#pragma unroll
      for (int u = 0; u < 8; ++u) x[u] = ldg16(base + i + u * stride);
#pragma unroll
      for (int u = 0; u < 8; ++u) acc ^= x[u].x ^ x[u].y ^ x[u].z ^ x[u].w;
    }
    for (; i < n; i += stride) {
      const uint4 x = ldg16(base + i);
      acc ^= x.x ^ x.y ^ x.z ^ x.w;
    }
  }
  if (acc == 0x9e3779b9u) *sink = acc;
}

// ---------------------------------------------------------------------------------------------
// Bench: check against the fp64 reference on fresh random inputs (poisoned output), then time.

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

struct Row {
  std::string kernel, config, note;
  double ms = 0, gbps = 0, err = 0;
  bool ok = true;
};

json config_json(const AttnShape& s, int block_kv) {
  return {{"batch", s.batch}, {"heads", s.heads},     {"kv_heads", s.kv_heads}, {"seq_q", 1},
          {"seq_kv", s.seq_kv}, {"head_dim", s.head_dim}, {"causal", false},       {"dtype", "bf16"},
          {"block_q", 16},       {"block_kv", block_kv}};
}

// Bytes a decode step must move: K and V once, Q read, O written.
double decode_bytes(const AttnShape& s) {
  return 2.0 * (2.0 * s.batch * s.kv_heads * double(s.seq_kv) * s.head_dim + 2.0 * s.batch * s.heads * s.head_dim);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-decode: check, then time, the decode kernels (split-KV, paged) of kernels/attn-decode.cu"};
  std::string json_path, sweep = "key";
  int repeats = 20, warmup = 3, page_size = 16;
  bool check_only = false, profile = false;
  int profile_chunk = 1024;
  std::string flush = "read";
  unsigned long long seed = 20261123;
  app.add_option("--json", json_path, "Write the measurements here (schema: assets/measurements/README.md)");
  app.add_option("--sweep", sweep, "key (B1 H32 L32768 MHA/GQA-4/GQA-8/MQA), quick (small sizes only)")
      ->check(CLI::IsMember({"key", "quick", "long", "sanitizer"}));
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  app.add_option("--page-size", page_size, "Paged variant: tokens per page (multiple of 16)")->check(CLI::Range(16, 4096));
  app.add_option("--seed", seed, "Base seed of the random inputs");
  app.add_option("--flush", flush, "How L2 is emptied before each timed repeat: read (a kernel reads 2x L2; leaves no "
                 "dirty lines) or write (cudaMemset of 2x L2, as attnlab-bench does; its dirty lines are written back "
                 "during the timed kernel)")->check(CLI::IsMember({"read", "write"}));
  app.add_flag("--profile", profile, "One forward per case, contiguous then paged, chunk --chunk, no check or timing (under ncu)");
  app.add_option("--chunk", profile_chunk, "Keys per split for --profile")->check(CLI::Range(16, 1 << 20));
  std::string profile_variant = "attn-decode-prefetch";
  std::vector<std::string> variant_names;
  for (const Variant& v : kVariants) variant_names.push_back(v.name);
  app.add_option("--variant", profile_variant, "Variant for --profile")->check(CLI::IsMember(variant_names));
  app.add_flag("--check", check_only, "Check every variant, time nothing (for compute-sanitizer; use with --sweep sanitizer)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const Variant* profile_var = &kVariants[0];
  for (const Variant& v : kVariants)
    if (profile_variant == v.name) profile_var = &v;
  if (page_size % 16 != 0) {
    fmt::print(stderr, "attnlab-decode: --page-size must be a multiple of 16 (got {})\n", page_size);
    return 2;
  }
  std::string command = "attnlab-decode";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  std::string why;
  if (!cuda_device_usable(why)) {
    fmt::print(stderr, "attnlab-decode: {} (skipped)\n", why);
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
    doc["tool"] = "attnlab-decode 0.1.0";
    doc["runs"] = json::array();
    TimingOptions to;
    to.warmup = warmup;
    to.repeats = repeats;
    to.flush_by_read = flush == "read";
    doc["flush_note"] = flush == "read" ? "L2 emptied before each repeat by reading a 2x-L2 buffer (no dirty lines left)"
                                        : "L2 emptied before each repeat by cudaMemset of a 2x-L2 buffer (its dirty lines "
                                          "are written back during the timed kernel)";

    // The copy ceiling: a 1 GiB device-to-device copy, bytes read + bytes written.
    double copy_gbps = 0;
    if (!check_only && !profile) {
      const size_t n = size_t(1) << 30;
      DeviceBuffer a(n), c(n);
      ATTN_CUDA(cudaMemset(a.get(), 1, n));
      auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(cudaMemcpyAsync(c.get(), a.get(), n, cudaMemcpyDeviceToDevice, st)); },
                              to, dev.l2_bytes, nullptr);
      copy_gbps = 2.0 * n / (stats_of(ms).median * 1e-3) / 1e9;
      doc["copy_bandwidth_gbps"] = copy_gbps;
      doc["copy_bandwidth_note"] = "cudaMemcpyAsync device-to-device of 1 GiB, (read + written bytes) / median of " +
                                   std::to_string(repeats);
    }

    struct Case {
      int B, H, KVH, L;
    };
    std::vector<Case> cases;
    if (sweep == "quick") cases = {{1, 32, 32, 1000}, {2, 32, 8, 777}, {1, 32, 4, 4096}, {1, 32, 1, 3000}};
    else if (sweep == "sanitizer") cases = {{1, 4, 4, 100}, {2, 8, 1, 333}, {1, 32, 4, 1030}};  // ragged lengths
    else cases = {{1, 32, 32, 32768}, {1, 32, 8, 32768}, {1, 32, 4, 32768}, {1, 32, 1, 32768}};
    if (sweep == "long") cases.push_back({1, 32, 4, 131072});
    const std::vector<int> chunks = {256, 512, 768, 1024, 2048};

    std::vector<Row> table;
    bool all_ok = true;
    for (const Case& cs : cases) {
      AttnShape s;
      s.batch = cs.B, s.heads = cs.H, s.kv_heads = cs.KVH, s.seq_q = 1, s.seq_kv = cs.L, s.head_dim = kD;
      s.dtype = ElemType::bf16;
      const std::string label = fmt::format("B{} H{}/{} L{}", cs.B, cs.H, cs.KVH, cs.L);
      HostInputs in = make_inputs(s, ++seed);
      const double scale = 1.0 / std::sqrt(double(kD));
      // Paged pool: the same K/V, pages placed by a random permutation.
      const int pages_per_seq = (cs.L + page_size - 1) / page_size;
      const int n_pages = cs.B * pages_per_seq;
      std::vector<int> perm(n_pages);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), std::mt19937_64(seed));
      std::vector<int> table_h(size_t(cs.B) * pages_per_seq);
      const size_t page_elems = size_t(page_size) * kD;
      std::vector<std::uint16_t> kp(size_t(n_pages) * cs.KVH * page_elems, poison_bits), vp(kp.size(), poison_bits);
      for (int b = 0; b < cs.B; ++b)
        for (int pg = 0; pg < pages_per_seq; ++pg) {
          const int phys = perm[b * pages_per_seq + pg];
          table_h[size_t(b) * pages_per_seq + pg] = phys;
          for (int h = 0; h < cs.KVH; ++h) {
            const int tokens = std::min(page_size, cs.L - pg * page_size);
            const size_t src = ((size_t(b) * cs.KVH + h) * cs.L + size_t(pg) * page_size) * kD;
            const size_t dst = (size_t(phys) * cs.KVH + h) * page_elems;
            std::copy_n(&in.k[src], size_t(tokens) * kD, &kp[dst]);
            std::copy_n(&in.v[src], size_t(tokens) * kD, &vp[dst]);
          }
        }
      DeviceBuffer dq(in.q.size() * 2), dk(in.k.size() * 2), dv(in.v.size() * 2), dkp(kp.size() * 2),
          dvp(vp.size() * 2), dt(table_h.size() * 4), dout(in.q.size() * 2);
      ATTN_CUDA(cudaMemcpy(dq.get(), in.q.data(), dq.bytes(), cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dk.get(), in.k.data(), dk.bytes(), cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dv.get(), in.v.data(), dv.bytes(), cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dkp.get(), kp.data(), dkp.bytes(), cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dvp.get(), vp.data(), dvp.bytes(), cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(dt.get(), table_h.data(), dt.bytes(), cudaMemcpyHostToDevice));
      kp.clear(), kp.shrink_to_fit(), vp.clear(), vp.shrink_to_fit();
      std::vector<RowId> rows;
      for (int b = 0; b < cs.B; ++b)
        for (int h = 0; h < cs.H; ++h) rows.push_back({b, h, 0});
      const Tolerance tol = tolerance_for(KernelId::mma, ElemType::bf16);

      // Fused combine: one finished-split counter per (b, kv head, head chunk), zeroed once.
      DeviceBuffer counters(size_t(cs.B) * cs.KVH * ((cs.H / cs.KVH + 15) / 16) * sizeof(int));
      ATTN_CUDA(cudaMemset(counters.get(), 0, counters.bytes()));
      // split_only: time the split kernel alone (no combine, no check; its output is partials):
      // how much of the step the combine and its launch cost.
      auto run_variant = [&](const std::string& kernel, bool paged, int chunk, const Variant& var,
                             bool split_only = false) -> Row {
        DecodeParams p;
        p.counters = var.fused ? static_cast<int*>(counters.get()) : nullptr;
        p.q = static_cast<const __nv_bfloat16*>(dq.get());
        p.k = static_cast<const __nv_bfloat16*>(paged ? dkp.get() : dk.get());
        p.v = static_cast<const __nv_bfloat16*>(paged ? dvp.get() : dv.get());
        p.block_table = paged ? static_cast<const int*>(dt.get()) : nullptr;
        p.page_size = page_size;
        p.max_pages = pages_per_seq;
        p.B = cs.B, p.H = cs.H, p.KVH = cs.KVH, p.L = cs.L, p.G = cs.H / cs.KVH;
        p.chunk = chunk;
        p.splits = (cs.L + chunk - 1) / chunk;
        p.scale_log2 = float(scale * 1.4426950408889634);
        DeviceBuffer po(size_t(cs.B) * cs.H * p.splits * kD * 4), pml(size_t(cs.B) * cs.H * p.splits * 8);
        p.part_o = static_cast<float*>(po.get());
        p.part_ml = static_cast<float*>(pml.get());
        p.o = static_cast<__nv_bfloat16*>(dout.get());
        Row row{kernel, label, fmt::format("chunk {} keys ({} splits){}", chunk, p.splits,
                                           paged ? fmt::format(", pages of {} tokens", page_size) : "")};
        if (split_only) {
          const int head_chunks = (p.G + 15) / 16;
          const dim3 grid(p.splits, p.KVH * head_chunks, p.B);
          auto ms = time_launches(
              [&](cudaStream_t st) {
                ATTN_CUDA(paged ? launch_split_variant<true>(p, var, grid, st) : launch_split_variant<false>(p, var, grid, st));
              },
              to, dev.l2_bytes, nullptr);
          row.ms = stats_of(ms).median;
          row.gbps = decode_bytes(s) / (row.ms * 1e-3) / 1e9;
          row.note += "; split kernel alone, no combine";
          return row;
        }
        // check: poisoned output, fresh inputs of this config
        ATTN_CUDA(cudaMemset(dout.get(), 0xFF, dout.bytes()));
        ATTN_CUDA(decode_forward(p, var, nullptr));
        ATTN_CUDA(cudaDeviceSynchronize());
        std::vector<std::uint16_t> out(in.q.size());
        ATTN_CUDA(cudaMemcpy(out.data(), dout.get(), dout.bytes(), cudaMemcpyDeviceToHost));
        CheckResult r = check_output(s, in, out, rows, tol, scale);
        row.err = r.max_abs_error;
        row.ok = r.ok;
        if (!r.ok) {
          all_ok = false;
          row.note += " CHECK FAILED: " + r.first_failure + fmt::format(" (unwritten {})", r.unwritten);
          return row;
        }
        if (check_only) return row;
        auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(decode_forward(p, var, st)); }, to, dev.l2_bytes,
                                nullptr);
        Stats stt = stats_of(ms);
        row.ms = stt.median;
        row.gbps = decode_bytes(s) / (stt.median * 1e-3) / 1e9;
        json run = {{"kernel", kernel},
                    {"rung", 5},
                    {"source", "attnlab"},
                    {"config", config_json(s, chunk)},
                    {"time_ms", {{"median", stt.median}, {"min", stt.min}, {"max", stt.max}, {"repeats", ms.size()}}},
                    {"tflops", 4.0 * cs.B * cs.H * double(cs.L) * kD / (stt.median * 1e-3) / 1e12},
                    {"gbps", row.gbps},
                    {"max_abs_error", r.max_abs_error},
                    {"rel_l2_error", r.rel_l2_error},
                    {"note", row.note + fmt::format("; {:.1f}% of copy bandwidth {:.0f} GB/s", 100 * row.gbps / copy_gbps, copy_gbps)}};
        doc["runs"].push_back(run);
        return row;
      };
      if (profile) {  // exactly one split + combine per variant: what ncu should count
        for (bool paged : {false, true}) {
          DecodeParams p;
          p.q = static_cast<const __nv_bfloat16*>(dq.get());
          p.k = static_cast<const __nv_bfloat16*>(paged ? dkp.get() : dk.get());
          p.v = static_cast<const __nv_bfloat16*>(paged ? dvp.get() : dv.get());
          p.block_table = paged ? static_cast<const int*>(dt.get()) : nullptr;
          p.page_size = page_size, p.max_pages = pages_per_seq;
          p.B = cs.B, p.H = cs.H, p.KVH = cs.KVH, p.L = cs.L, p.G = cs.H / cs.KVH;
          p.chunk = profile_chunk, p.splits = (cs.L + profile_chunk - 1) / profile_chunk;
          p.scale_log2 = float(scale * 1.4426950408889634);
          DeviceBuffer po(size_t(cs.B) * cs.H * p.splits * kD * 4), pml(size_t(cs.B) * cs.H * p.splits * 8);
          p.part_o = static_cast<float*>(po.get()), p.part_ml = static_cast<float*>(pml.get());
          p.o = static_cast<__nv_bfloat16*>(dout.get());
          ATTN_CUDA(decode_forward(p, *profile_var, nullptr));
          ATTN_CUDA(cudaDeviceSynchronize());
        }
        continue;
      }
      // Split size: every chunk is checked and timed; the best contiguous one is then used paged.
      // Besides the fixed list, the "one wave" chunk: the fewest keys per split that still gives
      // every SM at most one block (GQA-8: 33 splits x 4 kv heads = 132 blocks for 132 SMs).
      std::vector<int> case_chunks = chunks;
      {
        const int blocks_per_split = cs.KVH * ((cs.H / cs.KVH + 15) / 16) * cs.B;
        const int max_splits = std::max(1, dev.sm_count / blocks_per_split);
        const int fit = ((cs.L + max_splits - 1) / max_splits + kStep - 1) / kStep * kStep;
        if (std::find(case_chunks.begin(), case_chunks.end(), fit) == case_chunks.end() && fit < cs.L)
          case_chunks.push_back(fit);
      }
      Row best;
      int best_chunk = case_chunks[0];
      const Variant* best_var = &kVariants[0];
      for (const Variant& var : kVariants) {
        if (variant_smem(var) > size_t(dev.smem_per_block_optin)) {
          fmt::print("{}: skipped on this device ({} KiB of shared memory per block; it allows {} KiB)\n", var.name,
                     variant_smem(var) / 1024, dev.smem_per_block_optin / 1024);
          continue;
        }
        for (int c : case_chunks) {
          Row r = run_variant(var.name, false, c, var);
          table.push_back(r);
          if (r.ok && (best.ms == 0 || r.ms < best.ms)) best = r, best_chunk = c, best_var = &var;
        }
      }
      table.push_back(run_variant("attn-decode-nosplit", false, ((cs.L + 63) / 64) * 64, *best_var));
      if (!check_only && !best_var->fused) {
        Row so = run_variant(std::string("split only") + best_var->suffix, false, best_chunk, *best_var, true);
        table.push_back(so);
        doc["split_only"].push_back({{"config", config_json(s, best_chunk)},
                                     {"kernel", best.kernel},
                                     {"split_kernel_ms", so.ms},
                                     {"whole_step_ms", best.ms}});
      }
      if (check_only) {  // nothing is timed, so check the paged path of every variant
        for (const Variant& var : kVariants)
          if (variant_smem(var) <= size_t(dev.smem_per_block_optin))
            table.push_back(run_variant(std::string("attn-decode-paged") + var.suffix, true, case_chunks[0], var));
      } else {
        Row pg = run_variant(std::string("attn-decode-paged") + best_var->suffix, true, best_chunk, *best_var);
        if (best.ms > 0 && pg.ms > 0) pg.note += fmt::format("; overhead vs contiguous {:+.1f}%", 100 * (pg.ms / best.ms - 1));
        table.push_back(pg);
      }
      if (!check_only) {
        // The read ceiling of this case: the same K/V bytes, only read, timed the same way.
        DeviceBuffer sink(sizeof(unsigned));
        const size_t n16 = dk.bytes() / 16;
        auto ms = time_launches(
            [&](cudaStream_t st) {
              read_stream_kernel<<<dev.sm_count * 4, 512, 0, st>>>(static_cast<const uint4*>(dk.get()), n16,
                                                                  static_cast<const uint4*>(dv.get()), n16,
                                                                  static_cast<unsigned*>(sink.get()));
              ATTN_CUDA(cudaGetLastError());
            },
            to, dev.l2_bytes, nullptr);
        const double med = stats_of(ms).median;
        const double gbps = 2.0 * dk.bytes() / (med * 1e-3) / 1e9;
        Row rr{"read-only K+V", label, "a kernel that only reads K and V (the read ceiling at this size)"};
        rr.ms = med, rr.gbps = gbps;
        table.push_back(rr);
        doc["read_ceiling"].push_back({{"config", config_json(s, 0)},
                                       {"bytes", 2.0 * dk.bytes()},
                                       {"time_ms", med},
                                       {"gbps", gbps},
                                       {"best_decode_kernel", best.kernel},
                                       {"best_decode_ms", best.ms},
                                       {"best_decode_vs_read", med / best.ms}});
      }
    }
    if (profile) return 0;
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      f << doc.dump(2) << "\n";
    }
    fmt::print("{:<20} {:<18} {:>9} {:>8} {:>7} {:>9}  {}\n", "kernel", "config", "median ms", "GB/s", "% copy", "max err", "note");
    for (const Row& r : table) {
      if (check_only)  // checked, not timed
        fmt::print("{:<20} {:<18} {:>9} {:>8} {:>7} {:>9.2e}  {}{}\n", r.kernel, r.config, "-", "-", "-", r.err, r.ok ? "ok " : "FAIL ", r.note);
      else
        fmt::print("{:<20} {:<18} {:>9.4f} {:>8.0f} {:>6.1f}% {:>9.2e}  {}\n", r.kernel, r.config, r.ms, r.gbps,
                   100 * r.gbps / copy_gbps, r.err, r.note);
    }
    if (!check_only) fmt::print("copy bandwidth (1 GiB D2D, read+write): {:.0f} GB/s\n", copy_gbps);
    fmt::print("device: {} ({} SMs, L2 {} MiB), driver {}, CUDA driver {} runtime {}\n", dev.name, dev.sm_count,
               dev.l2_bytes >> 20, dev.driver_version, dev.cuda_driver, dev.cuda_runtime);
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnlab-decode: {}\n", e.what());
    return 1;
  }
}
