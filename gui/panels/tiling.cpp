// tiling: the FlashAttention walk, animated. One head's score matrix S as a grid of tiles, the Q
// tiles down the left and the K/V tiles across the top; the tiles in SRAM light up as the
// simulator's events load them, score tiles fill in as they are computed, and three counters (SRAM,
// HBM, DRAM after L2) rise. The naive algorithm runs beside it at the same pace (same fraction of
// its walk), writing S and P to HBM. Play, pause, step, speed; N, d, SRAM, Br, Bc.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <memory>

#include "panels/registry.hpp"
#include "sim/tiling_walk.hpp"
#include "panels/widgets.hpp"
#include "plot/plot_math.hpp"
#include "sim/traffic.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

constexpr float kWalkSeconds = 12.0f;  // the whole walk at speed 1x
constexpr double kHoldSeconds = 1.5;   // autoplay: pause at the end before starting again

struct TilingCache : PanelCache {
  std::string key;
  std::string error;
  std::unique_ptr<TileWalk> flash, naive;
  TrafficReport totals;  // the simulator's totals for the same head: where the counters end
  double progress = 0;   // 0..1 of each walk
  double hold = 0;       // autoplay: seconds left at the end
  // Heights measured on the previous frame: the column's text and counters (everything but the
  // diagram) and the legend under the columns. The diagram takes what is left, so the grid is as
  // large as the panel allows at any font size (presenter mode's 30 px font used to shrink it to a
  // thumbnail under an estimate made for the desk font).
  float column_other_h = 0, legend_h = 0;
};

AttnConfig head_config(const View& v) {
  AttnConfig c;
  c.batch = 1;
  c.heads = 1;
  c.seq = v.settings.tiling_n;
  c.head_dim = v.settings.tiling_d;
  c.causal = v.settings.tiling_causal;
  c.dtype = v.settings.dtype;
  c.block_q = v.settings.tiling_br;
  c.block_kv = v.settings.tiling_bc;
  return c;
}

void refresh_tiling(View& v, TilingCache& cache) {
  const Settings& s = v.settings;
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", v.gpu.name, s.tiling_n, s.tiling_d, s.tiling_sram_kib,
                                      s.tiling_br, s.tiling_bc, s.tiling_causal, s.tiling_flash1, s.tiling_gpu_order,
                                      dtype_name(s.dtype));
  if (key == cache.key) return;
  cache.key = key;
  cache.error.clear();
  cache.flash.reset();
  cache.naive.reset();
  try {
    GpuOverrides o;
    if (s.tiling_sram_kib) o.sram_kib = static_cast<double>(s.tiling_sram_kib);
    const GpuSpec gpu = gpu_apply_overrides(v.gpu, o);
    const AttnConfig c = head_config(v);
    const Algo fa = s.tiling_flash1 ? Algo::flash1 : Algo::flash2;
    cache.flash = std::make_unique<TileWalk>(fa, c, gpu, s.tiling_gpu_order);
    AttnConfig cn = c;
    cn.block_q = cn.block_kv = 0;  // Br/Bc are FlashAttention's; the naive GEMMs pick their own tiles
    cache.naive = std::make_unique<TileWalk>(Algo::naive, cn, gpu, s.tiling_gpu_order);
    cache.totals = simulate_traffic(c, gpu, {fa});
    const auto naive_totals = simulate_traffic(cn, gpu, {Algo::naive});
    cache.totals.results.push_back(naive_totals.results[0]);
  } catch (const std::exception& e) {
    cache.error = e.what();
    cache.flash.reset();
    cache.naive.reset();
  }
}

// Advances the clock: playing moves through the walk in kWalkSeconds / speed.
void advance(View& v, TilingCache& cache) {
  if (!v.playing) return;
  if (cache.progress >= 1.0) {
    if (!v.settings.autoplay) {
      v.playing = false;
      return;
    }
    cache.hold -= v.dt_s;
    if (cache.hold <= 0) cache.progress = 0;  // classroom loop
    return;
  }
  cache.progress = std::min(1.0, cache.progress + v.dt_s * v.settings.tiling_speed / kWalkSeconds);
  if (cache.progress >= 1.0) cache.hold = kHoldSeconds;
}

