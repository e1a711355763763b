// attnlab-attn-bwd-mma: checks, then times, the backward rungs: --rung mma (kernels/attn-bwd-mma.cu,
// the default) or --rung hopper (kernels/attn-bwd-hopper.cu, sm_90a; only where nvcc built it).
// Plain C++ (not .cu) so that nvcc never parses CLI11 or nlohmann/json. On the shared launcher
// (launcher.hpp): its exits (2 bad input, 77 no GPU, 1 error) and its measurement file, whose
// standard part (device, date, command, tool, the forward runs) is written and validated by
// src/measure/measurement_write; the "backward" section (own FLOP convention, passes, variants,
// PyTorch references, ncu records) is added to that file after it.
//
//   --check [--quick]   dQ, dK, dV against the fp64 CPU reference (fresh random inputs, NaN-poisoned
//                       outputs): bf16/fp16, d 64/128, causal and not, ragged N, GQA/MQA, Nq != Nkv.
//                       Exit 0 all match, 1 a mismatch, 77 no GPU. --quick: three sizes (sanitizers).
//   --time [--sweep key] [--json F]   forward (attn-mma with lse), backward, and forward + backward
//                       as one training step; CUDA events, warm-up, L2 flushed, median.
//   --once              one forward + backward of the given shape (for ncu / compute-sanitizer).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attn-bwd.hpp"
#include "attn.hpp"
#include "backward-reference.hpp"
#include "launcher.hpp"

using namespace attnlab;
using namespace attnlab::kernels;
using nlohmann::json;

