# The Hopper rung (kernels/attn-hopper.cu): wgmma, TMA and setmaxnreg exist only on sm_90a, so it
# is its own executable built for that one target, linking the shared harness (attnlab_kernels).
# nvcc older than 12.0 cannot assemble wgmma / cp.async.bulk.tensor: then nothing is added.
if(CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 12.0)
  message(STATUS "attnlab: nvcc ${CMAKE_CUDA_COMPILER_VERSION} < 12.0, the Hopper rung (attn-hopper) is not built")
  return()
endif()
add_executable(attnlab-attn-hopper attn-hopper.cu)
target_link_libraries(attnlab-attn-hopper PRIVATE attnlab_kernels CLI11::CLI11 nlohmann_json::nlohmann_json)
set_target_properties(attnlab-attn-hopper PROPERTIES
  CUDA_ARCHITECTURES "${ATTNLAB_CUDA_ARCHITECTURES_HOPPER}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_RUNTIME_LIBRARY Static
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_compile_options(attnlab-attn-hopper PRIVATE --expt-relaxed-constexpr -lineinfo
  $<$<BOOL:${ATTNLAB_CUDA_VERBOSE}>:-Xptxas=-v>)
