// `attnlab version`: the version and what this build contains.
#include <fmt/format.h>

#include "cli/common.hpp"

namespace attnlab::cli {

void setup_version(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the attnlab version");
  auto format = std::make_shared<std::string>("table");
  add_format_option(cmd, *format);
  cmd->callback([format] {
    OutputFormat f = parse_output_format(*format);
    if (f == OutputFormat::json) {
      JsonWriter w;
      w.begin_object().field("name", "attnlab").field("version", ATTNLAB_VERSION).end_object();
      print_out(w.str());
    } else if (f == OutputFormat::csv) {
      print_out(fmt::format("name,version\nattnlab,{}\n", ATTNLAB_VERSION));
    } else {
      print_out(fmt::format("attnlab {}\n", ATTNLAB_VERSION));
    }
  });
}

}  // namespace attnlab::cli
