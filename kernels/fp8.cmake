# The FP8 rung (kernels/attn-fp8-hopper.cu: e4m3 wgmma, block scales) and its quantize kernels
# (kernels/fp8-quantize.cu): wgmma, TMA and setmaxnreg exist only on sm_90a, so both are compiled
# for that one target, as in hopper.cmake. Its program (attn-fp8-main.cpp, plain C++) checks the
# rung against the fp64 reference, measures its accuracy against the bf16 Hopper rung, and times
# both. Tests: tests/cli_fp8.cmake. nvcc older than 12.0 cannot assemble them: nothing is added.
if(CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 12.0 OR NOT TARGET attnlab_kernels_hopper)
  message(STATUS "attnlab: the FP8 rung (attn-fp8) needs nvcc >= 12.0 and the Hopper rung; not built")
  return()
endif()
attnlab_hopper_objects(attnlab_kernels_fp8 attn-fp8-hopper.cu fp8-quantize.cu)
attnlab_kernel_program(attnlab-attn-fp8 attn-fp8-main.cpp hopper-program.cpp fp8-reference.cpp $<TARGET_OBJECTS:attnlab_kernels_fp8>)
target_link_libraries(attnlab-attn-fp8 PRIVATE nlohmann_json::nlohmann_json)
