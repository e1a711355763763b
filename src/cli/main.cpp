// attnlab: what-if calculations about attention, from the command line.
// The program is cli_run (src/cli/run.cpp, in the command library the tests link too):
// 0 success, 2 bad input (one line on stderr, nothing on stdout), 1 anything unexpected.
#include "cli/run.hpp"

int main(int argc, char** argv) { return attnlab::cli::cli_run(argc, argv); }
