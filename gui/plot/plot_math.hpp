// The arithmetic of our plots, apart from any drawing: axis transforms (linear and log), "nice"
// tick positions a person can read at a glance, and tick labels in the axis' unit. No ImGui
// here, so that the tests link it without a display (tests/test_gui_plot_math.cpp).
//
// Log axes come in two bases because the quantities do: sequence lengths, tile sizes and byte
// counts live on powers of two (1K, 4K, 16K tokens; 1 KiB, 1 MiB), times and rates on powers of
// ten (1 µs, 10 TFLOP/s).
#pragma once
#include <string>
#include <vector>

namespace attnlab::plot {

enum class Scale { linear, log };

// What an axis counts: decides the tick labels ("4K", "1 MiB", "100 TFLOP/s", "2.5 ms").
enum class Unit {
  none,       // plain number: "0.5", "120", "1e+06"
  count,      // integers with binary-free SI suffix: "10K", "2.5M"
  tokens,     // sequence lengths: "512", "4K", "128K", "1M" (K = 1024, as "128K context" means)
  bytes,      // binary: "512 B", "64 KiB", "1.5 GiB"
  seconds,    // "10 ns", "2.5 µs", "1 ms", "3 s"
  flops,      // FLOP counts: "10 GFLOP", "1.5 TFLOP"
  flop_rate,  // "10 TFLOP/s"
  byte_rate,  // decimal, as data sheets give bandwidth: "3.35 TB/s"
  flop_per_byte,  // arithmetic intensity: "10 FLOP/B"
  ratio,      // "2x", "0.5x"
  percent,    // the value is a fraction: 0.25 -> "25%"
};

struct Axis {
  double lo = 0, hi = 1;
  Scale scale = Scale::linear;
  int log_base = 10;  // 2 or 10; only for Scale::log
  Unit unit = Unit::none;
  std::string label;  // "sequence length N (tokens)"
};

// Position of `v` along the axis: 0 at lo, 1 at hi (outside [0, 1] when v is outside the range).
// On a log axis a value <= 0 has no position: returns NaN, and the plot skips it.
double axis_to_unit(const Axis& a, double v);
// The inverse: the value at position t in [0, 1].
double axis_from_unit(const Axis& a, double t);
// Pixel coordinate of `v` on an axis drawn from pixel p0 (at lo) to p1 (at hi).
double axis_to_pixel(const Axis& a, double v, double p0, double p1);

// The "nice" step for a linear axis: 1, 2 or 5 times a power of ten, the smallest that gives at
// most `max_ticks` intervals over `span`.
double nice_step(double span, int max_ticks);

struct Tick {
  double value = 0;
  bool major = true;   // majors carry a label and a grid line; minors a short mark only
  std::string label;   // empty for minor ticks
};

// Ticks inside [lo, hi] (both ends included when they fall on a tick), at most `max_major`
// labelled ones. Linear: multiples of nice_step. Log base 10: decades, or every k-th decade when
// there are too many; minor ticks at 2..9 times a decade when there are few decades. Log base 2:
// powers of two, every k-th when there are too many.
std::vector<Tick> axis_ticks(const Axis& a, int max_major);

// How many labelled ticks fit along `pixels` when each wants about `spacing` pixels (>= 2).
int ticks_for_length(double pixels, double spacing);

// A short label for a tick value. Trailing zeros are dropped ("1 MiB", "2.5 ms", "4K").
std::string format_tick(double v, Unit u);
// A full-precision reading for a tooltip: up to 4 significant digits plus the unit
// ("1.234 GiB", "3.35 TB/s", "16,384").
std::string format_value(double v, Unit u);

// A range that holds [min, max] of the data with room at the ends: on a log axis whole powers of
// the base around the data; on a linear axis multiples of a nice step, starting at 0 when
// `include_zero` (bars and counts), so the axis starts where the eye expects.
struct Range {
  double lo = 0, hi = 1;
};
Range fit_range(double min, double max, const Axis& a, bool include_zero = true);

// Index of the point nearest to pixel (px, py) among points (xs[i], ys[i]) already in pixels,
// within `radius` pixels; -1 if none. Used by the hover tooltip.
int nearest_point(const std::vector<double>& xs, const std::vector<double>& ys, double px, double py, double radius);

// ---- legend placement ------------------------------------------------------------------------
// A legend must never hide data. The plot hands over every series as a polyline in pixels (with
// the half-width of its line or the radius of its points) and the legend's size; the legend goes
// in the first spot inside the plot area that touches no polyline, corners first (the caller's
// preferred corner before the others), then anywhere on a grid. When the data leave no such spot
// the caller draws the legend outside the plot area instead.

struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // pixels, x0 <= x1, y0 <= y1 (screen y grows downwards)
};
struct Polyline {
  std::vector<double> x, y;  // pixels; a non-finite point breaks the line (log of 0)
  double halo = 0;           // half the line width, or a point's radius: the pixels it covers around its path
  bool joined = true;        // false: separate points, no segments between them
};

// Whether the segment (ax, ay)-(bx, by), widened by `pad` pixels, touches the box.
bool box_hits_segment(const Box& b, double ax, double ay, double bx, double by, double pad);
// Whether any segment (or point, when not joined) of the polyline touches the box.
bool box_hits_polyline(const Box& b, const Polyline& p);
// Whether two boxes overlap (touching edges do not count).
bool boxes_overlap(const Box& a, const Box& b);

enum class Corner { top_left, top_right, bottom_right, bottom_left };

struct LegendSpot {
  bool inside = false;  // false: every spot inside covers data; draw the legend outside the area
  Box box;              // where it goes when inside
};
// Places a w x h legend inside `area`, `margin` pixels from its edges. Among the spots that touch
// no data polyline it takes the one touching the fewest `soft` boxes (marker lines and their
// labels: better kept clear, but not data), then the preferred corner, then the other corners,
// then the grid spot nearest the preferred corner.
LegendSpot legend_place(const Box& area, double w, double h, double margin, Corner preferred, const std::vector<Polyline>& data,
                        const std::vector<Box>& soft = {});

}  // namespace attnlab::plot
