// Host side of TMA for the Hopper rungs (attn-hopper, attn-fp8-hopper): a tensor map of a 3-D
// [z][rows][cols] tensor, copied in boxes of box_cols x box_rows x 1. The encoder lives in the
// driver, not the runtime, so it is fetched once by version: no link against libcuda.
#pragma once
#include <cuda.h>  // CUtensorMap and its enums (types only)
#include <cuda_runtime.h>
#include <cudaTypedefs.h>
#include <fmt/format.h>

#include "harness-cuda.hpp"

namespace attnlab::kernels::hopper {

inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = nullptr;
  if (!fn) {
    cudaDriverEntryPointQueryResult q{};
    void* f = nullptr;
    ATTN_CUDA(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess || !f) throw CudaError("cuTensorMapEncodeTiled not found in the driver");
    fn = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }
  return fn;
}

// `elem_bytes` per element of `type`; box_cols * elem_bytes is the span the swizzle `sw` covers.
inline CUtensorMap tensor_map_3d(const void* ptr, CUtensorMapDataType type, int elem_bytes, int cols, int rows, int z,
                                 int box_cols, int box_rows, CUtensorMapSwizzle sw) {
  CUtensorMap map;
  const cuuint64_t row_bytes = cuuint64_t(cols) * cuuint64_t(elem_bytes);
  const cuuint64_t dims[3] = {cuuint64_t(cols), cuuint64_t(rows), cuuint64_t(z)};
  const cuuint64_t strides[2] = {row_bytes, row_bytes * cuuint64_t(rows)};  // bytes, dims 1..2
  const cuuint32_t box[3] = {cuuint32_t(box_cols), cuuint32_t(box_rows), 1};
  const cuuint32_t elem_strides[3] = {1, 1, 1};
  const CUresult r = tensor_map_encoder()(&map, type, 3, const_cast<void*>(ptr), dims, strides, box, elem_strides,
                                          CU_TENSOR_MAP_INTERLEAVE_NONE, sw, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                                          CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) throw CudaError(fmt::format("cuTensorMapEncodeTiled failed ({})", int(r)));
  return map;
}

}  // namespace attnlab::kernels::hopper
