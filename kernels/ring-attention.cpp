// ring-attention.cpp: ring attention (Liu, Zaharia & Abbeel 2023, arXiv 2310.01889) over the P GPUs
// of one host, through NCCL. The forward pass of one attention layer, written for any P.
//
// The sequence of N = P·n tokens is dealt to P devices, n tokens each. GPU i keeps its queries for
// the whole pass and starts with its own K/V block. At step s it computes on the K/V block of GPU
// (i − s) mod P while, on a second stream, it sends that block to GPU i+1 and receives the next one
// from GPU i−1 (ncclSend / ncclRecv in one group): the transfer of the next block overlaps the
// computation of the current. Two K/V buffers alternate (double buffering); a buffer is received
// into only once the step that read it has finished (the comm stream waits on that step's end event).
//
// Layouts (--layout; which tokens a GPU holds, src/models/ring_placement.hpp): contiguous (GPU i
// holds tokens [i n, (i+1) n)), zigzag (2P chunks of n/2: GPU i holds chunks i and 2P−1−i) and
// striped (token t on GPU t mod P). Without a mask they give the same work; with the causal mask
// contiguous blocks leave GPU 0 one diagonal block and GPU P−1 all P, so the pass waits for the
// last GPU; zigzag and striped give every GPU the same work. A GPU stores its tokens chunk-major
// ([chunk][b][H][n/C][d], C = 2 for zigzag), so that every chunk is a contiguous BHND tensor, the
// only layout the block kernel takes. What a step launches comes from ring_step_launches: per
// (query chunk, key chunk) pair, nothing, the full block, the causal diagonal, or (striped, keys of
// a later GPU: key i'+P b is visible to query i+P a only when b < a) the diagonal shifted by one.
// The kernel's causal mask is bottom-right aligned with seq_q = seq_kv: the shifted diagonal is run
// by pointing Q, O and lse one row further (row r of the launch is query r + 1, which then sees keys
// 0..r); the first query of every (b, h) sees no key, and the merge takes nothing from its row
// (ring_merge's part_empty_every). Q and the partial O/lse buffers carry one padding row for the
// launch's last row.
//
// Each launch runs our tensor-core kernel (attn-mma, kernels/attn-mma.cu), which returns the
// block's normalised output O_j and its per-row log-sum-exp lse_j = log Σ exp(s·scale). The partial
// results merge with the online-softmax rescale, in fp32:
//   lse = log(e^lse_a + e^lse_b),   O = e^(lse_a − lse) O_a + e^(lse_b − lse) O_b
// (ring_merge_kernel in ring-merge.cu; the last step writes O in bf16). A step's launches write
// separate partial buffers, so all of its attention runs before all of its merges (the timeline's
// attention and merge phases).
//
// The timeline: CUDA events on both streams of every GPU, every step: compute start/end (the
// attention launches plus the merges), transfer start/end, and the idle time of the compute stream
// (waiting for the block to arrive). Four schedules, each timed over the same buffers:
//   serial                 the transfer of step s waits for the compute of step s: compute and
//                          transfer each timed alone (the kernel's speed, the link's bandwidth);
//   overlap                the ring as described, the transfer issued before the compute;
//   overlap_compute_first  the same, the compute issued first;
//   compute_only           no transfer at all (every step on the GPU's own block): the floor.
// Measured on 2 H200s (assets/measurements/ring-h200x2.json, contiguous): when the attention grid
// takes every SM slot (n = 1024 at H = 32: 256 blocks of 128 rows, 2 per SM on 132 SMs), an NCCL
// kernel issued after it gets no SM until it ends, and nothing overlaps; issued first, it takes
// its few SMs at once, at the price of ~30 us of host time to issue the NCCL group before the compute.
//
// One GPU (--virtual P,...): the same ring for P virtual devices on GPU 0, each with its own
// buffers, streams and events, the same launches and merges in the same order; only the NCCL
// exchange is replaced by a device-to-device copy on the receiver's comm stream (which waits for
// the sender's block to have arrived and for its own buffer to be read). A check only: P devices
// sharing one GPU time nothing of a ring. On one H200 (driver 580.159.04, CUDA 13.0, 2026-12-02):
// `--virtual 2,4,8 --check`: 60 shapes, every layout, causal and not, all within one bf16 ulp
// (3.9e-3) of the one-GPU rung and within 3.7e-3 of fp64; compute-sanitizer memcheck at P = 4,
// zigzag and striped (`--quick`): 0 errors.
//
// Run (device machine with >= 2 GPUs; NCCL from PyTorch's wheel):
//   export LD_LIBRARY_PATH=$(python3 -c 'import nvidia.nccl,os;print(os.path.dirname(nvidia.nccl.__file__))')/lib
//   attnlab-ring-attention --json ring.json                   # check, then the sweep
//   attnlab-ring-attention --check --quiet                    # the CTest (exit 77: skipped)
//   attnlab-ring-attention --virtual 2,4,8 --check --quiet    # one GPU: every layout at P = 2, 4, 8
//   kernels/ring-device.sh                                    # the runs at P = 2, 4, 8 of every layout
// NVLink multicast (NVLS) stays off: main() sets NCCL_NVLS_ENABLE=0 before NCCL starts, whatever
// the environment says (a program that uses it can take a shared host's GPUs out of service).
//
// Written through src/measure/ring_measured's ring_measured_write (schema: assets/measurements/
// README.md, "ring"), which reads the file back before writing it: `attnlab ring --measured FILE`.
#include <cuda_runtime.h>
#include <nccl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "harness-cuda.hpp"
#include "harness.hpp"
#include "launcher.hpp"
#include "measure/ring_measured.hpp"
#include "models/ring_placement.hpp"
#include "ring-merge.hpp"
#include "util/errors.hpp"

using namespace attnlab::kernels;
using attnlab::RingLaunch;
using attnlab::RingLayout;
using attnlab::RingMask;
using attnlab::RingPlacement;

