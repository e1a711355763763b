// attnlab-attn-fp8: checks the FP8 rung (attn-fp8-hopper.cu + fp8-quantize.cu, sm_90a) against
// fp64 references, measures its accuracy beside the bf16 Hopper rung, and times both (and the
// quantize kernels, and quantize + attention end to end) in one run. What the rung does and what
// it measured: the header of attn-fp8-hopper.cu.
//   attnlab-attn-fp8 --check [--quick]   (fp64 references, poisoned output; exit 77: no sm_90 GPU)
//   attnlab-attn-fp8 --json out.json     (check, accuracy table, timings; the "fp8" section)
//   attnlab-attn-fp8 --profile --profile-seq N --profile-dim D [--profile-causal]   (for ncu)
//   attnlab-attn-fp8 --validate out.json (reads the file back through the project's reader; no GPU)
#include <CLI/CLI.hpp>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "attn-fp8.hpp"
#include "attn-hopper.hpp"
#include "fp8-reference.hpp"
#include "hopper-program.hpp"
#include "launcher.hpp"
#include "measure/measurement_write.hpp"
#include "util/errors.hpp"

using namespace attnlab;
using namespace attnlab::kernels;
using nlohmann::json;

namespace {

constexpr double kOutlierFraction = 0.001, kOutlierScale = 10;
const Fp8Scaling kScalings[3] = {Fp8Scaling::tensor, Fp8Scaling::block, Fp8Scaling::block_hadamard};
const Fp8Options::Exp2 kExp2s[4] = {Fp8Options::Exp2::mufu, Fp8Options::Exp2::poly25, Fp8Options::Exp2::poly50,
                                    Fp8Options::Exp2::half2};
Fp8Options with_exp2(Fp8Options::Exp2 e) {
  Fp8Options o;
  o.exp2 = e;
  return o;
}
Fp8Options tree_max_opt(bool tree) {
  Fp8Options o;
  o.tree_max = tree;
  return o;
}

// The FP8 rung's inputs (what fp8_quantize writes) and the Hadamard signs.
struct Fp8Buffers {
  DeviceBuffer q8, k8, vt8, sq, sk, sv, signs;
};
Fp8Buffers alloc_fp8(const AttnShape& s, std::uint64_t seed) {
  Fp8Buffers f;
  const size_t zq = size_t(s.batch) * s.heads, zkv = size_t(s.batch) * s.kv_heads;
  f.q8 = DeviceBuffer(q_elems(s));
  f.k8 = DeviceBuffer(kv_elems(s));
  f.vt8 = DeviceBuffer(zkv * s.head_dim * fp8_vt_cols(s));
  f.sq = DeviceBuffer(zq * fp8_q_tiles(s) * 4);
  f.sk = DeviceBuffer(zkv * fp8_kv_tiles(s) * 4);
  f.sv = DeviceBuffer(zkv * fp8_kv_tiles(s) * 4);
  std::vector<float> signs(s.head_dim);
  std::mt19937_64 rng(seed ^ 0x5a5a5a5aULL);
  for (float& x : signs) x = (rng() & 1) ? 1.f : -1.f;
  f.signs = DeviceBuffer(signs.size() * 4);
  ATTN_CUDA(cudaMemcpy(f.signs.get(), signs.data(), f.signs.bytes(), cudaMemcpyHostToDevice));
  return f;
}
Fp8QuantizeArgs quantize_args(const AttnShape& s, const DeviceQkvo& b, Fp8Buffers& f) {
  Fp8QuantizeArgs a;
  a.shape = s;
  a.q = b.q.get(), a.k = b.k.get(), a.v = b.v.get();
  a.q8 = f.q8.get(), a.k8 = f.k8.get(), a.vt8 = f.vt8.get();
  a.sq = static_cast<float*>(f.sq.get()), a.sk = static_cast<float*>(f.sk.get()), a.sv = static_cast<float*>(f.sv.get());
  a.signs = static_cast<const float*>(f.signs.get());
  return a;
}
Fp8Problem fp8_problem(const AttnShape& s, DeviceQkvo& b, const Fp8Buffers& f) {
  Fp8Problem p;
  p.shape = s;
  p.q8 = f.q8.get(), p.k8 = f.k8.get(), p.vt8 = f.vt8.get();
  p.sq = static_cast<const float*>(f.sq.get()), p.sk = static_cast<const float*>(f.sk.get());
  p.sv = static_cast<const float*>(f.sv.get());
  p.o = b.o.get();
  p.scale = float(1.0 / std::sqrt(double(s.head_dim)));
  return p;
}
// Poisoned O, one run of `launch`, all of O back.
std::vector<std::uint16_t> run_poisoned(const AttnShape& s, DeviceQkvo& b, const std::function<void()>& launch) {
  ATTN_CUDA(cudaMemset(b.o.get(), 0xFF, b.o.bytes()));
  launch();
  ATTN_CUDA(cudaGetLastError());
  ATTN_CUDA(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(q_elems(s));
  ATTN_CUDA(cudaMemcpy(out.data(), b.o.get(), b.o.bytes(), cudaMemcpyDeviceToHost));
  return out;
}
void run_fp8(const AttnShape& s, DeviceQkvo& b, Fp8Buffers& f, Fp8Scaling m, const Fp8Options& opt, cudaStream_t st) {
  ATTN_CUDA(fp8_quantize(quantize_args(s, b, f), m, st));
  ATTN_CUDA(attn_fp8_forward(fp8_problem(s, b, f), opt, st));
}

// What the quantize kernels wrote, back on the host and decoded.
FloatInputs fetch_dequantized(const AttnShape& s, const Fp8Buffers& f) {
  auto get8 = [](const DeviceBuffer& d) {
    std::vector<std::uint8_t> v(d.bytes());
    ATTN_CUDA(cudaMemcpy(v.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost));
    return v;
  };
  auto getf = [](const DeviceBuffer& d) {
    std::vector<float> v(d.bytes() / 4);
    ATTN_CUDA(cudaMemcpy(v.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost));
    return v;
  };
  return dequantize(s, get8(f.q8), get8(f.k8), get8(f.vt8), getf(f.sq), getf(f.sk), getf(f.sv));
}

// The FP8 rung's check against the fp64 output of the original (bf16) inputs: a bound that FP8
// rounding stays well inside (e4m3 keeps 3 mantissa bits: S is off by ~0.1 on these peaked
// inputs) while a wrong index, scale or permutation lands far outside (rel l2 of order 1).
constexpr double kFp8RelL2 = 0.25, kFp8Atol = 0.5;
// ... and against the fp64 output of the dequantized FP8 inputs: what is left is P rounded to
// e4m3 for the P V GEMM (and fp32 sums), a few % at most.
constexpr double kFp8DeqRelL2 = 0.06;

MeasuredConfig fp8_config(const AttnShape& s) {
  MeasuredConfig c = measured_config(s, kFp8Br, kFp8Bc);
  c.dtype = "fp8";
  return c;
}
// Fewest bytes of one FP8 forward: Q, K, V once in e4m3 (V^T padded to whole tiles), their
// scales, O once in bf16.
double fp8_min_bytes(const AttnShape& s) {
  const double zq = double(s.batch) * s.heads, zkv = double(s.batch) * s.kv_heads;
  return double(q_elems(s)) + double(kv_elems(s)) + zkv * s.head_dim * fp8_vt_cols(s) +
         4.0 * (zq * fp8_q_tiles(s) + 2 * zkv * fp8_kv_tiles(s)) + 2.0 * double(q_elems(s));
}
// Bytes the quantize kernels move: bf16 Q, K, V read (twice for per-tensor scales: amax pass,
// then quantize pass), e4m3 Q, K, V^T and the scales written.
double quantize_bytes(const AttnShape& s, Fp8Scaling m) {
  const double zq = double(s.batch) * s.heads, zkv = double(s.batch) * s.kv_heads;
  const double in = 2.0 * (double(q_elems(s)) + 2.0 * double(kv_elems(s)));
  const double out = double(q_elems(s)) + double(kv_elems(s)) + zkv * s.head_dim * fp8_vt_cols(s) +
                     4.0 * (zq * fp8_q_tiles(s) + 2 * zkv * fp8_kv_tiles(s));
  return (m == Fp8Scaling::tensor ? 2 : 1) * in + out;
}

json config_json(const MeasuredConfig& c) {
  return json{{"batch", c.batch},       {"heads", c.heads},       {"kv_heads", c.kv_heads}, {"seq_q", c.seq_q},
              {"seq_kv", c.seq_kv},     {"head_dim", c.head_dim}, {"causal", c.causal},     {"dtype", c.dtype},
              {"block_q", c.block_q},   {"block_kv", c.block_kv}};
}

const char* fp8_note() {
  return "Q, K, V quantized to e4m3 by fp8-quantize.cu (scales: one per tensor, or one per tile of Br = 128 query "
         "rows / Bc = 128 keys of one head, optionally after a random-sign Hadamard transform of Q and K along "
         "head_dim); the quantize kernel writes V transposed (FP8 wgmma reads B K-major only) with its key columns "
         "permuted inside every 32 keys so that P, converted to e4m3 in registers, is used as wgmma's A operand "
         "without shuffles. sq*sk fold into the softmax's scale multiplier; sv_j folds into the per-step rescale "
         "of O (O kept in units of the current V tile's scale). fp32 accumulation, O in bf16. Timed: the "
         "attention kernel alone (attn-fp8-hopper), quantize kernels alone (quantize list), and quantize (block "
         "scales) + attention (attn-fp8-hopper-e2e). Accuracy: all rows against an fp64 CPU reference of the "
         "bf16-rounded inputs.";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attnlab-attn-fp8: check, measure the accuracy of, and time the FP8 rung (e4m3 wgmma, block scales)"};
  std::string json_path, validate_path;
  bool check_only = false, quick = false, profile = false, profile_causal = false, no_accuracy = false;
  bool d128_only = false;
  std::string profile_exp2 = "mufu", default_exp2 = "", default_max = "";
  int repeats = 10, warmup = 2, profile_seq = 4096, profile_dim = 128;
  unsigned long long seed = 20261202;
  app.add_flag("--check", check_only, "Only run the correctness checks (exit 0 when all pass, 77 without a GPU)");
  app.add_flag("--quick", quick, "With --check: small sizes only (for compute-sanitizer)");
  app.add_flag("--profile", profile, "No check: quantize (block scales), then one FP8 launch at B8 H16 (for ncu -k regex:attn_fp8)");
  app.add_option("--profile-seq", profile_seq, "With --profile: N")->check(CLI::Range(1, 1 << 20));
  app.add_option("--profile-dim", profile_dim, "With --profile: head_dim (64 or 128)");
  app.add_flag("--profile-causal", profile_causal, "With --profile: causal");
  app.add_option("--profile-exp2", profile_exp2, "With --profile: where exp2 runs (mufu, poly25, poly50, half2; d128)")
      ->check(CLI::IsMember({"mufu", "poly25", "poly50", "half2"}));
  app.add_option("--default-exp2", default_exp2,
                 "Time this exp2 mode as the default attn-fp8-hopper rows (the others as -<mode> variants)")
      ->check(CLI::IsMember({"mufu", "poly25", "poly50", "half2"}));
  app.add_option("--default-max", default_max,
                 "Time this row-max form as the default rows (chain or tree; the other as a -<form>max variant); "
                 "also used by --profile")
      ->check(CLI::IsMember({"chain", "tree"}));
  app.add_flag("--d128-only", d128_only, "With --json: time only the d128 configs (the exp2 variants' comparison)");
  app.add_option("--json", json_path, "Write the measurements here (schema: assets/measurements/README.md, + \"fp8\")");
  app.add_flag("--no-accuracy", no_accuracy, "With --json: skip the accuracy study");
  app.add_option("--validate", validate_path, "Read a measurement file back through attnlab's reader and exit");
  app.add_option("--repeats", repeats, "Timed repeats")->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed, "Base seed of the random inputs");
  auto before_gpu = [&]() -> std::optional<int> {
    if (profile_dim != 64 && profile_dim != 128)
      throw BadInput(fmt::format("--profile-dim must be 64 or 128 (got {})", profile_dim));
    if (!validate_path.empty()) {
      try {
        const Measurements m = measurement_load(validate_path);
        fmt::print("{}: valid ({} runs, {} references, {} ncu records, device {})\n", validate_path, m.runs.size(),
                   m.references.size(), m.ncu.size(), m.device.name);
        return 0;
      } catch (const InputError& e) {
        throw BadInput(e.what());
      }
    }
    return std::nullopt;
  };
  return run_program(app, argc, argv, "attnlab-attn-fp8", before_gpu, [&](Program& prog) -> int {
    const DeviceFacts& dev = prog.dev;
    if (std::optional<int> skipped = skip_without_hopper(prog)) return *skipped;
    Fp8Options def{};
    for (auto e : kExp2s)
      if (default_exp2 == fp8_exp2_name(e)) def.exp2 = e;
    if (!default_max.empty()) def.tree_max = default_max == "tree";
    if (profile) {
      const AttnShape s = attn_shape(8, 16, 16, profile_seq, profile_seq, profile_dim, profile_causal, ElemType::bf16);
      const HostInputs in = make_inputs(s, seed);
      DeviceQkvo b = upload_qkvo(s, in);
      Fp8Buffers f = alloc_fp8(s, seed);
      Fp8Options po = def;
      for (auto e : kExp2s)
        if (profile_exp2 == fp8_exp2_name(e)) po.exp2 = e;
      run_fp8(s, b, f, Fp8Scaling::block, po, nullptr);
      ATTN_CUDA(cudaDeviceSynchronize());
      fmt::print("profile launch done: {}\n", shape_label(s));
      return 0;
    }

    bool all_ok = true;
    // ---- correctness: every feature the rung claims, fresh random inputs, every scaling
    {
      const ElemType bf = ElemType::bf16;
      const std::vector<AttnShape> cases = hopper_check_shapes(
          {
              attn_shape(1, 2, 2, 128, 128, 128, false, bf),  // one tile
              attn_shape(1, 2, 2, 128, 128, 64, true, bf),    // one tile, diagonal mask, d 64
          },
          {}, quick);
      fmt::print("{:<34} {:<19} {:<8} {:>9} {:>8} {:>9} {:>8} {:>5}  {}\n", "check (attn-fp8)", "scaling", "variant",
                  "max err", "rel l2", "deq max", "deq l2", "unwr", "result");
      const std::vector<std::pair<const char*, Fp8Options>> variants = {
          {"auto", {}}, {"pingpong", {Fp8Options::PingPong::on, false}}, {"no-pp", {Fp8Options::PingPong::off, false}},
          {"per-tile", {Fp8Options::PingPong::automatic, true}}, {"poly25", with_exp2(Fp8Options::Exp2::poly25)},
          {"poly50", with_exp2(Fp8Options::Exp2::poly50)}, {"half2", with_exp2(Fp8Options::Exp2::half2)},
          {"treemax", tree_max_opt(true)}, {"chainmax", tree_max_opt(false)}};
      for (size_t c = 0; c < cases.size(); ++c) {
        const AttnShape& s = cases[c];
        const HostInputs in = make_inputs(s, seed + 17 * c);
        DeviceQkvo b = upload_qkvo(s, in);
        Fp8Buffers f = alloc_fp8(s, seed + c);
        const std::vector<RowId> rows = pick_rows(s, 256, seed + c);
        const double scale = 1.0 / std::sqrt(double(s.head_dim));
        const std::vector<double> ref = reference_rows(s, floats_of(s, in), scale, rows);
        for (Fp8Scaling m : kScalings)
          for (const auto& [vname, vopt] : variants) {
            if (m != Fp8Scaling::block && vname != std::string("auto")) continue;  // variants: block only
            if (s.head_dim != 128 && vopt.exp2 != Fp8Options::Exp2::mufu) continue;  // exp2 variants: d128 only
            const auto out = run_poisoned(s, b, [&] { run_fp8(s, b, f, m, vopt, nullptr); });
            const ErrorFigures e = error_figures(s, out, ref, rows);
            const std::vector<double> ref_deq = reference_rows(s, fetch_dequantized(s, f), scale, rows);
            const ErrorFigures ed = error_figures(s, out, ref_deq, rows);
            const bool ok = e.non_finite == 0 && e.rel_l2 <= kFp8RelL2 && e.max_abs <= kFp8Atol &&
                            ed.rel_l2 <= kFp8DeqRelL2;
            all_ok = all_ok && ok;
            fmt::print("{:<34} {:<19} {:<8} {:>9.2e} {:>8.2e} {:>9.2e} {:>8.2e} {:>5}  {}\n", shape_label(s),
                       fp8_scaling_name(m), vname, e.max_abs, e.rel_l2, ed.max_abs, ed.rel_l2, e.non_finite,
                       ok ? "ok" : "FAIL");
          }
      }
      fmt::print("check: {}\n", all_ok ? "all passed" : "FAILED");
    }
    if (check_only || json_path.empty()) return all_ok ? 0 : 1;

    json fp8 = {{"note", fp8_note()},
                {"outlier_fraction", kOutlierFraction},
                {"outlier_scale", kOutlierScale},
                {"accuracy", json::array()},
                {"quantize", json::array()}};
    // ---- accuracy: all rows against fp64, normal inputs with and without outliers
    if (!no_accuracy) {
      fmt::print("\n{:<34} {:<9} {:<19} {:>10} {:>10} {:>10}\n", "accuracy", "input", "method", "rmse", "rel l2",
                 "max abs");
      const std::vector<AttnShape> shapes = {attn_shape(1, 4, 4, 1024, 1024, 64, false, ElemType::bf16),
                                             attn_shape(1, 4, 4, 1024, 1024, 128, false, ElemType::bf16),
                                             attn_shape(1, 4, 4, 2048, 2048, 128, false, ElemType::bf16),
                                             attn_shape(1, 4, 4, 2048, 2048, 128, true, ElemType::bf16),
                                             attn_shape(1, 4, 4, 2048, 2048, 64, true, ElemType::bf16)};
      for (size_t c = 0; c < shapes.size(); ++c)
        for (const bool outliers : {false, true}) {
          const AttnShape& s = shapes[c];
          HostInputs bits;
          const FloatInputs fin =
              make_normal_inputs(s, seed + 300 + 2 * c + outliers, outliers ? kOutlierFraction : 0, kOutlierScale, bits);
          DeviceQkvo b = upload_qkvo(s, bits);
          Fp8Buffers f = alloc_fp8(s, seed + 400 + c);
          const std::vector<double> ref = reference_all(s, fin, 1.0 / std::sqrt(double(s.head_dim)));
          auto record = [&](const char* method, const std::vector<std::uint16_t>& out) {
            const ErrorFigures e = error_figures(s, out, ref, {});
            if (e.non_finite) all_ok = false;
            fp8["accuracy"].push_back({{"input", outliers ? "outliers" : "random"}, {"method", method},
                                       {"batch", s.batch}, {"heads", s.heads}, {"kv_heads", s.kv_heads},
                                       {"seq_q", s.seq_q}, {"seq_kv", s.seq_kv}, {"head_dim", s.head_dim},
                                       {"causal", s.causal}, {"rmse", e.rmse}, {"rel_l2", e.rel_l2},
                                       {"max_abs", e.max_abs}});
            fmt::print("{:<34} {:<9} {:<19} {:>10.3e} {:>10.3e} {:>10.3e}\n", shape_label(s),
                       outliers ? "outliers" : "random", method, e.rmse, e.rel_l2, e.max_abs);
          };
          AttnProblem pb = problem_of(s, b);
          record("bf16", run_poisoned(s, b, [&] { ATTN_CUDA(attn_hopper_forward(pb, HopperOptions{}, nullptr)); }));
          for (Fp8Scaling m : kScalings)
            record(fp8_scaling_name(m), run_poisoned(s, b, [&] { run_fp8(s, b, f, m, def, nullptr); }));
        }
    }

    // ---- timing: FP8 rung, bf16 Hopper rung, quantize kernels, end to end, in one run
    Measurements file = prog.begin_file();
    TimingOptions to;
    to.warmup = warmup;
    to.repeats = repeats;
    std::vector<AttnShape> timed = hopper_key_shapes();
    timed.push_back(attn_shape(8, 16, 16, 16384, 16384, 128, false, ElemType::bf16));
    timed.push_back(attn_shape(8, 16, 16, 16384, 16384, 128, true, ElemType::bf16));
    timed.push_back(attn_shape(8, 16, 16, 16384, 16384, 64, false, ElemType::bf16));
    if (d128_only)  // the exp2 variants' comparison: d128, and N16384 non-causal only
      std::erase_if(timed, [](const AttnShape& s) { return s.head_dim != 128 || (s.seq_q > 4096 && s.causal); });
    fmt::print("\n{:<36} {:<26} {:>9} {:>9} {:>9} {:>9}\n", "config", "kernel", "median ms", "TFLOP/s", "max err",
               "rel l2");
    for (size_t c = 0; c < timed.size(); ++c) {
      const AttnShape& s = timed[c];
      const HostInputs in = make_inputs(s, seed + 1000 + c);
      DeviceQkvo b = upload_qkvo(s, in);
      Fp8Buffers f = alloc_fp8(s, seed + 1000 + c);
      const std::vector<RowId> rows = pick_rows(s, 128, seed + 2000 + c);
      const double scale = 1.0 / std::sqrt(double(s.head_dim));
      const std::vector<double> ref = reference_rows(s, floats_of(s, in), scale, rows);
      auto print = [&](const MeasuredRun& r) {
        fmt::print("{:<36} {:<26} {:>9.3f} {:>9.1f} {:>9.2e} {:>9.2e}\n", shape_label(s), r.kernel, r.time.median_ms,
                   r.tflops, r.max_abs_error.value_or(0), r.rel_l2_error.value_or(0));
      };
      // bf16 Hopper rung
      {
        AttnProblem pb = problem_of(s, b);
        const auto out = run_poisoned(s, b, [&] { ATTN_CUDA(attn_hopper_forward(pb, HopperOptions{}, nullptr)); });
        const ErrorFigures e = error_figures(s, out, ref, rows);
        const Tolerance tol = tolerance_for(KernelId::hopper, s.dtype);
        if (e.non_finite || e.rel_l2 > tol.rel_l2) {
          fmt::print("{:<36} attn-hopper CHECK FAILED (rel l2 {:.2e})\n", shape_label(s), e.rel_l2);
          all_ok = false;
        } else {
          auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(attn_hopper_forward(pb, HopperOptions{}, st)); },
                                  to, dev.l2_bytes, nullptr);
          CheckResult cr;
          cr.max_abs_error = e.max_abs, cr.rel_l2_error = e.rel_l2;
          MeasuredRun r = measured_run("attn-hopper", 4, measured_config(s, 128, 128), ms, forward_flops(s),
                                       forward_min_bytes(s), &cr,
                                       "the bf16 Hopper rung (attn-hopper.cu, default variant), same run, for comparison");
          file.runs.push_back(r);
          print(r);
        }
      }
      // FP8 rung (block scales): check, then the attention kernel alone, variants, end to end
      {
        const auto out = run_poisoned(s, b, [&] { run_fp8(s, b, f, Fp8Scaling::block, def, nullptr); });
        const ErrorFigures e = error_figures(s, out, ref, rows);
        if (e.non_finite || e.rel_l2 > kFp8RelL2 || e.max_abs > kFp8Atol) {
          fmt::print("{:<36} attn-fp8-hopper CHECK FAILED (rel l2 {:.2e}, max {:.2e}, non-finite {})\n", shape_label(s),
                     e.rel_l2, e.max_abs, e.non_finite);
          all_ok = false;
          continue;
        }
        CheckResult cr;
        cr.max_abs_error = e.max_abs, cr.rel_l2_error = e.rel_l2;
        const Fp8Problem pf = fp8_problem(s, b, f);
        struct V {
          const char* name;
          Fp8Options opt;
          const char* note;
        };
        const std::string def_note = fmt::format(
            "e4m3 wgmma, block scales (Br = Bc = 128), V^T from the quantize kernel, P in e4m3; ping-pong at d128 "
            "only; exp2 at d128: {}; row max: {}; attention kernel alone (quantize timed separately: see "
            "fp8.quantize)",
            fp8_exp2_name(def.exp2), def.tree_max ? "tree" : "chain");
        std::vector<V> vs = {{"attn-fp8-hopper", def, def_note.c_str()}};
        if (s.seq_q == 4096 && s.kv_heads == s.heads) {
          Fp8Options on = def, off = def;
          on.pingpong = Fp8Options::PingPong::on;
          off.pingpong = Fp8Options::PingPong::off;
          vs.push_back({"attn-fp8-hopper-pingpong", on, "as attn-fp8-hopper, always with the ping-pong of the consumer warpgroups"});
          vs.push_back({"attn-fp8-hopper-nopingpong", off, "as attn-fp8-hopper, never with the ping-pong"});
        }
        {
          Fp8Options o = def;
          o.tree_max = !def.tree_max;
          vs.push_back({o.tree_max ? "attn-fp8-hopper-treemax" : "attn-fp8-hopper-chainmax", o,
                        o.tree_max ? "as attn-fp8-hopper, row maxima as trees, both rows' shuffles together"
                                   : "as attn-fp8-hopper, row maxima as one dependent chain per row (first version)"});
        }
        if (s.head_dim == 128) {
          const std::pair<Fp8Options::Exp2, const char*> exps[4] = {
              {Fp8Options::Exp2::mufu, "as attn-fp8-hopper, every exp2 on the MUFU pipe (ex2.approx.f32)"},
              {Fp8Options::Exp2::poly25, "as attn-fp8-hopper, a quarter of the softmax's exp2 as a degree-3 polynomial on the FMA pipe"},
              {Fp8Options::Exp2::poly50, "as attn-fp8-hopper, half of the softmax's exp2 as a degree-3 polynomial on the FMA pipe"},
              {Fp8Options::Exp2::half2, "as attn-fp8-hopper, exp2 two at a time in f16 (ex2.approx.f16x2), P to e4m3 from f16"}};
          for (const auto& [e, note] : exps) {
            if (e == def.exp2) continue;
            Fp8Options o = def;
            o.exp2 = e;
            static std::string names[4];
            names[int(e)] = std::string("attn-fp8-hopper-") + fp8_exp2_name(e);
            vs.push_back({names[int(e)].c_str(), o, note});
          }
        }
        for (const V& v : vs) {
          auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(attn_fp8_forward(pf, v.opt, st)); }, to,
                                  dev.l2_bytes, nullptr);
          MeasuredRun r = measured_run(v.name, 5, fp8_config(s), ms, forward_flops(s), fp8_min_bytes(s), &cr, v.note);
          file.runs.push_back(r);
          print(r);
        }
        auto ms = time_launches([&](cudaStream_t st) { run_fp8(s, b, f, Fp8Scaling::block, def, st); }, to,
                                dev.l2_bytes, nullptr);
        MeasuredRun r = measured_run("attn-fp8-hopper-e2e", 5, fp8_config(s), ms, forward_flops(s),
                                     fp8_min_bytes(s) + quantize_bytes(s, Fp8Scaling::block), &cr,
                                     "end to end: quantize bf16 Q, K, V (block scales, V^T) + the FP8 attention; "
                                     "TFLOP/s counts the attention's FLOPs only");
        file.runs.push_back(r);
        print(r);
      }
      // quantize kernels alone (the same for causal: timed on non-causal configs)
      if (!s.causal) {
        for (Fp8Scaling m : kScalings) {
          auto ms = time_launches([&](cudaStream_t st) { ATTN_CUDA(fp8_quantize(quantize_args(s, b, f), m, st)); },
                                  to, dev.l2_bytes, nullptr);
          const MeasuredTime t = measured_time(ms);
          const double bytes = quantize_bytes(s, m);
          const std::string kname = std::string("fp8-quantize-") + (fp8_scaling_name(m) + 4);
          fp8["quantize"].push_back(
              {{"kernel", kname},
               {"config", config_json(fp8_config(s))},
               {"time_ms", {{"median", t.median_ms}, {"min", t.min_ms}, {"max", t.max_ms}, {"repeats", t.repeats}}},
               {"gbps", bytes / (t.median_ms * 1e-3) / 1e9},
               {"note", m == Fp8Scaling::tensor
                            ? "amax pass over Q, K, V, reduction to one scale per tensor, quantize pass (bf16 read "
                              "twice); V written transposed"
                            : m == Fp8Scaling::block ? "one pass: tile amax, scale, quantize; V written transposed"
                                                     : "one pass: random-sign Hadamard transform of Q and K rows "
                                                       "(registers + shuffles), tile amax, scale, quantize; V "
                                                       "written transposed"}});
          fmt::print("{:<36} {:<26} {:>9.3f} {:>9} {:>9.0f} GB/s\n", shape_label(s), kname, t.median_ms, "",
                     bytes / (t.median_ms * 1e-3) / 1e9);
        }
      }
    }
    prog.write_file(file, json_path);
    json doc = json::parse(measurement_to_json(file));
    doc["fp8"] = fp8;
    std::ofstream out(json_path);
    out << doc.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + json_path);
    out.close();
    measurement_load(json_path);  // still a valid measurement file with the section added
    prog.print_device();
    return all_ok ? 0 : 1;
  });
}
