// Writing a measurement file: the one writer the measuring programs (kernels/: attnlab-bench and
// the rung programs) share. They fill Measurements (measurement.hpp) and hand it here; the file's
// header (schema, device, date, command, tool) is made once by measurement_begin, and what is
// written is read back through measurement_parse first, so no program can write a file that
// `attnlab measured` refuses. Fields outside the schema are not written: a figure that has no
// field (copy bandwidth, a read ceiling) goes into the run's note, which readers show.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "measure/measurement.hpp"

namespace attnlab {

// Now, UTC, ISO 8601 to the second: "2026-12-02T04:30:00Z" (the schema's date).
std::string utc_now();

// The program's command line as run: "attnlab-attn-decode --sweep key --json d.json". argv[0] is
// replaced by `program` so that the file does not record where the binary happened to live.
std::string command_line(std::string_view program, int argc, const char* const* argv);

// A file with the header filled and no runs yet; date = utc_now().
Measurements measurement_begin(const MeasuredDevice& device, std::string command, std::string tool);

// Median, min and max of the timed repeats (milliseconds), and their count. Throws InputError for
// an empty list (a run without repeats was not timed).
MeasuredTime measured_time(std::vector<double> ms);

// Validates (measurement_parse of the text about to be written) and writes `path`. Throws
// InputError when the content does not validate (a bug in the caller: a zero time, a bad config)
// and std::runtime_error when the file cannot be written.
void measurement_write(const Measurements& m, const std::filesystem::path& path);

}  // namespace attnlab
