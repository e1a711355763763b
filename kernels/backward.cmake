# The backward rung (kernels/attn-bwd-mma.cu: FlashAttention-2's backward on mma.sync, sm_80+),
# its fp64 CPU reference (backward-reference.cpp) and its program (attn-bwd-main.cpp, plain C++ so
# that nvcc never parses CLI11 or nlohmann/json). Included by kernels/CMakeLists.txt; built for
# ATTNLAB_CUDA_ARCHITECTURES like the other generic rungs. Tests: tests/cli_backward.cmake.
add_executable(attnlab-attn-bwd-mma attn-bwd-mma.cu attn-bwd-main.cpp backward-reference.cpp)
target_link_libraries(attnlab-attn-bwd-mma PRIVATE attnlab_kernels CLI11::CLI11 nlohmann_json::nlohmann_json)
target_precompile_headers(attnlab-attn-bwd-mma REUSE_FROM attnlab_kernels_pch)
set_target_properties(attnlab-attn-bwd-mma PROPERTIES
  CUDA_ARCHITECTURES "${ATTNLAB_CUDA_ARCHITECTURES}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_RUNTIME_LIBRARY Static
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_compile_options(attnlab-attn-bwd-mma PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${ATTNLAB_CUDA_VERBOSE}>>:-Xptxas=-v>)

# Rung 2 (kernels/attn-bwd-hopper.cu: wgmma, TMA, warp specialisation) exists only on sm_90a, so it
# is compiled for that one target, as objects that join the same program: `--rung hopper` runs it
# (ATTNLAB_BWD_HOPPER tells attn-bwd-main.cpp it is there). nvcc older than 12.0 cannot assemble
# wgmma / cp.async.bulk: then the program has rung 1 alone and says so on --rung hopper.
if(NOT CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 12.0)
  add_library(attnlab_kernels_bwd_hopper OBJECT attn-bwd-hopper.cu)
  target_include_directories(attnlab_kernels_bwd_hopper PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(attnlab_kernels_bwd_hopper PRIVATE attnlab_core CUDA::cudart_static)
  set_target_properties(attnlab_kernels_bwd_hopper PROPERTIES
    CUDA_ARCHITECTURES "${ATTNLAB_CUDA_ARCHITECTURES_HOPPER}"
    CUDA_STANDARD 17
    CUDA_STANDARD_REQUIRED ON)
  target_compile_options(attnlab_kernels_bwd_hopper PRIVATE --expt-relaxed-constexpr -lineinfo
    $<$<BOOL:${ATTNLAB_CUDA_VERBOSE}>:-Xptxas=-v>)
  target_sources(attnlab-attn-bwd-mma PRIVATE $<TARGET_OBJECTS:attnlab_kernels_bwd_hopper>)
  target_compile_definitions(attnlab-attn-bwd-mma PRIVATE ATTNLAB_BWD_HOPPER=1)
endif()
