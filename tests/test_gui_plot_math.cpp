// The dashboard's plot arithmetic (gui/plot/plot_math.hpp): transforms, tick positions, labels.
// Expected values worked out by hand from the definitions in the header.
#include <doctest/doctest.h>

#include <cmath>

#include "plot/plot_math.hpp"

using namespace attnlab::plot;

namespace {
std::vector<std::string> labels(const std::vector<Tick>& t) {
  std::vector<std::string> out;
  for (const auto& x : t)
    if (x.major) out.push_back(x.label);
  return out;
}
std::vector<double> major_values(const std::vector<Tick>& t) {
  std::vector<double> out;
  for (const auto& x : t)
    if (x.major) out.push_back(x.value);
  return out;
}
Axis lin(double lo, double hi, Unit u = Unit::none) { return Axis{lo, hi, Scale::linear, 10, u, ""}; }
Axis logax(double lo, double hi, int base, Unit u = Unit::none) { return Axis{lo, hi, Scale::log, base, u, ""}; }
}  // namespace

TEST_CASE("plot transforms map values to positions and back") {
  SUBCASE("linear") {
    CHECK(axis_to_unit(lin(0, 10), 2.5) == doctest::Approx(0.25));
    CHECK(axis_to_unit(lin(-5, 5), 0) == doctest::Approx(0.5));
    CHECK(axis_from_unit(lin(0, 10), 0.25) == doctest::Approx(2.5));
    CHECK(axis_to_pixel(lin(0, 10), 10, 100, 300) == doctest::Approx(300));
  }
  SUBCASE("log base 10: one decade of three is a third of the way") {
    CHECK(axis_to_unit(logax(1, 1000, 10), 10) == doctest::Approx(1.0 / 3));
    CHECK(axis_from_unit(logax(1, 1e4, 10), 0.5) == doctest::Approx(100));
  }
  SUBCASE("log base 2: 32 is half way between 1 and 1024; y axes may run downwards") {
    CHECK(axis_to_pixel(logax(1, 1024, 2), 32, 100, 300) == doctest::Approx(200));
    CHECK(axis_to_pixel(logax(1, 1024, 2), 32, 500, 100) == doctest::Approx(300));
  }
  SUBCASE("a value <= 0 has no place on a log axis") {
    CHECK(std::isnan(axis_to_unit(logax(1, 100, 10), 0)));
    CHECK(std::isnan(axis_to_unit(logax(1, 100, 10), -3)));
  }
  SUBCASE("a zero-width axis puts everything in the middle instead of dividing by zero") {
    CHECK(axis_to_unit(lin(4, 4), 4) == doctest::Approx(0.5));
  }
}

TEST_CASE("nice steps are 1, 2 or 5 times a power of ten") {
  CHECK(nice_step(10, 5) == doctest::Approx(2));     // raw 2
  CHECK(nice_step(1, 5) == doctest::Approx(0.2));    // raw 0.2
  CHECK(nice_step(7, 5) == doctest::Approx(2));      // raw 1.4 -> 2
  CHECK(nice_step(100, 4) == doctest::Approx(50));   // raw 25 -> 50
  CHECK(nice_step(3.5, 10) == doctest::Approx(0.5)); // raw 0.35 -> 0.5
  CHECK(nice_step(0, 5) == doctest::Approx(1));      // degenerate span
}

