// The ring panel's "measured" tab: the NCCL ring of kernels/ring-attention.cpp as it ran (the shipped
// assets/measurements/ring-*.json), beside the ring model. Left, time vs block size per device for
// one series: the attention of one block pair and one K/V transfer, measured (points) and modelled
// (dashed), where the two curves cross is where transfers start to hide. Right, one row's pass:
// the measured per-device timeline (CUDA events) over the model's. Under them, every row of the
// series with measured / model / ratio for attention, transfer and step, and whether transfers
// hide. All figures: src/measure/ring_measured (ring_series, ring_calibrate, hides()).
#include "panels/ring_measured.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "hw/link.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

RingMeasuredData ring_measured_data(const RingMeasurements& m, bool calibrated, const GpuSpec& fallback_gpu) {
  RingMeasuredData d;
  const std::string preset = ring_gpu_preset_for(m.device.name);
  d.gpu_from_file = !preset.empty();
  d.gpu = d.gpu_from_file ? gpu_find(preset) : fallback_gpu;
  d.calibration = ring_calibrate(m, d.gpu);
  RingConfig& b = d.base;
  b.dtype = DType::bf16;
  b.flops_per_s = d.gpu.peak_flops(b.dtype);
  d.calibrated = calibrated && ring_calibration_apply(d.calibration, b);
  if (d.calibrated) {
    d.inputs = fmt::format("model calibrated from the file: {} x {}", format_rate(b.flops_per_s, "FLOP/s"),
                           ring_calibration_text(d.calibration));
  } else {
    const LinkSpec link = link_find(std::string(default_link_name()));
    b.efficiency = 1.0;
    b.link_bytes_per_s = link.bytes_per_s;
    b.link_latency_s = 0;
    d.inputs = fmt::format("model as the paper: {} peak bf16 {}, link {} {} per direction, no latency", d.gpu.name,
                           format_rate(b.flops_per_s, "FLOP/s"), link.name, format_rate(b.link_bytes_per_s, "B/s"));
  }
  d.series = ring_series(m, b);
  return d;
}

