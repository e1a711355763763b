#include "models/scaling_parse.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <string>

#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab {

double parse_duration(std::string_view raw, std::string_view option) {
  std::string text(trim(raw));
  const char* begin = text.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin)
    throw InputError(fmt::format("{} must be a duration such as 1s, 250ms or 2min (got '{}')", option, text));
  std::string unit(trim(std::string_view(end)));
  double scale = 0;
  if (unit.empty() || unit == "s" || unit == "sec") scale = 1;
  else if (unit == "ms") scale = 1e-3;
  else if (unit == "us" || unit == "µs") scale = 1e-6;
  else if (unit == "ns") scale = 1e-9;
  else if (unit == "min") scale = 60;
  else if (unit == "h") scale = 3600;
  else
    throw InputError(fmt::format("{} must be a duration such as 1s, 250ms or 2min (got '{}')", option, text));
  double seconds = v * scale;
  if (!std::isfinite(seconds) || seconds <= 0)
    throw InputError(fmt::format("{} must be a positive duration (got '{}')", option, text));
  return seconds;
}

}  // namespace attnlab
