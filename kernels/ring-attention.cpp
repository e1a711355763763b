// ring-attention.cpp: ring attention (Liu, Zaharia & Abbeel 2023, arXiv 2310.01889) over the P GPUs
// of one host, through NCCL. The forward pass of one attention layer, written for any P.
//
// The sequence of N = P·n tokens is cut into P blocks of n. GPU i keeps query block Qi for the whole
// pass and starts with K/V block i. At step s it computes on K/V block (i − s) mod P while, on a
// second stream, it sends that block to GPU i+1 and receives the next one from GPU i−1 (ncclSend /
// ncclRecv in one group): the transfer of the next block overlaps the computation of the current.
// Two K/V buffers alternate (double buffering); a buffer is received into only once the step that
// read it has finished (the comm stream waits on that step's end event).
//
// Each step runs our tensor-core kernel (attn-mma, kernels/attn-mma.cu) on (Qi, Kj, Vj), which
// returns the block's normalised output O_j and its per-row log-sum-exp lse_j = log Σ exp(s·scale).
// The partial results merge with the online-softmax rescale, in fp32:
//   lse = log(e^lse_a + e^lse_b),   O = e^(lse_a − lse) O_a + e^(lse_b − lse) O_b
// (ring_merge_kernel in ring-merge.cu; the last step writes O in bf16). Causal: block j < i is full, j == i is
// the causal diagonal, j > i is skipped (no launch; the model's "masked" steps).
//
// The timeline: CUDA events on both streams of every GPU, every step: compute start/end (the
// attention launch plus the merge), transfer start/end, and the idle time of the compute stream
// (waiting for the block to arrive). Four schedules, each timed over the same buffers:
//   serial                 the transfer of step s waits for the compute of step s: compute and
//                          transfer each timed alone (the kernel's speed, the link's bandwidth);
//   overlap                the ring as described, the transfer issued before the compute;
//   overlap_compute_first  the same, the compute issued first;
//   compute_only           no transfer at all (every step on the GPU's own block): the floor.
// Measured on 2 H200s (assets/measurements/ring-h200x2.json): when the attention grid takes every
// SM slot (n = 1024 at H = 32: 256 blocks of 128 rows, 2 per SM on 132 SMs), an NCCL kernel issued
// after it gets no SM until it ends, and nothing overlaps; issued first, it takes its few SMs at
// once, at the price of ~30 us of host time to issue the NCCL group before the compute.
//
// Run (device machine with >= 2 GPUs; NCCL from PyTorch's wheel):
//   export LD_LIBRARY_PATH=$(python3 -c 'import nvidia.nccl,os;print(os.path.dirname(nvidia.nccl.__file__))')/lib
//   NCCL_NVLS_ENABLE=0 attnlab-ring-attention --json ring.json        # check, then the sweep
//   attnlab-ring-attention --check --quiet                             # the CTest (exit 77: skipped)
// NVLink multicast (NVLS) stays off: main() sets NCCL_NVLS_ENABLE=0 before NCCL starts, whatever
// the environment says (a program that uses it can take a shared host's GPUs out of service).
//
// Written to assets/measurements/ring-h200x2.json (schema: assets/measurements/README.md, "ring");
// read back by src/measure/ring_measured.* (`attnlab ring --measured FILE`).
#include <cuda_runtime.h>
#include <nccl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "harness-cuda.hpp"
#include "harness.hpp"
#include "launcher.hpp"
#include "measure/measurement_write.hpp"
#include "ring-merge.hpp"

using namespace attnlab::kernels;
using nlohmann::json;

namespace {

void nccl_check(ncclResult_t r, const char* what, const char* file, int line) {
  if (r == ncclSuccess) return;
  throw CudaError(fmt::format("{}:{}: {} failed: {} ({})", file, line, what, int(r), ncclGetErrorString(r)));
}
#define RING_NCCL(call) nccl_check((call), #call, __FILE__, __LINE__)

// ---------------------------------------------------------------------------------------------
// The block kernel: attn-mma with its per-row log-sum-exp.

// O_j (bf16, normalised) and lse_j (fp32, natural log, of the scaled scores) of one block pair.
cudaError_t block_forward(AttnProblem p, float* lse, cudaStream_t stream) {
  p.lse = lse;
  return attn_mma_forward(p, stream);
}

// ---------------------------------------------------------------------------------------------
// The ring.

// serial: each transfer waits for the step's compute (compute and transfer each timed alone);
// overlap: the transfer of step s runs beside its compute, issued before it; overlap_compute_first:
// the same dependencies, the compute issued first (see run()); compute_only: the P steps with no
// transfer at all (every step computes on the GPU's own block: wrong result, right time), the
// floor a perfectly hidden transfer would reach.
enum class Schedule { serial, overlap, overlap_compute_first, compute_only };
const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::serial: return "serial";
    case Schedule::overlap: return "overlap";
    case Schedule::overlap_compute_first: return "overlap_compute_first";
    default: return "compute_only";
  }
}

