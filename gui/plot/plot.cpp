#include "plot/plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "style.hpp"

namespace attnlab::gui {

namespace {

using plot::Axis;

struct Frame {
  ImVec2 lo, hi;  // plot area in pixels (lo = top-left)
  Axis x, y;
  double px(double v) const { return plot::axis_to_pixel(x, v, lo.x, hi.x); }
  double py(double v) const { return plot::axis_to_pixel(y, v, hi.y, lo.y); }
};

void fit_axis(Axis& a, const std::vector<Series>& series, bool use_x, bool from_zero, const std::vector<double>& include = {}) {
  double mn = std::numeric_limits<double>::infinity(), mx = -mn;
  for (double v : include) {
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  for (const auto& s : series)
    for (double v : use_x ? s.x : s.y) {
      if (!std::isfinite(v) || (a.scale == plot::Scale::log && v <= 0)) continue;
      mn = std::min(mn, v);
      mx = std::max(mx, v);
    }
  if (!std::isfinite(mn)) return;  // no data: keep the given range
  const auto r = plot::fit_range(mn, mx, a, from_zero);
  a.lo = r.lo;
  a.hi = r.hi;
}

void dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float w, float dash) {
  const float dx = b.x - a.x, dy = b.y - a.y, len = std::sqrt(dx * dx + dy * dy);
  if (len < 1) return;
  for (float t = 0; t < len; t += 2 * dash) {
    const float t1 = std::min(len, t + dash);
    dl->AddLine(ImVec2(a.x + dx * t / len, a.y + dy * t / len), ImVec2(a.x + dx * t1 / len, a.y + dy * t1 / len), col, w);
  }
}

// Polyline through the finite points, broken where a point has no place (log of 0).
void draw_line(ImDrawList* dl, const Frame& f, const Series& s, ImU32 col, float w) {
  std::vector<ImVec2> run;
  auto flush = [&] {
    if (run.size() >= 2) {
      if (s.dashed) {
        for (size_t i = 1; i < run.size(); ++i) dashed_line(dl, run[i - 1], run[i], col, w, 3 * w);
      } else {
        dl->AddPolyline(run.data(), static_cast<int>(run.size()), col, 0, w);
      }
    }
    run.clear();
  };
  const size_t n = std::min(s.x.size(), s.y.size());
  for (size_t i = 0; i < n; ++i) {
    const double X = f.px(s.x[i]), Y = f.py(s.y[i]);
    if (!std::isfinite(X) || !std::isfinite(Y)) {
      flush();
      continue;
    }
    run.emplace_back(static_cast<float>(X), static_cast<float>(Y));
  }
  flush();
}

ImU32 series_color(const Series& s, size_t i) { return s.color ? s.color : theme().series[i % 8]; }

float series_width(const Series& s) { return s.width > 0 ? s.width : theme().line_width; }

// Every series as the pixels it covers: its line (half its width around the path) or its points.
std::vector<plot::Polyline> series_pixels(const Frame& f, const std::vector<Series>& series) {
  std::vector<plot::Polyline> out;
  for (const auto& s : series) {
    plot::Polyline p;
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      p.x.push_back(f.px(s.x[i]));
      p.y.push_back(f.py(s.y[i]));
    }
    p.joined = s.style != SeriesStyle::points;
    p.halo = s.style == SeriesStyle::line ? series_width(s) / 2 + 2 : theme().point_radius + 2;
    out.push_back(std::move(p));
  }
  return out;
}

// Where a marker writes its label (the same rule draws it and keeps the legend off it): of the
// spots beside its line, the first that no series crosses (`data`, in pixels), else the first.
ImVec2 marker_label_pos(const Frame& f, const Marker& m, ImVec2 sz, const std::vector<plot::Polyline>& data) {
  std::vector<ImVec2> spots;
  if (m.vertical) {
    const float X = static_cast<float>(f.px(m.value));
    const float right = X + 4, left = X - 4 - sz.x;
    const float near_end = m.label_top ? f.lo.y + 4 : f.hi.y - sz.y - 4;
    const float far_end = m.label_top ? f.hi.y - sz.y - 4 : f.lo.y + 4;
    const bool right_fits = right + sz.x <= f.hi.x;
    const float first_x = right_fits ? right : left, second_x = right_fits ? left : right;
    for (float y : {near_end, far_end})
      for (float x : {first_x, second_x}) spots.emplace_back(x, y);
  } else {
    // Above a horizontal line, or below it when above would leave the plot (a peak at the top).
    const float Y = static_cast<float>(f.py(m.value));
    const float above = Y - sz.y - 2, below = Y + 3;
    const float first_y = above < f.lo.y ? below : above, second_y = above < f.lo.y ? above : below;
    for (float y : {first_y, second_y})
      for (float x : {f.hi.x - sz.x - 4, f.lo.x + 4}) spots.emplace_back(x, y);
  }
  for (const ImVec2& p : spots) {
    const plot::Box b{p.x, p.y, p.x + sz.x, p.y + sz.y};
    if (b.y0 < f.lo.y || b.y1 > f.hi.y) continue;
    if (std::none_of(data.begin(), data.end(), [&](const plot::Polyline& l) { return plot::box_hits_polyline(b, l); })) return p;
  }
  return spots.front();
}

// A marker's label on a backing of the plot's colour: the series drawn before it cross it
// without making it unreadable.
void marker_label(ImDrawList* dl, ImFont* font, float px, ImVec2 p, ImVec2 size, ImU32 col, const std::string& text) {
  dl->AddRectFilled(ImVec2(p.x - 2, p.y), ImVec2(p.x + size.x + 2, p.y + size.y), color_alpha(theme().panel_bg, 0.8f), 2);
  add_text(dl, font, px, p, col, text.c_str());
}

// The markers' lines and labels: a legend had better not cover them either.
std::vector<plot::Box> marker_boxes(const Frame& f, const std::vector<Marker>& markers, ImFont* font, float px,
                                    const std::vector<plot::Polyline>& data) {
  std::vector<plot::Box> out;
  for (const auto& m : markers) {
    const double at = m.vertical ? f.px(m.value) : f.py(m.value);
    if (!std::isfinite(at)) continue;
    if (m.vertical) out.push_back({at - 2, f.lo.y, at + 2, f.hi.y});
    else out.push_back({f.lo.x, at - 2, f.hi.x, at + 2});
    if (m.label.empty()) continue;
    const ImVec2 sz = font->CalcTextSizeA(px, 1e9f, 0, m.label.c_str());
    const ImVec2 p = marker_label_pos(f, m, sz, data);
    out.push_back({p.x, p.y, p.x + sz.x, p.y + sz.y});
  }
  return out;
}

bool g_record = false;
std::vector<PlotRecord> g_records;

}  // namespace

