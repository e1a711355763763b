// The one reader of whole numbers a person types: every size option of the CLI, every lesson
// template argument ({{steps n=2^15}}) and every number field of a text file (a serving trace).
// Accepted forms, with optional '_' between digits ("100_000") and surrounding spaces:
//   digits        4096, 0010 (leading zeros are decimal, never octal)
//   scientific    1e5, 2.5e3 (must come out whole: 1.5e0 is refused)
//   power         2^15
//   suffix        32K = 32 x 1024, 1M = 1024^2, 100k = 100 x 1000, 1.5K = 1536 (must come out whole)
// K and M are binary and k is decimal, as the dashboard prints token counts: 32768 is "32K",
// 100000 is "100k", 1048576 is "1M" (K = 1024, as "128K context" means).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

// The accepted forms in words, for --help texts.
inline constexpr std::string_view whole_number_forms =
    "4096, 1e5, 2^15, 100_000 or 32K (K = 1024, M = 1024^2, k = 1000)";

// What the text says, before any range check. `huge`: a whole number past 128 bits (larger than
// any limit); `value` is then meaningless.
struct WholeNumber {
  bool negative = false;  // "-5" (never set for "-0")
  bool huge = false;
  u128 value = 0;         // the magnitude
};

// nullopt when the text is not a whole number in one of the forms above.
std::optional<WholeNumber> whole_number_read(std::string_view text);

// A whole number in [min, max]. Bad input is an InputError in one line naming `what`:
//   "--seq must be a whole number such as 4096, 1e6 or 2^20 (got 'abc')"
//   "--seq must be between 1 and 16777216 (got -5)", "... (got 2^70 = <digits>)" when the form
//   differs from the digits.
u64 parse_whole(std::string_view text, std::string_view what, u64 min, u64 max);

// Several whole numbers, each checked as above (the CLI splits "10,1e3,1e4" at commas).
std::vector<u64> parse_whole_list(const std::vector<std::string>& items, std::string_view what, u64 min, u64 max);

}  // namespace attnlab
