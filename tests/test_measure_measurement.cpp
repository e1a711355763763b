// Measurement files: reading, validating and writing them (src/measure/measurement.cpp), and the
// files shipped in assets/measurements/.
#include <doctest/doctest.h>

#include <string>

#include "measure/measurement.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {

// A minimal valid file with one run, one reference and one ncu record. Numbers chosen by hand:
// B1 H2 N128 d64 non-causal is 4·1·2·128·128·64 = 8,388,608 FLOP.
std::string doc(const std::string& version = "1", const std::string& run_time =
                                                     R"("median": 0.02, "min": 0.019, "max": 0.03, "repeats": 10)",
                const std::string& kv_heads = "2") {
  return R"({
  "schema": "attnlab-measurements", "schema_version": )" + version + R"(,
  "device": {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "sm_count": 132,
             "l2_bytes": 52428800, "memory_bytes": 85045870592, "smem_per_block_optin": 232448,
             "driver_version": "580.159.04", "cuda_driver": "13.0", "cuda_runtime": "13.0"},
  "date": "2026-11-23T04:18:00Z", "command": "attnlab-bench --sweep key", "tool": "attnlab-bench 0.1.0",
  "runs": [{"kernel": "attn-mma", "rung": 3, "source": "attnlab",
            "config": {"batch": 1, "heads": 2, "kv_heads": )" + kv_heads + R"(, "seq_q": 128, "seq_kv": 128,
                       "head_dim": 64, "causal": false, "dtype": "bf16", "block_q": 128, "block_kv": 64},
            "time_ms": {)" + run_time + R"(}, "tflops": 0.419, "gbps": 13.1,
            "max_abs_error": 0.00095, "rel_l2_error": 0.0017}],
  "references": [{"kernel": "torch-flash", "rung": 0, "source": "torch", "backend": "flash",
                  "config": {"batch": 1, "heads": 2, "kv_heads": 2, "seq_q": 128, "seq_kv": 128,
                             "head_dim": 64, "causal": false, "dtype": "bf16"},
                  "time_ms": {"median": 0.01, "min": 0.01, "max": 0.012, "repeats": 10}, "tflops": 0.84}],
  "reference_skips": [{"backend": "efficient", "reason": "future fields are ignored"}],
  "ncu": [{"kernel": "attn-naive", "rung": 1, "launches": 3, "options": "--clock-control none",
           "config": {"batch": 1, "heads": 2, "kv_heads": 2, "seq_q": 128, "seq_kv": 128, "head_dim": 64,
                      "causal": true, "dtype": "fp16", "score_dtype": "fp32", "block_q": 128, "block_kv": 128},
           "metrics": {"dram__bytes_read.sum": 1000, "dram__bytes_write.sum": 2000, "lts__t_bytes.sum": 5000,
                       "lts__t_sectors_srcunit_tex.sum": 100}}]
})";
}

}  // namespace

TEST_CASE("measurement_parse reads every field of a valid file") {
  Measurements m = measurement_parse(doc(), "t.json");
  CHECK(m.schema_version == 1);
  CHECK(m.device.name == "NVIDIA H100 80GB HBM3");
  CHECK(m.device.sm_count == 132);
  CHECK(m.device.l2_bytes == 52428800);
  CHECK(m.device.driver_version == "580.159.04");
  CHECK(m.date == "2026-11-23T04:18:00Z");
  REQUIRE(m.runs.size() == 1);
  CHECK(m.runs[0].kernel == "attn-mma");
  CHECK(m.runs[0].rung == 3);
  CHECK(m.runs[0].config.block_q == 128);
  CHECK(m.runs[0].time.median_ms == doctest::Approx(0.02));
  CHECK(m.runs[0].time.repeats == 10);
  CHECK(*m.runs[0].max_abs_error == doctest::Approx(0.00095));
  CHECK(*m.runs[0].gbps == doctest::Approx(13.1));
  REQUIRE(m.references.size() == 1);
  CHECK(m.references[0].backend == "flash");
  CHECK(!m.references[0].max_abs_error.has_value());
  REQUIRE(m.ncu.size() == 1);
  CHECK(m.ncu[0].launches == 3);
  CHECK(m.ncu[0].config.causal);
  CHECK(m.ncu[0].config.score_dtype == "fp32");
  CHECK(m.ncu[0].dram_read_bytes == 1000);
  CHECK(m.ncu[0].dram_write_bytes == 2000);
  CHECK(m.ncu[0].lts_bytes == 5000);
  CHECK(m.ncu[0].metrics.at("lts__t_sectors_srcunit_tex.sum") == 100);
}

