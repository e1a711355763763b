#pragma once
// Small text helpers the parsers share (lessons, presets, config and workload files): one copy each,
// so that every reader trims and compares names the same way.
#include <string>
#include <string_view>
#include <vector>

namespace attnlab {

// `s` without ASCII white space (space, \t, \n, \v, \f, \r) at either end.
std::string_view trim(std::string_view s);

// `s` in ASCII lower case (preset and option names are matched case-insensitively).
std::string lower(std::string_view s);

// The parts with `sep` between them: {"a", "b"} -> "a, b".
std::string join(const std::vector<std::string>& parts, std::string_view sep = ", ");

}  // namespace attnlab