TEST_CASE("linear ticks") {
  SUBCASE("0..10 with at most 5 intervals: every 2") {
    const auto t = axis_ticks(lin(0, 10), 5);
    CHECK(major_values(t) == std::vector<double>{0, 2, 4, 6, 8, 10});
    CHECK(labels(t) == std::vector<std::string>{"0", "2", "4", "6", "8", "10"});
  }
  SUBCASE("a range not starting on a step: -3..7 by 2 gives -2..6") {
    CHECK(major_values(axis_ticks(lin(-3, 7), 5)) == std::vector<double>{-2, 0, 2, 4, 6});
  }
  SUBCASE("bytes step in binary units: 0..3 MiB by 0.5 MiB") {
    const auto t = axis_ticks(lin(0, 3 * 1048576.0, Unit::bytes), 6);
    CHECK(labels(t) == std::vector<std::string>{"0 B", "512 KiB", "1 MiB", "1.5 MiB", "2 MiB", "2.5 MiB", "3 MiB"});
  }
  SUBCASE("tokens step in K: 0..16K by 4K") {
    const auto t = axis_ticks(lin(0, 16384, Unit::tokens), 4);
    CHECK(labels(t) == std::vector<std::string>{"0", "4K", "8K", "12K", "16K"});
  }
}

TEST_CASE("log ticks") {
  SUBCASE("seven decades of seconds, one label each") {
    const auto t = axis_ticks(logax(1e-9, 1e-3, 10, Unit::seconds), 10);
    CHECK(labels(t) == std::vector<std::string>{"1 ns", "10 ns", "100 ns", "1 µs", "10 µs", "100 µs", "1 ms"});
  }
  SUBCASE("few decades get minor ticks at 2..9: 1..100 has 3 majors and 16 minors") {
    const auto t = axis_ticks(logax(1, 100, 10), 10);
    CHECK(major_values(t).size() == 3);
    CHECK(t.size() == 19);
    CHECK(t[1].value == doctest::Approx(2));
    CHECK_FALSE(t[1].major);
    CHECK(t[1].label.empty());
  }
  SUBCASE("too many decades: every k-th decade, aligned on multiples of k") {
    // 10 decades (1 .. 1e9), at most 3 labels -> k = ceil(10/3) = 4: decades 0, 4, 8.
    const auto t = axis_ticks(logax(1, 1e9, 10, Unit::flop_rate), 3);
    CHECK(labels(t) == std::vector<std::string>{"1 FLOP/s", "10 KFLOP/s", "100 MFLOP/s"});
  }
  SUBCASE("sequence lengths on base 2: 512..1M, 6 labels -> every other power") {
    const auto t = axis_ticks(logax(512, 1048576, 2, Unit::tokens), 6);
    CHECK(labels(t) == std::vector<std::string>{"1K", "4K", "16K", "64K", "256K", "1M"});
    CHECK(t.front().value == doctest::Approx(512));  // 2^9 is there, as an unlabelled minor
    CHECK_FALSE(t.front().major);
  }
  SUBCASE("bytes on base 2 label whole binary prefixes") {
    const auto t = axis_ticks(logax(1024, std::ldexp(1.0, 40), 2, Unit::bytes), 6);
    CHECK(labels(t) == std::vector<std::string>{"1 KiB", "1 MiB", "1 GiB", "1 TiB"});
  }
  SUBCASE("less than two powers in view falls back to linear steps") {
    CHECK(major_values(axis_ticks(logax(2, 8, 10), 5)) == std::vector<double>{2, 4, 6, 8});
  }
  SUBCASE("an invalid log range gives no ticks instead of garbage") {
    CHECK(axis_ticks(logax(0, 100, 10), 5).empty());
    CHECK(axis_ticks(logax(100, 100, 10), 5).empty());
  }
}

