// attnlab-attn-decode: checks every decode variant (attn-decode.cu) against the fp64 reference on
// fresh random inputs (poisoned output), then times them over split sizes, contiguous and paged,
// beside the copy bandwidth and the read ceiling of each size. What the rung does and what it
// measured: the header of attn-decode.cu.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <numeric>
#include <random>
#include <vector>

#include "attn-decode.hpp"
#include "launcher.hpp"
#include "sim/decode_traffic.hpp"

using namespace attnlab;
using namespace attnlab::kernels;

namespace {

struct Row {
  std::string kernel, config, note;
  double ms = 0, gbps = 0, err = 0;
  bool ok = true;
  long run_index = -1;  // its run in the measurement file (timed rows), or -1
};

MeasuredConfig decode_config(const AttnShape& s, int block_kv) {
  return measured_config(s, 16, block_kv);  // 16: the mma rows, one per query head of the group
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-attn-decode: check, then time, the decode kernels (split-KV, paged) of kernels/attn-decode.cu"};
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
  const Variant* profile_var = &kVariants[0];
  auto before_gpu = [&]() -> std::optional<int> {
    for (const Variant& v : kVariants)
      if (profile_variant == v.name) profile_var = &v;
    if (page_size % 16 != 0) throw BadInput(fmt::format("--page-size must be a multiple of 16 (got {})", page_size));
    return std::nullopt;
  };
  return run_program(app, argc, argv, "attnlab-attn-decode", before_gpu, [&](Program& prog) -> int {
    const DeviceFacts& dev = prog.dev;
    Measurements file = prog.begin_file();
    TimingOptions to;
    to.warmup = warmup;
    to.repeats = repeats;
    to.flush_by_read = flush == "read";
    const std::string flush_note = flush == "read" ? "L2 emptied by reads before each repeat"
                                                   : "L2 emptied by a cudaMemset before each repeat (its dirty lines are "
                                                     "written back during the timed kernel)";

    // The copy ceiling: what every GB/s figure below is compared with.
    const double copy_gbps = check_only || profile ? 0.0 : copy_bandwidth_gbps(dev, to);

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
      // The counts are src/'s: the forward's FLOPs with one query row, the fewest bytes a step moves.
      DecodeConfig dc;
      dc.batch = u64(cs.B), dc.heads = u64(cs.H), dc.kv_heads = u64(cs.KVH), dc.seq_kv = u64(cs.L), dc.head_dim = kD;
      const double min_bytes = double(decode_min_bytes(dc)), flops = forward_flops(s);

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
          auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(decode_split_forward(p, var, st)); }, to,
                                  dev.l2_bytes, nullptr);
          row.ms = stats_of(ms).median;
          row.gbps = min_bytes / (row.ms * 1e-3) / 1e9;
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
        MeasuredRun run = measured_run(kernel, 5, decode_config(s, chunk), ms, flops, min_bytes, &r);
        row.ms = run.time.median_ms;
        row.gbps = *run.gbps;
        run.note = row.note + fmt::format("; {:.1f}% of copy bandwidth {:.0f} GB/s; {}", 100 * row.gbps / copy_gbps,
                                          copy_gbps, flush_note);
        file.runs.push_back(run);
        row.run_index = file.runs.size() - 1;
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
        if (best.run_index >= 0)
          file.runs[size_t(best.run_index)].note +=
              fmt::format("; split kernel alone {:.4f} ms (the combine and its launch: the rest)", so.ms);
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
        auto ms = time_launches(
            [&](cudaStream_t st) {
              ATTN_CUDA(read_stream(dk.get(), dv.get(), dk.bytes(), static_cast<unsigned*>(sink.get()), dev.sm_count * 4, st));
            },
            to, dev.l2_bytes, nullptr);
        const double med = stats_of(ms).median;
        const double gbps = 2.0 * dk.bytes() / (med * 1e-3) / 1e9;
        Row rr{"read-only K+V", label, "a kernel that only reads K and V (the read ceiling at this size)"};
        rr.ms = med, rr.gbps = gbps;
        table.push_back(rr);
        if (best.run_index >= 0)
          file.runs[size_t(best.run_index)].note += fmt::format(
              "; read ceiling at this size (a kernel that only reads K and V): {:.4f} ms, {:.0f} GB/s, {:.1f}% of copy "
              "bandwidth; this step takes {:.2f}x its time",
              med, gbps, 100 * gbps / copy_gbps, best.ms / med);
      }
    }
    if (profile) return 0;
    prog.write_file(file, json_path);
    fmt::print("{:<20} {:<18} {:>9} {:>8} {:>7} {:>9}  {}\n", "kernel", "config", "median ms", "GB/s", "% copy", "max err", "note");
    for (const Row& r : table) {
      if (check_only)  // checked, not timed
        fmt::print("{:<20} {:<18} {:>9} {:>8} {:>7} {:>9.2e}  {}{}\n", r.kernel, r.config, "-", "-", "-", r.err, r.ok ? "ok " : "FAIL ", r.note);
      else
        fmt::print("{:<20} {:<18} {:>9.4f} {:>8.0f} {:>6.1f}% {:>9.2e}  {}\n", r.kernel, r.config, r.ms, r.gbps,
                   100 * r.gbps / copy_gbps, r.err, r.note);
    }
    if (!check_only) fmt::print("copy bandwidth (1 GiB D2D, read+write): {:.0f} GB/s\n", copy_gbps);
    prog.print_device();
    return all_ok ? 0 : 1;
  });
}
