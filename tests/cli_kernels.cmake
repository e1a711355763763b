# Kernel checks (kernels/): only where nvcc built the kernel programs. Each compares its kernels with
# the fp64 CPU reference on fresh random inputs and poisoned outputs; on a machine without a GPU
# it exits 77, which CTest reports as "skipped", never "passed".
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
# Ladder II: decode (every variant, contiguous and paged, ragged lengths), sliding window (ragged
# shapes, every row and its lse), selective scan (every variant, ragged lengths, fp64 recurrence).
if(TARGET attnlab-attn-decode)
  add_test(NAME kernels.decode_check COMMAND attnlab-attn-decode --check --sweep quick)
  add_test(NAME kernels.window_check COMMAND attnlab-attn-window --check)
  add_test(NAME kernels.scan_check COMMAND attnlab-scan-selective --check --batch 2 --channels 64
                                           --lens 16,272,1040,4096)
  set_tests_properties(kernels.decode_check kernels.window_check kernels.scan_check PROPERTIES
                       SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS kernels)
  attnlab_cli_test(decode_bad_page EXE $<TARGET_FILE:attnlab-attn-decode> RC 2 EMPTY_STDOUT
                   STDERR "--page-size must be a multiple of 16" ARGS --page-size 24)
  attnlab_cli_test(window_bad_lens EXE $<TARGET_FILE:attnlab-attn-window> RC 2 EMPTY_STDOUT
                   STDERR "--lens must be comma-separated integers" ARGS --lens 1024,x)
  attnlab_cli_test(scan_bad_lens EXE $<TARGET_FILE:attnlab-scan-selective> RC 2 EMPTY_STDOUT
                   STDERR "--lens values must be multiples of 16" ARGS --lens 100)
  set_tests_properties(cli.decode_bad_page cli.window_bad_lens cli.scan_bad_lens PROPERTIES LABELS kernels)
endif()
