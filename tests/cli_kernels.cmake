# Kernel checks (kernels/): only where nvcc built attnlab-bench. On a machine without a GPU the
# bench exits 77, which CTest reports as "skipped", not "passed".
if(TARGET attnlab-bench)
  add_test(NAME kernels.check COMMAND attnlab-bench --check --quiet)
  set_tests_properties(kernels.check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS kernels)
  # Bad input is refused before the GPU is touched: exit 2, nothing on stdout, on any machine.
  attnlab_cli_test(bench_bad_kernel EXE $<TARGET_FILE:attnlab-bench> RC 2 EMPTY_STDOUT
                   STDERR "unknown kernel 'flash9'" ARGS --kernels flash9)
  attnlab_cli_test(bench_bad_gqa EXE $<TARGET_FILE:attnlab-bench> RC 2 EMPTY_STDOUT
                   STDERR "kv_heads must divide heads" ARGS --heads 6 --kv-heads 4)
  set_tests_properties(cli.bench_bad_kernel cli.bench_bad_gqa PROPERTIES LABELS kernels)
endif()
