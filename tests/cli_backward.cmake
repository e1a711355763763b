# The backward rung (kernels/attn-bwd-mma.cu): only where nvcc built it. --check compares dQ, dK,
# dV with the fp64 CPU reference on fresh random inputs (NaN-poisoned outputs; bf16/fp16, d 64/128,
# causal and not, ragged N, GQA/MQA, Nq != Nkv). Without a GPU it exits 77: CTest says "skipped".
if(TARGET attnlab-attn-bwd-mma)
  add_test(NAME kernels.backward_check COMMAND attnlab-attn-bwd-mma --check)
  set_tests_properties(kernels.backward_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS kernels)
  # Bad input is refused before the GPU is touched: exit 2, nothing on stdout, on any machine.
  attnlab_cli_test(backward_bad_gqa EXE $<TARGET_FILE:attnlab-attn-bwd-mma> RC 2 EMPTY_STDOUT
                   STDERR "--kv-heads must divide --heads" ARGS --check --heads 6 --kv-heads 4)
  attnlab_cli_test(backward_no_mode EXE $<TARGET_FILE:attnlab-attn-bwd-mma> RC 2 EMPTY_STDOUT
                   STDERR "exactly one of --check, --time, --once" ARGS --heads 4)
  attnlab_cli_test(backward_fastest_alone EXE $<TARGET_FILE:attnlab-attn-bwd-mma> RC 2 EMPTY_STDOUT
                   STDERR "--fastest needs --variants" ARGS --time --fastest)
  set_tests_properties(cli.backward_bad_gqa cli.backward_no_mode cli.backward_fastest_alone PROPERTIES LABELS kernels)
endif()
# Rung 2 (kernels/attn-bwd-hopper.cu, sm_90a): the same check through --rung hopper, only where
# nvcc built it. Without an sm_90 GPU (or without a GPU) it exits 77: "skipped", never "passed".
if(TARGET attnlab_kernels_bwd_hopper)
  add_test(NAME kernels.bwd_hopper_check COMMAND attnlab-attn-bwd-mma --rung hopper --check)
  set_tests_properties(kernels.bwd_hopper_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS kernels)
  attnlab_cli_test(backward_hopper_bad_variant EXE $<TARGET_FILE:attnlab-attn-bwd-mma> RC 2 EMPTY_STDOUT
                   STDERR "attn-bwd-hopper has variants 1..9 \\(got 10\\)" ARGS --rung hopper --time --variants 10)
  set_tests_properties(cli.backward_hopper_bad_variant PROPERTIES LABELS kernels)
endif()
