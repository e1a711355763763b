# The Hopper rung (kernels/attn-hopper.cu, sm_90a): only where nvcc >= 12.0 built it. Its --check
# compares against the fp64 CPU reference on fresh random inputs (poisoned output; ragged N,
# causal, GQA/MQA, d 64/128, bf16/fp16). Without a GPU, or on a GPU other than compute capability
# 9.0, it exits 77, which CTest reports as "skipped", not "passed".
if(TARGET attnlab-attn-hopper)
  add_test(NAME kernels.hopper_check COMMAND attnlab-attn-hopper --check)
  set_tests_properties(kernels.hopper_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS kernels)
  # Bad input is refused before the GPU is touched: exit 2, nothing on stdout, on any machine.
  attnlab_cli_test(hopper_bad_sweep EXE $<TARGET_FILE:attnlab-attn-hopper> RC 2 EMPTY_STDOUT
                   STDERR "--sweep: flash9 not in" ARGS --sweep flash9)
  attnlab_cli_test(hopper_bad_repeats EXE $<TARGET_FILE:attnlab-attn-hopper> RC 2 EMPTY_STDOUT
                   STDERR "--repeats" ARGS --repeats 0)
  set_tests_properties(cli.hopper_bad_sweep cli.hopper_bad_repeats PROPERTIES LABELS kernels)
endif()
