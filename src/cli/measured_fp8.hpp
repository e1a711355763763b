// The --fp8 view of `attnlab measured` (cmd_measured.cpp): the FP8 attention rung beside the bf16
// rung, the accuracy of each quantization method and the quantization kernels' times, read from
// the files' "fp8" section (src/measure/fp8_measured.hpp). Its own file so that the measured
// command's other views stay short.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/output.hpp"

namespace attnlab::cli {

// `paths`: the measurement files chosen (--dir or --file). In a folder, files without an "fp8"
// section are skipped; a file named with --file must have one. `part`: "" (all three tables),
// "speed", "accuracy" or "quantize"; CSV needs one part.
std::string measured_fp8_render(const std::vector<std::filesystem::path>& paths, bool named_files, std::string_view part,
                                OutputFormat f);

}  // namespace attnlab::cli
