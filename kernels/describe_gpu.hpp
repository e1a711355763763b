// `attnlab-bench --describe-gpu FILE [--measure]`: writes a GPU description file (schema
// "attnlab-gpu-1", read by every `attnlab --gpu FILE` and the dashboard; format in
// src/hw/gpu_file.hpp) from the device's own properties, and with --measure replaces the two
// figures the properties cannot give by measured ones: DRAM bandwidth (a device-to-device copy)
// and tensor-core FLOP/s (a dense bf16 cuBLAS GEMM), so that the roofline uses what this card does.
#pragma once
#include <string>

namespace attnlab::kernels {

// Returns the process exit code: 0 written, 77 no usable CUDA device (nothing written), 1 a CUDA
// or file error. `command` is recorded in the file.
int describe_gpu_run(const std::string& path, bool measure, const std::string& command);

}  // namespace attnlab::kernels
