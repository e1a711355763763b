# Ring attention over several GPUs through NCCL (kernels/ring-attention.cu, issue 11): only where
# kernels/ring.cmake found NCCL and built attnlab-ring-attention. The check exits 77 ("skipped")
# on a machine with fewer than two usable GPUs; elsewhere it compares the ring's output with
# single-GPU attention and the fp64 reference on five awkward shapes (GQA, causal, ragged blocks).
if(TARGET attnlab-ring-attention)
  add_test(NAME kernels.ring_check COMMAND attnlab-ring-attention --check --quiet)
  set_tests_properties(kernels.ring_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS kernels
                       ENVIRONMENT "NCCL_NVLS_ENABLE=0;TORCH_SYMM_MEM_DISABLE_MULTICAST=1;NVSHMEM_DISABLE_NVLS=1")
  # Bad input is refused before any GPU is touched: exit 2, nothing on stdout, on any machine.
  attnlab_cli_test(ring_gpu_bad_gqa EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--kv-heads must divide --heads" ARGS --heads 6 --kv-heads 4)
  attnlab_cli_test(ring_gpu_bad_block EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--block must be between 1 and 1048576" ARGS --block 0)
  set_tests_properties(cli.ring_gpu_bad_gqa cli.ring_gpu_bad_block PROPERTIES LABELS kernels)
endif()