int plot_draw(const char* id, const PlotSpec& spec, ImVec2 size) {
  const Theme& th = theme();
  Fonts& F = fonts();
  ImFont* tick_font = F.small ? F.small : ImGui::GetFont();
  const float tick_px = tick_font->FontSize, label_px = ImGui::GetFontSize();

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (size.x <= 0) size.x = std::max(1.0f, avail.x + size.x);
  if (size.y <= 0) size.y = std::max(1.0f, avail.y + size.y);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(id, size);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();

  // Too small to be a plot: a note instead of a squashed drawing.
  if (size.x < 120 || size.y < 90) {
    add_text(dl, nullptr, 0, ImVec2(origin.x + 4, origin.y + 4), th.text_dim, "(enlarge the window to see the plot)");
    return -1;
  }

  Axis ax = spec.x, ay = spec.y;
  if (spec.fit_x) fit_axis(ax, spec.series, true, false);
  if (spec.fit_y) fit_axis(ay, spec.series, false, spec.y_from_zero, spec.y_include);

  // Layout: title and y label on top, y tick labels left, x ticks and x label below. `extra_top`
  // and `extra_right` make room for a legend outside the plot area.
  const float pad = 0.5f * label_px;
  const float title_h = spec.title.empty() ? 0 : label_px * 1.25f;
  const float ylabel_h = ay.label.empty() ? 0 : tick_px * 1.3f;
  const float bottom_h = tick_px * 1.4f + (ax.label.empty() ? 0 : label_px * 1.3f);
  std::vector<plot::Tick> yt;
  auto layout = [&](float extra_top, float extra_right) {
    const float top = origin.y + title_h + ylabel_h + pad * 0.6f + extra_top;
    const float plot_h = size.y - (top - origin.y) - bottom_h;
    yt = plot::axis_ticks(ay, plot::ticks_for_length(plot_h, tick_px * 2.6));
    float ytick_w = 0;
    for (const auto& t : yt)
      if (t.major) ytick_w = std::max(ytick_w, tick_font->CalcTextSizeA(tick_px, 1e9f, 0, t.label.c_str()).x);
    Frame fr;
    fr.lo = ImVec2(origin.x + ytick_w + pad * 1.2f, top);
    fr.hi = ImVec2(origin.x + size.x - pad - extra_right, origin.y + size.y - bottom_h);
    fr.x = ax;
    fr.y = ay;
    return fr;
  };
  Frame f = layout(0, 0);

  // Legend: a column of entries inside the plot where no data lie; else a column at the right of
  // the plot area when it leaves the plot most of its width, else rows above it.
  struct Entry {
    size_t series;
    float text_w;
  };
  std::vector<Entry> entries;
  if (spec.legend != LegendPos::none)
    for (size_t i = 0; i < spec.series.size(); ++i)
      if (!spec.series[i].name.empty())
        entries.push_back({i, tick_font->CalcTextSizeA(tick_px, 1e9f, 0, spec.series[i].name.c_str()).x});
  const float row = tick_px * 1.3f, swatch = tick_px * 1.6f;
  float text_w = 0;
  for (const auto& e : entries) text_w = std::max(text_w, e.text_w);
  const float box_w = text_w + swatch + 18, box_h = entries.size() * row + 8;
  enum class Where { none, inside, right, above } where = entries.empty() ? Where::none : Where::inside;
  ImVec2 legend_p;
  std::vector<ImVec2> flow;  // Where::above: each entry's position
  if (where == Where::inside) {
    const auto pixels = series_pixels(f, spec.series);
    const plot::LegendSpot spot = plot::legend_place(plot::Box{f.lo.x, f.lo.y, f.hi.x, f.hi.y}, box_w, box_h, 8,
                                                     static_cast<plot::Corner>(spec.legend), pixels,
                                                     marker_boxes(f, spec.markers, tick_font, tick_px, pixels));
    if (spot.inside) {
      legend_p = ImVec2(static_cast<float>(spot.box.x0), static_cast<float>(spot.box.y0));
    } else if ((f.hi.x - f.lo.x) - box_w - pad >= 0.62f * (f.hi.x - f.lo.x)) {
      where = Where::right;
      f = layout(0, box_w + pad);
      legend_p = ImVec2(f.hi.x + pad, f.lo.y);
    } else {
      where = Where::above;
      const float x0 = f.lo.x, x1 = origin.x + size.x - pad;
      float x = x0, y = 0;
      for (const auto& e : entries) {
        const float ew = swatch + 12 + e.text_w + pad;
        if (x > x0 && x + ew - pad > x1) {
          x = x0;
          y += row;
        }
        flow.emplace_back(x, y);
        x += ew;
      }
      f = layout(y + row + 4, 0);
      const float y_top = f.lo.y - (y + row + 4);
      for (auto& p : flow) p.y += y_top;
    }
  }
  if (f.hi.x - f.lo.x < 40 || f.hi.y - f.lo.y < 30) {
    add_text(dl, nullptr, 0, ImVec2(origin.x + 4, origin.y + 4), th.text_dim, "(enlarge the window to see the plot)");
    return -1;
  }

  // Title and y-axis label (horizontal, above the axis: readable without tilting your head).
  if (!spec.title.empty()) {
    ImFont* tf = F.bold ? F.bold : ImGui::GetFont();
    add_text(dl, tf, label_px, ImVec2(origin.x, origin.y), th.text, spec.title.c_str());
  }
  if (!ay.label.empty())
    add_text(dl, tick_font, tick_px, ImVec2(origin.x, origin.y + title_h), th.text_dim, ay.label.c_str());

  // Background, grid, ticks.
  dl->AddRectFilled(f.lo, f.hi, th.panel_bg);
  const auto xt = plot::axis_ticks(ax, plot::ticks_for_length(f.hi.x - f.lo.x, tick_px * 5.5));
  for (const auto& t : xt) {
    const float X = static_cast<float>(f.px(t.value));
    if (!std::isfinite(X) || X < f.lo.x - 0.5f || X > f.hi.x + 0.5f) continue;
    dl->AddLine(ImVec2(X, f.lo.y), ImVec2(X, f.hi.y), t.major ? th.grid : color_alpha(th.grid, 0.45f), 1.0f);
    dl->AddLine(ImVec2(X, f.hi.y), ImVec2(X, f.hi.y + (t.major ? 6.f : 3.f)), th.axis, 1.0f);
    if (t.major) {
      const ImVec2 sz = tick_font->CalcTextSizeA(tick_px, 1e9f, 0, t.label.c_str());
      float lx = X - sz.x / 2;
      lx = std::clamp(lx, origin.x, origin.x + size.x - sz.x);
      add_text(dl, tick_font, tick_px, ImVec2(lx, f.hi.y + 7), th.text, t.label.c_str());
    }
  }
  for (const auto& t : yt) {
    const float Y = static_cast<float>(f.py(t.value));
    if (!std::isfinite(Y) || Y < f.lo.y - 0.5f || Y > f.hi.y + 0.5f) continue;
    dl->AddLine(ImVec2(f.lo.x, Y), ImVec2(f.hi.x, Y), t.major ? th.grid : color_alpha(th.grid, 0.45f), 1.0f);
    dl->AddLine(ImVec2(f.lo.x - (t.major ? 6.f : 3.f), Y), ImVec2(f.lo.x, Y), th.axis, 1.0f);
    if (t.major) {
      const ImVec2 sz = tick_font->CalcTextSizeA(tick_px, 1e9f, 0, t.label.c_str());
      add_text(dl, tick_font, tick_px, ImVec2(f.lo.x - 8 - sz.x, Y - sz.y / 2), th.text, t.label.c_str());
    }
  }
  dl->AddLine(ImVec2(f.lo.x, f.hi.y), ImVec2(f.hi.x, f.hi.y), th.axis, 1.5f);
  dl->AddLine(ImVec2(f.lo.x, f.lo.y), ImVec2(f.lo.x, f.hi.y), th.axis, 1.5f);
  if (!ax.label.empty()) {
    const ImVec2 sz = ImGui::CalcTextSize(ax.label.c_str());
    add_text(dl, nullptr, 0, ImVec2((f.lo.x + f.hi.x - sz.x) / 2, f.hi.y + tick_px * 1.45f), th.text_dim, ax.label.c_str());
  }

  // Data and markers, clipped to the plot area plus a point's radius: a point on the first or last
  // tick (fitted log axes end on the data) shows whole instead of cut in half.
  const float clip_pad = th.point_radius + 1.5f;
  const std::vector<plot::Polyline> pixels = series_pixels(f, spec.series);  // the final layout's
  dl->PushClipRect(ImVec2(f.lo.x - clip_pad, f.lo.y - clip_pad), ImVec2(f.hi.x + clip_pad, f.hi.y + clip_pad), true);
  for (const auto& m : spec.markers) {
    const ImU32 col = m.color ? m.color : th.text_dim;
    if (m.vertical) {
      const float X = static_cast<float>(f.px(m.value));
      if (!std::isfinite(X)) continue;
      dashed_line(dl, ImVec2(X, f.lo.y), ImVec2(X, f.hi.y), col, 1.5f, 6);
      if (!m.label.empty()) {
        const ImVec2 sz = tick_font->CalcTextSizeA(tick_px, 1e9f, 0, m.label.c_str());
        marker_label(dl, tick_font, tick_px, marker_label_pos(f, m, sz, pixels), sz, col, m.label);
      }
    } else {
      const float Y = static_cast<float>(f.py(m.value));
      if (!std::isfinite(Y)) continue;
      dashed_line(dl, ImVec2(f.lo.x, Y), ImVec2(f.hi.x, Y), col, 1.5f, 6);
      if (!m.label.empty()) {
        const ImVec2 sz = tick_font->CalcTextSizeA(tick_px, 1e9f, 0, m.label.c_str());
        marker_label(dl, tick_font, tick_px, marker_label_pos(f, m, sz, pixels), sz, col, m.label);
      }
    }
  }
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const Series& s = spec.series[i];
    const ImU32 col = series_color(s, i);
    const float w = series_width(s);
    if (s.style != SeriesStyle::points) draw_line(dl, f, s, col, w);
    if (s.style != SeriesStyle::line) {
      const size_t n = std::min(s.x.size(), s.y.size());
      for (size_t k = 0; k < n; ++k) {
        const double X = f.px(s.x[k]), Y = f.py(s.y[k]);
        if (!std::isfinite(X) || !std::isfinite(Y)) continue;
        const ImVec2 c(static_cast<float>(X), static_cast<float>(Y));
        dl->AddCircleFilled(c, th.point_radius, col);
        dl->AddCircle(c, th.point_radius, th.bg, 0, 1.0f);
      }
    }
  }
  dl->PopClipRect();

  // Legend.
  auto entry = [&](size_t i, ImVec2 p) {
    const Series& s = spec.series[i];
    const ImU32 col = series_color(s, i);
    const float cy = p.y + row / 2;
    if (s.style == SeriesStyle::points) {
      dl->AddCircleFilled(ImVec2(p.x + 6 + swatch / 2, cy), th.point_radius, col);
    } else if (s.dashed) {
      dashed_line(dl, ImVec2(p.x + 6, cy), ImVec2(p.x + 6 + swatch, cy), col, th.line_width, 4);
    } else {
      dl->AddLine(ImVec2(p.x + 6, cy), ImVec2(p.x + 6 + swatch, cy), col, th.line_width + 1);
    }
    add_text(dl, tick_font, tick_px, ImVec2(p.x + 12 + swatch, p.y), th.text, s.name.c_str());
  };
  plot::Box legend_box;
  if (where == Where::inside || where == Where::right) {
    const ImVec2 p = legend_p;
    legend_box = plot::Box{p.x, p.y, p.x + box_w, p.y + box_h};
    dl->AddRectFilled(p, ImVec2(p.x + box_w, p.y + box_h), color_alpha(th.bg, 0.88f), 4);
    dl->AddRect(p, ImVec2(p.x + box_w, p.y + box_h), th.grid, 4);
    for (size_t k = 0; k < entries.size(); ++k) entry(entries[k].series, ImVec2(p.x, p.y + 4 + k * row));
  } else if (where == Where::above) {
    legend_box = plot::Box{flow.front().x, flow.front().y, f.hi.x, flow.back().y + row};
    for (size_t k = 0; k < entries.size(); ++k) entry(entries[k].series, flow[k]);
  }
  if (g_record) {
    PlotRecord r;
    r.id = id;
    r.area = plot::Box{f.lo.x, f.lo.y, f.hi.x, f.hi.y};
    r.legend = where != Where::none;
    r.legend_inside = where == Where::inside;
    r.legend_box = legend_box;
    r.data = pixels;
    g_records.push_back(std::move(r));
  }

  // Hover: the nearest point of any series, with its exact reading.
  int hovered_series = -1;
  if (hovered) {
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    double best_d2 = std::pow(std::max(12.0f, 0.9f * tick_px), 2);
    int best_s = -1, best_k = -1;
    for (size_t i = 0; i < spec.series.size(); ++i) {
      const Series& s = spec.series[i];
      std::vector<double> xs, ys;
      const size_t n = std::min(s.x.size(), s.y.size());
      xs.reserve(n);
      ys.reserve(n);
      for (size_t k = 0; k < n; ++k) {
        xs.push_back(f.px(s.x[k]));
        ys.push_back(f.py(s.y[k]));
      }
      const int k = plot::nearest_point(xs, ys, mouse.x, mouse.y, std::sqrt(best_d2));
      if (k >= 0) {
        const double d2 = std::pow(xs[k] - mouse.x, 2) + std::pow(ys[k] - mouse.y, 2);
        if (d2 <= best_d2) {
          best_d2 = d2;
          best_s = static_cast<int>(i);
          best_k = k;
        }
      }
    }
    if (best_s >= 0) {
      const Series& s = spec.series[best_s];
      const ImVec2 c(static_cast<float>(f.px(s.x[best_k])), static_cast<float>(f.py(s.y[best_k])));
      dl->AddCircle(c, th.point_radius + 4, th.text, 0, 2.0f);
      ImGui::BeginTooltip();
      if (F.bold) ImGui::PushFont(F.bold);
      ImGui::TextUnformatted(s.name.empty() ? "value" : s.name.c_str());
      if (F.bold) ImGui::PopFont();
      ImGui::Text("%s: %s", ax.label.empty() ? "x" : ax.label.c_str(), plot::format_value(s.x[best_k], ax.unit).c_str());
      ImGui::Text("%s: %s", ay.label.empty() ? "y" : ay.label.c_str(), plot::format_value(s.y[best_k], ay.unit).c_str());
      if (best_k < static_cast<int>(s.notes.size()) && !s.notes[best_k].empty())
        ImGui::TextUnformatted(s.notes[best_k].c_str());
      ImGui::EndTooltip();
      hovered_series = best_s;
    }
  }
  return hovered_series;
}

void plot_records_enable(bool on) {
  g_record = on;
  g_records.clear();
}

std::vector<PlotRecord>& plot_records() { return g_records; }

}  // namespace attnlab::gui