// The next on-chip step of the flash walk, as a fraction of its events.
void step_once(TilingCache& cache) {
  TileWalk& w = *cache.flash;
  const size_t n = w.size();
  size_t k = static_cast<size_t>(std::llround(cache.progress * n));
  // Find the next compute event after k (the S_ij step a learner wants to see).
  while (k < n) {
    w.seek(k + 1);
    ++k;
    if (w.current() && w.current()->op == EventOp::compute) break;
  }
  cache.progress = n ? static_cast<double>(k) / n : 1.0;
}

void tile_rect(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 fill, ImU32 border, float gap) {
  dl->AddRectFilled(ImVec2(a.x + gap, a.y + gap), ImVec2(b.x - gap, b.y - gap), fill, gap > 0.5f ? 2.0f : 0);
  if (border) dl->AddRect(ImVec2(a.x + gap, a.y + gap), ImVec2(b.x - gap, b.y - gap), border, 2.0f, 0, 2.0f);
}

bool resident(const TileWalk& w, Tensor t, u64 index) {
  for (const auto& e : w.resident())
    if (e.tensor == t && e.row == index) return true;
  return false;
}

// One algorithm's picture: Q strip, K/V strips, the score grid. Returns the height used.
void draw_walk_diagram(const TileWalk& w, ImVec2 origin, float side) {
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImFont* small = fonts().small;
  const float fs = small->FontSize;
  const u64 R = w.grid_rows(), C = w.grid_cols();
  const float strip = std::max(fs * 1.05f, side * 0.07f);
  const float gx = origin.x + strip * 1.15f, gy = origin.y + 2 * strip * 1.05f;
  const float gw = side - (gx - origin.x), gh = side - (gy - origin.y);
  const float cw = gw / C, ch = gh / R;
  const float gap = std::min(cw, ch) >= 6 ? 1.0f : 0.0f;
  const TileEvent* cur = w.current();

  // K and V strips across the top, Q down the left.
  for (u64 j = 0; j < C; ++j) {
    const float x0 = gx + j * cw, x1 = x0 + cw;
    const bool k_in = resident(w, Tensor::K, j), v_in = resident(w, Tensor::V, j);
    tile_rect(dl, ImVec2(x0, origin.y), ImVec2(x1, origin.y + strip), k_in ? th.k : color_alpha(th.k, 0.18f), 0, gap);
    tile_rect(dl, ImVec2(x0, origin.y + strip * 1.05f), ImVec2(x1, origin.y + strip * 2.05f), v_in ? th.v : color_alpha(th.v, 0.18f), 0, gap);
  }
  for (u64 i = 0; i < R; ++i) {
    const float y0 = gy + i * ch, y1 = y0 + ch;
    const bool q_in = resident(w, Tensor::Q, i);
    const bool o_in = resident(w, Tensor::O, i);
    tile_rect(dl, ImVec2(origin.x, y0), ImVec2(origin.x + strip, y1), q_in ? th.q : color_alpha(th.q, 0.18f),
              o_in ? th.o : 0, gap);
  }
  dl->AddText(small, fs, ImVec2(origin.x + 2, origin.y + (strip - fs) / 2), th.text, "K");
  dl->AddText(small, fs, ImVec2(origin.x + 2, origin.y + strip * 1.05f + (strip - fs) / 2), th.text, "V");
  if (ch >= fs) dl->AddText(small, fs, ImVec2(origin.x + (strip - fs * 0.6f) / 2, gy + 2), th.bg, "Q");

  // The score tiles.
  for (u64 i = 0; i < R; ++i)
    for (u64 j = 0; j < C; ++j) {
      const ImVec2 a(gx + j * cw, gy + i * ch), b(a.x + cw, a.y + ch);
      ImU32 fill = color_alpha(th.text_dim, 0.10f);
      switch (w.score(i, j)) {
        case ScoreTile::untouched: break;
        case ScoreTile::computed: fill = color_alpha(th.s, 0.55f); break;
        case ScoreTile::s_in_hbm: fill = color_alpha(th.hbm, 0.80f); break;
        case ScoreTile::p_in_hbm: fill = color_mix(th.hbm, th.bad, 0.55f); break;
        case ScoreTile::consumed: fill = color_alpha(th.hbm, 0.30f); break;
      }
      tile_rect(dl, a, b, fill, 0, gap);
    }
  // The tile being worked on now.
  if (cur && cur->row < R && cur->col < C && (cur->tensor == Tensor::S || cur->tensor == Tensor::P)) {
    const ImVec2 a(gx + cur->col * cw, gy + cur->row * ch), b(a.x + cw, a.y + ch);
    dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), th.text, 2.0f, 0, 2.5f);
  }
  dl->AddRect(ImVec2(gx, gy), ImVec2(gx + gw, gy + gh), th.grid, 0, 0, 1.0f);
  ImGui::Dummy(ImVec2(side, side));
}

