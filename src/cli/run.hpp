// The whole `attnlab` program as a function: main() is one call to cli_run, and the tests run the
// same code in-process (tests/test_cli_bad_numbers.cpp sweeps hundreds of bad values through it,
// which as separate processes took minutes under the sanitizers). No CLI11 in this header, so a
// file that only runs commands does not parse it.
#pragma once

namespace CLI {
class App;
}

namespace attnlab::cli {

// Every subcommand of src/cli/commands.def set up on `app`, number options hardened
// (harden_number_options). The CLI fuzz target builds its App with this too.
void app_build(CLI::App& app);

// Runs `attnlab argv[1] ...`: 0 success, 2 bad input (the reason on stderr, nothing on stdout),
// 1 anything unexpected.
int cli_run(int argc, char** argv);

}  // namespace attnlab::cli
