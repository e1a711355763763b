// `attnlab traffic`: how many bytes naive and tiled (FlashAttention) attention move between
// HBM/DRAM, L2 and SRAM for one configuration, with FLOPs and a roofline time estimate.
#include <cstdio>
#include <fmt/format.h>
#include <memory>

#include "cli/common.hpp"
#include "cli/model_options.hpp"
#include "sim/traffic.hpp"
#include "sim/verify.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {

struct TrafficOptionsCli {
  std::string algos = "naive,flash2";
  long long batch = 1, heads = 16, kv_heads = 0, seq = 4096, head_dim = 128, block_q = 0, block_kv = 0,
            block_q_bwd = 0, block_kv_bwd = 0;
  bool causal = false, no_l2 = false, verify = false, per_kernel = false;
  std::string dtype = "fp16", score_dtype, pass = "fwd", trace_file, format = "table";
  GpuOptions gpu;
  std::string config;        // --config: a model's config.json gives heads, K/V heads and head size
  CLI::App* cmd = nullptr;   // to tell the options given from their defaults
};

// --config: the model's attention shape, except where --heads/--kv-heads/--head-dim are given.
const ModelSpec* apply_traffic_config(TrafficOptionsCli& o) {
  if (o.config.empty()) return nullptr;
  const ModelSpec& m = model_find(o.config);
  if (!o.cmd->count("--heads")) o.heads = static_cast<long long>(m.heads);
  if (!o.cmd->count("--kv-heads")) o.kv_heads = static_cast<long long>(m.kv_heads);
  if (!o.cmd->count("--head-dim")) o.head_dim = static_cast<long long>(m.head_dim);
  return &m;
}

AttnConfig to_config(const TrafficOptionsCli& o) {
  AttnConfig c;
  c.batch = require_range(o.batch, "--batch", 1, static_cast<long long>(kMaxBatch));
  c.heads = require_range(o.heads, "--heads", 1, static_cast<long long>(kMaxHeads));
  c.kv_heads = o.kv_heads == 0 ? 0 : require_range(o.kv_heads, "--kv-heads", 1, static_cast<long long>(c.heads));
  c.seq = require_range(o.seq, "--seq", 1, static_cast<long long>(kMaxSeq));
  c.head_dim = require_range(o.head_dim, "--head-dim", 1, static_cast<long long>(kMaxHeadDim));
  c.block_q = o.block_q == 0 ? 0 : require_range(o.block_q, "--block-q", 1, 4096);
  c.block_kv = o.block_kv == 0 ? 0 : require_range(o.block_kv, "--block-kv", 1, 4096);
  c.block_q_bwd = o.block_q_bwd == 0 ? 0 : require_range(o.block_q_bwd, "--block-q-bwd", 1, 4096);
  c.block_kv_bwd = o.block_kv_bwd == 0 ? 0 : require_range(o.block_kv_bwd, "--block-kv-bwd", 1, 4096);
  c.causal = o.causal;
  const std::vector<DType> inputs = {DType::fp32, DType::fp16, DType::bf16, DType::fp8};
  c.dtype = parse_dtype(o.dtype, "--dtype", inputs);
  if (!o.score_dtype.empty()) c.score_dtype = parse_dtype(o.score_dtype, "--score-dtype", inputs);
  c.pass = parse_pass(o.pass);
  validate(c);
  return c;
}

std::string tiles_text(const AlgoTraffic& r, const AttnConfig& c) {
  if (r.algo == Algo::naive) return fmt::format("T={}", r.tiles.T);
  std::string s = fmt::format("{}x{}", r.tiles.Br, r.tiles.Bc);
  if (c.has_bwd() && (r.tiles.Br_bwd != r.tiles.Br || r.tiles.Bc_bwd != r.tiles.Bc))
    s += fmt::format(" (bwd {}x{})", r.tiles.Br_bwd, r.tiles.Bc_bwd);
  return s;
}

std::string bound_of(const AlgoTraffic& r, const GpuSpec& g, DType t) {
  return r.intensity() >= g.ridge_point(t) ? "compute" : "memory";
}