// A counter as a bar: length relative to `scale` (the larger final total of both walks), so the
// two columns compare at a glance.
void counter_bar(const char* label, u128 now, u128 total, double scale, ImU32 color, float width) {
  const Theme& th = theme();
  ImFont* small = fonts().small;
  const float fs = small->FontSize;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float label_w = fs * 3.6f, h = fs * 1.25f;
  const std::string value = format_bytes(now);
  const float value_w = small->CalcTextSizeA(fs, 1e9f, 0, "000.0 MiB").x;
  const float bar_w = std::max(10.0f, width - label_w - value_w - 8);
  dl->AddText(small, fs, ImVec2(p.x, p.y), th.text, label);
  const float x0 = p.x + label_w;
  dl->AddRectFilled(ImVec2(x0, p.y + 2), ImVec2(x0 + bar_w, p.y + h - 2), color_alpha(color, 0.15f), 3);
  if (scale > 0) {
    const float f_now = static_cast<float>(std::min(1.0, to_double(now) / scale));
    const float f_end = static_cast<float>(std::min(1.0, to_double(total) / scale));
    dl->AddRectFilled(ImVec2(x0, p.y + 2), ImVec2(x0 + bar_w * f_now, p.y + h - 2), color, 3);
    dl->AddLine(ImVec2(x0 + bar_w * f_end, p.y), ImVec2(x0 + bar_w * f_end, p.y + h), th.text_dim, 2);
  }
  dl->AddText(small, fs, ImVec2(x0 + bar_w + 6, p.y), th.text, value.c_str());
  ImGui::Dummy(ImVec2(width, h));
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s: %s B so far, %s B at the end of the walk (simulator total)", label, format_count(now).c_str(),
                      format_count(total).c_str());
}

void legend_item(ImU32 color, const char* text) {
  ImFont* small = fonts().small;
  const float fs = small->FontSize;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  dl->AddRectFilled(ImVec2(p.x, p.y + fs * 0.15f), ImVec2(p.x + fs * 0.9f, p.y + fs * 1.05f), color, 2);
  dl->AddText(small, fs, ImVec2(p.x + fs * 1.2f, p.y), theme().text, text);
  ImGui::Dummy(ImVec2(fs * 1.3f + small->CalcTextSizeA(fs, 1e9f, 0, text).x, fs * 1.2f));
}

bool combo_tile(const char* id, const char* name, u64& value) {
  static const u64 choices[] = {0, 16, 32, 64, 128, 256};
  const std::string shown = value ? fmt::format("{} = {}", name, value) : fmt::format("{} = auto", name);
  bool changed = false;
  if (ImGui::BeginCombo(id, shown.c_str())) {
    for (u64 c : choices) {
      const std::string item = c ? std::to_string(c) : "auto (the paper's choice)";
      if (ImGui::Selectable(item.c_str(), c == value)) {
        value = c;
        changed = true;
      }
    }
    ImGui::EndCombo();
  }
  return changed;
}

}  // namespace

