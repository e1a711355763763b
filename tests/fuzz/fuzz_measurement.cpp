// Fuzz target (c): the measurement-file reader (src/measure/measurement.hpp). Any text must either
// parse and validate, or end as attnlab::InputError. What parses must also survive a round trip
// through measurement_to_json and parse again (the writer's promise).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "measure/measurement.hpp"
#include "util/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  attnlab::Measurements m;
  try {
    m = attnlab::measurement_parse(text, "fuzz.json");
  } catch (const attnlab::InputError&) {
    return 0;
  }
  for (const auto& r : m.runs) (void)attnlab::measurement_forward_flops(r.config);
  // A valid file written back must read back.
  try {
    (void)attnlab::measurement_parse(attnlab::measurement_to_json(m), "roundtrip.json");
  } catch (const attnlab::InputError& e) {
    std::fprintf(stderr, "round trip failed: %s\n", e.what());
    std::abort();
  }
  return 0;
}