std::string traffic_json(const TrafficReport& rep, const std::vector<VerifyResult>& ver) {
  const AttnConfig& c = rep.config;
  JsonWriter w;
  w.begin_object().key("config").begin_object();
  w.field("batch", c.batch).field("heads", c.heads).field("kv_heads", c.kv_heads_eff()).field("seq", c.seq)
      .field("head_dim", c.head_dim).field("causal", c.causal).field("dtype", std::string(dtype_name(c.dtype)))
      .field("score_dtype", std::string(dtype_name(c.score_type()))).field("pass", std::string(pass_name(c.pass)));
  w.end_object().key("gpu").begin_object();
  w.field("name", rep.gpu.name).field("sm_count", rep.gpu.sm_count).field("smem_per_sm_bytes", rep.gpu.smem_per_sm)
      .field("smem_per_block_bytes", rep.gpu.smem_per_block).field("l2_bytes", rep.gpu.l2_bytes)
      .field("hbm_bytes_per_s", rep.gpu.hbm_bytes_per_s).field("peak_flops", rep.gpu.peak_flops(c.dtype))
      .field("overridden", rep.gpu.overridden);
  w.end_object().key("results").begin_array();
  for (const auto& r : rep.results) {
    w.begin_object().field("algo", std::string(algo_name(r.algo)));
    w.field("block_q", r.algo == Algo::naive ? r.tiles.T : r.tiles.Br)
        .field("block_kv", r.algo == Algo::naive ? r.tiles.T : r.tiles.Bc);
    if (c.has_bwd() && r.algo != Algo::naive)
      w.field("block_q_bwd", r.tiles.Br_bwd).field("block_kv_bwd", r.tiles.Bc_bwd);
    w.field("hbm_read_bytes", r.hbm.read).field("hbm_write_bytes", r.hbm.write)
        .field("dram_read_bytes", r.dram.read).field("dram_write_bytes", r.dram.write)
        .field("sram_read_bytes", r.sram.read).field("sram_write_bytes", r.sram.write)
        .field("flops", r.flops).field("arithmetic_intensity", r.intensity()).field("est_time_s", r.est_time_s)
        .field("dram_method", std::string(dram_method_name(r.method)))
        .field("events_total", r.events_total).field("events_simulated", r.events_simulated)
        .field("paper_io_fwd_bytes", r.paper_io_fwd);
    w.key("kernels").begin_array();
    for (const auto& k : r.kernels) {
      const auto hb = k.bytes.hbm_total(), db = k.bytes.dram_total();
      w.begin_object().field("name", k.bytes.name).field("grid", k.bytes.grid)
          .field("smem_bytes", k.bytes.smem_bytes).field("blocks_per_sm", k.bytes.blocks_per_sm)
          .field("waves", k.bytes.waves).field("hbm_read_bytes", hb.read).field("hbm_write_bytes", hb.write)
          .field("dram_read_bytes", db.read).field("dram_write_bytes", db.write).field("flops", k.flops)
          .field("est_time_s", k.est_time_s).field("dram_method", std::string(dram_method_name(k.bytes.method)));
      w.key("tensors").begin_object();
      for (size_t x = 0; x < kTensorCount; ++x) {
        const auto& h = k.bytes.hbm[x];
        if (h.read == 0 && h.write == 0) continue;
        w.key(tensor_name(static_cast<Tensor>(x))).begin_object()
            .field("hbm_read_bytes", h.read).field("hbm_write_bytes", h.write)
            .field("dram_read_bytes", k.bytes.dram[x].read).field("dram_write_bytes", k.bytes.dram[x].write)
            .end_object();
      }
      w.end_object().end_object();
    }
    w.end_array().end_object();
  }
  w.end_array();
  if (!ver.empty()) {
    w.key("verify").begin_array();
    for (const auto& v : ver)
      w.begin_object().field("seq", v.seq).field("head_dim", v.head_dim).field("block_q", v.Br).field("block_kv", v.Bc)
          .field("max_diff_fp32", v.max_diff_fp32).field("max_diff_fp64", v.max_diff_fp64)
          .field("max_err_fp32_vs_fp64", v.max_err_fp32).end_object();
    w.end_array();
  }
  w.end_object();
  return w.str();
}

