# Ring attention over the GPUs of one host: kernels/ring-attention.cpp (its merge kernel: ring-merge.cu), one process that
# drives P GPUs through NCCL (ncclCommInitAll; send/recv of K/V blocks on a second stream).
# Built only where NCCL's header and library are found; without them nothing is added and
# tests/cli_ring_gpu.cmake declares nothing. The binary links libnccl.so.2 dynamically (NCCL keeps
# that ABI stable), so a build made here runs where another NCCL 2.x is on LD_LIBRARY_PATH (the
# device machines have PyTorch's nvidia-nccl-cu13 wheel, see kernels/ring-attention.cpp's header).
find_path(ATTNLAB_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV NCCL_HOME PATH_SUFFIXES include)
find_library(ATTNLAB_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${CUDAToolkit_LIBRARY_DIR} ENV NCCL_HOME
             PATH_SUFFIXES lib lib64)
if(ATTNLAB_NCCL_INCLUDE_DIR AND ATTNLAB_NCCL_LIBRARY)
  message(STATUS "attnlab: NCCL found (${ATTNLAB_NCCL_LIBRARY}): building attnlab-ring-attention")
  attnlab_kernel_program(attnlab-ring-attention ring-attention.cpp ring-merge.cu)
  target_include_directories(attnlab-ring-attention PRIVATE ${ATTNLAB_NCCL_INCLUDE_DIR})
  target_link_libraries(attnlab-ring-attention PRIVATE ${ATTNLAB_NCCL_LIBRARY})
else()
  message(STATUS "attnlab: NCCL not found: attnlab-ring-attention is not built")
endif()
