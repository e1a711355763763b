// `attnlab gpus`: the GPU presets with the figures the simulator uses and their sources.
#include <fmt/format.h>

#include "cli/common.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {
std::string tflops(double f) { return f > 0 ? fmt::format("{:.1f}", f / 1e12) : "-"; }

std::string render(OutputFormat f) {
  const auto& presets = gpu_presets();
  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("default", std::string(default_gpu_name())).key("gpus").begin_array();
    for (const auto& g : presets) {
      w.begin_object()
          .field("name", g.name).field("full_name", g.full_name).field("arch", g.arch)
          .field("sm_count", g.sm_count).field("smem_per_sm_bytes", g.smem_per_sm)
          .field("smem_per_block_bytes", g.smem_per_block).field("regs_per_sm", g.regs_per_sm)
          .field("l2_bytes", g.l2_bytes).field("memory_bytes", g.hbm_bytes).field("memory_kind", g.memory_kind)
          .field("hbm_bytes_per_s", g.hbm_bytes_per_s).field("fp32_flops", g.fp32_flops)
          .field("tf32_flops", g.tf32_flops).field("fp16_flops", g.fp16_flops);
      w.key("fp8_flops");
      if (g.fp8_flops > 0) w.value(g.fp8_flops); else w.null();
      w.field("source", g.source).end_object();
    }
    w.end_array().end_object();
    return w.str();
  }
  Table t({{"gpu", false}, {"SMs"}, {"SRAM/SM"}, {"SRAM/block"}, {"regs/SM"}, {"L2"}, {"memory"},
           {"bandwidth"}, {"FP32 TF"}, {"TF32 TF"}, {"FP16 TF"}, {"FP8 TF"}, {"ridge fp16", true}});
  for (const auto& g : presets) {
    t.add_row({cell(g.name), cell_count(g.sm_count), cell_bytes(g.smem_per_sm), cell_bytes(g.smem_per_block),
               cell_count(g.regs_per_sm), cell_bytes(g.l2_bytes),
               cell(fmt::format("{:.0f} GB {}", g.hbm_bytes / 1e9, g.memory_kind), fmt::format("{}", g.hbm_bytes)),
               cell(format_rate(g.hbm_bytes_per_s, "B/s"), fmt::format("{}", g.hbm_bytes_per_s)),
               cell(tflops(g.fp32_flops)), cell(tflops(g.tf32_flops)), cell(tflops(g.fp16_flops)),
               cell(tflops(g.fp8_flops)),
               cell(fmt::format("{:.0f} FLOP/B", g.ridge_point(DType::fp16)),
                    fmt::format("{}", g.ridge_point(DType::fp16)))});
  }
  if (f == OutputFormat::csv) return t.to_csv();
  std::string out = t.to_text();
  out += fmt::format("\nDefault: {}. TF = dense TFLOP/s (no sparsity); ridge = FLOP per DRAM byte where\n"
                     "compute time equals memory time. Override with --sram-kib, --l2-mib, --hbm-gbps.\n"
                     "Sources:\n", default_gpu_name());
  for (const auto& g : presets) out += fmt::format("  {:<10} {}\n", g.name, g.source);
  return out;
}
}  // namespace

void setup_gpus(CLI::App& app) {
  auto* cmd = app.add_subcommand("gpus", "List the GPU presets and their figures (with sources)");
  auto format = std::make_shared<std::string>("table");
  add_format_option(cmd, *format);
  cmd->callback([format] { print_out(render(parse_output_format(*format))); });
}

}  // namespace attnlab::cli