namespace {

constexpr const char* kProg = "attnlab-attn-bwd-mma";

// One backward rung as the program runs it: its entry point, variants 1..variants (attn-bwd.hpp),
// their tiles, and how its runs are named in the measurement file.
struct Rung {
  const char* kernel;  // the runs' "kernel"
  int number;          // the runs' "rung" (the forward ladder's number of the same instructions)
  int variants;
  cudaError_t (*backward)(const AttnBackwardProblem&, cudaStream_t);
  BwdTiles (*tiles)(int head_dim, int variant);
  int (*variant_of)(int head_dim, int variant);  // 0 -> the default variant
};
const Rung kRungMma{"attn-bwd-mma", 3, kBwdVariants, attn_bwd_mma, attn_bwd_tiles, attn_bwd_variant};
#ifdef ATTNLAB_BWD_HOPPER
const Rung kRungHopper{"attn-bwd-hopper", 4, kBwdHopperVariants, attn_bwd_hopper, bwd_hopper_tiles,
                       bwd_hopper_variant};
#endif
const Rung* g_rung = &kRungMma;

// Device buffers of one problem: inputs, forward outputs, dO, gradients, workspace.
struct BwdBuffers {
  DeviceBuffer q, k, v, o, lse, d_o, dq, dk, dv, ws;
  AttnProblem fwd;
  AttnBackwardProblem bwd;
};

BwdBuffers make_buffers(const AttnShape& s, const HostInputs& in, const std::vector<std::uint16_t>& d_o) {
  BwdBuffers b;
  const size_t qb = q_elems(s) * 2, kb = kv_elems(s) * 2;
  b.q = DeviceBuffer(qb), b.k = DeviceBuffer(kb), b.v = DeviceBuffer(kb), b.o = DeviceBuffer(qb);
  b.lse = DeviceBuffer(size_t(s.batch) * s.heads * s.seq_q * 4);
  b.d_o = DeviceBuffer(qb), b.dq = DeviceBuffer(qb), b.dk = DeviceBuffer(kb), b.dv = DeviceBuffer(kb);
  b.ws = DeviceBuffer(attn_bwd_workspace_bytes(s));
  ATTN_CUDA(cudaMemcpy(b.q.get(), in.q.data(), qb, cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(b.k.get(), in.k.data(), kb, cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(b.v.get(), in.v.data(), kb, cudaMemcpyHostToDevice));
  ATTN_CUDA(cudaMemcpy(b.d_o.get(), d_o.data(), qb, cudaMemcpyHostToDevice));
  // Poison every output: an element a kernel forgets to write stays NaN and fails the check.
  for (DeviceBuffer* p : {&b.o, &b.lse, &b.dq, &b.dk, &b.dv, &b.ws}) ATTN_CUDA(cudaMemset(p->get(), 0xFF, p->bytes()));
  const float scale = 1.0f / std::sqrt(float(s.head_dim));
  b.fwd.shape = s, b.fwd.q = b.q.get(), b.fwd.k = b.k.get(), b.fwd.v = b.v.get(), b.fwd.o = b.o.get();
  b.fwd.lse = static_cast<float*>(b.lse.get()), b.fwd.scale = scale;
  b.bwd.shape = s, b.bwd.q = b.q.get(), b.bwd.k = b.k.get(), b.bwd.v = b.v.get(), b.bwd.o = b.o.get();
  b.bwd.d_o = b.d_o.get(), b.bwd.lse = static_cast<const float*>(b.lse.get());
  b.bwd.dq = b.dq.get(), b.bwd.dk = b.dk.get(), b.bwd.dv = b.dv.get(), b.bwd.scale = scale;
  b.bwd.workspace = b.ws.get(), b.bwd.workspace_bytes = b.ws.bytes();
  return b;
}

// dO ~ U[-1, 1): the V draw of a shape whose K/V have Q's size.
std::vector<std::uint16_t> make_grad_output(const AttnShape& s, std::uint64_t seed) {
  AttnShape t = s;
  t.kv_heads = s.heads, t.seq_kv = s.seq_q;
  return make_inputs(t, seed).v;
}

void run_step(BwdBuffers& b, cudaStream_t st) {
  ATTN_CUDA(attn_mma_forward(b.fwd, st));
  ATTN_CUDA(g_rung->backward(b.bwd, st));
}

std::vector<std::uint16_t> download(const DeviceBuffer& d) {
  std::vector<std::uint16_t> h(d.bytes() / 2);
  ATTN_CUDA(cudaMemcpy(h.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost));
  return h;
}

std::vector<AttnShape> check_shapes(bool quick) {
  std::vector<AttnShape> out;
  auto add = [&](int b, int h, int hk, int nq, int nk, int d, bool causal, ElemType t) {
    AttnShape s;
    s.batch = b, s.heads = h, s.kv_heads = hk, s.seq_q = nq, s.seq_kv = nk, s.head_dim = d, s.causal = causal, s.dtype = t;
    out.push_back(s);
  };
  if (quick) {  // three sizes for the sanitizers, one ragged (and GQA, Nq != Nkv)
    add(1, 2, 2, 128, 128, 64, false, ElemType::bf16);
    add(1, 4, 2, 100, 197, 128, true, ElemType::bf16);
    add(2, 2, 1, 256, 256, 64, true, ElemType::fp16);
    return out;
  }
  for (ElemType t : {ElemType::bf16, ElemType::fp16})
    for (int d : {64, 128})
      for (bool c : {false, true}) {
        add(1, 2, 2, 256, 256, d, c, t);    // tile-aligned
        add(2, 4, 2, 200, 200, d, c, t);    // ragged, GQA 2
        add(1, 4, 1, 259, 130, d, c, t);    // MQA, Nq > Nkv: causal rows 0..128 see no key
        add(1, 2, 2, 77, 333, d, c, t);     // Nq < Nkv, both ragged
      }
  return out;
}

// `only`: the variants to check (empty = every variant of the rung).
int run_check(bool quick, const std::vector<int>& only) {
  cudaStream_t st = nullptr;
  int failures = 0, n = 0, checked = 0;
  std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (const AttnShape& s : check_shapes(quick)) {
    ++n;
    // Fresh inputs for every config: the kernel must compute the same function on any input.
    const HostInputs in = make_inputs(s, seed + 17 * n);
    const std::vector<std::uint16_t> d_o = make_grad_output(s, seed + 17 * n + 5);
    const BackwardReference ref = reference_backward(s, in, d_o, 1.0 / std::sqrt(double(s.head_dim)));
    const GradTolerance tol = grad_tolerance(s.dtype);
    for (int variant = 1; variant <= g_rung->variants; ++variant) {
      if (!only.empty() && std::find(only.begin(), only.end(), variant) == only.end()) continue;
      // Fresh buffers (poisoned again) for every variant.
      BwdBuffers b = make_buffers(s, in, d_o);
      b.bwd.variant = variant;
      run_step(b, st);
      ATTN_CUDA(cudaDeviceSynchronize());
      const GradCheck cq = check_grad(download(b.dq), ref.dq, s.dtype, tol);
      const GradCheck ck = check_grad(download(b.dk), ref.dk, s.dtype, tol);
      const GradCheck cv = check_grad(download(b.dv), ref.dv, s.dtype, tol);
      const bool ok = cq.ok && ck.ok && cv.ok;
      failures += ok ? 0 : 1;
      ++checked;
      fmt::print("{} v{} {:<40} dQ rel {:.2e} max {:.2e} | dK rel {:.2e} max {:.2e} | dV rel {:.2e} max {:.2e}\n",
                 ok ? "ok  " : "FAIL", variant, shape_label(s), cq.rel_l2, cq.max_abs, ck.rel_l2, ck.max_abs, cv.rel_l2,
                 cv.max_abs);
      for (auto [name, c] : {std::pair{"dQ", &cq}, {"dK", &ck}, {"dV", &cv}})
        if (!c->ok) fmt::print("     {}: {} (unwritten {})\n", name, c->first_failure, c->unwritten);
    }
  }
  fmt::print("{} of {} (config, variant) pairs match the fp64 reference (bf16 rel-L2 <= {}, fp16 <= {})\n",
             checked - failures, checked,
             grad_tolerance(ElemType::bf16).rel_l2, grad_tolerance(ElemType::fp16).rel_l2);
  return failures == 0 ? 0 : 1;
}

json config_json(const AttnShape& s, int block_q, int block_kv) {
  return {{"batch", s.batch},   {"heads", s.heads},       {"kv_heads", s.kv_heads}, {"seq_q", s.seq_q},
          {"seq_kv", s.seq_kv}, {"head_dim", s.head_dim}, {"causal", s.causal},     {"dtype", std::string(elem_name(s.dtype))},
          {"block_q", block_q}, {"block_kv", block_kv}};
}
// The backward variant's tiles (attn-bwd.hpp).
json bwd_config_json(const AttnShape& s, int variant) {
  const BwdTiles t = g_rung->tiles(s.head_dim, variant);
  return config_json(s, t.block_q, t.block_kv);
}
json time_json(const Stats& t, int repeats) {
  return {{"median", t.median}, {"min", t.min}, {"max", t.max}, {"repeats", repeats}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-attn-bwd-mma: FlashAttention-2's backward on mma.sync: check against fp64, then time"};
  bool check = false, quick = false, time_it = false, once = false, causal = false, fastest = false;
  std::string sweep, json_path, dtype = "bf16";
  AttnShape s;
  s.batch = 8, s.heads = 16, s.kv_heads = 0, s.seq_q = 4096, s.seq_kv = 0, s.head_dim = 128;
  int repeats = 10;
  std::vector<int> variants;
  int variant = 0;
  std::string rung = "mma";
  app.add_option("--rung", rung, "Backward rung: mma (attn-bwd-mma.cu) or hopper (attn-bwd-hopper.cu, sm_90a)")
      ->check(CLI::IsMember({"mma", "hopper"}));
  app.add_flag("--check", check, "dQ, dK, dV vs the fp64 CPU reference (exit 0 match, 1 mismatch, 77 no GPU)");
  app.add_flag("--quick", quick, "With --check: the three sizes the sanitizers run");
  app.add_flag("--time", time_it, "Time forward, backward and forward + backward");
  app.add_flag("--once", once, "One forward + backward, no check, no timing (ncu, compute-sanitizer)");
  app.add_option("--sweep", sweep, "With --time: 'key' = B8 H16 N4096 bf16, d 64/128, causal and not")
      ->check(CLI::IsMember({"key"}));
  app.add_option("--json", json_path, "Write the measurements here");
  app.add_option("--batch", s.batch, "Batch")->check(CLI::Range(1, 4096));
  app.add_option("--heads", s.heads, "Query heads")->check(CLI::Range(1, 1024));
  app.add_option("--kv-heads", s.kv_heads, "K/V heads (divides --heads; default = heads)")->check(CLI::Range(1, 1024));
  app.add_option("--seq", s.seq_q, "Query length Nq")->check(CLI::Range(1, 1 << 20));
  app.add_option("--seq-kv", s.seq_kv, "Key length Nkv (default = Nq)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--dim", s.head_dim, "Head dim d")->check(CLI::IsMember({64, 128}));
  app.add_flag("--causal", causal, "Causal mask (bottom-right aligned)");
  app.add_option("--dtype", dtype, "bf16 or fp16")->check(CLI::IsMember({"bf16", "fp16"}));
  app.add_option("--variants", variants,
                 fmt::format("With --time: also time these kernel variants' backward (1..{}); with --check: check "
                             "only these",
                             kBwdVariants))
      ->check(CLI::Range(1, kBwdVariants))
      ->delimiter(',');
  app.add_option("--variant", variant, "The variant --time's fwd/bwd/step and --once use (0 = default)")
      ->check(CLI::Range(0, kBwdVariants));
  app.add_flag("--fastest", fastest,
               "With --time --variants: time fwd/bwd/step with the fastest of the listed variants on each shape "
               "(how the default per d is chosen; the runs record which)");
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  auto before_gpu = [&]() -> std::optional<int> {
    if (s.kv_heads == 0) s.kv_heads = s.heads;
    if (s.seq_kv == 0) s.seq_kv = s.seq_q;
    s.causal = causal;
    s.dtype = dtype == "bf16" ? ElemType::bf16 : ElemType::fp16;
    if (s.heads % s.kv_heads != 0)
      throw BadInput(fmt::format("--kv-heads must divide --heads (got {} and {})", s.kv_heads, s.heads));
    if (int(check) + int(time_it) + int(once) != 1) throw BadInput("give exactly one of --check, --time, --once");
    if (fastest && variants.empty()) throw BadInput("--fastest needs --variants (the variants to choose from)");
    if (rung == "hopper") {
#ifdef ATTNLAB_BWD_HOPPER
      g_rung = &kRungHopper;
#else
      throw BadInput("--rung hopper: this build has no bwd-hopper (nvcc < 12.0 cannot assemble sm_90a)");
#endif
    }
    for (int v : variants)
      if (v > g_rung->variants)
        throw BadInput(fmt::format("--variants: {} has variants 1..{} (got {})", g_rung->kernel, g_rung->variants, v));
    if (variant > g_rung->variants)
      throw BadInput(fmt::format("--variant: {} has variants 1..{} (got {})", g_rung->kernel, g_rung->variants, variant));
    return std::nullopt;
  };
  return run_program(app, argc, argv, kProg, before_gpu, [&](Program& prog) -> int {
    if (g_rung != &kRungMma && prog.dev.cc_major != 9)
      return prog.skip(fmt::format("{} needs an sm_90 GPU (wgmma, TMA; this GPU: {}, compute capability {}.{})",
                                   g_rung->kernel, prog.dev.name, prog.dev.cc_major, prog.dev.cc_minor));
    if (check) return run_check(quick, variants);
    cudaStream_t st = nullptr;
    if (once) {
      BwdBuffers b = make_buffers(s, make_inputs(s, 1), make_grad_output(s, 2));
      b.bwd.variant = variant;
      run_step(b, st);
      ATTN_CUDA(cudaDeviceSynchronize());
      fmt::print("{}: one forward + backward of {} done\n", kProg, shape_label(s));
      return 0;
    }
    std::vector<AttnShape> shapes;
    if (sweep == "key") {
      for (int d : {64, 128})
        for (bool c : {false, true}) shapes.push_back(attn_shape(8, 16, 16, 4096, 4096, d, c, ElemType::bf16));
    } else {
      shapes.push_back(s);
    }
    const DeviceFacts& dev = prog.dev;
    // The schema's part: header and the forward runs ("runs": the schema's tflops is the forward's
    // FLOPs). The backward and the training step go under "backward", with their own FLOP convention.
    Measurements file = prog.begin_file();
    json backward = {{"flops_note", "backward = 2.5 x forward FLOPs (4·B·H·Nq·Nkv·d, half when causal); "
                                    "step (forward + backward) = 3.5 x"},
                     {"runs", json::array()}};
    json variant_times = json::array();
    TimingOptions opt;
    opt.repeats = repeats;
    fmt::print("{:<14} {:<36} {:>9} {:>8}\n", "pass", "config", "ms", "TFLOP/s");
    for (const AttnShape& t : shapes) {
      const HostInputs in = make_inputs(t, 20261202);
      BwdBuffers b = make_buffers(t, in, make_grad_output(t, 20261203));
      run_step(b, st);
      ATTN_CUDA(cudaDeviceSynchronize());
      // The forward's O is spot-checked (rows, fp64) so its run carries an error like every run.
      const std::vector<RowId> rows = pick_rows(t, 128, 7);
      const double scale = 1.0 / std::sqrt(double(t.head_dim));
      const CheckResult fc = check_output(t, in, download(b.o), rows, tolerance_for(KernelId::mma, t.dtype), scale);
      const double f = forward_flops(t);
      struct Pass {
        const char* name;
        double flops;
        std::function<void(cudaStream_t)> fn;
      };
      const Pass passes[] = {
          {"fwd", f, [&](cudaStream_t x) { ATTN_CUDA(attn_mma_forward(b.fwd, x)); }},
          {"bwd", 2.5 * f, [&](cudaStream_t x) { ATTN_CUDA(g_rung->backward(b.bwd, x)); }},
          {"fwd+bwd", 3.5 * f, [&](cudaStream_t x) { run_step(b, x); }},
      };
      // Every variant's backward, then the chosen one's passes.
      int chosen = variant;
      double best_ms = 0;
      for (int v : variants) {
        b.bwd.variant = v;
        const Stats ts = stats_of(time_launches(passes[1].fn, opt, dev.l2_bytes, st));
        if (fastest && (best_ms == 0 || ts.median < best_ms)) best_ms = ts.median, chosen = v;
        fmt::print("{:<14} {:<36} {:>9.3f} {:>8.1f}\n", fmt::format("bwd v{}", v), shape_label(t), ts.median,
                   2.5 * f / (ts.median * 1e-3) / 1e12);
        variant_times.push_back({{"variant", v}, {"config", bwd_config_json(t, v)}, {"time_ms", time_json(ts, repeats)},
                                 {"tflops", 2.5 * f / (ts.median * 1e-3) / 1e12}});
      }
      b.bwd.variant = chosen;
      for (const Pass& p : passes) {
        const std::vector<double> ms = time_launches(p.fn, opt, dev.l2_bytes, st);
        const Stats ts = stats_of(ms);
        const double tflops = p.flops / (ts.median * 1e-3) / 1e12;
        fmt::print("{:<14} {:<36} {:>9.3f} {:>8.1f}\n", p.name, shape_label(t), ts.median, tflops);
        if (std::string(p.name) == "fwd") {
          const KernelTiles ft = kernel_tiles(KernelId::mma, t.head_dim);
          file.runs.push_back(measured_run("attn-mma", kernel_info(KernelId::mma).rung,
                                           measured_config(t, ft.block_q, ft.block_kv), ms, f, forward_min_bytes(t),
                                           &fc,
                                           fc.ok ? "forward with lse output (the backward's input)"
                                                 : "FORWARD CHECK FAILED"));
          continue;
        }
        // bwd and fwd+bwd: the backward's tiles (the forward's are kernel_tiles(mma)).
        backward["runs"].push_back(
            {{"kernel", g_rung->kernel},
             {"rung", g_rung->number},
             {"source", "attnlab"},
             {"pass", p.name},
             {"config", bwd_config_json(t, chosen)},
             {"time_ms", time_json(ts, repeats)},
             {"tflops", tflops},
             {"variant", g_rung->variant_of(t.head_dim, chosen)},
             {"note", "correctness: --check (fp64 reference on small shapes), not re-checked at this size"}});
      }
    }
    backward["variants"] = variant_times;
    backward["variants_note"] =
        g_rung != &kRungMma
            ? std::string("attn-bwd-hopper variants (attn-bwd.hpp; Br 64, Bc 128, 2 consumer warpgroups + 1 "
                          "producer, wgmma, TMA, 16-byte dQ reds from registers): 1 = one step at a time, 2 = the "
                          "next step's S^T, dP^T issued before this step's dQ reds, 3 = each consumer warpgroup's "
                          "dQ over its own 64 keys (no barrier between the warpgroups, twice the dQ reds), 4 = "
                          "the dQ partials through shared memory, the reds issued by the producer warpgroup's "
                          "warps 1-3; 5, 6 = 1, 4 with each step's dQ product deferred into the next step (issued after its S^T, "
                          "dP^T) and dV issued before dS^T is computed; 7 = 1 with Br 128 at d64 (5 at d128); 8, 9 = 4, 1 with dV issued before dS^T is computed. Its "
                          "fwd+bwd step uses attn-mma's "
                          "forward (the Hopper forward writes no lse). ") +
                  (fastest ? "fwd/bwd/step runs use the fastest listed variant on each shape (their 'variant')."
                           : "fwd/bwd/step runs use --variant (their 'variant').")
            : "variants (attn-bwd.hpp): 1-6 one warp per 16 keys, Pᵀ and dSᵀ kept in its registers, Br 64: 1 = Bc 64 "
        "(4 warps), 8-byte dQ reds; 2 = Bc 128 (8 warps), 8-byte reds; 3 = Bc 128, 16-byte reds; 4 = Bc 64, "
        "16-byte reds; 5, 6 = 2, 4 with each block starting its walk over the query tiles at a different tile. "
        "7-9 the 2-D kernel (P and dS through shared memory, FlashAttention-2's warp layouts, 16-byte reds): 7 = "
        "Br 128 Bc 128 (d64) / Br 64 Bc 128 (d128), 8 warps; 8 = Br 64 Bc 64, 4 warps, 3 (d64) / 2 (d128) blocks "
        "per SM; 9 = Br 64 Bc 128, 8 warps. 10, 11 = the 2-D kernel with its fragment loads software-pipelined "
        "(two register buffers: the next k-step's ldmatrix before this one's mmas): 10 = 8's tiles (d64) / 7's "
        "(d128); 11 = 7's tiles (d64) / 8's (d128). 12, 13 = other warp counts: 12 = Br 128 Bc 128 with "
        "FlashAttention-2's d64 warp layout (d64) / Br 64 Bc 128, 16 warps (d128); 13 = Br 64 Bc 128, 8 warps, 2 "
        "blocks per SM (d64) / Br 64 Bc 64, 8 warps, 2 blocks per SM (d128). 14-17 = products reordered: 14 = S^T "
        "and dP^T in one loop + dQ before dK/dV, 15 = dQ first, 16 = one S^T/dP^T loop (8's tiles at d64, 7's at "
        "d128); 17 = 14's order on 12's tiles; 18 = one S^T/dP^T loop on 12's tiles (d64) / 8's (d128); 19 = "
        "the same on 7's tiles (d64) / 9's (d128); 20 = 14's order on 7's tiles (d64) / one S^T/dP^T loop "
        "pipelined on 7's tiles (d128). " +
        std::string(fastest ? "fwd/bwd/step runs use the fastest listed variant on each shape (their 'variant')."
                            : "fwd/bwd/step runs use --variant (their 'variant').");
    if (!json_path.empty()) {
      // The standard part through the one writer (validated), then the backward section beside it.
      prog.write_file(file, json_path);
      json doc;
      {
        std::ifstream in(json_path);
        doc = json::parse(in);
      }
      doc["backward"] = backward;
      std::ofstream out(json_path);
      out << doc.dump(2) << "\n";
      if (!out) throw std::runtime_error("cannot write " + json_path);
    }
    return 0;
  });
}
