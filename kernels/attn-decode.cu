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

#include <cmath>
#include <cstdint>

#include "attn-decode.hpp"
#include "harness-cuda.hpp"

using namespace attnlab::kernels;

namespace {


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
  // Every warp's (m, l) and partial O rows are in shared memory before the first 128 threads merge them.
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
  __syncthreads();  // every thread's partial stores are fenced before thread 0 counts this block as finished
  if (threadIdx.x == 0) {
    int* counter = &p.counters[size_t(b) * gridDim.y + blockIdx.y];
    is_last = atomicAdd(counter, 1) == p.splits - 1;
    if (is_last) *counter = 0;  // every other block of the group has counted: ready for the next launch
  }
  __syncthreads();  // thread 0's is_last is visible to the whole block before it decides to merge or leave
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
  __syncthreads();  // every warp's maximum is in red[] before any thread reads all of them
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
  __syncthreads();  // every warp's sum is in red[] before any thread adds them up
  float lsum = 0;
#pragma unroll
  for (int i = 0; i < kD / 32; ++i) lsum += red[i];
  float acc = 0;
#pragma unroll 8
  for (int s = 0; s < p.splits; ++s) acc += w[s] * po[size_t(s) * kD + tid];
  p.o[size_t(bh) * kD + tid] = __float2bfloat16(acc / lsum);
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

cudaError_t run_decode(const DecodeParams& p, const Variant& v, cudaStream_t st) {
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

}  // namespace

namespace attnlab::kernels {

cudaError_t decode_forward(const DecodeParams& p, const Variant& v, cudaStream_t st) { return run_decode(p, v, st); }

cudaError_t decode_split_forward(const DecodeParams& p, const Variant& v, cudaStream_t st) {
  const int head_chunks = (p.G + 15) / 16;
  const dim3 grid(p.splits, p.KVH * head_chunks, p.B);
  return p.block_table ? launch_split_variant<true>(p, v, grid, st) : launch_split_variant<false>(p, v, grid, st);
}

cudaError_t read_stream(const void* a, const void* b, size_t bytes_each, unsigned* sink, int blocks, cudaStream_t st) {
  const size_t n16 = bytes_each / 16;
  read_stream_kernel<<<blocks, 512, 0, st>>>(static_cast<const uint4*>(a), n16, static_cast<const uint4*>(b), n16,
                                             sink);
  return cudaGetLastError();
}

}  // namespace attnlab::kernels
