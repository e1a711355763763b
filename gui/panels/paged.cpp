// paged: one stream of requests served twice, step by step, by the serving simulation of
// src/models/paged: once with contiguous reservations (Orca's max / pow2 / oracle) and once with
// PagedAttention blocks (vLLM). Each scheme's KV memory is drawn as a strip of token slots wrapped
// into rows, coloured by the request that holds them; under it the model's slot accounting for the
// step (used, reserved, internal and external fragmentation, free) as a stacked bar, and at the
// bottom the share of memory holding token states over the run, both schemes on one plot.
// Everything counted here is counted by ServeSim; this file only places its snapshots on screen.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <memory>

#include "models/kv_cache.hpp"
#include "models/model_spec.hpp"
#include "models/paged.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

constexpr u64 kRequests = 120;
constexpr u64 kMaxLen = 2048;   // the context both schemes serve (Orca "max" reserves all of it)
constexpr u64 kSeed = 7;        // the same stream every run: screenshots and the classroom agree
constexpr const char* kModel = "llama-2-13b";  // for the bytes the budget stands for (the paper's model)
constexpr size_t kMaxPlotPoints = 600;

struct History {
  std::vector<ServeStepStats> steps;
};

struct Side {
  std::unique_ptr<ServeSim> sim;
  ServeSnapshot snap;
  History hist;
  std::string label;
};

struct PagedCache : PanelCache {
  std::string key, error;
  Side contiguous, paged;
  double clock = 0;
  std::string budget_bytes;  // what the budget holds for kModel, from the KV model
};

ReservePolicy policy_of(int i) {
  return i == 1 ? ReservePolicy::pow2 : i == 2 ? ReservePolicy::oracle : ReservePolicy::max_len;
}

// A colour per request: hues spread by the golden ratio so neighbours differ.
ImU32 request_color(u64 r, float alpha = 1.0f) {
  const float h = std::fmod(0.07f + 0.61803398875f * static_cast<float>(r % 1000), 1.0f);
  float cr, cg, cb;
  ImGui::ColorConvertHSVtoRGB(h, theme().light ? 0.65f : 0.55f, theme().light ? 0.78f : 0.92f, cr, cg, cb);
  return ImGui::ColorConvertFloat4ToU32(ImVec4(cr, cg, cb, alpha));
}

void step_side(Side& s) {
  if (!s.sim || s.sim->done()) return;
  s.hist.steps.push_back(s.sim->step());
  s.snap = s.sim->snapshot();
}

// Token slots [0, budget) wrapped into rows of `per_row` slots inside a box.
struct Strip {
  ImVec2 p;
  float w = 0, row_h = 0;
  u64 per_row = 1, budget = 0;

  // Slots [a, b) in `col`; `frac` of the row height (from the top); a 1 px gap after b when wide.
  void fill(ImDrawList* dl, u64 a, u64 b, ImU32 col, bool gap_right = false, float frac = 1.0f) const {
    while (a < b) {
      const u64 row = a / per_row, row_end = std::min(b, (row + 1) * per_row);
      const float x0 = p.x + w * static_cast<float>(a - row * per_row) / static_cast<float>(per_row);
      float x1 = p.x + w * static_cast<float>(row_end - row * per_row) / static_cast<float>(per_row);
      if (gap_right && row_end == b && x1 - x0 >= 4) x1 -= 1;
      const float y = p.y + row_h * static_cast<float>(row);
      dl->AddRectFilled(ImVec2(x0, y), ImVec2(std::max(x1, x0 + 0.75f), y + std::max(1.0f, (row_h - 1) * frac)), col);
      a = row_end;
    }
  }
};

