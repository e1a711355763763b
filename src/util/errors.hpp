// Errors that reach the user. InputError = the user asked for something invalid (exit code 2);
// everything else that escapes is a bug or an environment problem (exit code 1).
#pragma once
#include <stdexcept>
#include <string>

namespace attnlab {

// Bad input: a size out of range, an unknown preset, a malformed file. The message names the
// option (or file and line) and the limit, in one line, e.g. "--seq must be at least 1 (got 0)".
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A count that no longer fits the exact integer type. Always a kind of bad input: the
// configuration is too large to count exactly, and we refuse rather than wrap around.
struct OverflowError : InputError {
  using InputError::InputError;
};

}  // namespace attnlab