Table results_table(const TrafficReport& rep) {
  const AttnConfig& c = rep.config;
  Table t({{"algo", false}, {"tiles", false}, {"HBM read"}, {"HBM write"}, {"HBM total"}, {"DRAM (L2 model)"},
           {"SRAM R+W"}, {"FLOPs"}, {"FLOP/B"}, {"est. time"}, {"bound", false}});
  for (const auto& r : rep.results) {
    t.add_row({cell(std::string(algo_name(r.algo))), cell(tiles_text(r, c)), cell_bytes(r.hbm.read),
               cell_bytes(r.hbm.write), cell_bytes(r.hbm.total()), cell_bytes(r.dram.total()),
               cell_bytes(r.sram.total()), cell(format_flops(r.flops), to_string_u128(r.flops)),
               cell_num(r.intensity(), 1), cell(format_seconds(r.est_time_s), fmt::format("{}", r.est_time_s)),
               cell(bound_of(r, rep.gpu, c.dtype))});
  }
  return t;
}

std::string traffic_csv(const TrafficReport& rep) {
  const AttnConfig& c = rep.config;
  Table t({{"algo"}, {"block_q"}, {"block_kv"}, {"hbm_read_bytes"}, {"hbm_write_bytes"}, {"dram_read_bytes"},
           {"dram_write_bytes"}, {"sram_read_bytes"}, {"sram_write_bytes"}, {"flops"}, {"est_time_s"}, {"dram_method"},
           {"batch"}, {"heads"}, {"kv_heads"}, {"seq"}, {"head_dim"}, {"causal"}, {"dtype"}, {"pass"}, {"gpu"}});
  for (const auto& r : rep.results) {
    auto n = [](u128 v) { return cell(to_string_u128(v)); };
    t.add_row({cell(std::string(algo_name(r.algo))), n(r.algo == Algo::naive ? r.tiles.T : r.tiles.Br),
               n(r.algo == Algo::naive ? r.tiles.T : r.tiles.Bc), n(r.hbm.read), n(r.hbm.write), n(r.dram.read),
               n(r.dram.write), n(r.sram.read), n(r.sram.write), cell(to_string_u128(r.flops)),
               cell(fmt::format("{}", r.est_time_s)), cell(std::string(dram_method_name(r.method))), n(c.batch),
               n(c.heads), n(c.kv_heads_eff()), n(c.seq), n(c.head_dim), cell(c.causal ? "true" : "false"),
               cell(std::string(dtype_name(c.dtype))), cell(std::string(pass_name(c.pass))), cell(rep.gpu.name)});
  }
  return t.to_csv();
}