namespace {

void nccl_check(ncclResult_t r, const char* what, const char* file, int line) {
  if (r == ncclSuccess) return;
  throw CudaError(fmt::format("{}:{}: {} failed: {} ({})", file, line, what, int(r), ncclGetErrorString(r)));
}
#define RING_NCCL(call) nccl_check((call), #call, __FILE__, __LINE__)

// ---------------------------------------------------------------------------------------------
// The ring.

// serial: each transfer waits for the step's compute (compute and transfer each timed alone);
// overlap: the transfer of step s runs beside its compute, issued before it; overlap_compute_first:
// the same dependencies, the compute issued first (see run()); compute_only: the P steps with no
// transfer at all (every step computes on the GPU's own block: wrong result, right time), the
// floor a perfectly hidden transfer would reach.
// (The file names them: ring_measured_write.)
enum class Schedule { serial, overlap, overlap_compute_first, compute_only };

struct RingShape {
  int P = 2;  // devices in the ring
  int batch = 1, heads = 32, kv_heads = 32, block = 1024, head_dim = 128;
  bool causal = false;
  RingLayout layout = RingLayout::contiguous;
  long long seq() const { return (long long)P * block; }
  RingPlacement placement() const { return {layout, P, block}; }
  int chunks() const { return placement().chunks(); }
  int chunk_len() const { return placement().chunk_len(); }
  AttnShape full() const {  // the whole problem (single GPU, fp64 reference)
    AttnShape s;
    s.batch = batch, s.heads = heads, s.kv_heads = kv_heads, s.seq_q = s.seq_kv = int(seq()), s.head_dim = head_dim;
    s.causal = causal, s.dtype = ElemType::bf16;
    return s;
  }
  long long rows() const { return (long long)batch * heads * block; }  // query rows of one device
  size_t q_block_elems() const { return size_t(rows()) * head_dim; }
  size_t kv_block_elems() const { return size_t(batch) * kv_heads * block * head_dim; }  // K (or V) of one block
  size_t kv_bytes_per_step() const { return 2 * kv_block_elems() * 2; }                  // K and V, bf16
  std::string label() const {
    return fmt::format("B{} H{}/{} n{} d{}{} {}", batch, heads, kv_heads, block, head_dim, causal ? " causal" : "",
                       attnlab::ring_layout_name(layout));
  }
};

attnlab::RingConfig model_config(const RingShape& r) { return attnlab::ring_placement_config(r.placement(), r.causal); }

// One device's buffers, streams and events. A partial-result slot per launch of a step.
struct Gpu {
  int dev = 0;  // the CUDA device (0 for every virtual device)
  cudaStream_t compute = nullptr, comm = nullptr;
  ncclComm_t nccl = nullptr;
  DeviceBuffer q, kv[2], o_part, lse_part, acc_o, acc_lse, out;
  cudaEvent_t origin = nullptr;
  std::vector<cudaEvent_t> c0, c1, c2, t0, t1;  // per step: compute start, attention end, compute end; transfer start, end
};

// Times of one pass, ms from each device's origin event: [device][step].
struct PassTimes {
  std::vector<std::vector<double>> c0, c1, c2, t0, t1;
  double pass_ms = 0;  // max over devices of the last compute end
};

class Ring {
 public:
  // comms empty: P virtual devices on GPU 0, the exchange a device copy.
  Ring(const RingShape& r, const std::vector<ncclComm_t>& comms) : r_(r), g_(r.P), virtual_(comms.empty()) {
    const RingPlacement pl = r.placement();
    attnlab::ring_placement_check(pl, r.causal);  // the launches cover exactly the model's visible pairs
    const attnlab::RingConfig cfg = model_config(r);
    plan_.assign(r.P, std::vector<std::vector<RingLaunch>>(r.P));
    work_.assign(r.P, std::vector<double>(r.P, 0.0));
    for (int g = 0; g < r.P; ++g)
      for (int j = 0; j < r.P; ++j) {
        plan_[g][j] = attnlab::ring_step_launches(pl, r.causal, g, j);
        work_[g][j] = attnlab::ring_block_work(cfg, attnlab::u64(g), attnlab::u64(j));
        slots_ = std::max(slots_, int(plan_[g][j].size()));
      }
    for (int g = 0; g < r.P; ++g)  // step 0 starts every row's running result (merge `first`)
      if (plan_[g][g].empty() || !plan_[g][g][0].diagonal_group)
        throw std::logic_error("ring: the own block's first launch must cover every chunk");
    const size_t pad = size_t(r.head_dim);  // one row: the shifted diagonal's last launch row
    for (int g = 0; g < r.P; ++g) {
      Gpu& x = g_[g];
      x.dev = virtual_ ? 0 : g;
      if (!virtual_) x.nccl = comms[g];
      ATTN_CUDA(cudaSetDevice(x.dev));
      // The transfer stream gets the higher priority so that the NCCL kernel's few blocks are
      // scheduled as soon as an SM frees up, instead of after the attention grid's last wave.
      int lo = 0, hi = 0;
      ATTN_CUDA(cudaDeviceGetStreamPriorityRange(&lo, &hi));
      ATTN_CUDA(cudaStreamCreateWithPriority(&x.compute, cudaStreamNonBlocking, lo));
      ATTN_CUDA(cudaStreamCreateWithPriority(&x.comm, cudaStreamNonBlocking, hi));
      x.q = DeviceBuffer((r.q_block_elems() + pad) * 2);
      ATTN_CUDA(cudaMemset(x.q.get(), 0, x.q.bytes()));
      for (auto& b : x.kv) b = DeviceBuffer(r.kv_bytes_per_step());
      x.o_part = DeviceBuffer(size_t(slots_) * (r.q_block_elems() + pad) * 2);
      x.lse_part = DeviceBuffer(size_t(slots_) * (size_t(r.rows()) + 1) * 4);
      x.acc_o = DeviceBuffer(r.q_block_elems() * 4);
      x.acc_lse = DeviceBuffer(size_t(r.rows()) * 4);
      x.out = DeviceBuffer(r.q_block_elems() * 2);
      ATTN_CUDA(cudaEventCreate(&x.origin));
      for (auto* v : {&x.c0, &x.c1, &x.c2, &x.t0, &x.t1}) {
        v->resize(r.P);
        for (auto& e : *v) ATTN_CUDA(cudaEventCreate(&e));
      }
    }
  }
  ~Ring() {
    for (Gpu& x : g_) {
      cudaSetDevice(x.dev);
      cudaDeviceSynchronize();
      for (auto* v : {&x.c0, &x.c1, &x.c2, &x.t0, &x.t1})
        for (auto& e : *v) cudaEventDestroy(e);
      cudaEventDestroy(x.origin);
      x.q = {}, x.kv[0] = {}, x.kv[1] = {}, x.o_part = {}, x.lse_part = {}, x.acc_o = {}, x.acc_lse = {}, x.out = {};
      cudaStreamDestroy(x.compute);
      cudaStreamDestroy(x.comm);
    }
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  double work(int g, int j) const { return work_[g][j]; }
  // A step whose launches are all unmasked blocks: its time per unit of work is the kernel's speed.
  bool unmasked(int g, int j) const {
    const auto& l = plan_[g][j];
    return !l.empty() && std::all_of(l.begin(), l.end(), [](const RingLaunch& x) { return x.mask == RingMask::full; });
  }

  // Deals the whole problem's Q, K, V (BHND, N = P·n) to the devices by the layout.
  void upload(const HostInputs& in) {
    const RingPlacement pl = r_.placement();
    const int d = r_.head_dim;
    std::vector<std::uint16_t> q(r_.q_block_elems()), kv(2 * r_.kv_block_elems());
    for (int g = 0; g < r_.P; ++g) {
      Gpu& x = g_[g];
      ATTN_CUDA(cudaSetDevice(x.dev));
      attnlab::ring_gather(pl, g, in.q.data(), q.data(), (long long)r_.batch * r_.heads, d, 2);
      attnlab::ring_gather(pl, g, in.k.data(), kv.data(), (long long)r_.batch * r_.kv_heads, d, 2);
      attnlab::ring_gather(pl, g, in.v.data(), kv.data() + r_.kv_block_elems(), (long long)r_.batch * r_.kv_heads, d, 2);
      ATTN_CUDA(cudaMemcpy(x.q.get(), q.data(), q.size() * 2, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy(x.kv[0].get(), kv.data(), kv.size() * 2, cudaMemcpyHostToDevice));
    }
    sync_all();
  }

  // Gathers the devices' outputs into the whole O (BHND, N = P·n), raw bf16 bits.
  std::vector<std::uint16_t> download() {
    const RingPlacement pl = r_.placement();
    std::vector<std::uint16_t> o(size_t(r_.batch) * r_.heads * size_t(r_.seq()) * r_.head_dim), blk(r_.q_block_elems());
    for (int g = 0; g < r_.P; ++g) {
      ATTN_CUDA(cudaSetDevice(g_[g].dev));
      ATTN_CUDA(cudaMemcpy(blk.data(), g_[g].out.get(), blk.size() * 2, cudaMemcpyDeviceToHost));
      attnlab::ring_scatter(pl, g, blk.data(), o.data(), (long long)r_.batch * r_.heads, r_.head_dim, 2);
    }
    return o;
  }

  void poison_outputs() {
    for (Gpu& x : g_) {
      ATTN_CUDA(cudaSetDevice(x.dev));
      ATTN_CUDA(cudaMemset(x.out.get(), 0xFF, x.out.bytes()));
      ATTN_CUDA(cudaMemset(x.o_part.get(), 0xFF, x.o_part.bytes()));
      ATTN_CUDA(cudaMemset(x.lse_part.get(), 0xFF, x.lse_part.bytes()));
    }
    sync_all();
  }

  // One forward pass (P steps, P − 1 transfers). Every device must hold its own K/V block in kv[0]
  // when it starts; the blocks rotate during the pass, and rotate_back() (untimed) puts them back.
  PassTimes run(Schedule sched) {
    const int P = r_.P;
    sync_all();
    for (Gpu& x : g_) {
      ATTN_CUDA(cudaSetDevice(x.dev));
      ATTN_CUDA(cudaEventRecord(x.origin, x.compute));
      ATTN_CUDA(cudaStreamWaitEvent(x.comm, x.origin, 0));
    }
    for (int s = 0; s < P; ++s) {
      const int cur = sched == Schedule::compute_only ? 0 : s & 1, nxt = cur ^ 1;
      // Compute on the block received in step s − 1 (or the device's own at s = 0).
      auto compute = [&] {
        for (int g = 0; g < P; ++g) {
          Gpu& x = g_[g];
          ATTN_CUDA(cudaSetDevice(x.dev));
          if (s > 0 && sched != Schedule::compute_only) ATTN_CUDA(cudaStreamWaitEvent(x.compute, x.t1[s - 1], 0));
          ATTN_CUDA(cudaEventRecord(x.c0[s], x.compute));
          step(x, g, s, cur);
          ATTN_CUDA(cudaEventRecord(x.c2[s], x.compute));
        }
      };
      const bool sends = s + 1 < P && sched != Schedule::compute_only;
      // The order the host issues the two matters on the GPU: whichever kernel becomes ready first
      // takes the SMs. When the attention grid fits in one wave (n <= 1024 at H = 32 fills all 132
      // SMs), a transfer issued after it finds no free SM until the attention ends, and nothing
      // overlaps. "overlap" issues the transfer first; its NCCL kernel takes a few SMs at once.
      // (Serial must issue compute first: its transfer waits on this step's compute-end event.)
      if (sched == Schedule::overlap && sends) transfer(s, cur, nxt, sched);
      compute();
      if (sched != Schedule::overlap && sends) transfer(s, cur, nxt, sched);
    }
    sync_all();
    PassTimes t;
    for (auto* v : {&t.c0, &t.c1, &t.c2, &t.t0, &t.t1}) v->assign(P, std::vector<double>(P, 0.0));
    for (int g = 0; g < P; ++g) {
      Gpu& x = g_[g];
      ATTN_CUDA(cudaSetDevice(x.dev));
      auto ms = [&](cudaEvent_t e) {
        float f = 0;
        ATTN_CUDA(cudaEventElapsedTime(&f, x.origin, e));
        return double(f);
      };
      for (int s = 0; s < P; ++s) {
        t.c0[g][s] = ms(x.c0[s]), t.c1[g][s] = ms(x.c1[s]), t.c2[g][s] = ms(x.c2[s]);
        if (s + 1 < P && sched != Schedule::compute_only) t.t0[g][s] = ms(x.t0[s]), t.t1[g][s] = ms(x.t1[s]);
      }
      t.pass_ms = std::max(t.pass_ms, t.c2[g][P - 1]);
    }
    if (sched != Schedule::compute_only) rotate_back();
    return t;
  }

 private:
  // Step s of device g on the K/V block in kv[cur] (device j = g − s's): the step's launches, each
  // into its own partial slot (events c0..c1), then their merges (c1..c2).
  void step(Gpu& x, int g, int s, int cur) {
    const int P = r_.P, j = (g - s + P) % P, h = r_.chunk_len(), d = r_.head_dim;
    const std::vector<RingLaunch>& launches = plan_[g][j];
    const long long chunk_rows = (long long)r_.batch * r_.heads * h;                      // query rows of one chunk
    const size_t kv_chunk = size_t(r_.batch) * r_.kv_heads * size_t(h) * size_t(d);       // K values of one chunk
    const size_t slot_o = r_.q_block_elems() + size_t(d), slot_lse = size_t(r_.rows()) + 1;
    auto* q = static_cast<std::uint16_t*>(x.q.get());
    auto* k = static_cast<std::uint16_t*>(x.kv[cur].get());
    auto* v = k + r_.kv_block_elems();
    auto* o_part = static_cast<std::uint16_t*>(x.o_part.get());
    auto* lse_part = static_cast<float*>(x.lse_part.get());
    const float scale = float(1.0 / std::sqrt(double(d)));
    auto first_row = [&](const RingLaunch& l) { return l.diagonal_group ? 0 : l.q_chunk * chunk_rows; };
    for (size_t i = 0; i < launches.size(); ++i) {
      const RingLaunch& l = launches[i];
      const long long row0 = first_row(l);
      const size_t kv0 = l.diagonal_group ? 0 : size_t(l.kv_chunk) * kv_chunk;
      const size_t shift = l.mask == RingMask::causal_strict ? 1 : 0;  // the shifted diagonal: see the header
      AttnProblem p;
      // Chunk-major storage: the C chunks of a diagonal group are C·b sequences of one tensor.
      p.shape.batch = l.diagonal_group ? r_.chunks() * r_.batch : r_.batch;
      p.shape.heads = r_.heads, p.shape.kv_heads = r_.kv_heads, p.shape.seq_q = p.shape.seq_kv = h;
      p.shape.head_dim = d, p.shape.causal = l.mask != RingMask::full, p.shape.dtype = ElemType::bf16;
      p.q = q + (size_t(row0) + shift) * d;
      p.k = k + kv0;
      p.v = v + kv0;
      p.o = o_part + i * slot_o + (size_t(row0) + shift) * d;
      p.lse = lse_part + i * slot_lse + size_t(row0) + shift;
      p.scale = scale;
      ATTN_CUDA(attn_mma_forward(p, x.compute));
    }
    ATTN_CUDA(cudaEventRecord(x.c1[s], x.compute));
    const long long all_rows = r_.rows();
    const bool last_step = s == P - 1;
    // The last merge of the pass writes O in bf16; when the step's last launch covers only some
    // rows (or there is none), a merge with nothing to add writes them all.
    const bool fused_last = last_step && !launches.empty() && launches.back().diagonal_group;
    auto* acc_o = static_cast<float*>(x.acc_o.get());
    auto* acc_lse = static_cast<float*>(x.acc_lse.get());
    auto* out = static_cast<std::uint16_t*>(x.out.get());
    for (size_t i = 0; i < launches.size(); ++i) {
      const RingLaunch& l = launches[i];
      const long long row0 = first_row(l), rows = l.diagonal_group ? all_rows : chunk_rows;
      const bool last = fused_last && i + 1 == launches.size();
      ATTN_CUDA(ring_merge(acc_o + size_t(row0) * d, acc_lse + row0, o_part + i * slot_o + size_t(row0) * d,
                           lse_part + i * slot_lse + row0, out + size_t(row0) * d, rows, d, s == 0 && i == 0, last,
                           true, l.mask == RingMask::causal_strict ? h : 0, x.compute));
    }
    if (last_step && !fused_last)
      ATTN_CUDA(ring_merge(acc_o, acc_lse, o_part, lse_part, out, all_rows, d, false, true, false, 0, x.compute));
  }

  // Send the block of step s on to the next device, receive the block of step s + 1 from the previous.
  void transfer(int s, int cur, int nxt, Schedule sched) {
    const int P = r_.P;
    for (int g = 0; g < P; ++g) {
      Gpu& x = g_[g];
      ATTN_CUDA(cudaSetDevice(x.dev));
      // kv[nxt] was read by step s − 1: receive into it only once that step is over. Serial:
      // wait for this step's compute too, so that transfer and compute never run together.
      if (sched == Schedule::serial) ATTN_CUDA(cudaStreamWaitEvent(x.comm, x.c2[s], 0));
      else if (s > 0) ATTN_CUDA(cudaStreamWaitEvent(x.comm, x.c2[s - 1], 0));
      // One GPU: what NCCL's send/recv pairing ensures, said with events. The sender's kv[cur]
      // arrived in its step s − 1 receive; the next device's step s − 1 copy, which read this
      // device's kv[nxt], is done.
      if (virtual_ && s > 0) {
        ATTN_CUDA(cudaStreamWaitEvent(x.comm, g_[(g + P - 1) % P].t1[s - 1], 0));
        ATTN_CUDA(cudaStreamWaitEvent(x.comm, g_[(g + 1) % P].t1[s - 1], 0));
      }
      ATTN_CUDA(cudaEventRecord(x.t0[s], x.comm));
    }
    if (virtual_) {
      for (int g = 0; g < P; ++g) {
        Gpu& x = g_[g];
        ATTN_CUDA(cudaMemcpyAsync(x.kv[nxt].get(), g_[(g + P - 1) % P].kv[cur].get(), r_.kv_bytes_per_step(),
                                  cudaMemcpyDeviceToDevice, x.comm));
      }
    } else {
      RING_NCCL(ncclGroupStart());
      for (int g = 0; g < P; ++g) {
        Gpu& x = g_[g];
        ATTN_CUDA(cudaSetDevice(x.dev));
        RING_NCCL(ncclSend(x.kv[cur].get(), r_.kv_bytes_per_step(), ncclUint8, (g + 1) % P, x.nccl, x.comm));
        RING_NCCL(ncclRecv(x.kv[nxt].get(), r_.kv_bytes_per_step(), ncclUint8, (g + P - 1) % P, x.nccl, x.comm));
      }
      RING_NCCL(ncclGroupEnd());
    }
    for (int g = 0; g < P; ++g) {
      ATTN_CUDA(cudaSetDevice(g_[g].dev));
      ATTN_CUDA(cudaEventRecord(g_[g].t1[s], g_[g].comm));
    }
  }

  // After a pass device g's current buffer holds block (g − P + 1) mod P = (g + 1) mod P; the pass
  // that follows must start from block g in kv[0]. P − 1 transfers happened, so the block sits in
  // kv[(P − 1) & 1]. One untimed ring shift backwards puts the right block in place.
  void rotate_back() {
    const int P = r_.P;
    if (P == 1) return;
    const int at = (P - 1) & 1;
    sync_all();
    if (virtual_) {
      for (int g = 0; g < P; ++g)
        ATTN_CUDA(cudaMemcpyAsync(g_[(g + 1) % P].kv[at ^ 1].get(), g_[g].kv[at].get(), r_.kv_bytes_per_step(),
                                  cudaMemcpyDeviceToDevice, g_[(g + 1) % P].comm));
    } else {
      RING_NCCL(ncclGroupStart());
      for (int g = 0; g < P; ++g) {
        Gpu& x = g_[g];
        ATTN_CUDA(cudaSetDevice(x.dev));
        // Device g holds block (g + 1) mod P: send it to g + 1, receive block g from g − 1.
        RING_NCCL(ncclSend(x.kv[at].get(), r_.kv_bytes_per_step(), ncclUint8, (g + 1) % P, x.nccl, x.comm));
        RING_NCCL(ncclRecv(x.kv[at ^ 1].get(), r_.kv_bytes_per_step(), ncclUint8, (g + P - 1) % P, x.nccl, x.comm));
      }
      RING_NCCL(ncclGroupEnd());
    }
    sync_all();
    if (at ^ 1) {  // the own block landed in kv[1]: copy it to kv[0]
      for (Gpu& x : g_) {
        ATTN_CUDA(cudaSetDevice(x.dev));
        ATTN_CUDA(cudaMemcpyAsync(x.kv[0].get(), x.kv[1].get(), x.kv[0].bytes(), cudaMemcpyDeviceToDevice, x.comm));
      }
      sync_all();
    }
  }

  void sync_all() {
    for (Gpu& x : g_) {
      ATTN_CUDA(cudaSetDevice(x.dev));
      ATTN_CUDA(cudaDeviceSynchronize());
    }
  }

  RingShape r_;
  std::vector<Gpu> g_;
  bool virtual_ = false;
  std::vector<std::vector<std::vector<RingLaunch>>> plan_;  // [device][kv block]: the step's launches
  std::vector<std::vector<double>> work_;                    // [device][kv block]: ring_block_work
  int slots_ = 1;                                            // most launches in one step
};

// ---------------------------------------------------------------------------------------------
// Checks: the ring against single-GPU attention (the same kernel over the whole sequence on GPU 0)
// and against the fp64 CPU reference on sampled rows.

struct CheckOut {
  bool ok = false;
  double vs_single_max_abs = 0, vs_single_rel_l2 = 0;
  CheckResult ref;         // the ring vs fp64
  CheckResult single_ref;  // single GPU vs fp64 (the same rows), for scale
  std::string note;
};

std::vector<std::uint16_t> single_gpu(const AttnShape& s, const HostInputs& in) {
  ATTN_CUDA(cudaSetDevice(0));
  DeviceBuffer dq(in.q.size() * 2), dk(in.k.size() * 2), dv(in.v.size() * 2), dout(in.q.size() * 2);
  ATTN_CUDA(cudaMemcpy(dq.get(), in.q.data(), dq.bytes(), cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(dk.get(), in.k.data(), dk.bytes(), cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(dv.get(), in.v.data(), dv.bytes(), cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemset(dout.get(), 0xFF, dout.bytes()));
  AttnProblem p;
  p.shape = s;
  p.q = dq.get(), p.k = dk.get(), p.v = dv.get(), p.o = dout.get();
  p.scale = float(1.0 / std::sqrt(double(s.head_dim)));
  ATTN_CUDA(attn_mma_forward(p, nullptr));
  ATTN_CUDA(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(in.q.size());
  ATTN_CUDA(cudaMemcpy(out.data(), dout.get(), dout.bytes(), cudaMemcpyDeviceToHost));
  return out;
}

CheckOut check_ring(const RingShape& r, Ring& ring, const HostInputs& in, const std::vector<std::uint16_t>& one,
                    std::uint64_t seed) {
  CheckOut c;
  const AttnShape s = r.full();
  ring.poison_outputs();
  ring.run(Schedule::overlap);
  const std::vector<std::uint16_t> got = ring.download();
  double e2 = 0, r2 = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double a = half_bits_to_float(got[i], s.dtype), b = half_bits_to_float(one[i], s.dtype);
    const double e = std::isfinite(a) ? std::fabs(a - b) : INFINITY;
    c.vs_single_max_abs = std::max(c.vs_single_max_abs, e);
    e2 += std::isfinite(e) ? e * e : 1e30;
    r2 += b * b;
  }
  c.vs_single_rel_l2 = std::sqrt(e2 / std::max(r2, 1e-300));
  // Rows: the harness's pick (tile edges, first/last, random) plus the first and last token of
  // every chunk of every device (the layout's seams; striped: a device's first and last token).
  std::vector<RowId> rows = pick_rows(s, 192, seed);
  std::set<std::tuple<int, int, int>> have;
  for (const RowId& x : rows) have.insert({x.b, x.h, x.i});
  const RingPlacement pl = r.placement();
  for (int g = 0; g < r.P; ++g)
    for (int ch = 0; ch < r.chunks(); ++ch)
      for (int local : {ch * r.chunk_len(), ch * r.chunk_len() + r.chunk_len() - 1})
        for (int h : {0, r.heads - 1}) {
          const int i = int(attnlab::ring_token(pl, g, local));
          if (have.insert({r.batch - 1, h, i}).second) rows.push_back({r.batch - 1, h, i});
        }
  const double scale = 1.0 / std::sqrt(double(r.head_dim));
  const Tolerance tol = tolerance_for(KernelId::mma, ElemType::bf16);
  c.ref = check_output(s, in, got, rows, tol, scale);
  c.single_ref = check_output(s, in, one, rows, tol, scale);
  // The ring rounds each block's O to bf16 once more before the fp32 merge: it may differ from the
  // single-GPU output by a few bf16 ulps, never by more than the fp64 tolerance.
  c.ok = c.ref.ok && c.vs_single_max_abs <= tol.atol * 2 && c.vs_single_rel_l2 <= tol.rel_l2;
  if (!c.ref.ok) c.note = "vs fp64: " + c.ref.first_failure;
  else if (!c.ok) c.note = fmt::format("vs single GPU: max |diff| {:.3g}, rel L2 {:.3g}", c.vs_single_max_abs, c.vs_single_rel_l2);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Measurement: `repeats` passes of each schedule; per-step medians over the passes.

struct StepStat {
  double compute_ms = 0, attn_ms = 0, merge_ms = 0, transfer_ms = 0, idle_ms = 0;
};
struct Measured {
  Schedule sched;
  std::vector<double> pass_ms;               // per repeat
  std::vector<std::vector<StepStat>> steps;  // [device][step], medians over repeats
  PassTimes median_pass;                     // the repeat with the median pass time (the timeline)
  double compute_ms = 0;   // median over repeats of the mean full-block step compute (attention + merge)
  double attn_ms = 0;      // the attention launches alone
  double transfer_ms = 0;  // median over repeats of the mean transfer (steps 0..P−2), max over devices
  double idle_ms = 0;      // median over repeats of the compute streams' wait for blocks, summed over steps, max over devices
};

double median_of(std::vector<double> v) { return stats_of(std::move(v)).median; }

Measured measure(const RingShape& r, Ring& ring, Schedule sched, int warmup, int repeats) {
  const int P = r.P;
  Measured m;
  m.sched = sched;
  for (int i = 0; i < warmup; ++i) ring.run(sched);
  std::vector<PassTimes> all;
  for (int i = 0; i < repeats; ++i) all.push_back(ring.run(sched));
  // The full-block step time: steps whose launches are all unmasked (time / work: zigzag's are
  // half blocks); with none (striped causal), every step that computes.
  bool any_unmasked = false;
  for (int g = 0; g < P; ++g)
    for (int j = 0; j < P; ++j) any_unmasked = any_unmasked || ring.unmasked(g, j);
  std::vector<double> compute, attn, transfer, idle;
  for (const PassTimes& t : all) {
    m.pass_ms.push_back(t.pass_ms);
    double c_sum = 0, a_sum = 0;
    int c_n = 0;
    double tr_max = 0, idle_max = 0;
    for (int g = 0; g < P; ++g) {
      double tr = 0, id = 0;
      for (int s = 0; s < P; ++s) {
        const int j = (g - s + P) % P;
        const double w = ring.work(g, j);
        if (w > 0 && (any_unmasked ? ring.unmasked(g, j) : true))
          c_sum += (t.c2[g][s] - t.c0[g][s]) / w, a_sum += (t.c1[g][s] - t.c0[g][s]) / w, ++c_n;
        if (s > 0) id += t.c0[g][s] - t.c2[g][s - 1];
        if (s + 1 < P) tr += t.t1[g][s] - t.t0[g][s];
      }
      tr_max = std::max(tr_max, P > 1 ? tr / (P - 1) : 0.0);
      idle_max = std::max(idle_max, id);
    }
    compute.push_back(c_n ? c_sum / c_n : 0), attn.push_back(c_n ? a_sum / c_n : 0);
    transfer.push_back(tr_max), idle.push_back(idle_max);
  }
  m.compute_ms = median_of(compute), m.attn_ms = median_of(attn), m.transfer_ms = median_of(transfer);
  m.idle_ms = median_of(idle);
  m.steps.assign(P, std::vector<StepStat>(P));
  for (int g = 0; g < P; ++g)
    for (int s = 0; s < P; ++s) {
      std::vector<double> c, a, mg, tr, id;
      for (const PassTimes& t : all) {
        c.push_back(t.c2[g][s] - t.c0[g][s]);
        a.push_back(t.c1[g][s] - t.c0[g][s]);
        mg.push_back(t.c2[g][s] - t.c1[g][s]);
        tr.push_back(s + 1 < P ? t.t1[g][s] - t.t0[g][s] : 0.0);
        id.push_back(s > 0 ? t.c0[g][s] - t.c2[g][s - 1] : t.c0[g][s]);
      }
      m.steps[g][s] = {median_of(c), median_of(a), median_of(mg), median_of(tr), median_of(id)};
    }
  // The timeline shown is one real pass: the one whose time is the median.
  std::vector<size_t> order(all.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all[a].pass_ms < all[b].pass_ms; });
  m.median_pass = all[order[order.size() / 2]];
  return m;
}

// A device-to-device copy between two GPUs through NCCL with no compute beside it: the link's
// achieved bandwidth for large messages (each GPU sends `bytes` to its successor and receives as
// many from its predecessor, like a ring step).
// Median milliseconds of one such exchange.
double link_probe_ms(const std::vector<ncclComm_t>& comms, int P, size_t bytes, int repeats) {
  struct Side {
    DeviceBuffer a, b;
    cudaStream_t st = nullptr;
    cudaEvent_t e0 = nullptr, e1 = nullptr;
  };
  std::vector<Side> side(P);
  for (int g = 0; g < P; ++g) {
    ATTN_CUDA(cudaSetDevice(g));
    side[g].a = DeviceBuffer(bytes), side[g].b = DeviceBuffer(bytes);
    ATTN_CUDA(cudaMemset(side[g].a.get(), 1, bytes));
    ATTN_CUDA(cudaStreamCreateWithFlags(&side[g].st, cudaStreamNonBlocking));
    ATTN_CUDA(cudaEventCreate(&side[g].e0));
    ATTN_CUDA(cudaEventCreate(&side[g].e1));
  }
  std::vector<double> ms;
  for (int i = 0; i < repeats + 2; ++i) {
    for (int g = 0; g < P; ++g) {
      ATTN_CUDA(cudaSetDevice(g));
      ATTN_CUDA(cudaDeviceSynchronize());
    }
    for (int g = 0; g < P; ++g) {
      ATTN_CUDA(cudaSetDevice(g));
      ATTN_CUDA(cudaEventRecord(side[g].e0, side[g].st));
    }
    RING_NCCL(ncclGroupStart());
    for (int g = 0; g < P; ++g) {
      ATTN_CUDA(cudaSetDevice(g));
      RING_NCCL(ncclSend(side[g].a.get(), bytes, ncclUint8, (g + 1) % P, comms[g], side[g].st));
      RING_NCCL(ncclRecv(side[g].b.get(), bytes, ncclUint8, (g + P - 1) % P, comms[g], side[g].st));
    }
    RING_NCCL(ncclGroupEnd());
    double worst = 0;
    for (int g = 0; g < P; ++g) {
      ATTN_CUDA(cudaSetDevice(g));
      ATTN_CUDA(cudaEventRecord(side[g].e1, side[g].st));
      ATTN_CUDA(cudaEventSynchronize(side[g].e1));
      float f = 0;
      ATTN_CUDA(cudaEventElapsedTime(&f, side[g].e0, side[g].e1));
      worst = std::max(worst, double(f));
    }
    if (i >= 2) ms.push_back(worst);
  }
  for (int g = 0; g < P; ++g) {
    ATTN_CUDA(cudaSetDevice(g));
    ATTN_CUDA(cudaDeviceSynchronize());
    cudaEventDestroy(side[g].e0), cudaEventDestroy(side[g].e1), cudaStreamDestroy(side[g].st);
    side[g].a = {}, side[g].b = {};
  }
  return median_of(ms);
}

struct Row {
  RingShape shape;
  CheckOut check;
  Measured serial, overlap, overlap_compute_first, compute_only;
};

// ---------------------------------------------------------------------------------------------
// The file: src/measure/ring_measured's structs, written by its writer.

attnlab::RingMeasuredSchedule schedule_of(const Ring& ring, const RingShape& r, const Measured& m) {
  attnlab::RingMeasuredSchedule s;
  const Stats ps = stats_of(m.pass_ms);
  s.pass_ms = ps.median, s.pass_min_ms = ps.min, s.pass_max_ms = ps.max, s.repeats = m.pass_ms.size();
  s.compute_ms = m.compute_ms, s.attn_ms = m.attn_ms, s.transfer_ms = m.transfer_ms, s.idle_ms = m.idle_ms;
  const int P = r.P;
  for (int st = 0; st < P; ++st) {
    attnlab::RingMeasuredStep x;  // the largest over the devices of the per-step medians
    for (int g = 0; g < P; ++g) {
      const StepStat& y = m.steps[g][st];
      x.compute_ms = std::max(x.compute_ms, y.compute_ms), x.attn_ms = std::max(x.attn_ms, y.attn_ms);
      x.merge_ms = std::max(x.merge_ms, y.merge_ms), x.transfer_ms = std::max(x.transfer_ms, y.transfer_ms);
      x.idle_ms = std::max(x.idle_ms, y.idle_ms);
    }
    s.steps.push_back(x);
  }
  const bool sends_any = m.sched != Schedule::compute_only;
  const PassTimes& t = m.median_pass;
  for (int st = 0; st < P; ++st)
    for (int g = 0; g < P; ++g) {
      attnlab::RingMeasuredEvent e;
      const int j = (g - st + P) % P;
      e.step = attnlab::u64(st), e.device = attnlab::u64(g), e.kv_block = attnlab::u64(j);
      e.work = ring.work(g, j);
      e.compute_start_ms = t.c0[g][st], e.attn_end_ms = t.c1[g][st], e.compute_end_ms = t.c2[g][st];
      e.sends = sends_any && st + 1 < P;
      if (e.sends) e.send_start_ms = t.t0[g][st], e.send_end_ms = t.t1[g][st];
      s.timeline.push_back(e);
    }
  return s;
}

attnlab::RingMeasuredRow row_of(const Row& w, const Ring* ring) {
  const RingShape& r = w.shape;
  attnlab::RingMeasuredRow x;
  x.devices = attnlab::u64(r.P), x.batch = attnlab::u64(r.batch), x.heads = attnlab::u64(r.heads);
  x.kv_heads = attnlab::u64(r.kv_heads), x.seq = attnlab::u64(r.seq()), x.block = attnlab::u64(r.block);
  x.head_dim = attnlab::u64(r.head_dim), x.causal = r.causal, x.dtype = "bf16", x.layout = r.layout;
  x.kv_bytes_per_step = attnlab::u64(r.kv_bytes_per_step());
  x.check_ok = w.check.ok;
  x.vs_single_max_abs = w.check.vs_single_max_abs, x.vs_single_rel_l2 = w.check.vs_single_rel_l2;
  x.max_abs_error = w.check.ref.max_abs_error, x.rel_l2_error = w.check.ref.rel_l2_error;
  x.rows_checked = w.check.ref.rows_checked, x.single_gpu_max_abs_error = w.check.single_ref.max_abs_error;
  if (w.check.ok && ring) {
    x.serial = schedule_of(*ring, r, w.serial);
    x.overlap = schedule_of(*ring, r, w.overlap);
    x.overlap_compute_first = schedule_of(*ring, r, w.overlap_compute_first);
    x.compute_only = schedule_of(*ring, r, w.compute_only);
  }
  return x;
}

// The check set: small, awkward shapes (ragged blocks, GQA, batch 2, d = 64), each layout, causal
// and not. Zigzag needs an even block: its ragged blocks are even but not multiples of a tile.
std::vector<RingShape> check_shapes(int P, const std::vector<RingLayout>& layouts, bool quick) {
  struct Base {
    int b, h, kvh, n, d;
  };
  std::vector<Base> bases = {{1, 32, 8, 778, 128}, {2, 8, 2, 300, 64}};  // GQA 32/8; batch 2, GQA 4, d 64
  if (!quick) bases.push_back({1, 4, 1, 130, 128});                       // MQA, a block of two tiles + 2
  std::vector<RingShape> out;
  for (const Base& x : bases)
    for (bool causal : {false, true})
      for (RingLayout l : layouts) {
        RingShape r;
        r.P = P, r.batch = x.b, r.heads = x.h, r.kv_heads = x.kvh, r.block = x.n, r.head_dim = x.d;
        r.causal = causal, r.layout = l;
        out.push_back(r);
      }
  if (!quick)  // odd blocks where the layout allows them
    for (RingLayout l : layouts)
      if (l != RingLayout::zigzag) {
        RingShape r;
        r.P = P, r.batch = 1, r.heads = 4, r.kv_heads = 4, r.block = 777, r.head_dim = 128, r.causal = true, r.layout = l;
        out.push_back(r);
      }
  return out;
}

// Runs the checks of `shapes` (inputs and the single-GPU output made once per problem, every
// layout checked against them); prints one line per shape (failures only with quiet).
bool run_checks(const std::vector<RingShape>& shapes, const std::vector<ncclComm_t>& comms, std::uint64_t& seed,
                bool quiet, const char* where) {
  bool all_ok = true;
  std::string key;
  HostInputs in;
  std::vector<std::uint16_t> one;
  for (const RingShape& r : shapes) {
    const std::string k = fmt::format("{} {} {} {} {} {} {}", r.P, r.batch, r.heads, r.kv_heads, r.block, r.head_dim, r.causal);
    if (k != key) {
      key = k;
      in = make_inputs(r.full(), ++seed);
      one = single_gpu(r.full(), in);
    }
    Ring ring(r, comms);
    ring.upload(in);
    const CheckOut c = check_ring(r, ring, in, one, seed);
    all_ok = all_ok && c.ok;
    if (!quiet || !c.ok)
      fmt::print("check {:<38} P={} {}: vs single GPU max|diff| {:.2e} rel L2 {:.2e}; vs fp64 ({} rows) max err {:.2e} "
                 "(single GPU {:.2e}) {}{}\n",
                 r.label(), r.P, where, c.vs_single_max_abs, c.vs_single_rel_l2, c.ref.rows_checked,
                 c.ref.max_abs_error, c.single_ref.max_abs_error, c.ok ? "ok" : "FAILED ", c.note);
  }
  return all_ok;
}

}  // namespace

int main(int argc, char** argv) {
  // NVLink multicast (NVLS) off, always: see the file's header.
  setenv("NCCL_NVLS_ENABLE", "0", 1);
  setenv("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1", 1);
  setenv("NVSHMEM_DISABLE_NVLS", "1", 1);

  CLI::App app{"attnlab-ring-attention: ring attention over the GPUs of one host through NCCL: check, then time"};
  std::string json_path, sweep = "key", virtual_list;
  std::vector<std::string> layout_names;
  int devices = 0, repeats = 20, warmup = 2, batch = 1, heads = 32, kv_heads = 32, dim = 128;
  std::vector<int> blocks;
  bool check_only = false, quiet = false, causal = false, quick = false;
  unsigned long long seed = 20261123;
  app.add_option("--devices", devices, "GPUs in the ring (default: all visible)")->check(CLI::Range(1, 64));
  app.add_option("--virtual", virtual_list,
                 "One GPU: run the ring for these numbers of virtual devices on GPU 0 (\"2,4,8\"), the NCCL exchange "
                 "replaced by a device copy; checks only (every layout unless --layout)");
  app.add_option("--layout", layout_names,
                 "contiguous, zigzag or striped (several: --layout zigzag --layout striped, or comma-separated): the "
                 "timed rows' layouts (default contiguous); the checks run every layout unless this is given")
      ->delimiter(',');
  app.add_flag("--check", check_only, "Correctness only: small shapes (MHA/GQA, causal, ragged, every layout), no timing");
  app.add_flag("--quick", quick, "With --check or --virtual: two shapes per layout and mask instead of four");
  app.add_flag("--quiet", quiet, "Print only failures and the summary line");
  app.add_option("--sweep", sweep,
                 "key: MHA and GQA-4 (H32, d128) for n = 256 ... 16384, and causal points; layouts: H32/32 and 32/8, "
                 "d128, n = 1024 ... 16384 (or --block; --kv-heads: that series only), causal and not, each --layout "
                 "(default all three); quick: a "
                 "few small sizes")
      ->check(CLI::IsMember({"key", "layouts", "quick"}));
  app.add_option("--block", blocks, "Instead of the sweep: these block sizes n (tokens per GPU, comma-separated), with "
                 "--heads/--kv-heads/--dim/--batch/--causal; with --sweep layouts: its blocks")
      ->delimiter(',');
  app.add_option("--batch", batch, "Sequences per batch (with --block)")->check(CLI::Range(1, 1024));
  app.add_option("--heads", heads, "Query heads (with --block)")->check(CLI::Range(1, 1024));
  app.add_option("--kv-heads", kv_heads, "K/V heads, dividing --heads (with --block)")->check(CLI::Range(1, 1024));
  app.add_option("--dim", dim, "Head size: 64 or 128 (with --block)")->check(CLI::IsMember({64, 128}));
  app.add_flag("--causal", causal, "Causal mask (with --block)");
  app.add_option("--repeats", repeats, "Timed passes per schedule")->check(CLI::Range(1, 1000));
  app.add_option("--warmup", warmup, "Untimed passes first")->check(CLI::Range(0, 100));
  app.add_option("--json", json_path, "Write the measurements here (schema: assets/measurements/README.md, ring)");
  app.add_option("--seed", seed, "Base seed of the random inputs");

  std::vector<RingLayout> layouts;
  std::vector<int> virtual_p;
  auto before_gpu = [&]() -> std::optional<int> {
    if (heads % kv_heads != 0)
      throw BadInput(fmt::format("--kv-heads must divide --heads ({} heads, got {})", heads, kv_heads));
    for (int b : blocks)
      if (b < 1 || b > (1 << 20)) throw BadInput(fmt::format("--block must be between 1 and 1048576 (got {})", b));
    for (const std::string& n : layout_names) {
      try {
        layouts.push_back(attnlab::ring_layout_parse(n));
      } catch (const attnlab::InputError& e) {
        throw BadInput(e.what());
      }
    }
    // The timed blocks meet zigzag when it is asked for, or by default in the layouts sweep.
    const bool zigzag = std::count(layouts.begin(), layouts.end(), RingLayout::zigzag) > 0 ||
                        (layouts.empty() && sweep == "layouts");
    for (int b : blocks)
      if (zigzag && b % 2 != 0)
        throw BadInput(fmt::format("--layout zigzag holds two chunks of n / 2 tokens per GPU: --block must be even "
                                   "(got {})", b));
    if (!virtual_list.empty()) {
      virtual_p = parse_int_list(virtual_list, "--virtual", 1, 64);
      if (!json_path.empty())
        throw BadInput("--virtual runs the checks only (P devices sharing one GPU time nothing of a ring): no --json");
    }
    return std::nullopt;
  };

  return run_program(app, argc, argv, "attnlab-ring-attention", before_gpu, [&](Program& prog) {
    const DeviceFacts& dev = prog.dev;
    const std::vector<RingLayout> all_layouts(std::begin(attnlab::kRingLayouts), std::end(attnlab::kRingLayouts));
    const std::vector<RingLayout> check_layouts = layouts.empty() ? all_layouts : layouts;
    std::uint64_t s = seed;

    // ---- one GPU, P virtual devices: checks only
    if (!virtual_p.empty()) {
      if (!quiet)
        fmt::print("{} ({} SMs), driver {}, CUDA {} runtime {}: ring of virtual devices on GPU 0\n", dev.name,
                   dev.sm_count, dev.driver_version, dev.cuda_driver, dev.cuda_runtime);
      bool ok = true;
      size_t n = 0;
      for (int P : virtual_p) {
        const std::vector<RingShape> shapes = check_shapes(P, check_layouts, quick);
        ok = run_checks(shapes, {}, s, quiet, "(one GPU)") && ok;
        n += shapes.size();
      }
      fmt::print("{}: ring attention on one GPU, P = {}: {} shapes checked\n", ok ? "ok" : "FAILED", virtual_list, n);
      return ok ? 0 : 1;
    }

    // ---- the GPUs of this host, through NCCL
    int visible = 0;
    ATTN_CUDA(cudaGetDeviceCount(&visible));
    if (devices == 0) devices = visible;
    if (visible < 2) return prog.skip(fmt::format("{} GPU visible, a ring needs at least 2 (--virtual checks one GPU)", visible));
    if (devices > visible)
      throw BadInput(fmt::format("--devices must be at most the {} visible GPUs (got {})", visible, devices));
    const int P = devices;
    std::vector<ncclComm_t> comms(P);
    std::vector<int> ids(P);
    for (int g = 0; g < P; ++g) ids[g] = g;
    RING_NCCL(ncclCommInitAll(comms.data(), P, ids.data()));
    int nccl_version = 0;
    RING_NCCL(ncclGetVersion(&nccl_version));
    std::vector<std::string> names;
    for (int g = 0; g < P; ++g) {
      cudaDeviceProp p{};
      ATTN_CUDA(cudaGetDeviceProperties(&p, g));
      names.push_back(p.name);
    }
    // Peer access as CUDA reports it (NCCL picks its own transport: P2P over NVLink, or through the host).
    std::string p2p;
    for (int a = 0; a < P; ++a)
      for (int b = 0; b < P; ++b)
        if (a != b) {
          int can = 0, perf = 0;
          ATTN_CUDA(cudaDeviceCanAccessPeer(&can, a, b));
          if (cudaDeviceGetP2PAttribute(&perf, cudaDevP2PAttrPerformanceRank, a, b) != cudaSuccess) {
            perf = -1;
            cudaGetLastError();  // not sticky, but a later launch check must not see it
          }
          p2p += fmt::format("{}{}->{}: access {}, perf rank {}", p2p.empty() ? "" : "; ", a, b, can, perf);
        }
    const std::string nccl_text =
        fmt::format("{}.{}.{}", nccl_version / 10000, (nccl_version / 100) % 100, nccl_version % 100);
    if (!quiet)
      fmt::print("{} x {} ({} SMs), driver {}, CUDA {} runtime {}, NCCL {}; {}\n", P, dev.name, dev.sm_count,
                 dev.driver_version, dev.cuda_driver, dev.cuda_runtime, nccl_text, p2p);

    // Shapes: the check set, then the timed sweep.
    auto mk = [&](int b, int h, int kvh, int n, int d, bool c, RingLayout l) {
      RingShape r;
      r.P = P, r.batch = b, r.heads = h, r.kv_heads = kvh, r.block = n, r.head_dim = d, r.causal = c, r.layout = l;
      return r;
    };
    const std::vector<RingLayout> timed_layouts =
        !layouts.empty() ? layouts : sweep == "layouts" ? all_layouts : std::vector<RingLayout>{RingLayout::contiguous};
    std::vector<RingShape> timed;
    if (sweep == "layouts") {  // each layout, causal and not (without a mask they differ only in launches)
      const std::vector<int> ns = blocks.empty() ? std::vector<int>{1024, 2048, 4096, 8192, 16384} : blocks;
      // --kv-heads given: that series alone (the largest points need a device call each).
      const std::vector<int> kvhs = app.count("--kv-heads") ? std::vector<int>{kv_heads} : std::vector<int>{32, 8};
      for (int kvh : kvhs)
        for (int n : ns)
          for (bool c : {false, true})
            for (RingLayout l : timed_layouts) timed.push_back(mk(1, 32, kvh, n, 128, c, l));
    } else if (!blocks.empty()) {
      for (int n : blocks)
        for (RingLayout l : timed_layouts) timed.push_back(mk(batch, heads, kv_heads, n, dim, causal, l));
    } else if (sweep == "quick") {
      for (int n : {512, 2048}) timed.push_back(mk(1, 32, 32, n, 128, false, RingLayout::contiguous));
    } else {
      for (int kvh : {32, 8})
        for (int n : {256, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192, 16384})
          timed.push_back(mk(1, 32, kvh, n, 128, false, RingLayout::contiguous));
      for (RingLayout l : timed_layouts) {
        timed.push_back(mk(1, 32, 32, 4096, 128, true, l));
        timed.push_back(mk(1, 32, 32, 16384, 128, true, l));
      }
    }
    if (check_only) timed.clear();

    bool all_ok = run_checks(check_shapes(P, check_layouts, quick), comms, s, quiet, "(NCCL)");
    attnlab::RingMeasurements file;
    {
      const attnlab::Measurements header = prog.begin_file();
      file.device = header.device, file.date = header.date, file.command = header.command, file.tool = header.tool;
    }
    file.devices = attnlab::u64(P);
    file.device_names = names;
    file.nccl_version = nccl_text;
    file.peer_access = p2p;
    file.env = {{"NCCL_NVLS_ENABLE", "0"}, {"TORCH_SYMM_MEM_DISABLE_MULTICAST", "1"}, {"NVSHMEM_DISABLE_NVLS", "1"}};
    file.kernel = "attn-mma";
    file.timing = fmt::format("CUDA events on both streams of every GPU, every step; {} warm-up and {} timed passes per "
                              "schedule, medians; no L2 flush (each block arrives fresh from the link or is re-read)",
                              warmup, repeats);
    std::vector<Row> rows;
    for (const RingShape& r : timed) {
      const AttnShape full = r.full();
      HostInputs in = make_inputs(full, ++s);
      const std::vector<std::uint16_t> one = single_gpu(full, in);
      Row row;
      row.shape = r;
      Ring ring(r, comms);
      ring.upload(in);
      row.check = check_ring(r, ring, in, one, s);
      all_ok = all_ok && row.check.ok;
      if (!quiet || !row.check.ok)
        fmt::print("check {:<38} P={}: vs single GPU max|diff| {:.2e}; vs fp64 max err {:.2e} {}{}\n", r.label(), P,
                   row.check.vs_single_max_abs, row.check.ref.max_abs_error, row.check.ok ? "ok" : "FAILED ",
                   row.check.note);
      if (row.check.ok) {
        row.serial = measure(r, ring, Schedule::serial, warmup, repeats);
        row.overlap = measure(r, ring, Schedule::overlap, warmup, repeats);
        row.overlap_compute_first = measure(r, ring, Schedule::overlap_compute_first, warmup, repeats);
        row.compute_only = measure(r, ring, Schedule::compute_only, warmup, repeats);
      }
      file.rows.push_back(row_of(row, &ring));  // while the ring (its plan's work) exists
      rows.push_back(std::move(row));
    }

    // The link alone, 4 KiB to 1 GiB: its latency (small messages) and bandwidth (the largest).
    if (!timed.empty())
      for (size_t b = size_t(4) << 10; b <= (size_t(1) << 30); b *= 4) {
        const double ms = link_probe_ms(comms, P, b, b >= (size_t(256) << 20) ? 5 : 20);
        file.link_sizes.push_back({attnlab::u64(b), ms, double(b) / (ms * 1e-3) / 1e9});
      }

    if (!timed.empty()) {
      fmt::print("\n{:<38} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>7}\n",
                 "shape (P=" + std::to_string(P) + ")", "K/V /step", "compute", "transfer", "link GB/s", "TFLOP/s",
                 "c-only", "serial", "overlap", "exposed", "hidden", "c1st", "vs ideal");
      for (const Row& w : rows) {
        if (!w.check.ok) continue;
        const RingShape& r = w.shape;
        const double gbps = r.kv_bytes_per_step() / (w.serial.transfer_ms * 1e-3) / 1e9;
        const double tflops = 4.0 * r.batch * r.heads * double(r.block) * r.block * r.head_dim / (w.serial.attn_ms * 1e-3) / 1e12;
        // What the transfers cost the pass: the overlapped pass over the same pass with no transfer.
        const double exposed = median_of(w.overlap.pass_ms) - median_of(w.compute_only.pass_ms);
        const double hidden = P > 1 ? std::clamp(1.0 - exposed / ((P - 1) * w.serial.transfer_ms), 0.0, 1.0) : 1.0;
        // Efficiency vs ideal: the total work spread evenly at the measured full-block speed, free transfers.
        double work = 0;
        const attnlab::RingConfig cfg = model_config(r);
        for (int g = 0; g < P; ++g)
          for (int j = 0; j < P; ++j) work += attnlab::ring_block_work(cfg, attnlab::u64(g), attnlab::u64(j));
        const double ideal = work / P * w.serial.compute_ms;
        fmt::print("{:<38} {:>8.2f}MB {:>7.3f}ms {:>7.3f}ms {:>9.1f} {:>8.1f} {:>7.3f}ms {:>7.3f}ms {:>7.3f}ms {:>7.3f}ms "
                   "{:>6.0f}% {:>7.3f}ms {:>6.0f}%\n",
                   r.label(), r.kv_bytes_per_step() / 1e6, w.serial.compute_ms, w.serial.transfer_ms, gbps, tflops,
                   median_of(w.compute_only.pass_ms), median_of(w.serial.pass_ms), median_of(w.overlap.pass_ms), exposed,
                   100 * hidden, median_of(w.overlap_compute_first.pass_ms), 100 * ideal / median_of(w.overlap.pass_ms));
      }
      fmt::print("link alone (ncclSend/Recv to both neighbours, no compute):");
      for (const auto& pr : file.link_sizes) fmt::print(" {} KiB {:.4f} ms ({:.1f} GB/s);", pr.bytes >> 10, pr.ms, pr.gbps);
      fmt::print("\n");
      fmt::print("compute, transfer: per full-block step, each alone (serial schedule); c-only/serial/overlap/c1st: pass\n"
                 "times (compute only, serial, overlap issuing the transfer first, overlap issuing the compute first);\n"
                 "exposed = overlap - c-only; hidden = 1 - exposed / ((P - 1) x transfer); vs ideal = the pass's work\n"
                 "(ring_block_work, blocks) / P x compute over the overlap pass\n");
    }
    if (!json_path.empty()) attnlab::ring_measured_write(file, json_path);
    for (auto& c : comms) ncclCommDestroy(c);
    fmt::print("{}: ring attention over {} GPUs, checked{}\n", all_ok ? "ok" : "FAILED", P,
               timed.empty() ? "" : fmt::format(", {} timed", timed.size()));
    return all_ok ? 0 : 1;
  });
}
