// ring: ring attention across P devices. Left, the devices on a ring, each holding its query block
// and the K/V block it is working on, blocks moving to the next device; right, the step timeline of
// every device (compute bars, transfer bars underneath, waiting in between) with the clock running.
// Timeline, memory and the "transfer hides behind compute" test are src/models/ring's. A second tab
// (panels/ring_measured.cpp) shows the shipped NCCL measurement beside the model.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "hw/link.hpp"
#include "models/ring.hpp"
#include "panels/registry.hpp"
#include "panels/ring_measured.hpp"
#include "panels/widgets.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

struct RingCache : PanelCache {
  std::string key, error;
  RingResult result;
  RingTimeline timeline;
  double progress = 0;  // 0..1 of the pass
};

RingConfig ring_config(const View& v) {
  const Settings& s = v.settings;
  RingConfig c;
  c.seq = s.ring_seq;
  c.devices = s.ring_devices;
  c.batch = 1;
  c.heads = 32;
  c.kv_heads = s.ring_kv_heads;
  c.head_dim = 128;
  c.dtype = DType::bf16;
  c.causal = s.ring_causal;
  c.layout = s.ring_layout;
  c.flops_per_s = v.gpu.peak_flops(DType::bf16);
  c.efficiency = s.ring_efficiency;
  c.link_bytes_per_s = link_find(s.ring_link).bytes_per_s;
  return c;
}

ImU32 block_color(u64 b, u64 P) {
  const Theme& th = theme();
  return th.series[(b % std::max<u64>(P, 1)) % 8];
}

