# The FP8 rung (kernels/attn-fp8-hopper.cu: e4m3 wgmma, block scales) and its quantize kernels
# (kernels/fp8-quantize.cu): wgmma, TMA and setmaxnreg exist only on sm_90a, so both are compiled
# for that one target, as in hopper.cmake. Its program (attn-fp8-main.cpp, plain C++) checks the
# rung against the fp64 reference, measures its accuracy against the bf16 Hopper rung, and times
# both. Tests: tests/cli_fp8.cmake. nvcc older than 12.0 cannot assemble them: nothing is added.
if(CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 12.0 OR NOT TARGET attnlab_kernels_hopper)
  message(STATUS "attnlab: the FP8 rung (attn-fp8) needs nvcc >= 12.0 and the Hopper rung; not built")
  return()
endif()
add_library(attnlab_kernels_fp8 OBJECT attn-fp8-hopper.cu fp8-quantize.cu)
target_include_directories(attnlab_kernels_fp8 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(attnlab_kernels_fp8 PRIVATE attnlab_core CUDA::cudart_static)
set_target_properties(attnlab_kernels_fp8 PROPERTIES
  CUDA_ARCHITECTURES "${ATTNLAB_CUDA_ARCHITECTURES_HOPPER}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  POSITION_INDEPENDENT_CODE ON)
target_compile_options(attnlab_kernels_fp8 PRIVATE --expt-relaxed-constexpr -lineinfo
  $<$<BOOL:${ATTNLAB_CUDA_VERBOSE}>:-Xptxas=-v>)
attnlab_kernel_program(attnlab-attn-fp8 attn-fp8-main.cpp fp8-reference.cpp $<TARGET_OBJECTS:attnlab_kernels_fp8>)
target_link_libraries(attnlab-attn-fp8 PRIVATE nlohmann_json::nlohmann_json)