void draw_memory(const Side& side, u64 budget, float height) {
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ServeSnapshot& s = side.snap;
  Strip st;
  st.p = ImGui::GetCursorScreenPos();
  st.w = ImGui::GetContentRegionAvail().x - 2;
  st.budget = budget;
  // Rows hold a whole number of blocks; about 12 rows whatever the budget.
  const u64 bs = std::max<u64>(s.block_size, 1);
  const u64 blocks = (budget + bs - 1) / bs;
  const u64 blocks_per_row = std::max<u64>(1, (blocks + 11) / 12);
  st.per_row = blocks_per_row * bs;
  const u64 rows = (budget + st.per_row - 1) / st.per_row;
  st.row_h = std::max(3.0f, std::min(height / static_cast<float>(rows), ImGui::GetFontSize()));
  const ImU32 free_col = th.frame;
  const ImU32 internal_col = color_alpha(th.bad, 0.85f);
  st.fill(dl, 0, budget, free_col);
  if (s.scheme == AllocScheme::paged) {
    for (u64 b = 0; b < s.blocks.size(); ++b) {
      const BlockView& bv = s.blocks[b];
      if (bv.ref_count == 0) continue;
      const u64 a = b * bs;
      const u64 r = bv.request == BlockView::none ? 0 : bv.request;
      if (bv.filled > 0) st.fill(dl, a, a + bv.filled, request_color(r), bv.filled == bs);
      if (bv.filled < bs) st.fill(dl, a + bv.filled, a + bs, request_color(r, 0.35f), true);
      if (bv.ref_count > 1) st.fill(dl, a, a + bs, th.text, true, 0.25f);  // shared: a bar across the top
    }
    // The budget's remainder after whole blocks can never be used (the model calls it external).
    if (s.blocks.size() * bs < budget) st.fill(dl, s.blocks.size() * bs, budget, color_alpha(th.warn, 0.6f));
  } else {
    for (const SpanView& sp : s.spans) {
      const u64 used = std::min(sp.used, sp.size), fin = std::min(sp.final_len, sp.size);
      st.fill(dl, sp.start, sp.start + used, request_color(sp.request));
      if (fin > used) st.fill(dl, sp.start + used, sp.start + fin, request_color(sp.request, 0.35f));
      if (sp.size > fin) st.fill(dl, sp.start + fin, sp.start + sp.size, internal_col);
      // Each span framed, so that neighbours with similar colours stay apart.
      const u64 r0 = sp.start / st.per_row, r1 = (sp.start + sp.size - 1) / st.per_row;
      if (r0 == r1) {
        const float x0 = st.p.x + st.w * static_cast<float>(sp.start - r0 * st.per_row) / static_cast<float>(st.per_row);
        const float x1 = st.p.x + st.w * static_cast<float>(sp.start + sp.size - r0 * st.per_row) / static_cast<float>(st.per_row);
        const float y = st.p.y + st.row_h * static_cast<float>(r0);
        dl->AddRect(ImVec2(x0, y), ImVec2(x1, y + st.row_h - 1), th.bg, 0, 0, 1.0f);
      }
    }
  }
  ImGui::Dummy(ImVec2(st.w, st.row_h * static_cast<float>(rows)));
}

// The model's slot accounting for this step as one stacked bar with the figures beside it.
void draw_slot_bar(const SlotCounts& c, u64 budget) {
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImFont* small = fonts().small;
  const float fs = small->FontSize;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x - 2;
  struct Part {
    const char* name;
    u64 slots;
    ImU32 col;
  };
  const Part parts[] = {{"used", c.used, th.good},
                        {"reserved", c.reserved, color_alpha(th.accent, 0.55f)},
                        {"internal frag", c.internal, color_alpha(th.bad, 0.85f)},
                        {"external frag", c.external, color_alpha(th.warn, 0.8f)},
                        {"free", c.free, th.frame}};
  float x = p.x;
  const float bar_h = fs * 0.8f;
  for (const Part& part : parts) {
    const float pw = w * static_cast<float>(static_cast<double>(part.slots) / static_cast<double>(std::max<u64>(budget, 1)));
    if (pw > 0) dl->AddRectFilled(ImVec2(x, p.y), ImVec2(x + pw, p.y + bar_h), part.col);
    x += pw;
  }
  // Legend with the shares, wrapped when the panel is narrow.
  float lx = p.x, ly = p.y + bar_h + 3;
  for (const Part& part : parts) {
    const std::string t = fmt::format("{} {:.0f}%", part.name, 100.0 * static_cast<double>(part.slots) / static_cast<double>(std::max<u64>(budget, 1)));
    const float tw = small->CalcTextSizeA(fs, 1e9f, 0, t.c_str()).x + fs * 1.6f;
    if (lx + tw > p.x + w && lx > p.x) {
      lx = p.x;
      ly += fs * 1.2f;
    }
    dl->AddRectFilled(ImVec2(lx, ly + fs * 0.2f), ImVec2(lx + fs * 0.7f, ly + fs * 0.9f), part.col);
    dl->AddText(small, fs, ImVec2(lx + fs * 0.9f, ly), th.text_dim, t.c_str());
    lx += tw;
  }
  ImGui::Dummy(ImVec2(w, ly + fs * 1.25f - p.y));
}

}  // namespace