void draw_ring_model(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<RingCache>("ring");

  ImGui::SetNextItemWidth(control_width(4));
  slider_u64("##p", "devices P", s.ring_devices, 2, 16);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(3));
  slider_pow2("##n", "N", s.ring_seq, 4096, u64{1} << 22, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  if (ImGui::BeginCombo("##link", s.ring_link.c_str())) {
    for (const auto& l : link_presets()) {
      if (ImGui::Selectable(l.name.c_str(), l.name == s.ring_link)) s.ring_link = l.name;
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s: %s per direction", l.full_name.c_str(), format_rate(l.bytes_per_s, "B/s").c_str());
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::Checkbox("causal", &s.ring_causal);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  if (ImGui::BeginCombo("##layout", std::string(ring_layout_name(s.ring_layout)).c_str())) {
    for (RingLayout l : kRingLayouts)
      if (ImGui::Selectable(std::string(ring_layout_name(l)).c_str(), l == s.ring_layout)) s.ring_layout = l;
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Which tokens each device holds. contiguous: blocks in order; zigzag: chunks i and 2P-1-i;\n"
                      "striped: token t on device t mod P. With the causal mask only zigzag and striped give\n"
                      "every device the same work.");
  ImGui::SetNextItemWidth(control_width(3));
  slider_float("##eff", s.ring_efficiency, 0.1f, 1.0f, "compute efficiency %.2f");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##kvh", "K/V heads", s.ring_kv_heads, 1, 32);
  ImGui::SameLine();
  if (ImGui::Button(v.playing ? "Pause" : "Play")) v.playing = !v.playing;

  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", v.gpu.name, s.ring_devices, s.ring_seq, s.ring_link,
                                      s.ring_causal, s.ring_efficiency, s.ring_kv_heads, ring_layout_name(s.ring_layout));
  if (key != cache.key) {
    cache.key = key;
    cache.error.clear();
    try {
      const RingConfig c = ring_config(v);
      cache.result = ring_analyze(c);
      cache.timeline = ring_timeline(c);
    } catch (const std::exception& e) {
      cache.error = e.what();
    }
  }
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }
  if (v.playing || s.autoplay) {
    cache.progress += v.dt_s / 8.0;  // a pass in 8 s
    if (cache.progress > 1.15) cache.progress = 0;
  }
  const RingResult& r = cache.result;
  const RingTimeline& tl = cache.timeline;
  const u64 P = r.config.devices;
  const double t_now = std::min(1.0, cache.progress) * tl.total_s;

  // The verdict.
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(r.hidden ? th.good : th.bad),
                     "Per step: compute %s, transfer %s -> transfers %s. Block n = %s tokens; hidden from n >= %s.",
                     format_seconds(r.compute_s).c_str(), format_seconds(r.transfer_s).c_str(),
                     r.hidden ? "hide behind compute" : "do NOT hide: devices wait", format_count(r.block).c_str(),
                     format_count(r.min_block).c_str());
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "Pass %s (without overlap %s, ideal %s); memory per device %s.",
                     format_seconds(r.pass_s).c_str(), format_seconds(r.no_overlap_s).c_str(), format_seconds(r.ideal_s).c_str(),
                     format_bytes(r.memory.total).c_str());
  if (r.config.causal)
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(r.efficiency >= 0.8 ? th.good : th.bad),
                       "Causal, %s layout: the pass reaches %.0f%% of the ideal; the busiest device computes %.2f block "
                       "pairs, the least busy %.2f.",
                       std::string(ring_layout_name(r.config.layout)).c_str(), 100 * r.efficiency, r.busiest_work,
                       r.idlest_work);
  ImGui::PopTextWrapPos();

  // Which step is running now (the first one whose compute has not ended on device 0).
  u64 step = 0;
  for (u64 k = 0; k < P; ++k)
    if (tl.events[k * P].compute_start <= t_now) step = k;

  ImDrawList* dl = ImGui::GetWindowDrawList();
  // The ring beside the timeline in a wide panel, above it in a tall one (presenter mode: the panel
  // is taller than wide, and side by side left the lower half of it empty).
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap_y = ImGui::GetStyle().ItemSpacing.y;
  const float side_by_side = std::min(avail.x * 0.45f, avail.y);
  const float stacked_side = std::min(avail.x, (avail.y - gap_y) * 0.5f);
  const bool stacked = stacked_side > side_by_side * 1.15f;
  const float side = stacked ? stacked_side : side_by_side;
  ImFont* small = fonts().small;
  const float fs = small->FontSize;

  // Left: the ring.
  {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float indent = stacked ? (avail.x - side) / 2 : 0;  // stacked: centred over the timeline
    const ImVec2 c(p.x + indent + side / 2, p.y + side / 2);
    const float R = side * 0.36f, box = std::min(side * 0.2f, fs * 4.2f);
    auto pos = [&](u64 d) {
      const double a = -std::numbers::pi / 2 + 2 * std::numbers::pi * double(d) / double(P);
      return ImVec2(c.x + R * static_cast<float>(std::cos(a)), c.y + R * static_cast<float>(std::sin(a)));
    };
    for (u64 d = 0; d < P; ++d) {  // links, and the block in flight on each
      const ImVec2 a = pos(d), b = pos((d + 1) % P);
      dl->AddLine(a, b, th.grid, 2.0f);
      const RingEvent& e = tl.events[step * P + d];
      if (e.sends && t_now >= e.send_start && t_now <= e.send_end && e.send_end > e.send_start) {
        const float f = static_cast<float>((t_now - e.send_start) / (e.send_end - e.send_start));
        const ImVec2 m(a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f);
        dl->AddRectFilled(ImVec2(m.x - fs * 0.45f, m.y - fs * 0.45f), ImVec2(m.x + fs * 0.45f, m.y + fs * 0.45f),
                          block_color(e.kv_block, P), 2);
      }
    }
    for (u64 d = 0; d < P; ++d) {
      const ImVec2 q = pos(d);
      const RingEvent& e = tl.events[step * P + d];
      const bool busy = t_now >= e.compute_start && t_now <= e.compute_end;
      dl->AddRectFilled(ImVec2(q.x - box / 2, q.y - box / 2), ImVec2(q.x + box / 2, q.y + box / 2), th.panel_bg, 4);
      dl->AddRect(ImVec2(q.x - box / 2, q.y - box / 2), ImVec2(q.x + box / 2, q.y + box / 2), busy ? th.text : th.grid, 4, 0,
                  busy ? 2.5f : 1.0f);
      if (P <= 12) {
        dl->AddText(small, fs, ImVec2(q.x - box / 2 + 4, q.y - box / 2 + 2), th.text, fmt::format("GPU {}", d).c_str());
        dl->AddText(small, fs, ImVec2(q.x - box / 2 + 4, q.y - box / 2 + 2 + fs), th.q, fmt::format("Q{}", d).c_str());
      }
      dl->AddRectFilled(ImVec2(q.x - box / 2 + 4, q.y + box / 2 - fs - 4), ImVec2(q.x + box / 2 - 4, q.y + box / 2 - 3),
                        block_color(e.kv_block, P), 2);
      if (P <= 12)
        dl->AddText(small, fs, ImVec2(q.x - box / 2 + 7, q.y + box / 2 - fs - 4), th.bg, fmt::format("KV{}", e.kv_block).c_str());
    }
    dl->AddText(fonts().bold, fonts().bold->FontSize, ImVec2(c.x - fs * 2.2f, c.y - fs * 0.6f), th.text,
                fmt::format("step {}/{}", step + 1, P).c_str());
    ImGui::Dummy(ImVec2(side, side));
  }
  if (!stacked) ImGui::SameLine();

  // Right: the timeline, one row per device.
  {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float w = ImGui::GetContentRegionAvail().x;
    const float h = ImGui::GetContentRegionAvail().y;  // the whole height: rows as tall as the panel allows
    const float label_w = fs * 3.2f, row = (h - fs * 2.5f) / P;
    const float x0 = p.x + label_w, x1 = p.x + w - 4;
    auto X = [&](double t) { return x0 + static_cast<float>(t / std::max(tl.total_s, 1e-30)) * (x1 - x0); };
    for (u64 d = 0; d < P; ++d) {
      const float y = p.y + d * row;
      if (row >= fs * 0.8f) dl->AddText(small, fs, ImVec2(p.x, y + (row - fs) / 2), th.text_dim, fmt::format("GPU {}", d).c_str());
      for (u64 k = 0; k < P; ++k) {
        const RingEvent& e = tl.events[k * P + d];
        if (e.compute_end > e.compute_start)
          dl->AddRectFilled(ImVec2(X(e.compute_start), y + row * 0.08f), ImVec2(std::max(X(e.compute_end) - 1, X(e.compute_start) + 1), y + row * 0.6f),
                            color_alpha(block_color(e.kv_block, P), e.compute_start <= t_now ? 1.0f : 0.35f), 2);
        if (e.sends && e.send_end > e.send_start)
          dl->AddRectFilled(ImVec2(X(e.send_start), y + row * 0.66f), ImVec2(std::max(X(e.send_end) - 1, X(e.send_start) + 1), y + row * 0.86f),
                            color_alpha(th.text_dim, e.send_start <= t_now ? 0.9f : 0.3f), 1);
      }
    }
    const float xn = X(t_now);
    dl->AddLine(ImVec2(xn, p.y), ImVec2(xn, p.y + row * P), th.text, 2.0f);
    dl->AddText(small, fs, ImVec2(x0, p.y + row * P + 4), th.text_dim,
                fmt::format("time → {}; bars: compute (colour = K/V block), grey: send", format_seconds(tl.total_s)).c_str(),
                nullptr, std::max(fs * 4, x1 - x0));  // wrapped: presenter mode's font is wider than the row
    ImGui::Dummy(ImVec2(w, h));
  }
}

}  // namespace

