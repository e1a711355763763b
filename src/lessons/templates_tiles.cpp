// The `tiles` template: which tiles of the FlashAttention-2 grid a masked kernel visits and which it
// skips, as src/sim/window_tiles.hpp counts them. Chapter 8 uses it for its worked Flex-attention
// example (a mask function becomes a block mask: empty tiles are never loaded).
#include <fmt/format.h>

#include "hw/gpu.hpp"
#include "lessons/templates.hpp"
#include "sim/config.hpp"
#include "sim/window_tiles.hpp"

namespace attnlab {

namespace {

TemplateValue tiles_value(const TemplateArgs& a, const std::string& field) {
  WindowConfig c;
  c.seq_q = c.seq_kv = a.u64_in("seq", 1, kMaxSeq);
  c.head_dim = a.u64_in("d", 1, kMaxHeadDim);
  c.heads = c.kv_heads = a.u64_in("heads", 1, kMaxHeads);
  c.causal = a.flag("causal");
  c.block_q = a.u64_in("br", 1, kMaxSeq);
  c.block_kv = a.u64_in("bc", 1, kMaxSeq);
  // `window` counts the keys a query sees, itself included (Mistral's convention); 0 = no window.
  const u64 w = a.u64_in("window", 0, kMaxSeq);
  if (w == 0) {
    c.window_left = c.window_right = -1;
  } else if (c.causal) {
    c.window_left = static_cast<long long>(w) - 1;
  } else {
    c.window_left = c.window_right = static_cast<long long>(w / 2);
  }
  const WindowTiles t = window_tiles(c, gpu_find(a.str("gpu")));
  if (field == "total") return TemplateValue::of_count(t.tiles_total);
  if (field == "visited") return TemplateValue::of_count(t.tiles_visited);
  if (field == "skipped") return TemplateValue::of_count(t.tiles_skipped);
  if (field == "masked") return TemplateValue::of_count(t.tiles_masked);
  if (field == "pairs") return TemplateValue::of_count(t.pairs_visible);
  if (field == "flops") return TemplateValue::of_count(t.flops, ValueUnit::flops);
  return TemplateValue::of(t.skipped_fraction(), ValueUnit::plain);  // skipped_fraction
}

}  // namespace

void register_templates_tiles(std::vector<TemplateDef>& reg) {
  reg.push_back({"tiles",
                 "A masked FlashAttention-2 tile grid (sliding window, causal or not): tiles visited and "
                 "skipped per (batch, head), as a block mask such as Flex attention's sees it.",
                 "src/sim/window_tiles.hpp",
                 {{"seq", "4096", "sequence length N"},
                  {"window", "0", "keys a query sees, itself included (0 = no window)"},
                  {"causal", "true", "causal mask"},
                  {"br", "128", "query tile rows Br"},
                  {"bc", "128", "key tile rows Bc"},
                  {"d", "128", "head dimension"},
                  {"heads", "16", "heads (flops only)"},
                  {"gpu", "h100-sxm", "GPU preset"}},
                 {{"total", "tiles of the grid, Tr x Tc"},
                  {"visited", "tiles loaded and multiplied"},
                  {"skipped", "tiles never loaded: wholly masked"},
                  {"masked", "visited tiles that straddle a mask edge (need the mask inside)"},
                  {"pairs", "(query, key) pairs the mask lets through"},
                  {"flops", "the simulator's FLOPs, all heads: causal at half (2 H N^2 d), a window 4 d per visible pair"},
                  {"skipped_fraction", "skipped / total"}},
                 "tiles seq=4096 window=1024 field=skipped",
                 tiles_value});
}

}  // namespace attnlab
