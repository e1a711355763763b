// hopper-pipeline.cuh: the producer/consumer pipeline both Hopper forward rungs run (attn-hopper.cu,
// bf16/fp16; attn-fp8-hopper.cu, e4m3), built on the PTX wrappers of hopper-sync.cuh. One copy, so
// that the two rungs' protocols cannot drift apart and a fix reaches both:
//   - where the tiles and the mbarriers sit in shared memory (PipelineSmem, PipelineBarriers);
//   - the order of the work items (work_item) and the producer's loop (produce_items);
//   - the ping-pong turns of the two consumer warpgroups (PingPong);
//   - one item's pass over its key tiles (consume_item: S_j overlapped with P_{j-1} V_{j-1});
//   - the online softmax's steps on the accumulator layout (mask_tile, row_max, running_max,
//     exp_row) and the epilogue (store_o).
// What differs stays in each rung: tile bytes and swizzles, descriptors, the GEMMs, how P is packed
// into A fragments, the FP8 scales. Both rungs hold S and O in the wgmma accumulator layout
// (hopper-wgmma.cuh): register i of a thread holds row g (+8 when i%4 >= 2) of its warp's 16,
// column 8*(i/4) + 2t + i%2 (g = lane/4, t = lane%4). sm_90a only; header-only device code.
//
// The host part (launch_items) sets the shared-memory attribute once per kernel and picks the grid:
// one block per work item, or one block per SM looping over them (persistent).
#pragma once
#include <cuda.h>  // CUtensorMap (type only)
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hopper-sync.cuh"
#include "mma-ptx.cuh"

namespace attnlab::kernels::hopper {

// ---------------------------------------------------------------------------------------------
// Shared memory: [Q][K stages][V stages][barriers]. Every tile starts 1024-byte aligned (the
// 128-byte swizzle's period, 8 rows x 128 B; the 64-byte swizzle's is 512): TMA writes the tiles
// swizzled and wgmma's descriptors read them so.

// The pipeline's mbarriers, 8 bytes each from `base`: q_full, k_full[stages], v_full[stages],
// k_empty[stages], v_empty[stages], q_empty. "full": the copy engine has delivered the tile (one
// arrival, the producer's expect_tx, plus the bytes); "empty": every consumer warp is done reading
// the stage (or, for Q, has completed its last S GEMM of the item), so it may be overwritten.
template <int kStages>
struct PipelineBarriers {
  static constexpr int count = 2 + 4 * kStages;
  uint32_t base;
  __device__ __forceinline__ uint32_t q_full() const { return base; }
  __device__ __forceinline__ uint32_t k_full(int s) const { return base + 8 * (1 + s); }
  __device__ __forceinline__ uint32_t v_full(int s) const { return base + 8 * (1 + kStages + s); }
  __device__ __forceinline__ uint32_t k_empty(int s) const { return base + 8 * (1 + 2 * kStages + s); }
  __device__ __forceinline__ uint32_t v_empty(int s) const { return base + 8 * (1 + 3 * kStages + s); }
  __device__ __forceinline__ uint32_t q_empty() const { return base + 8 * (1 + 4 * kStages); }