TEST_CASE("tick labels and tooltip values read as a person writes them") {
  SUBCASE("tokens: K and M only where exact") {
    CHECK(format_tick(4096, Unit::tokens) == "4K");
    CHECK(format_tick(131072, Unit::tokens) == "128K");
    CHECK(format_tick(1048576, Unit::tokens) == "1M");
    CHECK(format_tick(1536, Unit::tokens) == "1.5K");
    CHECK(format_tick(1000, Unit::tokens) == "1000");
    CHECK(format_tick(512, Unit::tokens) == "512");
  }
  SUBCASE("bytes are binary") {
    CHECK(format_tick(1536, Unit::bytes) == "1.5 KiB");
    CHECK(format_tick(80.0 * 1073741824.0, Unit::bytes) == "80 GiB");
    CHECK(format_tick(0, Unit::bytes) == "0 B");
  }
  SUBCASE("times, rates, ratios") {
    CHECK(format_tick(2.5e-3, Unit::seconds) == "2.5 ms");
    CHECK(format_tick(1e-6, Unit::seconds) == "1 µs");
    CHECK(format_tick(5e-8, Unit::seconds) == "50 ns");
    CHECK(format_tick(989.4e12, Unit::flop_rate) == "989 TFLOP/s");
    CHECK(format_tick(3.35e12, Unit::byte_rate) == "3.35 TB/s");
    CHECK(format_tick(2, Unit::ratio) == "2x");
    CHECK(format_tick(0.25, Unit::percent) == "25%");
    CHECK(format_tick(2.5e6, Unit::count) == "2.5M");
    CHECK(format_tick(1e10, Unit::flops) == "10 GFLOP");
    CHECK(format_tick(-4, Unit::none) == "-4");
  }
  SUBCASE("tooltips keep four significant digits, integers in full") {
    CHECK(format_value(1234567890.0, Unit::bytes) == "1.150 GiB");  // 1234567890 / 2^30 = 1.14978
    CHECK(format_value(1000, Unit::bytes) == "1,000 B");
    CHECK(format_value(16384, Unit::tokens) == "16,384");
    CHECK(format_value(0.0045678, Unit::seconds) == "4.568 ms");
    CHECK(format_value(3.35e12, Unit::byte_rate) == "3.350 TB/s");
    CHECK(format_value(295.3, Unit::flop_per_byte) == "295.3 FLOP/B");
  }
}

TEST_CASE("fitted ranges hold the data with round ends") {
  SUBCASE("log base 10: 3..4500 -> 1..10^4") {
    const auto r = fit_range(3, 4500, logax(1, 10, 10));
    CHECK(r.lo == doctest::Approx(1));
    CHECK(r.hi == doctest::Approx(1e4));
  }
  SUBCASE("log base 2: 500..70000 -> 2^8..2^17") {
    const auto r = fit_range(500, 70000, logax(1, 2, 2));
    CHECK(r.lo == doctest::Approx(256));
    CHECK(r.hi == doctest::Approx(131072));
  }
  SUBCASE("exact powers stay where they are: 1024..4096 on base 2") {
    const auto r = fit_range(1024, 4096, logax(1, 2, 2));
    CHECK(r.lo == doctest::Approx(1024));
    CHECK(r.hi == doctest::Approx(4096));
  }
  SUBCASE("linear from zero: 0..7.3 -> 0..8 (step 2)") {
    const auto r = fit_range(1.2, 7.3, lin(0, 1));
    CHECK(r.lo == doctest::Approx(0));
    CHECK(r.hi == doctest::Approx(8));
  }
  SUBCASE("linear without zero: 3..7 stays 3..7 (step 1)") {
    const auto r = fit_range(3, 7, lin(0, 1), false);
    CHECK(r.lo == doctest::Approx(3));
    CHECK(r.hi == doctest::Approx(7));
  }
  SUBCASE("a single value gets room around it") {
    const auto r = fit_range(5, 5, lin(0, 1), false);
    CHECK(r.lo < 5);
    CHECK(r.hi > 5);
  }
}

TEST_CASE("hover picks the nearest point within the radius") {
  const std::vector<double> xs{0, 10, 20}, ys{0, 0, 0};
  CHECK(nearest_point(xs, ys, 9, 1, 5) == 1);
  CHECK(nearest_point(xs, ys, 16, 0, 5) == 2);
  CHECK(nearest_point(xs, ys, 50, 50, 5) == -1);
  CHECK(nearest_point({}, {}, 0, 0, 5) == -1);
}

