// Our small plotting on ImDrawList (ImPlot is not packaged in Debian): one call draws a plot with
// linear or log axes, ticks in the axis' unit, axis labels, a legend, lines and scatter points,
// markers (a ridge point, the chosen N), and a tooltip with the exact value of the point under
// the mouse. The numbers are the caller's: a series may carry, per point, the exact figure from
// the core library (a u128 byte count as text) that the tooltip shows beside the plotted double.
#pragma once
#include <imgui.h>
#include <string>
#include <vector>

#include "plot/plot_math.hpp"

namespace attnlab::gui {

enum class SeriesStyle { line, points, line_points };

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::vector<std::string> notes;  // optional, per point: shown in the tooltip ("exact: 1,234 B")
  ImU32 color = 0;                 // 0 = the theme's series colour by position
  SeriesStyle style = SeriesStyle::line;
  bool dashed = false;
  float width = 0;                 // 0 = the theme's line width
};

// A reference line across the plot: vertical at x = value, or horizontal at y = value.
struct Marker {
  double value = 0;
  std::string label;
  ImU32 color = 0;  // 0 = dim text colour
  bool vertical = true;
  bool label_top = false;  // vertical markers: label at the top instead of the bottom
};

// Where the legend would rather be. It goes there only if no data lie under it: otherwise in
// another corner or free spot inside the plot, and when the data leave none, beside or above the
// plot area (plot_math's legend_place). Legends never cover data.
enum class LegendPos { top_left, top_right, bottom_right, bottom_left, none };

struct PlotSpec {
  std::string title;
  plot::Axis x, y;
  bool fit_x = true, fit_y = true;  // fit the axis range to the data (else x.lo..x.hi as given)
  bool y_from_zero = true;          // linear y fitted from 0
  std::vector<Series> series;
  std::vector<Marker> markers;
  std::vector<double> y_include;    // values the fitted y range must include (a peak to compare with)
  LegendPos legend = LegendPos::top_left;
};

// Draws `spec` in a box of `size` at the cursor (negative/zero components: fill what is left).
// Returns the index of the hovered series (-1 none), for callers that highlight elsewhere.
int plot_draw(const char* id, const PlotSpec& spec, ImVec2 size);

// What plot_draw laid out, kept for tests when recording is on (tests/test_gui_layout.cpp checks
// that no legend covers a series, in every panel at the presenter sizes).
struct PlotRecord {
  std::string id;
  plot::Box area;     // the plot area (inside the axes)
  bool legend = false;         // a legend was drawn
  bool legend_inside = false;  // inside the plot area (else beside or above it)
  plot::Box legend_box;
  std::vector<plot::Polyline> data;  // every series in pixels, as drawn
};
void plot_records_enable(bool on);  // off by default: the app never pays for it
std::vector<PlotRecord>& plot_records();

}  // namespace attnlab::gui
