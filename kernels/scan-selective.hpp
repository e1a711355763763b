// The selective scan's host entry points (kernels in scan-selective.cu; its program is
// scan-selective-main.cpp): the parameters and the variants the program checks and times.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>
#include <vector>

namespace attnlab::kernels {

constexpr int kN = 16;  // state size (Mamba's d_state)

struct ScanParams {
  const __nv_bfloat16 *u, *delta, *Bm, *Cm;
  const float *A, *Dskip, *bias;
  __nv_bfloat16* y;
  int B = 0, D = 0, L = 0;
};

// One way to run the scan (all are checked and timed by the program).
struct ScanVariant {
  const char* name;
  int R, ITEMS;  // R: channels per warp of the warp-scan kernel (D must divide by it); 0 for "S"
  void (*launch)(const ScanParams&, cudaStream_t);
  int block_q;            // steps per chunk (warp scan: 32·ITEMS) or per tile (S: 64)
  int channels_per_warp;  // the ncu records' block_kv
  int poly = 0;           // S: exps per lane (of 4) on the FMA pipe
};
const std::vector<ScanVariant>& scan_variants();

}  // namespace attnlab::kernels
