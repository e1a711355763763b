// Failure paths of the data files: measurement files missing, a folder, empty, cut in
// half, from a newer schema_version, with numbers that do not fit; the lessons folder gone. Each is
// an InputError whose one line names the file and the problem, never a crash, never a wrong load.
// Fixtures: tests/fuzz/regressions/ (README there says what each file is).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "lessons/lesson.hpp"
#include "measure/measurement.hpp"
#include "measure/ring_measured.hpp"
#include "util/errors.hpp"

using namespace attnlab;

namespace {
const std::filesystem::path fixtures = std::filesystem::path(ATTNLAB_SOURCE_ROOT) / "tests" / "fuzz" / "regressions";
}  // namespace

TEST_CASE("measurement files that cannot be read") {
  SUBCASE("missing") {
    const auto p = fixtures / "no-such-measurements.json";
    CHECK_THROWS_WITH_AS(measurement_load(p), (p.string() + ": cannot open the measurement file").c_str(), InputError);
  }
  SUBCASE("a folder where a file should be") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures), (fixtures.string() + ": is a folder, not a measurement file").c_str(),
                         InputError);
  }
  SUBCASE("empty") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures / "empty.json"), doctest::Contains("empty.json: not valid JSON"),
                         InputError);
  }
  SUBCASE("cut in half") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures / "measurement-truncated.json"),
                         doctest::Contains("measurement-truncated.json: not valid JSON"), InputError);
  }
  SUBCASE("a folder with no measurement files gives an empty list, not an error") {
    CHECK(measurement_files(fixtures / "no-such-folder").empty());
  }
}

TEST_CASE("a measurement file from a newer schema_version is refused, not guessed at") {
  SUBCASE("schema_version 2") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures / "measurement-newer-schema.json"),
                         "measurement-newer-schema.json: schema_version 2 is newer than this attnlab reads (up to 1); "
                         "update attnlab to read it",
                         InputError);
  }
  SUBCASE("schema_version 2^32 + 1 used to narrow to version 1 and load") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures / "measurement-schema-4294967297.json"),
                         "measurement-schema-4294967297.json: schema_version 4294967297 is newer than this attnlab "
                         "reads (up to 1); update attnlab to read it",
                         InputError);
  }
  SUBCASE("the same file at schema_version 1 loads (the fixtures differ only in that field)") {
    const Measurements m = measurement_load(std::filesystem::path(ATTNLAB_SOURCE_ROOT) / "tests" / "fuzz" / "corpus" /
                                            "measurement" / "shipped-h100-gqa.json");
    CHECK(m.schema_version == 1);
    CHECK(!m.runs.empty());
  }
}

TEST_CASE("numbers in measurement files that do not fit") {
  SUBCASE("a rung of 2^32 + 1 used to narrow to rung 1") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures / "measurement-rung-4294967297.json"),
                         "measurement-rung-4294967297.json: runs[0].rung must be 0..99 (got 4294967297)", InputError);
  }
  SUBCASE("1e400 is past the double range: an InputError, not nlohmann's out_of_range escaping") {
    CHECK_THROWS_WITH_AS(measurement_load(fixtures / "measurement-number-1e400.json"),
                         doctest::Contains("measurement-number-1e400.json: not valid JSON"), InputError);
    CHECK_THROWS_AS(measurement_parse(R"({"schema_version": 1e400})", "x.json"), InputError);
  }
  SUBCASE("schema_version 0, negative, or a fraction") {
    for (const char* v : {"0", "-1", "1.5", "-9223372036854775808", "\"1\""}) {
      CAPTURE(v);
      CHECK_THROWS_WITH_AS(measurement_parse(std::string(R"({"schema_version": )") + v + "}", "x.json"),
                           "x.json: schema_version must be a positive integer", InputError);
    }
  }
}

TEST_CASE("the lessons folder moved away") {
  SUBCASE("a folder named with --lessons that is not there") {
    CHECK_THROWS_WITH_AS(lessons_dir_find(fixtures / "no-such-lessons"),
                         ("--lessons: no such folder '" + (fixtures / "no-such-lessons").string() + "'").c_str(),
                         InputError);
  }
  SUBCASE("a file where the folder should be") {
    CHECK_THROWS_AS(lessons_dir_find(fixtures / "empty.json"), InputError);
  }
  SUBCASE("listing a folder that is gone") {
    CHECK_THROWS_WITH_AS(lesson_list(fixtures / "no-such-lessons"), doctest::Contains("no such lessons folder"),
                         InputError);
  }
  SUBCASE("a folder without lessons lists none (the CLI says so, rather than printing an empty list)") {
    CHECK(lesson_list(fixtures).empty());
  }
}

TEST_CASE("what measurement_to_json writes reads back (fuzz_measurement finding)") {
  // A file without device.smem_per_block_optin (here misspelled, so absent): the writer used to
  // write 0 for it, which the reader refuses ("must be a positive integer (got 0)").
  const Measurements m = measurement_load(fixtures / "measurement-roundtrip-optin-missing.json");
  CHECK(m.device.smem_per_block_optin == 0);
  const Measurements back = measurement_parse(measurement_to_json(m), "roundtrip.json");
  CHECK(back.device.smem_per_block_optin == 0);
  CHECK(back.device.memory_bytes == m.device.memory_bytes);
  CHECK(back.runs.size() == m.runs.size());
}

TEST_CASE("a ring measurement whose products pass 64 bits is refused, not wrapped into agreement") {
  // devices 2^32 and block 2^32 + 1: devices x block = 2^64 + 2^32, which wrapped in u64 to 2^32,
  // the file's seq, so the file loaded. In 128 bits the check sees 18,446,744,078,004,518,912.
  CHECK_THROWS_WITH_AS(ring_measured_load(fixtures / "ring-seq-wraps.json"),
                       doctest::Contains("config.seq must be devices x block = 18446744078004518912 (got 4294967296)"),
                       InputError);
}
