// Reading the durations a learner types for the scaling questions ("1s", "250ms"). Whole numbers
// (sequence lengths) go through util/parse_number.hpp, as every size option does.
// Every failure is an InputError naming the option, in one line.
#pragma once
#include <string_view>

namespace attnlab {

// A positive duration in seconds: "1s", "1 s", "250ms", "30us", "30µs", "5ns", "2min", "1h", or a
// bare number of seconds ("1.5").
double parse_duration(std::string_view text, std::string_view option);

}  // namespace attnlab