void draw_ring(View& v) {
  Settings& s = v.settings;
  if (v.ring_measurements.empty()) {
    panel_header("Ring attention", fmt::format("ring model (src/models/ring), {} peak bf16, link presets (src/hw/link)", v.gpu.name));
    draw_ring_model(v);
    return;
  }
  panel_header("Ring attention", fmt::format("ring model (src/models/ring), {} peak bf16, link presets (src/hw/link); "
                                             "measured: {} (src/measure/ring_measured)",
                                             v.gpu.name, v.ring_measurements.front().file.filename().string()));
  if (ImGui::BeginTabBar("ringtabs")) {
    if (ImGui::BeginTabItem("Model, animated")) {
      draw_ring_model(v);
      ImGui::EndTabItem();
    }
    const RingMeasurements& m = v.ring_measurements.front().data;
    const std::string label = fmt::format("Measured: {} x {} over NCCL###measured", m.devices, m.device.name);
    // --view measured asks for this tab once; after that the learner's clicks decide.
    const ImGuiTabItemFlags flags = s.ring_measured ? ImGuiTabItemFlags_SetSelected : 0;
    s.ring_measured = false;
    if (ImGui::BeginTabItem(label.c_str(), nullptr, flags)) {
      draw_ring_measured(v);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
}

}  // namespace attnlab::gui
