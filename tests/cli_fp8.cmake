# The FP8 rung (kernels/attn-fp8-hopper.cu + fp8-quantize.cu, sm_90a): only where nvcc built it.
# --check compares the rung's output, for every scaling (per tensor, per tile, per tile after the
# Hadamard transform), with the fp64 CPU reference of the bf16 inputs and with the fp64 reference
# of the dequantized FP8 inputs (NaN-poisoned outputs; d 64/128, causal and not, ragged N,
# GQA/MQA, Nq != Nkv). Without an sm_90 GPU it exits 77: CTest says "skipped", never "passed".
if(TARGET attnlab-attn-fp8)
  add_test(NAME kernels.fp8_check COMMAND attnlab-attn-fp8 --check)
  set_tests_properties(kernels.fp8_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS kernels)
  # Bad input is refused before the GPU is touched: exit 2, nothing on stdout, on any machine.
  attnlab_cli_test(fp8_bad_dim EXE $<TARGET_FILE:attnlab-attn-fp8> RC 2 EMPTY_STDOUT
                   STDERR "--profile-dim must be 64 or 128 \\(got 96\\)" ARGS --profile --profile-dim 96)
  attnlab_cli_test(fp8_bad_repeats EXE $<TARGET_FILE:attnlab-attn-fp8> RC 2 EMPTY_STDOUT
                   STDERR "--repeats" ARGS --repeats 0)
  # The shipped file reads back through the project's reader (no GPU needed).
  attnlab_cli_test(fp8_validate_shipped EXE $<TARGET_FILE:attnlab-attn-fp8>
                   STDOUT "h200-fp8.json: valid \\([0-9]+ runs, [0-9]+ references, [0-9]+ ncu records"
                   ARGS --validate ${PROJECT_SOURCE_DIR}/assets/measurements/h200-fp8.json)
  set_tests_properties(cli.fp8_bad_dim cli.fp8_bad_repeats cli.fp8_validate_shipped PROPERTIES LABELS kernels)
endif()
