// The measurement-file writer (see measurement_write.hpp).
#include "measure/measurement_write.hpp"

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <stdexcept>

#include "util/errors.hpp"

namespace attnlab {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);  // the re-entrant form: the kernels' programs time on several threads
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string command_line(std::string_view program, int argc, const char* const* argv) {
  std::string c(program);
  for (int i = 1; i < argc; ++i) c += fmt::format(" {}", argv[i]);
  return c;
}

Measurements measurement_begin(const MeasuredDevice& device, std::string command, std::string tool) {
  Measurements m;
  m.device = device;
  m.date = utc_now();
  m.command = std::move(command);
  m.tool = std::move(tool);
  return m;
}

MeasuredTime measured_time(std::vector<double> ms) {
  if (ms.empty()) throw InputError("a timed run needs at least one repeat");
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  MeasuredTime t;
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  t.median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  t.repeats = n;
  return t;
}

void measurement_write(const Measurements& m, const std::filesystem::path& path) {
  const std::string text = measurement_to_json(m);
  (void)measurement_parse(text, path.filename().string());  // what we write must read back
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write the measurement file", path.string()));
}

}  // namespace attnlab
