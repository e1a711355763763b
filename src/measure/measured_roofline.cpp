#include "measure/measured_roofline.hpp"

#include <algorithm>

namespace attnlab {

std::vector<MeasuredRooflinePoint> measured_roofline_points(const Measurements& m) {
  std::vector<MeasuredRooflinePoint> out;
  for (const NcuRecord& rec : m.ncu) {
    const double bytes = rec.dram_read_bytes + rec.dram_write_bytes;
    if (!(bytes > 0)) continue;
    const auto run = std::find_if(m.runs.begin(), m.runs.end(), [&](const MeasuredRun& r) {
      return r.kernel == rec.kernel && measured_same_launch(r.config, rec.config);
    });
    if (run == m.runs.end()) continue;
    MeasuredRooflinePoint p;
    p.kernel = rec.kernel;
    p.config = rec.config;
    p.dtype = rec.config.dtype == "fp8" ? DType::fp8 : rec.config.dtype == "fp16" ? DType::fp16 : DType::bf16;
    p.dram_bytes = bytes;
    p.flops = measurement_forward_flops(rec.config);
    p.intensity = p.flops / bytes;
    p.flops_per_s = run->tflops * 1e12;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace attnlab
