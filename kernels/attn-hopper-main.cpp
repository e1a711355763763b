// attnlab-attn-hopper: checks the Hopper rung (attn-hopper.cu, sm_90a) against the fp64 reference,
// then times it with the mma rung beside it. What the rung does and what it measured: the header of
// attn-hopper.cu.
//   attnlab-attn-hopper --check          (fp64 reference, poisoned output; exit 77: no sm_90 GPU)
//   attnlab-attn-hopper --json out.json  (the check, then timings with the mma rung beside)
#include <CLI/CLI.hpp>
#include <cmath>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "attn-hopper.hpp"
#include "hopper-program.hpp"
#include "launcher.hpp"

using namespace attnlab;
using namespace attnlab::kernels;

namespace {

// The inputs on the host (for the fp64 reference) and on the device.
struct Buffers {
  HostInputs in;
  DeviceQkvo dev;
};
Buffers upload(const AttnShape& s, std::uint64_t seed) {
  Buffers b;
  b.in = make_inputs(s, seed);
  b.dev = upload_qkvo(s, b.in);
  return b;
}
AttnProblem problem_of(const AttnShape& s, Buffers& b) { return problem_of(s, b.dev); }

// Poisoned output, one launch, the whole of O scanned for poison, `rows` rows against fp64.
// `hopper` null: the mma rung.
CheckResult run_check(const AttnShape& s, Buffers& b, const HopperOptions* hopper, size_t max_rows,
                      std::uint64_t seed) {
  AttnProblem p = problem_of(s, b);
  ATTN_CUDA(cudaMemset(b.dev.o.get(), 0xFF, b.dev.o.bytes()));
  ATTN_CUDA(hopper ? attn_hopper_forward(p, *hopper, nullptr) : attn_forward(KernelId::mma, p, nullptr));
  ATTN_CUDA(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(b.in.q.size());
  ATTN_CUDA(cudaMemcpy(out.data(), b.dev.o.get(), b.dev.o.bytes(), cudaMemcpyDeviceToHost));
  return check_output(s, b.in, out, pick_rows(s, max_rows, seed), tolerance_for(KernelId::hopper, s.dtype), p.scale);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-attn-hopper: check, then time, the Hopper rung (wgmma + TMA + warp specialization)"};
  std::string json_path, sweep = "key";
  bool check_only = false, quick = false, plant_race = false, profile = false;
  int repeats = 10, warmup = 2;
  unsigned long long seed = 20261123;
  app.add_flag("--check", check_only, "Only run the correctness checks (exit 0 when all pass, 77 without a GPU)");
  app.add_flag("--quick", quick, "With --check: small sizes only (for compute-sanitizer)");
  app.add_flag("--plant-race", plant_race,
               "With --check: run a copy with a deliberate bug (the producer overwrites K/V stages without waiting "
               "for the consumers), to see what the check and compute-sanitizer racecheck catch");
  app.add_flag("--profile", profile,
               "No check: one launch each of attn-hopper, attn-hopper-nopingpong and attn-hopper-pertile at "
               "B8 H16 N4096 d128, then d64 (for ncu -k regex:attn_hopper)");
  int profile_seq = 4096;
  bool profile_causal = false;
  app.add_option("--profile-seq", profile_seq, "With --profile: the sequence length N (a multiple of 128)")
      ->check(CLI::Range(128, 1 << 20));
  app.add_flag("--profile-causal", profile_causal, "With --profile: causal");
  app.add_option("--json", json_path, "Write the measurements here (schema: assets/measurements/README.md)");
  app.add_option("--sweep", sweep, "key: B8 H16 N4096 d64/d128, causal and not (+ GQA-4, fp16); none: check only")
      ->check(CLI::IsMember({"key", "none"}));
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed, "Base seed of the random inputs");
  auto before_gpu = [&]() -> std::optional<int> {
    if (profile_seq % 128 != 0) throw BadInput(fmt::format("--profile-seq must be a multiple of 128 (got {})", profile_seq));
    return std::nullopt;
  };
  return run_program(app, argc, argv, "attnlab-attn-hopper", before_gpu, [&](Program& prog) -> int {
    const DeviceFacts& dev = prog.dev;
    if (std::optional<int> skipped = skip_without_hopper(prog)) return *skipped;
    if (profile) {
      for (int d : {128, 64}) {
        const AttnShape s = attn_shape(8, 16, 16, profile_seq, profile_seq, d, profile_causal, ElemType::bf16);
        Buffers b = upload(s, seed);
        AttnProblem p = problem_of(s, b);
        // the order of the timing table: attn-hopper, attn-hopper-nopingpong, attn-hopper-pertile
        ATTN_CUDA(attn_hopper_forward(p, HopperOptions{true, false, HopperOptions::Grid::automatic}, nullptr));
        ATTN_CUDA(attn_hopper_forward(p, HopperOptions{false, false, HopperOptions::Grid::automatic}, nullptr));
        ATTN_CUDA(attn_hopper_forward(p, HopperOptions{true, false, HopperOptions::Grid::per_tile}, nullptr));
        ATTN_CUDA(cudaDeviceSynchronize());
      }
      fmt::print("profile launches done\n");
      return 0;
    }
    bool all_ok = true;
    // ---- correctness: every feature the rung claims, on fresh random inputs
    {
      const ElemType bf = ElemType::bf16, fp = ElemType::fp16;
      const std::vector<AttnShape> cases = hopper_check_shapes(
          {
              attn_shape(1, 2, 2, 128, 128, 64, false, bf),  // one tile
              attn_shape(1, 2, 2, 128, 128, 128, true, bf),  // one tile, diagonal mask
          },
          {
              attn_shape(1, 4, 4, 513, 513, 128, false, fp),  // fp16
              attn_shape(1, 4, 2, 640, 640, 64, true, fp),    // fp16, causal
          },
          quick);
      fmt::print("{:<36} {:<9} {:>5} {:>10} {:>10} {:>9}  {}\n", "check (attn-hopper)", "variant", "rows", "max err",
                 "rel l2", "unwritten", "result");
      std::vector<std::pair<const char*, HopperOptions>> variants = {
          {"pingpong", {true, false, HopperOptions::Grid::automatic}},
          {"no-pp", {false, false, HopperOptions::Grid::automatic}},
          {"persist", {true, false, HopperOptions::Grid::persistent}},
          {"per-tile", {true, false, HopperOptions::Grid::per_tile}}};
      if (plant_race) variants = {{"RACE", {true, true, HopperOptions::Grid::per_tile}}};
      for (size_t c = 0; c < cases.size(); ++c) {
        const AttnShape& s = cases[c];
        Buffers b = upload(s, seed + 17 * c);
        for (const auto& [vname, vopt] : variants) {
          CheckResult r = run_check(s, b, &vopt, 256, seed + c);
          all_ok = all_ok && r.ok;
          fmt::print("{:<36} {:<9} {:>5} {:>10.2e} {:>10.2e} {:>9}  {}\n", shape_label(s), vname, r.rows_checked,
                     r.max_abs_error, r.rel_l2_error, r.unwritten, r.ok ? "ok" : "FAIL " + r.first_failure);
        }
      }
      fmt::print("check: {}\n", all_ok ? "all passed" : "FAILED");
    }
    if (check_only || plant_race || sweep == "none" || !all_ok) return all_ok ? 0 : 1;

    // ---- timing: the hopper rung and the mma rung on the goal configs, in one run
    Measurements file = prog.begin_file();
    TimingOptions to;
    to.warmup = warmup;
    to.repeats = repeats;
    std::vector<AttnShape> timed = hopper_key_shapes();
    timed.push_back(attn_shape(8, 16, 16, 4096, 4096, 128, false, ElemType::fp16));
    timed.push_back(attn_shape(2, 16, 16, 16384, 16384, 128, true, ElemType::bf16));  // long
    fmt::print("\n{:<36} {:<22} {:>9} {:>9} {:>9}\n", "config", "kernel", "median ms", "TFLOP/s", "max err");
    const HopperOptions variants[4] = {{true, false, HopperOptions::Grid::automatic},
                                       {false, false, HopperOptions::Grid::automatic},
                                       {true, false, HopperOptions::Grid::persistent},
                                       {true, false, HopperOptions::Grid::per_tile}};
    const char* names[5] = {"attn-hopper", "attn-hopper-nopingpong", "attn-hopper-persistent", "attn-hopper-pertile",
                            "attn-mma"};
    const char* notes[5] = {
        "wgmma + TMA + warp specialization; softmax overlapped with PV; consumer warpgroups ping-pong their GEMMs; "
        "persistent grid when not causal, one block per query tile when causal",
        "as attn-hopper without the ping-pong between consumer warpgroups",
        "as attn-hopper, always a persistent grid (one block per SM taking every SM-count-th query tile; next tile's "
        "loads overlap this epilogue)",
        "as attn-hopper, always one block per query tile", "the mma rung, same run, for comparison"};
    for (size_t c = 0; c < timed.size(); ++c) {
      const AttnShape& s = timed[c];
      Buffers b = upload(s, seed + 1000 + c);
      for (int variant = 0; variant < 5; ++variant) {
        const HopperOptions* hopper = variant < 4 ? &variants[variant] : nullptr;
        const KernelId id = hopper ? KernelId::hopper : KernelId::mma;
        CheckResult r = run_check(s, b, hopper, 256, seed + 2000 + c);
        if (!r.ok) {
          fmt::print("{:<36} {:<22} CHECK FAILED: {}\n", shape_label(s), names[variant], r.first_failure);
          all_ok = false;
          continue;
        }
        AttnProblem p = problem_of(s, b);
        auto ms = time_launches(
            [&](cudaStream_t st) { ATTN_CUDA(hopper ? attn_hopper_forward(p, *hopper, st) : attn_forward(id, p, st)); },
            to, dev.l2_bytes, nullptr);
        const KernelTiles tiles = kernel_tiles(id, s.head_dim);
        MeasuredRun run = measured_run(names[variant], kernel_info(id).rung, measured_config(s, tiles.block_q, tiles.block_kv),
                                       ms, forward_flops(s), forward_min_bytes(s), &r, notes[variant]);
        file.runs.push_back(run);
        fmt::print("{:<36} {:<22} {:>9.3f} {:>9.1f} {:>9.2e}\n", shape_label(s), names[variant], run.time.median_ms,
                   run.tflops, r.max_abs_error);
      }
    }
    prog.write_file(file, json_path);
    prog.print_device();
    return all_ok ? 0 : 1;
  });
}
