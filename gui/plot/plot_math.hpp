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

}  // namespace attnlab::plot