namespace {

struct RingMeasuredCache : PanelCache {
  std::string key, error;
  RingMeasuredData data;
  // The model's timeline of the selected row (its key: series, row).
  std::string timeline_key;
  RingTimeline model_timeline;
};

// One compute/transfer bar pair of a device at a step, in seconds: the shape both timelines share.
struct Lane {
  u64 device = 0, kv_block = 0;
  double c0 = 0, attn_end = 0, c1 = 0;
  bool sends = false;
  double s0 = 0, s1 = 0;
};

ImU32 lane_color(u64 block) { return theme().series[block % 8]; }

// P rows of bars in [x0, x1] x [y0, y0 + P * row] on a time axis 0..t_max.
void draw_lanes(ImDrawList* dl, const std::vector<Lane>& lanes, u64 P, float x0, float x1, float y0, float row, double t_max,
                const char* title) {
  const Theme& th = theme();
  ImFont* small = fonts().small;
  const float fs = small->FontSize;
  auto X = [&](double t) { return x0 + static_cast<float>(t / std::max(t_max, 1e-30)) * (x1 - x0); };
  dl->AddText(small, fs, ImVec2(x0, y0), th.text, title);
  const float top = y0 + fs + 2;
  for (u64 d = 0; d < P; ++d) {
    const float y = top + d * row;
    dl->AddText(small, fs, ImVec2(x0 - fs * 3.3f, y + (row - fs) / 2), th.text_dim, fmt::format("GPU {}", d).c_str());
    dl->AddLine(ImVec2(x0, y + row * 0.93f), ImVec2(x1, y + row * 0.93f), color_alpha(th.grid, 0.5f), 1);
  }
  for (const Lane& e : lanes) {
    if (e.device >= P) continue;
    const float y = top + e.device * row;
    if (e.c1 > e.c0) {
      const ImU32 c = lane_color(e.kv_block);
      dl->AddRectFilled(ImVec2(X(e.c0), y + row * 0.06f), ImVec2(std::max(X(e.attn_end), X(e.c0) + 1), y + row * 0.56f), c, 2);
      if (e.c1 > e.attn_end)  // the online-softmax merge after the attention
        dl->AddRectFilled(ImVec2(X(e.attn_end), y + row * 0.06f), ImVec2(std::max(X(e.c1), X(e.attn_end) + 1), y + row * 0.56f),
                          color_alpha(c, 0.45f), 2);
    }
    if (e.sends && e.s1 > e.s0)
      dl->AddRectFilled(ImVec2(X(e.s0), y + row * 0.62f), ImVec2(std::max(X(e.s1), X(e.s0) + 1), y + row * 0.88f),
                        color_alpha(th.text_dim, 0.85f), 1);
  }
}

void draw_time_axis(ImDrawList* dl, float x0, float x1, float y, double t_max) {
  const Theme& th = theme();
  ImFont* small = fonts().small;
  const float fs = small->FontSize;
  plot::Axis a{0, t_max, plot::Scale::linear, 10, plot::Unit::seconds, ""};
  dl->AddLine(ImVec2(x0, y), ImVec2(x1, y), th.axis, 1);
  for (const auto& t : plot::axis_ticks(a, plot::ticks_for_length(x1 - x0, fs * 5))) {
    const float x = static_cast<float>(plot::axis_to_pixel(a, t.value, x0, x1));
    dl->AddLine(ImVec2(x, y), ImVec2(x, y + (t.major ? 5.0f : 3.0f)), th.axis, 1);
    if (t.major && !t.label.empty()) {
      const float w = ImGui::CalcTextSize(t.label.c_str()).x * fs / ImGui::GetFontSize();
      dl->AddText(small, fs, ImVec2(std::clamp(x - w / 2, x0 - 2, x1 - w), y + 6), th.text_dim, t.label.c_str());
    }
  }
}

std::string ms_text(double ms) { return format_seconds(ms * 1e-3); }

}  // namespace

std::string ring_measured_verdict(const RingSeries& ser) {
  const auto block_text = [](u64 n) { return n ? format_count(n) + " tokens" : std::string("none of the timed blocks"); };
  return fmt::format("Transfers hide from n = {} per GPU measured (green line); the model says {} (grey).",
                     ser.measured_min_block && ser.measured_min_block == ser.smallest_block()
                         ? "<= " + block_text(ser.measured_min_block) + " (every timed block)"
                         : block_text(ser.measured_min_block),
                     block_text(ser.model_min_block));
}

const std::vector<std::string>& ring_measured_columns() {
  static const std::vector<std::string> c = {"n",    "K/V",  "attn",  "model", "×",    "xfer",  "model",
                                             "×",    "step", "model", "×",     "wait", "hides", "model"};
  return c;
}

std::vector<std::string> ring_measured_cells(const RingComparedRow& x) {
  const RingMeasuredRow& r = x.measured;
  return {format_count(r.block),
          format_bytes(u128(r.kv_bytes_per_step)),
          ms_text(r.serial.attn_ms),
          format_seconds(x.model.compute_s),
          fmt::format("{:.2f}", x.compute_ratio),
          ms_text(r.serial.transfer_ms),
          format_seconds(x.model.transfer_s),
          fmt::format("{:.2f}", x.transfer_ratio),
          format_seconds(x.step_measured_s),
          format_seconds(x.step_model_s),
          fmt::format("{:.2f}", x.step_ratio),
          ms_text(r.wait_ms()),
          r.hides() ? "yes" : "no",
          x.model_hides ? "yes" : "no"};
}