std::string traffic_table(const TrafficReport& rep, const std::vector<VerifyResult>& ver, bool per_kernel) {
  const AttnConfig& c = rep.config;
  const GpuSpec& g = rep.gpu;
  std::string out = fmt::format(
      "attention {} | B={} H={} KV-heads={} N={} d={}{} | {} (scores {}){}\n"
      "on {}{}: SRAM {}/block, L2 {}, DRAM {}, {:.0f} TFLOP/s {}\n\n",
      pass_name(c.pass), c.batch, c.heads, c.kv_heads_eff(), c.seq, c.head_dim, c.causal ? " causal" : "",
      dtype_name(c.dtype), dtype_name(c.score_type()),
      c.scale_bytes_per_tile() ? fmt::format(", O {}, an fp32 scale per Q, K, V tile", dtype_name(c.out_type())) : "", g.name, g.overridden ? " (overridden)" : "",
      format_bytes(u128{g.smem_per_block}), format_bytes(u128{g.l2_bytes}), format_rate(g.hbm_bytes_per_s, "B/s"),
      g.peak_flops(c.dtype) / 1e12, dtype_name(c.dtype));
  out += results_table(rep).to_text();

  const AlgoTraffic* naive = rep.find(Algo::naive);
  for (const auto& r : rep.results) {
    if (naive == nullptr || r.algo == Algo::naive) continue;
    const double hbm_ratio = to_double(naive->hbm.total()) / to_double(r.hbm.total());
    const double dram_ratio = to_double(naive->dram.total()) / to_double(r.dram.total());
    out += fmt::format("\nnaive / {}: {} the HBM traffic, {} the DRAM traffic, {} the estimated time",
                       algo_name(r.algo), format_ratio(hbm_ratio), format_ratio(dram_ratio),
                       format_ratio(naive->est_time_s / r.est_time_s));
  }
  if (naive != nullptr && rep.results.size() > 1) out += "\n";

  if (per_kernel) {
    for (const auto& r : rep.results) {
      out += fmt::format("\n{} kernels:\n", algo_name(r.algo));
      Table t({{"kernel", false}, {"grid"}, {"SRAM/block"}, {"blocks/SM"}, {"waves"}, {"HBM R"}, {"HBM W"},
               {"DRAM R"}, {"DRAM W"}, {"est. time"}, {"DRAM by", false}});
      for (const auto& k : r.kernels) {
        const auto hb = k.bytes.hbm_total(), db = k.bytes.dram_total();
        t.add_row({cell(k.bytes.name), cell_count(k.bytes.grid), cell_bytes(u128{k.bytes.smem_bytes}),
                   cell_count(k.bytes.blocks_per_sm), cell_count(k.bytes.waves), cell_bytes(hb.read),
                   cell_bytes(hb.write), cell_bytes(db.read), cell_bytes(db.write),
                   cell(format_seconds(k.est_time_s)), cell(std::string(dram_method_name(k.bytes.method)))});
      }
      out += t.to_text();
    }
  }

  for (const auto& r : rep.results) {
    if (!c.has_fwd()) break;
    out += r.algo == Algo::naive
               ? fmt::format("\npaper's IO count, standard forward (Alg. 0): (4Nd + 4N²) elements x B·H = {}", format_bytes(r.paper_io_fwd))
               : fmt::format("\npaper's IO bound, FlashAttention forward (Thm. 2): N²d²/M elements x B·H = {} (M = SRAM per block "
                             "in elements; compare {})",
                             format_bytes(r.paper_io_fwd), algo_name(r.algo));
  }
  out += "\n";
  out += "\nHBM = every global-memory access, as the FlashAttention paper counts; DRAM = what reaches DRAM\n"
         "after the L2 model (each kernel starts cold: comparable with Nsight Compute's dram__bytes).\n";
  for (const auto& r : rep.results) {
    if (r.method == DramMethod::sampled)
      out += fmt::format("{}: DRAM estimated from a sample ({} of {} events) whose L2 hit rates scale the exact totals.\n",
                         algo_name(r.algo), format_count(r.events_simulated), format_count(r.events_total));
    else if (r.method == DramMethod::no_l2_model)
      out += fmt::format("{}: closed forms only (--no-l2): DRAM shown = HBM.\n", algo_name(r.algo));
  }
  for (const auto& v : ver) {
    out += fmt::format(
        "\nSame math (--verify, one head, N={} d={}{}, tiles {}x{}, seed 42):\n"
        "  max |naive - tiled|: fp32 {:.2e}, fp64 {:.2e}   (max |O| = {:.3f}; fp32 vs fp64 error {:.2e})\n"
        "  FlashAttention changes the data movement, not the result.\n",
        v.seq, v.head_dim, v.causal ? " causal" : "", v.Br, v.Bc, v.max_diff_fp32, v.max_diff_fp64, v.max_abs_out,
        v.max_err_fp32);
  }
  return out;
}

void write_trace(const std::string& path, const TrafficReport& rep) {
  constexpr u64 kMaxTraceEvents = 20'000'000;
  std::vector<std::vector<KernelPlan>> plans;
  for (const auto& r : rep.results) {
    if (r.events_total > kMaxTraceEvents)
      throw InputError(fmt::format("--trace: {} has {} events, more than {} (use a smaller --seq or --batch)",
                                   algo_name(r.algo), format_count(r.events_total), format_count(kMaxTraceEvents)));
    plans.push_back(plan_algorithm(r.algo, rep.config, r.tiles));
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
  if (!f) throw InputError(fmt::format("--trace: cannot write '{}'", path));
  fmt::print(f.get(), "algo,kernel,block,op,tensor,head,row,col,rows,cols,bytes,sram_write\n");
  for (size_t a = 0; a < plans.size(); ++a) {
    const auto& ks = plans[a];
    hierarchy_for_each_event(ks, rep.gpu, [&](const TileEvent& e) {
      fmt::print(f.get(), "{},{},{},{},{},{},{},{},{},{},{},{}\n", algo_name(rep.results[a].algo), ks[e.kernel].name,
                 e.block, event_op_name(e.op), tensor_name(e.tensor), e.head, e.row, e.col, e.rows, e.cols, e.bytes,
                 e.sram_write);
      return true;
    });
  }
}

void run_traffic(TrafficOptionsCli o) {
  const OutputFormat fmt_out = parse_output_format(o.format);
  const ModelSpec* model = apply_traffic_config(o);
  const AttnConfig c = to_config(o);
  const GpuSpec gpu = resolve_gpu(o.gpu);
  const std::vector<Algo> algos = parse_algo_list(o.algos);
  TrafficOptions opt;
  opt.l2_model = !o.no_l2;
  const TrafficReport rep = simulate_traffic(c, gpu, algos, opt);

  std::vector<VerifyResult> ver;
  if (o.verify) {
    const AlgoTraffic* tiled = nullptr;
    for (const auto& r : rep.results)
      if (r.algo != Algo::naive) tiled = &r;
    const u64 Br = tiled ? tiled->tiles.Br : 128, Bc = tiled ? tiled->tiles.Bc : 64;
    ver.push_back(verify_same_math(c.seq, c.head_dim, c.causal, Br, Bc));
  }
  if (!o.trace_file.empty()) write_trace(o.trace_file, rep);

  if (fmt_out == OutputFormat::json) print_out(traffic_json(rep, ver));
  else if (fmt_out == OutputFormat::csv) print_out(traffic_csv(rep));
  else
    print_out(traffic_table(rep, ver, o.per_kernel) +
              (model ? config_summary(*model, fmt::format("{} heads, {} K/V heads, head size {} (one layer)", o.heads,
                                                          o.kv_heads, o.head_dim))
                     : ""));
}

}  // namespace

