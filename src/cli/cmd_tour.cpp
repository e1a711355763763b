// `attnlab tour`: the main job on a machine without a display — a few what-if questions a
// learner asks first, each answered live by the core library, with the command that digs deeper.
#include <fmt/format.h>

#include "cli/common.hpp"
#include "models/kv_cache.hpp"
#include "models/scaling.hpp"
#include "sim/traffic.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {

std::string tour_text() {
  std::string out = fmt::format("attnlab {} — a tour of efficient attention in five questions\n", ATTNLAB_VERSION);
  const GpuSpec& h100 = gpu_find("h100-sxm");

  // 1. Growth.
  const ScoreMatrix s1k = scaling_score_matrix(1000, 64, false), s8k = scaling_score_matrix(8000, 64, false);
  out += fmt::format(
      "\n1. Why is long context expensive?\n"
      "   Every token compares itself with every other: 1,000 tokens -> {} comparisons per head,\n"
      "   8,000 tokens -> {} ({}x the work for 8x the text).\n"
      "   More: attnlab steps\n",
      format_count(s1k.entries), format_count(s8k.entries),
      format_count(s8k.entries / s1k.entries));

  // 2. Naive vs FlashAttention traffic.
  AttnConfig c;
  c.batch = 1;
  c.heads = 32;
  c.seq = 8192;
  c.head_dim = 128;
  c.causal = true;
  const TrafficReport r = simulate_traffic(c, h100, {Algo::naive, Algo::flash2});
  const AlgoTraffic& n = r.results[0];
  const AlgoTraffic& f = r.results[1];
  out += fmt::format(
      "\n2. What does FlashAttention save? (32 heads, N=8192, d=128, causal, fp16, H100)\n"
      "   naive:  {} through HBM ({} reach DRAM), about {}\n"
      "   flash2: {} through HBM ({} reach DRAM), about {}  -> {} less DRAM traffic\n"
      "   More: attnlab traffic --heads 32 --seq 8192 --causal --per-kernel\n",
      format_bytes(n.hbm.total()), format_bytes(n.dram.total()), format_seconds(n.est_time_s),
      format_bytes(f.hbm.total()), format_bytes(f.dram.total()), format_seconds(f.est_time_s),
      format_ratio(to_double(n.dram.total()) / to_double(f.dram.total())));

  // 3. Is it memory- or compute-bound?
  out += fmt::format(
      "\n3. Memory-bound or compute-bound?\n"
      "   The H100 does {:.0f} fp16 FLOPs per DRAM byte at its ridge point; naive attention reaches {:.0f},\n"
      "   FlashAttention-2 {:.0f}: the same math, but only the tiled version keeps the tensor cores busy.\n"
      "   More: attnlab gpus\n",
      h100.ridge_point(DType::fp16), n.intensity(), f.intensity());

  // 4. KV cache.
  const ModelSpec& llama = model_find("llama-2-7b");
  const KvResult kv = kv_cache_size(llama, DType::fp16, 4096, 1);
  const ModelSpec& l3 = model_find("llama-3-8b");
  const KvResult kv3 = kv_cache_size(l3, DType::fp16, 4096, 1);
  out += fmt::format(
      "\n4. How big is the KV cache?\n"
      "   Llama 2 7B keeps {} per token (fp16), {} for a 4,096-token conversation;\n"
      "   Llama 3 8B shares K/V between groups of query heads (GQA): {} per token, {} per conversation.\n"
      "   More: attnlab kv --model llama-2-70b\n",
      format_bytes(kv.bytes_per_token), format_bytes(kv.bytes_per_seq), format_bytes(kv3.bytes_per_token),
      format_bytes(kv3.bytes_per_seq));

  // 5. Beyond quadratic.
  ScalingConfig sc;
  const FamilyCost full = scaling_cost(Family::full, 100000, sc), full_base = scaling_cost(Family::full, 10000, sc);
  const FamilyCost ssm = scaling_cost(Family::ssm, 100000, sc), ssm_base = scaling_cost(Family::ssm, 10000, sc);
  out += fmt::format(
      "\n5. If 10,000 tokens take 1 s, how long do 100,000 take?\n"
      "   full attention: {}   a state-space model (Mamba): {}\n"
      "   More: attnlab steps --seq 100000 --baseline-seq 10000 --baseline-time 1s\n",
      format_seconds(scaling_whatif_seconds(full, full_base, 1.0)),
      format_seconds(scaling_whatif_seconds(ssm, ssm_base, 1.0)));

  out += "\nThe course: attnlab lesson --list     Every command: attnlab --help\n";
  return out;
}

}  // namespace

void setup_tour(CLI::App& app) {
  auto* cmd = app.add_subcommand("tour", "Five what-if questions answered live (start here)");
  cmd->callback([] { print_out(tour_text()); });
}

}  // namespace attnlab::cli