  // Thread 0 only (init_block below runs it for the block).
  __device__ __forceinline__ void init(int consumer_warps) const {
    mbar_init(q_full(), 1);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(k_full(s), 1);
      mbar_init(v_full(s), 1);
      mbar_init(k_empty(s), consumer_warps);  // every consumer warp says it is done with the stage
      mbar_init(v_empty(s), consumer_warps);
    }
    mbar_init(q_empty(), consumer_warps);  // every consumer warp's last S GEMM of an item is done
    // Make the initialised barriers visible to the copy engine (async proxy) before any TMA.
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  // Every thread of the block: thread 0 initialises, then all wait, since every thread must see
  // initialised barriers before it waits on one or a copy arrives on one.
  __device__ __forceinline__ void init_block(int consumer_warps) const {
    if (threadIdx.x == 0) init(consumer_warps);
    __syncthreads();
  }
};

// Offsets of a Q tile of kQBytes and kStages K and V tiles of kKvBytes each, then the barriers.
template <int kStages_, int kQBytes, int kKvBytes>
struct PipelineSmem {
  static constexpr int stages = kStages_;
  static constexpr int q_bytes = kQBytes;
  static constexpr int kv_bytes = kKvBytes;
  static constexpr int q_off = 0;
  static constexpr int k_off = q_bytes;
  static constexpr int v_off = k_off + stages * kv_bytes;
  static constexpr int bar_off = v_off + stages * kv_bytes;
  static constexpr int bytes = bar_off + PipelineBarriers<stages>::count * 8;
  static constexpr int alloc = bytes + 1024;  // room to align the dynamic base to 1024
};

// ---------------------------------------------------------------------------------------------
// Work items: item w = query tile qt of head h of batch b, numbered so that the tiles of one head
// are consecutive (blocks working at the same time share that head's K/V through L2) and, when
// causal, the longest tile of a head comes first. A block takes items blockIdx.x, + gridDim.x, ...:
// with one block per item that is one item; with a persistent grid of one block per SM, the
// producer loads the next item's Q, K, V while the consumers finish this one.
struct WorkItem {
  int qt, h, b, q0, n_tiles;
  int zq, zkv;  // Q's head among batch*heads; the K/V head it reads (GQA) among batch*kv_heads
};
// Params: the rung's kernel parameters (heads, kv_heads, group, seq_kv, causal, offset, q_tiles).
template <int Br, int Bc, class Params>
__device__ __forceinline__ WorkItem work_item(int w, const Params& p) {
  WorkItem it;
  const int x = w % p.q_tiles, bh = w / p.q_tiles;
  it.qt = p.causal ? p.q_tiles - 1 - x : x;
  it.h = bh % p.heads;
  it.b = bh / p.heads;
  it.q0 = it.qt * Br;
  const int last_key = p.causal ? min(p.seq_kv - 1, it.q0 + Br - 1 + p.offset) : p.seq_kv - 1;
  it.n_tiles = last_key / Bc + 1;  // key tiles of this item (>= 1: seq_q <= seq_kv)
  it.zq = it.b * p.heads + it.h;
  it.zkv = it.b * p.kv_heads + it.h / p.group;
  return it;
}

// The producer: one thread issues every copy of the block's items. Stage s of the K/V ring last
// held the tile loaded `stages` loads ago; with `wait_empty` it waits until every consumer warp
// has finished reading that K (its S GEMM completed), and that V (its P V GEMM completed), before
// the copy engine overwrites them (false only for the bf16 rung's planted race).
// load_q(item, bar), load_k(stage, j, item, bar), load_v(stage, j, item, bar) issue the TMA copies
// of one tile, completing on `bar`.
template <int Br, int Bc, class L, class Params, class LoadQ, class LoadK, class LoadV>
__device__ __forceinline__ void produce_items(const PipelineBarriers<L::stages>& bar, const Params& p, int n_items,
                                              bool wait_empty, LoadQ load_q, LoadK load_k, LoadV load_v) {
  int kv_count = 0;  // K/V tiles loaded so far by this block: stage = count % stages
  int local = 0;     // items started by this block
  for (int w = blockIdx.x; w < n_items; w += gridDim.x, ++local) {
    const WorkItem it = work_item<Br, Bc>(w, p);
    // The previous item's Q may be overwritten only once every consumer warp's last S GEMM on it
    // has completed.
    if (local > 0) mbar_wait(bar.q_empty(), (local - 1) & 1);
    mbar_arrive_expect_tx(bar.q_full(), L::q_bytes);
    load_q(it, bar.q_full());
    for (int j = 0; j < it.n_tiles; ++j, ++kv_count) {
      const int s = kv_count % L::stages;
      const uint32_t ph = (kv_count / L::stages) & 1;
      if (wait_empty) mbar_wait(bar.k_empty(s), ph ^ 1);
      mbar_arrive_expect_tx(bar.k_full(s), L::kv_bytes);
      load_k(s, j, it, bar.k_full(s));
      if (wait_empty) mbar_wait(bar.v_empty(s), ph ^ 1);
      mbar_arrive_expect_tx(bar.v_full(s), L::kv_bytes);
      load_v(s, j, it, bar.v_full(s));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ping-pong (FA3's inter-warpgroup overlap): a "turn" is the issue of one step's GEMMs. The two
// consumer warpgroups (cw = 0, 1) alternate turns on named barriers 1 and 2, so while one issues
// (and its GEMMs run on the tensor cores), the other does its softmax: exp2 on the MUFU units
// overlaps the other's matrix work. Warpgroup cw = 0 starts: cw = 1 hands it the first turn. Each
// warpgroup takes n_tiles + 1 turns per item (the same items, in the same order); cw = 0 takes one
// extra wait at the very end so that every arrive has its wait.
struct PingPong {
  bool on;
  int cw;
  __device__ __forceinline__ void start() const {
    if (on && cw == 1) named_arrive(1);
  }
  __device__ __forceinline__ void turn_begin() const {
    if (on) named_sync(1 + cw);  // the other warpgroup has issued its GEMMs: my turn
  }
  __device__ __forceinline__ void turn_end() const {
    if (on) named_arrive(2 - cw);  // my GEMMs are issued: the other's turn
  }
  __device__ __forceinline__ void finish() const {
    if (on && cw == 0) named_sync(1);  // pairs with the other warpgroup's last arrive
  }
};

// ---------------------------------------------------------------------------------------------
// The online softmax, one S tile in registers (Bc/2 accumulators a thread: rows g and g+8).

// Scores past the keys' end or above the causal diagonal (query i sees key j when j <= i + offset)
// become -inf. Only tiles that need it pay: the ragged end of the keys, tiles crossing the diagonal.
template <int Bc, class Params>
__device__ __forceinline__ void mask_tile(float (&s)[Bc / 2], int k0, int q0, int row_a, int t, const Params& p) {
  if (k0 + Bc > p.seq_kv || (p.causal && k0 + Bc - 1 > q0 + p.offset)) {
#pragma unroll
    for (int i = 0; i < Bc / 2; ++i) {
      const int key = k0 + 8 * (i / 4) + 2 * t + (i % 2);
      const int row = row_a + 8 * ((i % 4) / 2);
      if (key >= p.seq_kv || (p.causal && key > row + p.offset)) s[i] = -INFINITY;
    }
  }
}

// The largest raw score of row r (0: row g, 1: row g + 8) in this tile: the thread's Bc/4 values
// as one dependent chain, then across the 4 threads of the quad, which share the row.
template <int Bc>
__device__ __forceinline__ float row_max(const float (&s)[Bc / 2], int r) {
  float mx = -INFINITY;
#pragma unroll
  for (int i = 0; i < Bc / 8; ++i) mx = fmaxf(mx, fmaxf(s[4 * i + 2 * r], s[4 * i + 2 * r + 1]));
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
  return mx;
}

// One row's running max m (base-2 units) after a tile whose scaled row max is `mx_scaled`; alpha:
// the factor by which what was summed so far must shrink. Returns the value to subtract before
// exp2: m, or 0 for a row whose keys are all masked so far (m = -inf), so that exp2 gives 0, not NaN.
__device__ __forceinline__ float running_max(float& m, float mx_scaled, float& alpha) {
  const float m_new = fmaxf(m, mx_scaled);
  const float base_m = m_new == -INFINITY ? 0.f : m_new;
  alpha = ptx::fast_exp2(m - base_m);
  m = m_new;
  return base_m;
}

// exp2 on the FMA pipe (FlashAttention-4's idea), a variant the FP8 rung measured (it lost: see its
// header): 2^x = 2^floor(x) * 2^f, f in [0, 1), 2^f by a degree-3 polynomial (max rel. error
// 1.7e-4). Adding 1.5 * 2^23 rounding down leaves floor(x) in the low mantissa bits of t; shifted
// into the exponent field (+127) they make 2^floor(x). x >= -127 keeps that field valid; x = -127
// (and a masked -inf) gives exactly 0. The last step is a float multiply, not an integer add into
// the exponent: with the integer add writing into S's registers, ptxas serialized the wgmmas
// (C7511, "insufficient register resources for the wgmma pipeline").
__device__ __forceinline__ float exp2_poly(float x) {
  x = fmaxf(x, -127.f);
  const float t = __fadd_rd(x, 12582912.f);
  const float f = x - (t - 12582912.f);
  float p = fmaf(f, 0.078024523f, 0.226564340f);
  p = fmaf(p, f, 0.695146833f);
  p = fmaf(p, f, 1.f);
  return p * __int_as_float((__float_as_int(t) << 23) + 0x3f800000);
}

// P = exp2(S * c - base_m) in place for row r; returns the sum of the thread's values of P.
// kPolyEvery = 0: every exp2 on the MUFU (ex2.approx); 4 or 2: every 4th or 2nd pair of keys by
// exp2_poly on the FMA pipe instead.
template <int Bc, int kPolyEvery = 0>
__device__ __forceinline__ float exp_row(float (&s)[Bc / 2], int r, float c, float base_m) {
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < Bc / 8; ++i) {
    float& x0 = s[4 * i + 2 * r];
    float& x1 = s[4 * i + 2 * r + 1];
    bool poly = false;
    if constexpr (kPolyEvery != 0) poly = i % kPolyEvery == kPolyEvery - 1;
    if (poly) {
      x0 = exp2_poly(fmaf(x0, c, -base_m));
      x1 = exp2_poly(fmaf(x1, c, -base_m));
    } else {
      x0 = ptx::fast_exp2(fmaf(x0, c, -base_m));
      x1 = ptx::fast_exp2(fmaf(x1, c, -base_m));
    }
    sum += x0 + x1;
  }
  return sum;
}

// A work item's start: O = 0, running max m = -inf, row sums l = 0.
template <int D>
__device__ __forceinline__ void softmax_start(float (&o)[D / 2], float (&m)[2], float (&l)[2]) {
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
  m[0] = m[1] = -INFINITY;
  l[0] = l[1] = 0.f;
}

// O *= f[row half] (the online softmax's alpha, and for the FP8 rung its V scale ratio).
template <int D>
__device__ __forceinline__ void rescale_o(float (&o)[D / 2], const float (&f)[2]) {
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] *= f[(i % 4) / 2];
}

// ---------------------------------------------------------------------------------------------
// One work item's key tiles, as a consumer warpgroup runs them (FA3's intra-warpgroup overlap):
// S_0 alone; then in step j >= 1, S_j = Q K_j^T and O += P_{j-1} V_{j-1} issued back to back,
// a wait for S_j only, and the softmax of S_j (ALU and MUFU work) while the tensor cores still run
// P V; O is rescaled once that P V is done. Last, the P V of the last tile. kv_count: K/V tiles
// this block consumed before the item (the stage ring's position); local: items before it.
// The rung supplies what differs, as callables:
//   issue_s(stage), issue_pv(stage)  the GEMMs (shapes, descriptors) without commit;
//   before_waits(j)                  runs before step j's waits (the FP8 rung loads its scales,
//                                    so that their latency hides behind the waits);
//   softmax(j, alpha)                the online softmax of S_j in place (alpha: O's shrink factor);
//   rescale(alpha)                   O's rescale, after P_{j-1} V_{j-1} completed;
//   pack_p()                         P into the A fragments of the next P V.
template <class L, int NS, int NO, class IssueS, class IssuePv, class BeforeWaits, class Softmax, class Rescale,
          class PackP>
__device__ __forceinline__ void consume_item(const PipelineBarriers<L::stages>& bar, const PingPong& pp, int kv_count,
                                             int local, int n_tiles, int lane, float (&s_acc)[NS], float (&o)[NO],
                                             IssueS issue_s, IssuePv issue_pv, BeforeWaits before_waits,
                                             Softmax softmax, Rescale rescale, PackP pack_p) {
  auto stage = [&](int j) { return (kv_count + j) % L::stages; };
  auto parity = [&](int j) { return uint32_t((kv_count + j) / L::stages) & 1u; };

  before_waits(0);
  // Q of this item must have landed before the first S GEMM reads it.
  mbar_wait(bar.q_full(), local & 1);
  // Tile 0: S_0, softmax, P_0 (nothing to overlap with yet).
  mbar_wait(bar.k_full(stage(0)), parity(0));  // K_0 landed
  pp.turn_begin();
  wgmma_fence();  // S and O were last touched by ordinary instructions
  issue_s(stage(0));
  wgmma_commit();
  pp.turn_end();
  wgmma_wait<0>();
  fence_regs(s_acc);
  if (lane == 0) {
    mbar_arrive(bar.k_empty(stage(0)));          // this warp no longer reads K_0
    if (n_tiles == 1) mbar_arrive(bar.q_empty());  // ... nor Q: the producer may load the next item's
  }
  {
    float alpha[2];
    softmax(0, alpha);  // O is 0: nothing to rescale
  }
  pack_p();

  for (int j = 1; j < n_tiles; ++j) {
    const int s = stage(j), sp = stage(j - 1);
    before_waits(j);
    mbar_wait(bar.k_full(s), parity(j));       // K_j landed
    mbar_wait(bar.v_full(sp), parity(j - 1));  // V_{j-1} landed
    pp.turn_begin();
    wgmma_fence();  // S and O were last written by ordinary instructions (softmax, rescale)
    issue_s(s);
    wgmma_commit();
    issue_pv(sp);
    wgmma_commit();
    pp.turn_end();
    wgmma_wait<1>();  // S_j done (groups complete in order); P_{j-1} V_{j-1} may still run
    fence_regs(s_acc);
    if (lane == 0) {
      mbar_arrive(bar.k_empty(s));
      if (j == n_tiles - 1) mbar_arrive(bar.q_empty());  // the item's last S GEMM is done: Q is free
    }
    float alpha[2];
    softmax(j, alpha);  // overlaps the P V GEMM on the tensor cores
    wgmma_wait<0>();    // P V done: O is valid and the registers of P may be overwritten
    fence_regs(o);
    if (lane == 0) mbar_arrive(bar.v_empty(sp));
    rescale(alpha);
    pack_p();
  }
  {
    const int sp = stage(n_tiles - 1);
    mbar_wait(bar.v_full(sp), parity(n_tiles - 1));  // V of the last tile landed
    pp.turn_begin();
    wgmma_fence();
    issue_pv(sp);
    wgmma_commit();
    pp.turn_end();
    wgmma_wait<0>();
    fence_regs(o);
    if (lane == 0) mbar_arrive(bar.v_empty(sp));
  }
}

// The epilogue: full row sums (the quad's four partial sums), O * numer / l, and the rows inside
// the sequence stored from registers as 16-bit pairs (4-byte stores). `out`: this head's O.
template <int D, typename T>
__device__ __forceinline__ void store_o(T* out, const float (&o)[D / 2], const float (&l)[2], float numer, int row_a,
                                        int t, int seq_q) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float lr = l[r] + __shfl_xor_sync(0xffffffff, l[r], 1);
    const float lsum = lr + __shfl_xor_sync(0xffffffff, lr, 2);
    const float mul = lsum > 0.f ? numer / lsum : 0.f;
    const int row = row_a + 8 * r;
    if (row < seq_q) {
#pragma unroll
      for (int i = 0; i < D / 8; ++i) {
        const int col = 8 * i + 2 * t;
        *reinterpret_cast<uint32_t*>(out + size_t(row) * D + col) =
            ptx::pack2<T>(o[4 * i + 2 * r] * mul, o[4 * i + 2 * r + 1] * mul);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Host: launches kKernel over `items` work items with L::alloc bytes of dynamic shared memory (the
// attribute is set on the kernel's first launch): one block per item, or, `persistent`, one block
// per SM (as many as there are items at most) taking every gridDim.x-th item.
template <auto kKernel, class L, class... Args>
cudaError_t launch_items(int threads, long long items, bool persistent, cudaStream_t st, const Args&... args) {
  static bool attr_set = false;  // one per kernel: kKernel is a template argument
  if (!attr_set) {
    cudaError_t e = cudaFuncSetAttribute(kKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, L::alloc);
    if (e != cudaSuccess) return e;
    attr_set = true;
  }
  static int sm_count = 0;
  if (sm_count == 0) {
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, dev);
    if (e != cudaSuccess) return e;
  }
  const int grid = int(persistent ? std::min<long long>(items, sm_count) : items);
  kKernel<<<grid, threads, L::alloc, st>>>(args...);
  return cudaGetLastError();
}

}  // namespace attnlab::kernels::hopper