TEST_CASE("tick count follows the room on screen") {
  CHECK(ticks_for_length(800, 100) == 8);
  CHECK(ticks_for_length(50, 100) == 2);  // never fewer than two labels
}

TEST_CASE("a legend goes where no data lie") {
  const Box area{0, 0, 400, 300};
  auto line = [](std::vector<double> x, std::vector<double> y, double halo = 2) {
    Polyline p;
    p.x = std::move(x);
    p.y = std::move(y);
    p.halo = halo;
    return p;
  };
  SUBCASE("segments against boxes, widened by the line's half width") {
    CHECK(box_hits_segment(Box{10, 10, 20, 20}, 0, 0, 30, 30, 0));    // the diagonal crosses it
    CHECK_FALSE(box_hits_segment(Box{10, 10, 20, 20}, 0, 30, 30, 25, 0));
    CHECK_FALSE(box_hits_segment(Box{10, 10, 20, 20}, 0, 22, 30, 22, 1));  // 2 px below, 1 px halo
    CHECK(box_hits_segment(Box{10, 10, 20, 20}, 0, 22, 30, 22, 3));        // 3 px halo reaches it
    CHECK(box_hits_segment(Box{10, 10, 20, 20}, 15, 15, 15, 15, 0));       // a point inside
  }
  SUBCASE("a rising line (bottom left to top right): the preferred top left corner is free") {
    const auto spot = legend_place(area, 100, 60, 8, Corner::top_left, {line({0, 400}, {300, 0})});
    REQUIRE(spot.inside);
    CHECK(spot.box.x0 == doctest::Approx(8));
    CHECK(spot.box.y0 == doctest::Approx(8));
  }
  SUBCASE("a falling line through the top left: the legend moves to the top right") {
    const auto spot = legend_place(area, 100, 60, 8, Corner::top_left, {line({0, 400}, {0, 300})});
    REQUIRE(spot.inside);
    CHECK(spot.box.x0 == doctest::Approx(292));
    CHECK(spot.box.y0 == doctest::Approx(8));
  }
  SUBCASE("lines along the top and bottom edges: a spot in the middle band") {
    const auto spot = legend_place(area, 100, 60, 8, Corner::top_left,
                                   {line({0, 400}, {20, 20}), line({0, 400}, {280, 280})});
    REQUIRE(spot.inside);
    CHECK(spot.box.y0 > 22);
    CHECK(spot.box.y1 < 278);
  }
  SUBCASE("a marker in the free corner is avoided when another free spot exists") {
    const std::vector<Box> marker{{0, 0, 150, 100}};
    const auto spot = legend_place(area, 100, 60, 8, Corner::top_left, {line({0, 400}, {300, 0})}, marker);
    REQUIRE(spot.inside);
    CHECK_FALSE(boxes_overlap(spot.box, marker[0]));
  }
  SUBCASE("data everywhere: no spot inside, the caller puts the legend outside") {
    std::vector<Polyline> rows;
    for (double y = 0; y <= 300; y += 20) rows.push_back(line({0, 400}, {y, y}));
    CHECK_FALSE(legend_place(area, 100, 60, 8, Corner::top_left, rows).inside);
  }
  SUBCASE("separate points leave the gaps between them free") {
    Polyline pts = line({50, 350}, {50, 250}, 5);
    pts.joined = false;
    const auto spot = legend_place(Box{0, 0, 400, 300}, 100, 60, 8, Corner::top_left, {pts});
    REQUIRE(spot.inside);
    CHECK_FALSE(box_hits_polyline(spot.box, pts));
    CHECK(spot.box.x0 == doctest::Approx(292));  // top left holds the point at (50, 50)
  }
  SUBCASE("a legend larger than the plot does not fit") {
    CHECK_FALSE(legend_place(Box{0, 0, 80, 50}, 100, 60, 8, Corner::top_left, {}).inside);
  }
}
