// The program behind `attnlab` (src/cli/run.hpp): wires the subcommands and turns errors into exit
// codes. Lives in the command library so that main.cpp and the in-process tests share it.
#include "cli/run.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "cli/common.hpp"
#include "util/errors.hpp"

#define ATTNLAB_COMMAND(name) void setup_##name(CLI::App& app);
namespace attnlab::cli {
#include "cli/commands.def"
}
#undef ATTNLAB_COMMAND

namespace attnlab::cli {

void app_build(CLI::App& app) {
  app.require_subcommand(1);
  app.fallthrough(false);
#define ATTNLAB_COMMAND(name) setup_##name(app);
#include "cli/commands.def"
#undef ATTNLAB_COMMAND
  harden_number_options(app);
}

int cli_run(int argc, char** argv) {
  CLI::App app{
      "attnlab: how many bytes and steps efficient attention takes, on the GPU you name.\n"
      "Try: attnlab tour | attnlab traffic --seq 4096 | attnlab gpus",
      "attnlab"};
  app_build(app);

  // A mistyped command gets a message that names it, not CLI11's "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      known += (known.empty() ? "" : ", ") + sub->get_name();
      found = found || sub->get_name() == argv[1];
    }
    if (!found) {
      fmt::print(stderr, "attnlab: error: unknown command '{}' (known: {})\n", argv[1], known);
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "attnlab: error: {}\nRun 'attnlab --help' (or 'attnlab COMMAND --help') for usage.\n",
               e.what());
    return 2;
  } catch (const attnlab::InputError& e) {
    fmt::print(stderr, "attnlab: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attnlab: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace attnlab::cli
