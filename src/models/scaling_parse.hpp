// Reading the numbers a learner types for the scaling questions: sequence lengths the way the
// course writes them ("100000", "1e5", "2^15", "100_000") and durations ("1s", "250ms").
// Every failure is an InputError naming the option, in one line.
#pragma once
#include <string_view>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

// A whole number in [min, max]: digits, "1e6" / "1.5e3" (must come out whole), "2^20", with
// optional '_' between digits. "-5" and "0" get "OPTION must be between MIN and MAX (got ...)".
u64 parse_whole(std::string_view text, std::string_view option, u64 min, u64 max);

// Several whole numbers, each checked as above (the CLI splits "10,1e3,1e4" at commas).
std::vector<u64> parse_whole_list(const std::vector<std::string>& items, std::string_view option, u64 min,
                                  u64 max);

// A positive duration in seconds: "1s", "1 s", "250ms", "30us", "30µs", "5ns", "2min", "1h", or a
// bare number of seconds ("1.5").
double parse_duration(std::string_view text, std::string_view option);

}  // namespace attnlab
