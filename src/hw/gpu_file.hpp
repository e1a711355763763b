// A GPU description file: your own GPU, with the same figures as a preset (src/hw/gpu_presets.cpp)
// and a source for them. `attnlab-bench --describe-gpu FILE` writes one from the device's own
// properties (and, with --measure, its measured copy bandwidth and GEMM rate); every --gpu option
// and the dashboard accept it.
//
// Format (schema "attnlab-gpu-1"), sizes in bytes, rates per second:
//   {"schema": "attnlab-gpu-1", "name": "my-4070", "full_name": "...", "arch": "Ada (sm_89)",
//    "sm_count": 46, "smem_per_sm_bytes": 102400, "smem_per_block_bytes": 101376,
//    "regs_per_sm": 65536, "l2_bytes": 37748736, "hbm_bytes": 12878086144,
//    "hbm_bytes_per_s": 5.04e11, "fp32_flops": 2.9e13, "fp16_flops": 1.2e14,
//    "tf32_flops": 6e13 (optional: fp16/2), "fp8_flops": 0 (optional), "memory_kind": "GDDR6X",
//    "l2_partitions": 1 (optional), "sources": {"figures": "where they come from", ...},
//    "device": {...}, "measured": {...}, "about": ... (kept for people, not read)}
#pragma once
#include <deque>
#include <string>
#include <string_view>

#include "hw/gpu.hpp"

namespace attnlab {

// Parses a GPU file's text; `path` names the file in every error (one line: file and field).
GpuSpec gpu_file_parse(std::string_view text, const std::string& path);
GpuSpec gpu_file_load(const std::string& path);
// True when a --gpu value names a file: it ends in ".json" or is an existing regular file.
bool gpu_file_is_path(std::string_view arg);
// The spec read from a file, cached for the process so that references stay valid like presets'.
const GpuSpec& gpu_from_file(const std::string& path);

// GPUs a session added (the dashboard's "Open a GPU file..."), found by gpu_find by name.
const GpuSpec& gpu_session_add(std::string_view text, const std::string& label);
const std::deque<GpuSpec>& gpu_session_gpus();

}  // namespace attnlab