struct RingShape {
  int P = 2;        // GPUs
  int batch = 1, heads = 32, kv_heads = 32, block = 1024, head_dim = 128;
  bool causal = false;
  long long seq() const { return (long long)P * block; }
  AttnShape full() const {  // the whole problem (single GPU, fp64 reference)
    AttnShape s;
    s.batch = batch, s.heads = heads, s.kv_heads = kv_heads, s.seq_q = s.seq_kv = int(seq()), s.head_dim = head_dim;
    s.causal = causal, s.dtype = ElemType::bf16;
    return s;
  }
  size_t q_block_elems() const { return size_t(batch) * heads * block * head_dim; }
  size_t kv_block_elems() const { return size_t(batch) * kv_heads * block * head_dim; }  // K (or V) of one block
  size_t kv_bytes_per_step() const { return 2 * kv_block_elems() * 2; }                  // K and V, bf16
  std::string label() const {
    return fmt::format("B{} H{}/{} n{} d{}{}", batch, heads, kv_heads, block, head_dim, causal ? " causal" : "");
  }
};

// What a step of GPU g does with K/V block j: 2 full, 1 causal diagonal, 0 nothing (masked).
int step_work(const RingShape& r, int g, int j) {
  if (!r.causal) return 2;
  return j < g ? 2 : j == g ? 1 : 0;
}

// One GPU's buffers, streams and events.
struct Gpu {
  int dev = 0;
  cudaStream_t compute = nullptr, comm = nullptr;
  ncclComm_t nccl = nullptr;
  DeviceBuffer q, kv[2], o_part, lse_part, acc_o, acc_lse, out;
  cudaEvent_t origin = nullptr;
  std::vector<cudaEvent_t> c0, c1, c2, t0, t1;  // per step: compute start, attention end, compute end; transfer start, end
};

// Times of one pass, ms from each GPU's origin event: [gpu][step].
struct PassTimes {
  std::vector<std::vector<double>> c0, c1, c2, t0, t1;
  double pass_ms = 0;  // max over GPUs of the last compute end
};

