# The Hopper rung (kernels/attn-hopper.cu): wgmma, TMA and setmaxnreg exist only on sm_90a, so its
# kernels are compiled for that one target, as objects that join attnlab_kernels: attn_forward()
# then dispatches KernelId::hopper to them (device_caps() says the rung is there), and the rung's
# own program (attn-hopper-main.cpp, with hopper-program.cpp: the host side it shares with the FP8
# rung's program) checks and times its variants.
# nvcc older than 12.0 cannot assemble wgmma / cp.async.bulk.tensor: then nothing is added.
if(CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 12.0)
  message(STATUS "attnlab: nvcc ${CMAKE_CUDA_COMPILER_VERSION} < 12.0, the Hopper rung (attn-hopper) is not built")
  return()
endif()
# The sm_90a-only objects of a Hopper rung (this one and the FP8 rung, fp8.cmake).
function(attnlab_hopper_objects name)
  add_library(${name} OBJECT ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE attnlab_core CUDA::cudart_static)
  set_target_properties(${name} PROPERTIES
    CUDA_ARCHITECTURES "${ATTNLAB_CUDA_ARCHITECTURES_HOPPER}"
    CUDA_STANDARD 17
    CUDA_STANDARD_REQUIRED ON
    POSITION_INDEPENDENT_CODE ON)
  target_compile_options(${name} PRIVATE --expt-relaxed-constexpr -lineinfo
    $<$<BOOL:${ATTNLAB_CUDA_VERBOSE}>:-Xptxas=-v>)
endfunction()
attnlab_hopper_objects(attnlab_kernels_hopper attn-hopper.cu)
target_sources(attnlab_kernels PRIVATE $<TARGET_OBJECTS:attnlab_kernels_hopper>)
target_compile_definitions(attnlab_kernels PRIVATE ATTNLAB_HOPPER_RUNG=1)
attnlab_kernel_program(attnlab-attn-hopper attn-hopper-main.cpp hopper-program.cpp)
