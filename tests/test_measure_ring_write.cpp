// The ring section's writer (ring_measured_write, used by kernels/ring-attention.cpp): what it
// writes reads back field for field, the layout included; what would not read back is refused.
#include <doctest/doctest.h>

#include <filesystem>

#include "measure/measurement.hpp"
#include "measure/ring_measured.hpp"
#include "util/errors.hpp"

using namespace attnlab;

TEST_CASE("ring measurements: the shipped file written again reads back the same") {
  const RingMeasurements a = ring_measured_load(measurement_dir() / "ring-h200x2.json");
  const RingMeasurements b = ring_measured_parse(ring_measured_to_json(a), "again.json");
  CHECK(b.device.name == a.device.name);
  CHECK(b.date == a.date);
  CHECK(b.command == a.command);
  CHECK(b.nccl_version == "2.28.9");
  CHECK(b.env.at("NCCL_NVLS_ENABLE") == "0");
  CHECK(b.link_sizes.size() == a.link_sizes.size());
  REQUIRE(b.rows.size() == a.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    const RingMeasuredRow &x = a.rows[i], &y = b.rows[i];
    CHECK(y.block == x.block);
    CHECK(y.layout == RingLayout::contiguous);  // the file predates layouts
    CHECK(y.rows_checked == x.rows_checked);
    CHECK(y.overlap.pass_ms == x.overlap.pass_ms);
    CHECK(y.serial.steps.size() == x.serial.steps.size());
    CHECK(y.overlap.timeline.size() == x.overlap.timeline.size());
    CHECK(y.compute_only.has_value() == x.compute_only.has_value());
  }
  // The whole file is also a plain measurement file.
  CHECK_NOTHROW(measurement_parse(ring_measured_to_json(a), "again.json"));
}

TEST_CASE("ring measurements: a zigzag row keeps its layout, and the model compares it as zigzag") {
  RingMeasurements m = ring_measured_load(measurement_dir() / "ring-h200x2.json");
  m.rows.resize(1);
  m.rows[0].layout = RingLayout::zigzag;
  m.rows[0].causal = true;
  const RingMeasurements back = ring_measured_parse(ring_measured_to_json(m), "z.json");
  CHECK(back.rows.at(0).layout == RingLayout::zigzag);
  RingConfig base;
  base.flops_per_s = 989e12;
  base.link_bytes_per_s = 300e9;
  CHECK(ring_compare(back, base).at(0).model.config.layout == RingLayout::zigzag);
  CHECK(ring_series(back, base).at(0).label().find(", zigzag layout") != std::string::npos);
}

TEST_CASE("ring measurements: the writer refuses what the reader would refuse, and writes nothing") {
  RingMeasurements m = ring_measured_load(measurement_dir() / "ring-h200x2.json");
  m.rows.resize(1);
  m.rows[0].kv_bytes_per_step += 1;  // no longer 2 b Hkv n d x 2 bytes
  const std::filesystem::path out = std::filesystem::temp_directory_path() / "attnlab-ring-write-refused.json";
  std::filesystem::remove(out);
  CHECK_THROWS_AS(ring_measured_write(m, out), InputError);
  CHECK_FALSE(std::filesystem::exists(out));
}