class Ring {
 public:
  Ring(const RingShape& r, const std::vector<ncclComm_t>& comms) : r_(r), g_(r.P) {
    for (int g = 0; g < r.P; ++g) {
      Gpu& x = g_[g];
      x.dev = g;
      x.nccl = comms[g];
      ATTN_CUDA(cudaSetDevice(g));
      // The transfer stream gets the higher priority so that the NCCL kernel's few blocks are
      // scheduled as soon as an SM frees up, instead of after the attention grid's last wave.
      int lo = 0, hi = 0;
      ATTN_CUDA(cudaDeviceGetStreamPriorityRange(&lo, &hi));
      ATTN_CUDA(cudaStreamCreateWithPriority(&x.compute, cudaStreamNonBlocking, lo));
      ATTN_CUDA(cudaStreamCreateWithPriority(&x.comm, cudaStreamNonBlocking, hi));
      x.q = DeviceBuffer(r.q_block_elems() * 2);
      for (auto& b : x.kv) b = DeviceBuffer(r.kv_bytes_per_step());
      x.o_part = DeviceBuffer(r.q_block_elems() * 2);
      x.lse_part = DeviceBuffer(size_t(r.batch) * r.heads * r.block * 4);
      x.acc_o = DeviceBuffer(r.q_block_elems() * 4);
      x.acc_lse = DeviceBuffer(size_t(r.batch) * r.heads * r.block * 4);
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

  // Scatters the whole problem's Q, K, V (BHND, N = P·n) into the GPUs' blocks.
  void upload(const HostInputs& in) {
    const int d = r_.head_dim, n = r_.block;
    const size_t seq = size_t(r_.seq());
    for (int g = 0; g < r_.P; ++g) {
      Gpu& x = g_[g];
      ATTN_CUDA(cudaSetDevice(g));
      // Block g of every (b, h): B·H rows of n·d contiguous values, N·d apart in the source.
      ATTN_CUDA(cudaMemcpy2D(x.q.get(), size_t(n) * d * 2, in.q.data() + size_t(g) * n * d, seq * d * 2,
                             size_t(n) * d * 2, size_t(r_.batch) * r_.heads, cudaMemcpyHostToDevice));
      char* kv = static_cast<char*>(x.kv[0].get());
      ATTN_CUDA(cudaMemcpy2D(kv, size_t(n) * d * 2, in.k.data() + size_t(g) * n * d, seq * d * 2, size_t(n) * d * 2,
                             size_t(r_.batch) * r_.kv_heads, cudaMemcpyHostToDevice));
      ATTN_CUDA(cudaMemcpy2D(kv + r_.kv_block_elems() * 2, size_t(n) * d * 2, in.v.data() + size_t(g) * n * d,
                             seq * d * 2, size_t(n) * d * 2, size_t(r_.batch) * r_.kv_heads, cudaMemcpyHostToDevice));
    }
    sync_all();
  }

  // Gathers the GPUs' output blocks into the whole O (BHND, N = P·n), raw bf16 bits.
  std::vector<std::uint16_t> download() {
    const int d = r_.head_dim, n = r_.block;
    const size_t seq = size_t(r_.seq());
    std::vector<std::uint16_t> o(size_t(r_.batch) * r_.heads * seq * d);
    for (int g = 0; g < r_.P; ++g) {
      ATTN_CUDA(cudaSetDevice(g));
      ATTN_CUDA(cudaMemcpy2D(o.data() + size_t(g) * n * d, seq * d * 2, g_[g].out.get(), size_t(n) * d * 2,
                             size_t(n) * d * 2, size_t(r_.batch) * r_.heads, cudaMemcpyDeviceToHost));
    }
    return o;
  }

  void poison_outputs() {
    for (Gpu& x : g_) {
      ATTN_CUDA(cudaSetDevice(x.dev));
      ATTN_CUDA(cudaMemset(x.out.get(), 0xFF, x.out.bytes()));
    }
    sync_all();
  }

  // One forward pass (P steps, P − 1 transfers). Every GPU must hold its own K/V block in kv[0]
  // when it starts; the blocks rotate during the pass, and rotate_back() (untimed) puts them back.
  PassTimes run(Schedule sched) {
    const int P = r_.P;
    sync_all();
    for (Gpu& x : g_) {
      ATTN_CUDA(cudaSetDevice(x.dev));
      ATTN_CUDA(cudaEventRecord(x.origin, x.compute));
      ATTN_CUDA(cudaStreamWaitEvent(x.comm, x.origin, 0));
    }
    const float scale = float(1.0 / std::sqrt(double(r_.head_dim)));
    const long long rows = (long long)r_.batch * r_.heads * r_.block;
    for (int s = 0; s < P; ++s) {
      const int cur = sched == Schedule::compute_only ? 0 : s & 1, nxt = cur ^ 1;
      // Compute on the block received in step s − 1 (or the GPU's own at s = 0).
      auto compute = [&] {
        for (int g = 0; g < P; ++g) {
          Gpu& x = g_[g];
          ATTN_CUDA(cudaSetDevice(g));
          if (s > 0 && sched != Schedule::compute_only) ATTN_CUDA(cudaStreamWaitEvent(x.compute, x.t1[s - 1], 0));
          ATTN_CUDA(cudaEventRecord(x.c0[s], x.compute));
          const int j = (g - s + P) % P;
          const int work = step_work(r_, g, j);
          if (work > 0) {
            AttnProblem p;
            p.shape.batch = r_.batch, p.shape.heads = r_.heads, p.shape.kv_heads = r_.kv_heads;
            p.shape.seq_q = p.shape.seq_kv = r_.block, p.shape.head_dim = r_.head_dim;
            p.shape.causal = work == 1, p.shape.dtype = ElemType::bf16;
            p.q = x.q.get();
            p.k = x.kv[cur].get();
            p.v = static_cast<char*>(x.kv[cur].get()) + r_.kv_block_elems() * 2;
            p.o = x.o_part.get();
            p.scale = scale;
            ATTN_CUDA(block_forward(p, static_cast<float*>(x.lse_part.get()), x.compute));
          }
          ATTN_CUDA(cudaEventRecord(x.c1[s], x.compute));
          // Step 0 always has work (the GPU's own block: full, or the causal diagonal), so the
          // accumulator starts there; a masked step (causal, j > g) merges nothing.
          ATTN_CUDA(ring_merge(static_cast<float*>(x.acc_o.get()), static_cast<float*>(x.acc_lse.get()),
                               x.o_part.get(), static_cast<const float*>(x.lse_part.get()), x.out.get(), rows,
                               r_.head_dim, s == 0, s == P - 1, work > 0, x.compute));
          ATTN_CUDA(cudaEventRecord(x.c2[s], x.compute));
        }
      };
      // Send the block of step s on to the next GPU, receive the block of step s + 1 from the previous.
      auto transfer = [&] {
        for (int g = 0; g < P; ++g) {
          Gpu& x = g_[g];
          ATTN_CUDA(cudaSetDevice(g));
          // kv[nxt] was read by step s − 1: receive into it only once that step is over. Serial:
          // wait for this step's compute too, so that transfer and compute never run together.
          if (sched == Schedule::serial) ATTN_CUDA(cudaStreamWaitEvent(x.comm, x.c2[s], 0));
          else if (s > 0) ATTN_CUDA(cudaStreamWaitEvent(x.comm, x.c2[s - 1], 0));
          ATTN_CUDA(cudaEventRecord(x.t0[s], x.comm));
        }
        RING_NCCL(ncclGroupStart());
        for (int g = 0; g < P; ++g) {
          Gpu& x = g_[g];
          ATTN_CUDA(cudaSetDevice(g));
          RING_NCCL(ncclSend(x.kv[cur].get(), r_.kv_bytes_per_step(), ncclUint8, (g + 1) % P, x.nccl, x.comm));
          RING_NCCL(ncclRecv(x.kv[nxt].get(), r_.kv_bytes_per_step(), ncclUint8, (g + P - 1) % P, x.nccl, x.comm));
        }
        RING_NCCL(ncclGroupEnd());
        for (int g = 0; g < P; ++g) {
          ATTN_CUDA(cudaSetDevice(g));
          ATTN_CUDA(cudaEventRecord(g_[g].t1[s], g_[g].comm));
        }
      };
      const bool sends = s + 1 < P && sched != Schedule::compute_only;
      // The order the host issues the two matters on the GPU: whichever kernel becomes ready first
      // takes the SMs. When the attention grid fits in one wave (n <= 1024 at H = 32 fills all 132
      // SMs), a transfer issued after it finds no free SM until the attention ends, and nothing
      // overlaps. "overlap" issues the transfer first; its NCCL kernel takes a few SMs at once.
      // (Serial must issue compute first: its transfer waits on this step's compute-end event.)
      if (sched == Schedule::overlap && sends) transfer();
      compute();
      if (sched != Schedule::overlap && sends) transfer();
    }
    sync_all();
    PassTimes t;
    for (auto* v : {&t.c0, &t.c1, &t.c2, &t.t0, &t.t1}) v->assign(P, std::vector<double>(P, 0.0));
    for (int g = 0; g < P; ++g) {
      Gpu& x = g_[g];
      ATTN_CUDA(cudaSetDevice(g));
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
  // After a pass GPU g's current buffer holds block (g − P + 1) mod P = (g + 1) mod P; the pass
  // that follows must start from block g in kv[0]. P − 1 transfers happened, so the block sits in
  // kv[(P − 1) & 1]. One untimed ring shift backwards puts the right block in place.
  void rotate_back() {
    const int P = r_.P;
    if (P == 1) return;
    const int at = (P - 1) & 1;
    RING_NCCL(ncclGroupStart());
    for (int g = 0; g < P; ++g) {
      Gpu& x = g_[g];
      ATTN_CUDA(cudaSetDevice(g));
      // GPU g holds block (g + 1) mod P: send it to g + 1, receive block g from g − 1.
      RING_NCCL(ncclSend(x.kv[at].get(), r_.kv_bytes_per_step(), ncclUint8, (g + 1) % P, x.nccl, x.comm));
      RING_NCCL(ncclRecv(x.kv[at ^ 1].get(), r_.kv_bytes_per_step(), ncclUint8, (g + P - 1) % P, x.nccl, x.comm));
    }
    RING_NCCL(ncclGroupEnd());
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
};

// ---------------------------------------------------------------------------------------------
// Checks: the ring against single-GPU attention (the same kernel over the whole sequence on GPU 0)
// and against the fp64 CPU reference on sampled rows.

struct CheckOut {
  bool ok = false;
  double vs_single_max_abs = 0, vs_single_rel_l2 = 0;
  CheckResult ref;       // the ring vs fp64
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

CheckOut check_ring(const RingShape& r, Ring& ring, const HostInputs& in, std::uint64_t seed) {
  CheckOut c;
  const AttnShape s = r.full();
  ring.poison_outputs();
  ring.run(Schedule::overlap);
  const std::vector<std::uint16_t> got = ring.download();
  const std::vector<std::uint16_t> one = single_gpu(s, in);
  double e2 = 0, r2 = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double a = half_bits_to_float(got[i], s.dtype), b = half_bits_to_float(one[i], s.dtype);
    const double e = std::isfinite(a) ? std::fabs(a - b) : INFINITY;
    c.vs_single_max_abs = std::max(c.vs_single_max_abs, e);
    e2 += std::isfinite(e) ? e * e : 1e30;
    r2 += b * b;
  }
  c.vs_single_rel_l2 = std::sqrt(e2 / std::max(r2, 1e-300));
  // Rows: the harness's pick (tile edges, first/last, random) plus both sides of every block edge.
  std::vector<RowId> rows = pick_rows(s, 192, seed);
  std::set<std::tuple<int, int, int>> have;
  for (const RowId& x : rows) have.insert({x.b, x.h, x.i});
  for (int g = 1; g < r.P; ++g)
    for (int i : {g * r.block - 1, g * r.block})
      for (int h : {0, r.heads - 1})
        if (have.insert({r.batch - 1, h, i}).second) rows.push_back({r.batch - 1, h, i});
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
  std::vector<std::vector<StepStat>> steps;  // [gpu][step], medians over repeats
  PassTimes median_pass;                     // the repeat with the median pass time (the timeline)
  double compute_ms = 0;   // median over repeats of the mean full-block step compute (attention + merge)
  double attn_ms = 0;      // the attention launch alone
  double transfer_ms = 0;  // median over repeats of the mean transfer (steps 0..P−2), max over GPUs
  double idle_ms = 0;      // median over repeats of the compute streams' wait for blocks, summed over steps, max over GPUs
};

double median_of(std::vector<double> v) { return stats_of(std::move(v)).median; }

Measured measure(const RingShape& r, Ring& ring, Schedule sched, int warmup, int repeats) {
  const int P = r.P;
  Measured m;
  m.sched = sched;
  for (int i = 0; i < warmup; ++i) ring.run(sched);
  std::vector<PassTimes> all;
  for (int i = 0; i < repeats; ++i) all.push_back(ring.run(sched));
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
        if (step_work(r, g, j) == 2) c_sum += t.c2[g][s] - t.c0[g][s], a_sum += t.c1[g][s] - t.c0[g][s], ++c_n;
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

json shape_json(const RingShape& r) {
  return {{"devices", r.P},       {"batch", r.batch},       {"heads", r.heads},     {"kv_heads", r.kv_heads},
          {"seq", r.seq()},       {"block", r.block},       {"head_dim", r.head_dim}, {"causal", r.causal},
          {"dtype", "bf16"}};
}

json timeline_json(const RingShape& r, const PassTimes& t, bool sends_any) {
  json ev = json::array();
  for (int s = 0; s < r.P; ++s)
    for (int g = 0; g < r.P; ++g) {
      const int j = (g - s + r.P) % r.P;
      json e = {{"step", s},
                {"device", g},
                {"kv_block", j},
                {"work", step_work(r, g, j) == 2 ? 1.0 : step_work(r, g, j) == 1 ? 0.5 : 0.0},
                {"compute_start_ms", t.c0[g][s]},
                {"attn_end_ms", t.c1[g][s]},
                {"compute_end_ms", t.c2[g][s]},
                {"sends", sends_any && s + 1 < r.P}};
      if (sends_any && s + 1 < r.P) e["send_start_ms"] = t.t0[g][s], e["send_end_ms"] = t.t1[g][s];
      ev.push_back(e);
    }
  return ev;
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

}  // namespace

int main(int argc, char** argv) {
  // NVLink multicast (NVLS) off, always: see the file's header.
  setenv("NCCL_NVLS_ENABLE", "0", 1);
  setenv("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1", 1);
  setenv("NVSHMEM_DISABLE_NVLS", "1", 1);

  CLI::App app{"attnlab-ring-attention: ring attention over the GPUs of one host through NCCL: check, then time"};
  std::string json_path, sweep = "key";
  int devices = 0, repeats = 20, warmup = 2, batch = 1, heads = 32, kv_heads = 32, dim = 128;
  std::vector<int> blocks;
  bool check_only = false, quiet = false, causal = false;
  unsigned long long seed = 20261123;
  app.add_option("--devices", devices, "GPUs in the ring (default: all visible)")->check(CLI::Range(1, 64));
  app.add_flag("--check", check_only, "Correctness only: small shapes (MHA/GQA, causal, ragged), no timing");
  app.add_flag("--quiet", quiet, "Print only failures and the summary line");
  app.add_option("--sweep", sweep, "key: MHA and GQA-4 (H32, d128) for n = 256 ... 16384, and causal points; quick: a few small sizes")
      ->check(CLI::IsMember({"key", "quick"}));
  app.add_option("--block", blocks, "Instead of the sweep: these block sizes n (tokens per GPU), with --heads/--kv-heads/--dim/--batch/--causal");
  app.add_option("--batch", batch, "Sequences per batch (with --block)")->check(CLI::Range(1, 1024));
  app.add_option("--heads", heads, "Query heads (with --block)")->check(CLI::Range(1, 1024));
  app.add_option("--kv-heads", kv_heads, "K/V heads, dividing --heads (with --block)")->check(CLI::Range(1, 1024));
  app.add_option("--dim", dim, "Head size: 64 or 128 (with --block)")->check(CLI::IsMember({64, 128}));
  app.add_flag("--causal", causal, "Causal mask (with --block)");
  app.add_option("--repeats", repeats, "Timed passes per schedule")->check(CLI::Range(1, 1000));
  app.add_option("--warmup", warmup, "Untimed passes first")->check(CLI::Range(0, 100));
  app.add_option("--json", json_path, "Write the measurements here (schema: assets/measurements/README.md, ring)");
  app.add_option("--seed", seed, "Base seed of the random inputs");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (heads % kv_heads != 0) {
    fmt::print(stderr, "attnlab-ring-attention: --kv-heads must divide --heads ({} heads, got {})\n", heads, kv_heads);
    return 2;
  }
  for (int b : blocks)
    if (b < 1 || b > (1 << 20)) {
      fmt::print(stderr, "attnlab-ring-attention: --block must be between 1 and 1048576 (got {})\n", b);
      return 2;
    }
  const std::string command = attnlab::command_line("attnlab-ring-attention", argc, argv);

  std::string why;
  if (!cuda_device_usable(why)) {
    fmt::print(stderr, "attnlab-ring-attention: {}.\nNothing was checked or timed (exit code {} = skipped).\n", why,
               kExitSkipped);
    return kExitSkipped;
  }
  int visible = 0;
  ATTN_CUDA(cudaGetDeviceCount(&visible));
  if (devices == 0) devices = visible;
  if (visible < 2) {
    fmt::print(stderr, "attnlab-ring-attention: {} GPU visible, a ring needs at least 2 (skipped)\n", visible);
    return kExitSkipped;
  }
  if (devices > visible) {
    fmt::print(stderr, "attnlab-ring-attention: --devices must be at most the {} visible GPUs (got {})\n", visible, devices);
    return 2;
  }

  try {
    const int P = devices;
    std::vector<ncclComm_t> comms(P);
    std::vector<int> ids(P);
    for (int g = 0; g < P; ++g) ids[g] = g;
    RING_NCCL(ncclCommInitAll(comms.data(), P, ids.data()));
    int nccl_version = 0;
    RING_NCCL(ncclGetVersion(&nccl_version));
    DeviceFacts dev = device_facts();
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
    if (!quiet)
      fmt::print("{} x {} ({} SMs), driver {}, CUDA {} runtime {}, NCCL {}.{}.{}; {}\n", P, dev.name, dev.sm_count,
                 dev.driver_version, dev.cuda_driver, dev.cuda_runtime, nccl_version / 10000, (nccl_version / 100) % 100,
                 nccl_version % 100, p2p);

    // Shapes: the check set (small, awkward sizes) and the timed sweep.
    auto mk = [&](int b, int h, int kvh, int n, int d, bool c) {
      RingShape r;
      r.P = P, r.batch = b, r.heads = h, r.kv_heads = kvh, r.block = n, r.head_dim = d, r.causal = c;
      return r;
    };
    std::vector<RingShape> checks = {mk(1, 8, 8, 512, 128, false), mk(2, 8, 2, 1000, 64, true),
                                     mk(1, 4, 4, 777, 128, true),  mk(1, 4, 1, 300, 128, false),
                                     mk(1, 16, 16, 4096, 128, true)};
    std::vector<RingShape> timed;
    if (!blocks.empty()) {
      for (int n : blocks) timed.push_back(mk(batch, heads, kv_heads, n, dim, causal));
    } else if (sweep == "quick") {
      for (int n : {512, 2048}) timed.push_back(mk(1, 32, 32, n, 128, false));
    } else {
      for (int kvh : {32, 8})
        for (int n : {256, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192, 16384})
          timed.push_back(mk(1, 32, kvh, n, 128, false));
      timed.push_back(mk(1, 32, 32, 4096, 128, true));
      timed.push_back(mk(1, 32, 32, 16384, 128, true));
    }
    if (check_only) timed.clear();

    bool all_ok = true;
    std::vector<Row> rows;
    auto run_shape = [&](const RingShape& r, bool time_it) {
      const AttnShape full = r.full();
      HostInputs in = make_inputs(full, ++seed);
      Row row;
      row.shape = r;
      Ring ring(r, comms);
      ring.upload(in);
      row.check = check_ring(r, ring, in, seed);
      if (!row.check.ok) all_ok = false;
      if (!quiet || !row.check.ok)
        fmt::print("check {:<24} P={}: vs single GPU max|diff| {:.2e} rel L2 {:.2e}; vs fp64 ({} rows) max err {:.2e} "
                   "(single GPU {:.2e}) {}{}\n",
                   r.label(), r.P, row.check.vs_single_max_abs, row.check.vs_single_rel_l2, row.check.ref.rows_checked,
                   row.check.ref.max_abs_error, row.check.single_ref.max_abs_error, row.check.ok ? "ok" : "FAILED ",
                   row.check.note);
      if (time_it && row.check.ok) {
        row.serial = measure(r, ring, Schedule::serial, warmup, repeats);
        row.overlap = measure(r, ring, Schedule::overlap, warmup, repeats);
        row.overlap_compute_first = measure(r, ring, Schedule::overlap_compute_first, warmup, repeats);
        row.compute_only = measure(r, ring, Schedule::compute_only, warmup, repeats);
      }
      return row;
    };
    for (const RingShape& r : checks) run_shape(r, false);
    for (const RingShape& r : timed) rows.push_back(run_shape(r, true));

    // The link alone, 4 KiB to 1 GiB: its latency (small messages) and bandwidth (the largest).
    struct Probe {
      size_t bytes;
      double ms, gbps;
    };
    std::vector<Probe> probes;
    if (!check_only)
      for (size_t b = size_t(4) << 10; b <= (size_t(1) << 30); b *= 4) {
        const double ms = link_probe_ms(comms, P, b, b >= (size_t(256) << 20) ? 5 : 20);
        probes.push_back({b, ms, double(b) / (ms * 1e-3) / 1e9});
      }
    const size_t probe_bytes = probes.empty() ? 0 : probes.back().bytes;
    const double probe_gbps = probes.empty() ? 0 : probes.back().gbps;

    if (!timed.empty()) {
      fmt::print("\n{:<28} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9}\n",
                 "shape (P=" + std::to_string(P) + ")", "K/V /step", "compute", "transfer", "link GB/s", "TFLOP/s",
                 "c-only", "serial", "overlap", "exposed", "hidden", "c1st");
      for (const Row& w : rows) {
        if (!w.check.ok) continue;
        const RingShape& r = w.shape;
        const double gbps = r.kv_bytes_per_step() / (w.serial.transfer_ms * 1e-3) / 1e9;
        const double tflops = 4.0 * r.batch * r.heads * double(r.block) * r.block * r.head_dim / (w.serial.attn_ms * 1e-3) / 1e12;
        // What the transfers cost the pass: the overlapped pass over the same pass with no transfer.
        const double exposed = median_of(w.overlap.pass_ms) - median_of(w.compute_only.pass_ms);
        const double hidden = P > 1 ? std::clamp(1.0 - exposed / ((P - 1) * w.serial.transfer_ms), 0.0, 1.0) : 1.0;
        fmt::print("{:<28} {:>8.2f}MB {:>7.3f}ms {:>7.3f}ms {:>9.1f} {:>8.1f} {:>7.3f}ms {:>7.3f}ms {:>7.3f}ms {:>7.3f}ms {:>6.0f}% {:>7.3f}ms\n",
                   r.label(), r.kv_bytes_per_step() / 1e6, w.serial.compute_ms, w.serial.transfer_ms, gbps, tflops,
                   median_of(w.compute_only.pass_ms), median_of(w.serial.pass_ms), median_of(w.overlap.pass_ms), exposed,
                   100 * hidden, median_of(w.overlap_compute_first.pass_ms));
      }
      fmt::print("link alone (ncclSend/Recv to both neighbours, no compute):");
      for (const Probe& pr : probes) fmt::print(" {} KiB {:.4f} ms ({:.1f} GB/s);", pr.bytes >> 10, pr.ms, pr.gbps);
      fmt::print("\n");
      fmt::print("compute, transfer: per step, each alone (serial schedule); c-only/serial/overlap/c1st: pass times (compute only,\n"
                 "serial, overlap issuing the transfer first, overlap issuing the compute first); exposed = overlap - c-only;\n"
                 "hidden = 1 - exposed / ((P - 1) x transfer)\n");
    }

    if (!json_path.empty()) {
      // The measurement file's header as every kernel program writes it; the ring's own section beside it.
      json doc = json::parse(measurement_to_json(
          attnlab::measurement_begin(measured_device(dev), command, "attnlab-ring-attention " ATTNLAB_VERSION)));
      json ring;
      ring["devices"] = P;
      ring["device_names"] = names;
      ring["nccl_version"] = fmt::format("{}.{}.{}", nccl_version / 10000, (nccl_version / 100) % 100, nccl_version % 100);
      ring["peer_access"] = p2p;
      ring["env"] = {{"NCCL_NVLS_ENABLE", "0"}};
      ring["kernel"] = "attn-mma";
      ring["timing"] = fmt::format("CUDA events on both streams of every GPU, every step; {} warm-up and {} timed passes per "
                                   "schedule, medians; no L2 flush (each block arrives fresh from the link or is re-read)",
                                   warmup, repeats);
      ring["schedules"] = {
          {"serial", "each transfer waits for its step's compute: compute and transfer timed alone"},
          {"overlap", "the transfer of step s beside its compute, the transfer issued first (the ring as built)"},
          {"overlap_compute_first", "the same dependencies, the compute issued first"},
          {"compute_only", "no transfer: every step computes on the GPU's own block (the floor of a perfectly hidden transfer)"}};
      ring["link_probe"] = {{"bytes", probe_bytes}, {"gbps", probe_gbps},
                            {"note", "ncclSend/ncclRecv to the ring neighbours, no compute; the largest message"}};
      ring["link_sizes"] = json::array();
      for (const Probe& pr : probes)
        ring["link_sizes"].push_back({{"bytes", pr.bytes}, {"ms", pr.ms}, {"gbps", pr.gbps}});
      ring["rows"] = json::array();
      for (const Row& w : rows) {
        const RingShape& r = w.shape;
        json row = {{"config", shape_json(r)},
                    {"kv_bytes_per_step", r.kv_bytes_per_step()},
                    {"flops_per_block", 4.0 * r.batch * r.heads * double(r.block) * r.block * r.head_dim},
                    {"check", {{"ok", w.check.ok},
                               {"vs_single_max_abs", w.check.vs_single_max_abs},
                               {"vs_single_rel_l2", w.check.vs_single_rel_l2},
                               {"rows_checked", w.check.ref.rows_checked},
                               {"max_abs_error", w.check.ref.max_abs_error},
                               {"rel_l2_error", w.check.ref.rel_l2_error},
                               {"single_gpu_max_abs_error", w.check.single_ref.max_abs_error}}}};
        if (!w.check.ok) {
          ring["rows"].push_back(row);
          continue;
        }
        for (const Measured* m : {&w.serial, &w.overlap, &w.overlap_compute_first, &w.compute_only}) {
          const Stats ps = stats_of(m->pass_ms);
          json sj = {{"pass_ms", {{"median", ps.median}, {"min", ps.min}, {"max", ps.max}, {"repeats", m->pass_ms.size()}}},
                     {"compute_ms", m->compute_ms},
                     {"attn_ms", m->attn_ms},
                     {"transfer_ms", m->transfer_ms},
                     {"idle_ms", m->idle_ms}};
          json steps = json::array();
          for (int s = 0; s < P; ++s) {
            double c = 0, a = 0, mg = 0, tr = 0, id = 0;  // max over GPUs of the per-step medians
            for (int g = 0; g < P; ++g) {
              const StepStat& x = m->steps[g][s];
              c = std::max(c, x.compute_ms), a = std::max(a, x.attn_ms), mg = std::max(mg, x.merge_ms);
              tr = std::max(tr, x.transfer_ms), id = std::max(id, x.idle_ms);
            }
            steps.push_back({{"step", s}, {"compute_ms", c}, {"attn_ms", a}, {"merge_ms", mg}, {"transfer_ms", tr}, {"idle_ms", id}});
          }
          sj["steps"] = steps;
          sj["timeline"] = timeline_json(r, m->median_pass, m->sched != Schedule::compute_only);
          row[schedule_name(m->sched)] = sj;
        }
        ring["rows"].push_back(row);
      }
      doc["ring"] = ring;
      std::ofstream f(json_path);
      f << doc.dump(2) << "\n";
      if (!f) throw std::runtime_error("cannot write " + json_path);
    }
    for (auto& c : comms) ncclCommDestroy(c);
    fmt::print("{}: ring attention over {} GPUs, {} shapes checked{}\n", all_ok ? "ok" : "FAILED", P,
               checks.size() + timed.size(), timed.empty() ? "" : fmt::format(", {} timed", timed.size()));
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnlab-ring-attention: {}\n", e.what());
    return 1;
  }
}
