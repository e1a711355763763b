# The backward rung (kernels/attn-bwd-mma.cu: FlashAttention-2's backward on mma.sync, sm_80+),
# its fp64 CPU reference (backward-reference.cpp) and its program (attn-bwd-main.cpp, plain C++ so
# that nvcc never parses CLI11 or nlohmann/json). Included by kernels/CMakeLists.txt; built for
# ATTNLAB_CUDA_ARCHITECTURES like the other generic rungs. Tests: tests/cli_backward.cmake.
add_executable(attnlab-attn-bwd-mma attn-bwd-mma.cu attn-bwd-main.cpp backward-reference.cpp)
target_link_libraries(attnlab-attn-bwd-mma PRIVATE attnlab_kernels CLI11::CLI11 nlohmann_json::nlohmann_json)
set_target_properties(attnlab-attn-bwd-mma PROPERTIES
  CUDA_ARCHITECTURES "${ATTNLAB_CUDA_ARCHITECTURES}"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_RUNTIME_LIBRARY Static
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_compile_options(attnlab-attn-bwd-mma PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${ATTNLAB_CUDA_VERBOSE}>>:-Xptxas=-v>)