TEST_CASE("measurement_parse refuses bad files with one line naming the spot") {
  SUBCASE("a newer schema version is refused before anything else is read") {
    CHECK_THROWS_WITH_AS(measurement_parse(doc("2"), "new.json"),
                         "new.json: schema_version 2 is newer than this attnlab reads (up to 1); update attnlab to read it",
                         InputError);
  }
  SUBCASE("min above median") {
    CHECK_THROWS_WITH_AS(
        measurement_parse(doc("1", R"("median": 0.02, "min": 0.05, "max": 0.06, "repeats": 3)"), "t.json"),
        "t.json: runs[0].time_ms.min must be <= median (got 0.05 > 0.02)", InputError);
  }
  SUBCASE("kv_heads that do not divide heads") {
    CHECK_THROWS_WITH_AS(measurement_parse(doc("1", R"("median": 1, "min": 1, "max": 1, "repeats": 1)", "3"), "t.json"),
                         "t.json: runs[0].config.kv_heads must divide heads (got 3 kv_heads for 2 heads)", InputError);
  }
  SUBCASE("a missing field") {
    std::string d = doc();
    d.erase(d.find(R"("tflops": 0.419,)"), std::string(R"("tflops": 0.419,)").size());
    CHECK_THROWS_WITH_AS(measurement_parse(d, "t.json"), "t.json: runs[0].tflops is missing", InputError);
  }
  SUBCASE("not JSON, no version, wrong schema name") {
    CHECK_THROWS_AS(measurement_parse("{\"runs\": [", "x.json"), InputError);
    CHECK_THROWS_WITH_AS(measurement_parse("{}", "x.json"),
                         "x.json: schema_version is missing (not an attnlab measurement file?)", InputError);
    CHECK_THROWS_WITH_AS(measurement_parse(R"({"schema_version": 1, "schema": "other"})", "x.json"),
                         "x.json: schema must be \"attnlab-measurements\"", InputError);
  }
}

TEST_CASE("measurement_to_json round-trips") {
  Measurements a = measurement_parse(doc(), "t.json");
  Measurements b = measurement_parse(measurement_to_json(a), "again.json");
  CHECK(b.device.name == a.device.name);
  CHECK(b.runs.size() == 1);
  CHECK(b.runs[0].time.max_ms == doctest::Approx(0.03));
  CHECK(b.references[0].tflops == doctest::Approx(0.84));
  CHECK(b.ncu[0].lts_bytes == 5000);
  CHECK(b.ncu[0].config.block_kv == 128);
}

TEST_CASE("measurement_forward_flops counts 4·B·H·Nq·Nkv·d, causal at half") {
  MeasuredConfig c;
  c.batch = 8;
  c.heads = 16;
  c.seq_q = c.seq_kv = 4096;
  c.head_dim = 128;
  // 4 · 8 · 16 · 4096² · 128 = 1,099,511,627,776 (= 2^40).
  CHECK(measurement_forward_flops(c) == 1099511627776.0);
  c.causal = true;
  CHECK(measurement_forward_flops(c) == 549755813888.0);
}

TEST_CASE("the shipped H100 measurements load and are consistent") {
  const auto files = measurement_files(measurement_dir());
  REQUIRE(files.size() >= 3);
  size_t runs = 0, refs = 0;
  for (const auto& f : files) {
    INFO(f.string());
    Measurements m = measurement_load(f);
    // The file name says which GPU: h100-*/…-h100 files name an H100, h200 ones an H200.
    const std::string fname = f.filename().string();
    if (fname.find("h100") != std::string::npos) CHECK(m.device.name.find("H100") != std::string::npos);
    if (fname.find("h200") != std::string::npos) CHECK(m.device.name.find("H200") != std::string::npos);
    CHECK(!m.device.name.empty());
    CHECK(!m.device.driver_version.empty());
    CHECK(!m.command.empty());
    for (const MeasuredRun& r : m.runs) {
      ++runs;
      // The rate is derived from the median: recompute it. The selective scan (rung 7) is not
      // attention: its tflops count the scan's own FLOPs (assets/measurements/README.md).
      if (r.rung != 7)
        CHECK(r.tflops == doctest::Approx(measurement_forward_flops(r.config) / (r.time.median_ms * 1e-3) / 1e12)
                              .epsilon(1e-6));
      CHECK(r.max_abs_error.has_value());  // every timed run of ours was checked first
    }
    refs += m.references.size();
  }
  CHECK(runs >= 96);  // the ladder sweep alone: 24 configs × 4 kernels
  CHECK(refs >= 48);
}