void draw_paged(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<PagedCache>("paged");
  panel_header("PagedAttention", "serving simulation (src/models/paged): Kwon et al. 2023; one seeded request stream through both schemes");

  // Controls.
  static const char* policies[] = {"reserve max (Orca Max)", "reserve pow2 (Orca Pow2)", "reserve exact (Orca Oracle)"};
  ImGui::SetNextItemWidth(control_width(2));
  ImGui::Combo("##policy", &s.paged_policy, policies, 3);
  ImGui::SameLine();
  const auto& presets = workload_presets();
  s.paged_workload = std::clamp(s.paged_workload, 0, static_cast<int>(presets.size()) - 1);
  ImGui::SetNextItemWidth(control_width(1));
  if (ImGui::BeginCombo("##workload", fmt::format("workload: {}", presets[s.paged_workload].name).c_str())) {
    for (int i = 0; i < static_cast<int>(presets.size()); ++i) {
      if (ImGui::Selectable(presets[i].name.c_str(), i == s.paged_workload)) s.paged_workload = i;
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", presets[i].source.c_str());
    }
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(control_width(3));
  slider_pow2("##budget", "memory", s.paged_budget, 4096, 32768, "slots");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##block", "block", s.paged_block, 4, 128, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(1));
  slider_u64("##samples", "samples", s.paged_samples, 1, 4);
  // The buttons first (their width is known), the speed slider takes what is left of the row.
  const ImGuiStyle& style = ImGui::GetStyle();
  auto button_w = [&](const char* t) { return ImGui::CalcTextSize(t).x + style.FramePadding.x * 2 + style.ItemSpacing.x; };
  const float buttons = button_w("Pause") + button_w("Step") + button_w("Restart");
  ImGui::SetNextItemWidth(std::max(60.0f, ImGui::GetContentRegionAvail().x - buttons));
  slider_float("##speed", s.paged_steps_per_s, 5.0f, 400.0f, "speed %.0f steps/s", true);
  ImGui::SameLine();
  if (ImGui::Button(v.playing ? "Pause" : "Play")) v.playing = !v.playing;
  ImGui::SameLine();
  const bool step_once = ImGui::Button("Step");
  ImGui::SameLine();
  const bool restart = ImGui::Button("Restart");

  // (Re)build both simulations when a knob changed.
  const std::string key = fmt::format("{}|{}|{}|{}|{}", s.paged_policy, s.paged_workload, s.paged_budget, s.paged_block, s.paged_samples);
  if (key != cache.key || restart) {
    cache.key = key;
    cache.error.clear();
    cache.clock = 0;
    cache.contiguous = Side{};
    cache.paged = Side{};
    try {
      WorkloadSpec w;
      w.requests = kRequests;
      w.prompt = presets[s.paged_workload].prompt;
      w.output = presets[s.paged_workload].output;
      w.samples = s.paged_samples;
      w.max_len = kMaxLen;
      w.seed = kSeed;
      const auto requests = workload_generate(w);
      const ServeConfig cc{AllocScheme::contiguous, policy_of(s.paged_policy), s.paged_budget, s.paged_block, kMaxLen, true, 0};
      const ServeConfig pc{AllocScheme::paged, ReservePolicy::max_len, s.paged_budget, s.paged_block, kMaxLen, true, 0};
      cache.contiguous.sim = std::make_unique<ServeSim>(cc, requests);
      cache.contiguous.label = fmt::format("Contiguous, reserve {}", reserve_policy_name(cc.reserve));
      cache.paged.sim = std::make_unique<ServeSim>(pc, requests);
      cache.paged.label = fmt::format("Paged, blocks of {} tokens", s.paged_block);
      step_side(cache.contiguous);  // the first admissions, so there is something to look at at once
      step_side(cache.paged);
      const KvResult kv = kv_cache_size(model_find(kModel), s.dtype, s.paged_budget, 1);
      cache.budget_bytes = fmt::format("{} of {} KV in {}", format_bytes(kv.bytes_total), model_find(kModel).name, dtype_name(s.dtype));
    } catch (const std::exception& e) {
      cache.error = e.what();
      cache.contiguous = Side{};
      cache.paged = Side{};
    }
  }
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }

  // Advance: the clock turns into whole steps of both simulations.
  int steps = step_once ? 1 : 0;
  if (step_once) v.playing = false;
  if (v.playing || s.autoplay) {
    cache.clock += v.dt_s * s.paged_steps_per_s;
    steps += static_cast<int>(cache.clock);
    cache.clock -= std::floor(cache.clock);
  }
  for (int i = 0; i < std::min(steps, 2000); ++i) {
    step_side(cache.contiguous);
    step_side(cache.paged);
  }
  if (cache.contiguous.sim->done() && cache.paged.sim->done() && (s.autoplay || v.playing) && !v.headless_capture) {
    cache.key.clear();  // both streams served: start over on the next frame
  }

  ImGui::PushFont(fonts().small);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%llu requests, memory %s slots (%s); max length %s",
                     static_cast<unsigned long long>(kRequests), format_count(s.paged_budget).c_str(), cache.budget_bytes.c_str(),
                     format_count(kMaxLen).c_str());
  ImGui::PopFont();

  const float em = ImGui::GetFontSize();
  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float strip_h = std::clamp(avail_h * 0.12f, em * 2.0f, em * 9.0f);
  for (Side* side : {&cache.contiguous, &cache.paged}) {
    const ServeStepStats& st = side->snap.stats;
    ImGui::PushFont(fonts().bold);
    // Titles in their plot colour: the plot below needs no legend.
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(side == &cache.contiguous ? th.series[1] : th.series[0]), "%s",
                       side->label.c_str());
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::PushFont(fonts().small);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s running · %s waiting · %s done%s",
                       format_count(st.running_seqs).c_str(), format_count(st.waiting).c_str(), format_count(st.finished).c_str(),
                       side->sim->metrics().preemptions
                           ? fmt::format(" · {} preempted", format_count(side->sim->metrics().preemptions)).c_str()
                           : "");
    ImGui::PopFont();
    draw_memory(*side, s.paged_budget, strip_h);
    draw_slot_bar(st.slots, s.paged_budget);
  }
  ImGui::PushFont(fonts().small);
  caption("One slot per token, colour = request. Solid: written; faint: reserved for tokens to come (or a block's empty "
          "tail); red: past the answer's end (internal fragmentation); white bar: block shared by samples.");
  ImGui::PopFont();

  // The share of memory that holds token states, step by step, both schemes.
  PlotSpec ps;
  ps.x = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::count, "serving step (both schemes serve the same requests)"};
  ps.y = plot::Axis{0, 1, plot::Scale::linear, 10, plot::Unit::percent, "memory holding token states"};
  ps.fit_y = false;
  ps.legend = LegendPos::none;  // the scheme titles above carry the colours
  // x from step 0 to past the last step served (at least 100 steps): before Play the plot has no
  // points, and an axis fitted to nothing would run from -1 to 1.
  {
    double last = 0;
    for (Side* side : {&cache.contiguous, &cache.paged})
      if (!side->hist.steps.empty()) last = std::max(last, static_cast<double>(side->hist.steps.back().step));
    const plot::Range r = plot::fit_range(0, std::max(100.0, last), ps.x, true);
    ps.fit_x = false;
    ps.x.lo = 0;
    ps.x.hi = r.hi;
  }
  int i = 0;
  for (Side* side : {&cache.contiguous, &cache.paged}) {
    Series ser;
    ser.name = side->label;
    ser.color = th.series[i == 0 ? 1 : 0];
    const auto& h = side->hist.steps;
    const size_t stride = std::max<size_t>(1, (h.size() + kMaxPlotPoints - 1) / kMaxPlotPoints);
    for (size_t k = 0; k < h.size(); k += stride) {
      ser.x.push_back(static_cast<double>(h[k].step));
      ser.y.push_back(static_cast<double>(h[k].slots.used) / static_cast<double>(s.paged_budget));
      ser.notes.push_back(fmt::format("{} of {} slots hold tokens; {} sequences running", format_count(h[k].slots.used),
                                      format_count(s.paged_budget), format_count(h[k].running_seqs)));
    }
    ps.series.push_back(std::move(ser));
    ++i;
  }
  if (cache.contiguous.hist.steps.size() <= 1 && cache.paged.hist.steps.size() <= 1) {  // only the state before step 1
    ImGui::PushFont(fonts().small);
    caption("Play or Step: the share of memory that holds token states is drawn here, step by step, for both schemes.");
    ImGui::PopFont();
  }
  plot_draw("paged", ps, ImVec2(0, 0));
}

}  // namespace attnlab::gui