void setup_traffic(CLI::App& app) {
  auto o = std::make_shared<TrafficOptionsCli>();
  auto* cmd = app.add_subcommand("traffic", "Bytes moved between HBM, L2 and SRAM by naive vs FlashAttention");
  cmd->add_option("--algo", o->algos, "Algorithms, comma-separated: naive, flash1, flash2")->default_val("naive,flash2");
  cmd->add_option("--batch,-b", o->batch, "Batch size B")->default_val(1);
  cmd->add_option("--heads", o->heads, "Query heads H")->default_val(16);
  cmd->add_option("--kv-heads", o->kv_heads, "K/V heads (GQA; 1 = MQA; default = --heads)");
  cmd->add_option("--seq,-n", o->seq, "Sequence length N")->default_val(4096);
  cmd->add_option("--head-dim,-d", o->head_dim, "Head dimension d")->default_val(128);
  cmd->add_flag("--causal", o->causal, "Causal mask: tiles above the diagonal are skipped");
  cmd->add_option("--dtype", o->dtype,
                  "Element type: fp32, fp16, bf16, fp8 (FP8 attention, forward only: Q, K, V in FP8 with an fp32 scale "
                  "per tile, O in bf16)")
      ->default_val("fp16");
  cmd->add_option("--score-dtype", o->score_dtype, "naive's S/P type (default: --dtype; fp32 = frameworks that upcast)");
  cmd->add_option("--pass", o->pass, "fwd, bwd or fwd+bwd")->default_val("fwd");
  cmd->add_option("--block-q", o->block_q, "Br: query rows per tile (default: the algorithm's)");
  cmd->add_option("--block-kv", o->block_kv, "Bc: key/value rows per tile (default: the algorithm's)");
  cmd->add_option("--block-q-bwd", o->block_q_bwd,
                  "flash2's backward Br: query rows streamed per step (default: --block-q if given, else "
                  "FlashAttention-2's backward: 128 for d <= 64, 64 beyond)");
  cmd->add_option("--block-kv-bwd", o->block_kv_bwd,
                  "flash2's backward Bc: key/value rows per thread block (default: --block-kv if given, else "
                  "FlashAttention-2's backward: 128 for d <= 128, 64 beyond)");
  add_gpu_options(cmd, o->gpu);
  cmd->add_option("--config", o->config, "A model's Hugging Face config.json: its heads, K/V heads and head size");
  o->cmd = cmd;
  cmd->add_flag("--no-l2", o->no_l2, "Closed forms only: skip the L2 model (fast, for sweeps)");
  cmd->add_flag("--per-kernel", o->per_kernel, "Also show each kernel's grid, waves and bytes");
  cmd->add_flag("--verify", o->verify, "Also compute naive and tiled attention on the CPU and compare (N <= 4096)");
  cmd->add_option("--trace", o->trace_file, "Write every tile event to this CSV file");
  add_format_option(cmd, o->format);
  cmd->callback([o] { run_traffic(*o); });
}

}  // namespace attnlab::cli
