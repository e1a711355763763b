// The measured kernels on the roofline: a kernel's true arithmetic intensity needs the bytes it
// moved, so a point needs an Nsight Compute record (DRAM read + write) and the timed run of the
// same launch in the same file. The chapter 2 roofline (gui/panels/hierarchy.cpp) draws these; the
// roof a point is read against is its dtype's (GpuSpec::peak_flops: FP8 runs against the FP8 roof).
#pragma once
#include <string>
#include <vector>

#include "hw/dtype.hpp"
#include "measure/measurement.hpp"

namespace attnlab {

struct MeasuredRooflinePoint {
  std::string kernel;
  MeasuredConfig config;
  DType dtype = DType::bf16;  // the matrix inputs' type: which roof applies
  double dram_bytes = 0;      // ncu: dram__bytes_read.sum + dram__bytes_write.sum
  double flops = 0;           // measurement_forward_flops
  double intensity = 0;       // flops / dram_bytes
  double flops_per_s = 0;     // the timed run's TFLOP/s x 1e12
};

// In the order of the file's ncu records; records without DRAM bytes or a timed run are left out.
std::vector<MeasuredRooflinePoint> measured_roofline_points(const Measurements& m);

}  // namespace attnlab