void draw_ring_measured(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  if (v.ring_measurements.empty()) {
    caption("No ring-attention measurement file was found (assets/measurements/ring-*.json, or --measurements DIR).");
    return;
  }
  s.ring_measured_file = std::clamp(s.ring_measured_file, 0, static_cast<int>(v.ring_measurements.size()) - 1);
  const RingMeasurementSet& set = v.ring_measurements[s.ring_measured_file];
  const RingMeasurements& m = set.data;
  auto& cache = v.cache<RingMeasuredCache>("ring_measured");
  const std::string key = fmt::format("{}|{}|{}", s.ring_measured_file, s.ring_calibrated, v.gpu.name);
  if (key != cache.key) {
    cache.key = key;
    cache.error.clear();
    cache.timeline_key.clear();
    try {
      cache.data = ring_measured_data(m, s.ring_calibrated, v.gpu);
    } catch (const std::exception& e) {
      cache.error = e.what();
    }
  }
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }
  const RingMeasuredData& d = cache.data;
  if (d.series.empty()) {
    panel_error(fmt::format("{}: no row passed its correctness check, so none is compared", set.file.filename().string()));
    return;
  }

  // Where the figures come from.
  ImGui::PushFont(fonts().small);
  u64 checked = 0;
  double worst = 0;
  for (const auto& r : m.rows)
    if (r.check_ok) ++checked, worst = std::max(worst, r.vs_single_max_abs);
  caption(fmt::format("{}{}: {} x {}, NCCL {}, kernel {}, {}. {} of {} shapes checked against single-GPU attention "
                      "(largest |difference| {:.2g}) before timing; medians of the timed passes.",
                      set.bundled ? "" : "yours: ", set.file.filename().string(), m.devices, m.device.name, m.nccl_version,
                      m.kernel, m.date.substr(0, 10), checked, m.rows.size(), worst));
  ImGui::PopFont();
  if (v.ring_measurements.size() > 1) {
    ImGui::SetNextItemWidth(control_width(3));
    if (ImGui::BeginCombo("##rfile", set.file.filename().string().c_str())) {
      for (int i = 0; i < static_cast<int>(v.ring_measurements.size()); ++i)
        if (ImGui::Selectable(v.ring_measurements[i].file.filename().string().c_str(), i == s.ring_measured_file)) {
          s.ring_measured_file = i;
          s.ring_measured_row = -1;
        }
      ImGui::EndCombo();
    }
    ImGui::SameLine();
  }
  s.ring_measured_series = std::clamp(s.ring_measured_series, 0, static_cast<int>(d.series.size()) - 1);
  const RingSeries& ser = d.series[s.ring_measured_series];
  const float row_w = ImGui::GetContentRegionAvail().x;
  const float combo_w = std::min(row_w * 0.62f, ImGui::CalcTextSize(ser.label().c_str()).x + ImGui::GetFontSize() * 2.5f);
  const char* cal_label = "model calibrated from the file";
  const float cal_w = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(cal_label).x;
  ImGui::SetNextItemWidth(combo_w);
  if (ImGui::BeginCombo("##rseries", ser.label().c_str())) {
    for (int i = 0; i < static_cast<int>(d.series.size()); ++i)
      if (ImGui::Selectable(d.series[i].label().c_str(), i == s.ring_measured_series)) {
        s.ring_measured_series = i;
        s.ring_measured_row = -1;
      }
    ImGui::EndCombo();
  }
  if (combo_w + ImGui::GetStyle().ItemSpacing.x + cal_w <= row_w) ImGui::SameLine();  // else on its own line
  ImGui::Checkbox(cal_label, &s.ring_calibrated);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Off: peak FLOP/s and the link's nominal bandwidth, as the ring attention paper's analysis.\n"
                      "On: the attention efficiency and the link's latency + bandwidth fitted from this file\n"
                      "(attnlab ring --measured FILE --calibrate).");
  ImGui::PushFont(fonts().small);
  caption(d.inputs);
  ImGui::PopFont();

  // The verdict for the series.
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text), "%s", ring_measured_verdict(ser).c_str());
  ImGui::PopTextWrapPos();

  // The selected row: the one clicked in the table, else the largest block.
  int sel = s.ring_measured_row;
  if (sel < 0 || sel >= static_cast<int>(ser.rows.size())) sel = static_cast<int>(ser.rows.size()) - 1;
  const RingComparedRow& row = ser.rows[sel];
  const std::string tkey = fmt::format("{}|{}|{}", cache.key, s.ring_measured_series, sel);
  if (tkey != cache.timeline_key) {
    cache.timeline_key = tkey;
    cache.model_timeline = ring_timeline(row.model.config);
  }

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float fs = fonts().small->FontSize;
  // Below these heights the panel scrolls rather than squeezing the lanes and the table to slivers.
  const float top_h = std::max(fs * 17, avail.y * 0.52f);
  const float plot_w = avail.x * 0.52f;

  // Left: time per block vs block size, measured and modelled.
  {
    PlotSpec ps;
    ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "block n (tokens per GPU)"};
    ps.y = plot::Axis{0, 1, plot::Scale::log, 10, plot::Unit::seconds, "time of one step's part"};
    ps.legend = LegendPos::top_left;  // the curves rise to the top right; the marker labels at the bottom
    Series attn_m{"attn, measured"}, attn_p{"attn, model"}, xfer_m{"K/V xfer, measured"}, xfer_p{"K/V xfer, model"};
    attn_m.color = attn_p.color = th.series[0];
    xfer_m.color = xfer_p.color = th.series[1];
    attn_m.style = xfer_m.style = SeriesStyle::line_points;
    attn_p.dashed = xfer_p.dashed = true;
    for (const auto& x : ser.rows) {
      const double n = double(x.measured.block);
      attn_m.x.push_back(n), attn_m.y.push_back(x.measured.serial.attn_ms * 1e-3);
      attn_m.notes.push_back(fmt::format("{:.2f}x the model; {:.0f} TFLOP/s", x.compute_ratio, x.measured.attn_tflops()));
      attn_p.x.push_back(n), attn_p.y.push_back(x.model.compute_s);
      xfer_m.x.push_back(n), xfer_m.y.push_back(x.measured.serial.transfer_ms * 1e-3);
      xfer_m.notes.push_back(fmt::format("{:.2f}x the model; {} of K/V, {:.0f} GB/s", x.transfer_ratio,
                                         format_bytes(u128(x.measured.kv_bytes_per_step)), x.measured.link_gbps()));
      xfer_p.x.push_back(n), xfer_p.y.push_back(x.model.transfer_s);
    }
    ps.series = {attn_m, attn_p, xfer_m, xfer_p};
    if (ser.measured_min_block)
      ps.markers.push_back({double(ser.measured_min_block), "hides (measured)", th.good, true, false});
    if (ser.model_min_block >= ser.rows.front().measured.block / 2 && ser.model_min_block <= ser.rows.back().measured.block * 2)
      ps.markers.push_back({double(ser.model_min_block), "", th.text_dim, true, false});  // named in the verdict line
    plot_draw("##ringmeas", ps, ImVec2(plot_w, top_h));
  }
  ImGui::SameLine();

  // Right: the selected row's pass, measured over modelled, on one time axis.
  ImGui::BeginGroup();
  {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float w = ImGui::GetContentRegionAvail().x;
    const RingMeasuredRow& r = row.measured;
    const u64 P = r.devices;
    std::vector<Lane> meas, model;
    double t_meas = 0;
    for (const auto& e : r.overlap.timeline) {
      meas.push_back({e.device, e.kv_block, e.compute_start_ms * 1e-3, e.attn_end_ms * 1e-3, e.compute_end_ms * 1e-3, e.sends,
                      e.send_start_ms * 1e-3, e.send_end_ms * 1e-3});
      t_meas = std::max({t_meas, e.compute_end_ms * 1e-3, e.sends ? e.send_end_ms * 1e-3 : 0.0});
    }
    for (const auto& e : cache.model_timeline.events)
      model.push_back({e.device, e.kv_block, e.compute_start, e.compute_end, e.compute_end, e.sends, e.send_start, e.send_end});
    const double t_max = std::max(t_meas, cache.model_timeline.total_s);
    const float x0 = p.x + fs * 3.5f, x1 = p.x + w - fs * 0.8f;
    ImGui::PushTextWrapPos(0.0f);  // the window's right edge (the column reaches it)
    ImGui::PushFont(fonts().bold);
    ImGui::Text("n = %s: one pass", format_count(r.block).c_str());
    ImGui::PopFont();
    ImGui::PushFont(fonts().small);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(row.measured.hides() ? th.good : th.bad), "measured: %s (waits %s); model: %s",
                       r.hides() ? "transfers hide" : "GPUs wait for blocks", ms_text(r.wait_ms()).c_str(),
                       row.model_hides ? "they hide" : "GPUs wait");
    ImGui::PopFont();
    ImGui::PopTextWrapPos();
    float y = ImGui::GetCursorScreenPos().y + 2;
    const float key_h = fs * 2.2f + 12;  // the time axis and the colour key under the lanes
    const float block_h = (p.y + top_h - y - key_h) / 2;
    const float row_h = std::clamp((block_h - fs - 4 - fs * 0.6f) / std::max<u64>(P, 1), fs * 1.1f, fs * 2.2f);
    draw_lanes(dl, meas, P, x0, x1, y, row_h, t_max,
               fmt::format("measured: {}", ms_text(r.overlap.pass_ms)).c_str());
    y += fs + 2 + row_h * P + fs * 0.6f;
    draw_lanes(dl, model, P, x0, x1, y, row_h, t_max, fmt::format("model: {}", format_seconds(row.model.pass_s)).c_str());
    y += fs + 2 + row_h * P + 2;
    draw_time_axis(dl, x0, x1, y, t_max);
    ImGui::SetCursorScreenPos(ImVec2(p.x, y + fs + 8));
    ImGui::PushFont(fonts().small);
    ImGui::PushTextWrapPos(0.0f);  // the window's right edge (the column reaches it)
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "measured: CUDA events of the overlap schedule's median pass. Bar colour: whose K/V block; pale: softmax merge; grey: send");
    ImGui::PopTextWrapPos();
    ImGui::PopFont();
    ImGui::SetCursorScreenPos(p);
    ImGui::Dummy(ImVec2(w, top_h));
  }
  ImGui::EndGroup();

  // Every row of the series.
  ImGui::PushFont(fonts().small);
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                             ImGuiTableFlags_ScrollX | ImGuiTableFlags_SizingFixedFit;
  const float table_h = std::max(fs * 1.45f * std::min<float>(11, float(ser.rows.size() + 1)), ImGui::GetContentRegionAvail().y - fs * 3.4f);
  const std::vector<std::string>& columns = ring_measured_columns();
  if (ImGui::BeginTable("##ringrows", static_cast<int>(columns.size()), tf, ImVec2(0, table_h))) {
    ImGui::TableSetupScrollFreeze(1, 1);
    for (const std::string& h : columns) ImGui::TableSetupColumn(h.c_str());
    ImGui::TableHeadersRow();
    for (int i = 0; i < static_cast<int>(ser.rows.size()); ++i) {
      const std::vector<std::string> cells = ring_measured_cells(ser.rows[i]);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (ImGui::Selectable(cells[0].c_str(), i == sel, ImGuiSelectableFlags_SpanAllColumns)) s.ring_measured_row = i;
      for (size_t c = 1; c < cells.size(); ++c) {
        ImGui::TableNextColumn();
        // Ratios dim; the two "hides" columns green or red.
        const ImU32 color = columns[c] == "×" ? th.text_dim
                            : c >= 12        ? (cells[c] == "yes" ? th.good : th.bad)
                                             : 0;
        if (color) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(color), "%s", cells[c].c_str());
        else ImGui::TextUnformatted(cells[c].c_str());
      }
    }
    ImGui::EndTable();
  }
  caption("Measured, then model. attn: one full block pair alone; xfer: one K/V block alone (serial schedule); step: overlapped "
          "pass / P; ×: measured / model; wait: compute streams waiting for blocks; hides: wait < 10% of a transfer. Click a row for its pass.");
  ImGui::PopFont();
}

}  // namespace attnlab::gui