void draw_tiling(View& v) {
  const Theme& th = theme();
  auto& cache = v.cache<TilingCache>("tiling");
  Settings& s = v.settings;
  if (s.autoplay && !v.playing && cache.progress == 0 && cache.key.empty()) v.playing = true;
  panel_header("FlashAttention, tile by tile",
               fmt::format("simulator tile events (src/sim), one head, forward pass, {}", v.gpu.name));

  // Transport controls.
  if (ImGui::Button(v.playing ? "Pause" : "Play")) {
    if (!v.playing && cache.progress >= 1.0) cache.progress = 0;
    v.playing = !v.playing;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Space");
  ImGui::SameLine();
  if (ImGui::Button("Step") && cache.flash) {
    v.playing = false;
    step_once(cache);
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("one S tile of FlashAttention");
  ImGui::SameLine();
  if (ImGui::Button("Reset")) {
    cache.progress = 0;
    v.playing = false;
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_float("##speed", s.tiling_speed, 0.25f, 8.0f, "speed %.2gx", true);
  ImGui::SameLine();
  ImGui::Checkbox("GPU order", &s.tiling_gpu_order);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("off: one thread block after another, the loop nest of the paper\n"
                      "on: the blocks of a wave run together, as the simulator's hierarchy model sees them");

  // The question. In presenter mode folded into one line (opened with a click): at the room's font
  // size its three rows of sliders would leave the tile grid a thumbnail.
  const bool folded = s.present;
  const bool open = !folded || ImGui::TreeNodeEx("##question", 0, "settings: N = %s, d = %llu%s, %s",
                                                   tokens_text(s.tiling_n).c_str(), static_cast<unsigned long long>(s.tiling_d),
                                                   s.tiling_causal ? ", causal" : "", s.tiling_flash1 ? "FA-1" : "FA-2");
  if (open) {
  ImGui::SetNextItemWidth(control_width(3));
  slider_pow2("##n", "N", s.tiling_n, 128, 8192, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##d", "d", s.tiling_d, 16, 256);
  ImGui::SameLine();
  u64 sram = s.tiling_sram_kib ? s.tiling_sram_kib : v.gpu.smem_per_block / 1024;
  ImGui::SetNextItemWidth(control_width(1));
  if (slider_u64("##sram", "SRAM", sram, 16, std::max<u64>(v.gpu.smem_per_block / 1024, 16), "KiB/block"))
    s.tiling_sram_kib = sram == v.gpu.smem_per_block / 1024 ? 0 : sram;
  ImGui::SetNextItemWidth(control_width(4));
  combo_tile("##br", "Br", s.tiling_br);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(3));
  combo_tile("##bc", "Bc", s.tiling_bc);
  ImGui::SameLine();
  ImGui::Checkbox("causal", &s.tiling_causal);
  ImGui::SameLine();
  int fa = s.tiling_flash1 ? 1 : 2;
  if (ImGui::RadioButton("FA-1", fa == 1)) s.tiling_flash1 = true;
  ImGui::SameLine();
  if (ImGui::RadioButton("FA-2", fa == 2)) s.tiling_flash1 = false;
  if (folded) ImGui::TreePop();
  }

  refresh_tiling(v, cache);
  if (!cache.error.empty() || !cache.flash || !cache.naive) {
    panel_error(cache.error);
    return;
  }
  advance(v, cache);
  cache.flash->seek(static_cast<size_t>(std::llround(cache.progress * cache.flash->size())));
  cache.naive->seek(static_cast<size_t>(std::llround(cache.progress * cache.naive->size())));

  // Two columns: FlashAttention and the naive algorithm.
  const float gap = ImGui::GetStyle().ItemSpacing.x * 2;
  const float col_w = (ImGui::GetContentRegionAvail().x - gap) / 2;
  const float fs = fonts().small->FontSize;
  const float below = fs * 1.25f * 3 + fs * 1.3f * 2 + fs * 1.2f * 4 + ImGui::GetFontSize() * 5.2f;
  const float avail_y = ImGui::GetContentRegionAvail().y;
  const float other = cache.column_other_h > 0 ? cache.column_other_h + cache.legend_h + ImGui::GetStyle().ItemSpacing.y * 2 : below;
  const float side = std::max(60.0f, std::min(col_w, avail_y - other));
  const AlgoTraffic& tf = cache.totals.results[0];
  const AlgoTraffic& tn = cache.totals.results[1];
  const double scale_hbm = std::max(to_double(tf.hbm.total()), to_double(tn.hbm.total()));
  const double scale_sram = std::max(to_double(tf.sram.total()), to_double(tn.sram.total()));
  const double scale_dram = std::max(to_double(tf.dram.total()), to_double(tn.dram.total()));

  // Each column in its own child window: long subtitles are clipped, not pushing the other aside.
  const float legend_h = cache.legend_h > 0 ? cache.legend_h + ImGui::GetStyle().ItemSpacing.y : fs * 1.2f * 2 + ImGui::GetFontSize() * 2.8f;
  const float col_h = std::max(side, avail_y - legend_h);
  float column_other = 0;
  auto column = [&](const char* id, const TileWalk& w, const AlgoTraffic& total, const char* title, ImU32 color,
                    const std::string& tiles) {
    ImGui::BeginChild(id, ImVec2(col_w, col_h), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    const float y0 = ImGui::GetCursorScreenPos().y;
    ImGui::PushFont(fonts().bold);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(color), "%s", title);
    ImGui::PopFont();
    ImGui::PushFont(fonts().small);
    const std::string k = w.kernel_name();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s", tiles.c_str());
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s",
                       k.empty() ? "press Play or Step"
                                 : fmt::format("{}: block {} of {}", k, w.current()->block + 1, w.kernel_grid()).c_str());
    ImGui::PopFont();
    draw_walk_diagram(w, ImGui::GetCursorScreenPos(), std::min(side, col_w));
    counter_bar("SRAM", w.sram().total(), total.sram.total(), scale_sram, th.sram, col_w);
    counter_bar("HBM", w.hbm().total(), total.hbm.total(), scale_hbm, th.hbm, col_w);
    counter_bar("DRAM", w.dram().total(), total.dram.total(), scale_dram, th.dram, col_w);
    column_other = std::max(column_other, ImGui::GetCursorScreenPos().y - y0 - std::min(side, col_w));
    ImGui::EndChild();
  };
  const TilePlan& tp = cache.flash->tiles();
  column("flash", *cache.flash, tf, s.tiling_flash1 ? "FlashAttention-1" : "FlashAttention-2", th.series[0],
         fmt::format("Br×Bc = {}×{}, {} SRAM", tp.Br, tp.Bc, format_bytes(u128{tp.smem_fwd})));
  ImGui::SameLine(0, gap);
  column("naive", *cache.naive, tn, "Standard attention", th.series[1],
         fmt::format("GEMM tiles {}×{}, S and P in HBM", cache.naive->tiles().T, cache.naive->tiles().T));

  // Legend and the one-line lesson of the picture.
  cache.column_other_h = column_other;
  const float legend_y0 = ImGui::GetCursorScreenPos().y;
  legend_item(th.q, "Q tile in SRAM");
  ImGui::SameLine();
  legend_item(th.k, "K tile");
  ImGui::SameLine();
  legend_item(th.v, "V tile");
  ImGui::SameLine();
  legend_item(color_alpha(th.s, 0.55f), "S computed on chip");
  legend_item(color_alpha(th.hbm, 0.8f), "S written to HBM");
  ImGui::SameLine();
  legend_item(color_mix(th.hbm, th.bad, 0.55f), "P written to HBM");
  ImGui::SameLine();
  legend_item(color_alpha(th.hbm, 0.3f), "P read back");
  ImGui::PushTextWrapPos(0);
  ImGui::Text("Whole walk: FlashAttention moves %s through HBM, standard attention %s (%s).",
              format_bytes(tf.hbm.total()).c_str(), format_bytes(tn.hbm.total()).c_str(),
              format_ratio(to_double(tn.hbm.total()) / std::max(1.0, to_double(tf.hbm.total()))).c_str());
  ImGui::PopTextWrapPos();
  cache.legend_h = ImGui::GetCursorScreenPos().y - legend_y0;
}

}  // namespace attnlab::gui
