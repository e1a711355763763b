# Ring attention over several GPUs through NCCL (kernels/ring-attention.cpp): only where
# kernels/ring.cmake found NCCL and built attnlab-ring-attention. The NCCL check exits 77
# ("skipped") on a machine with fewer than two usable GPUs; elsewhere it compares the ring's output
# with single-GPU attention and the fp64 reference on awkward shapes (GQA, causal, ragged blocks),
# every layout (contiguous, zigzag, striped).
if(TARGET attnlab-ring-attention)
  add_test(NAME kernels.ring_check COMMAND attnlab-ring-attention --check --quiet)
  set_tests_properties(kernels.ring_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS kernels
                       ENVIRONMENT "NCCL_NVLS_ENABLE=0;TORCH_SYMM_MEM_DISABLE_MULTICAST=1;NVSHMEM_DISABLE_NVLS=1")
  # One GPU: the same ring for 2, 4 and 8 virtual devices on GPU 0 (the NCCL exchange a device copy),
  # every layout, causal and not, ragged blocks, GQA 32/8, against single-GPU attention and fp64.
  # Exit 77 ("skipped") without a GPU; it needs no second GPU.
  add_test(NAME kernels.ring_one_gpu_check COMMAND attnlab-ring-attention --virtual 2,4,8 --check --quiet)
  set_tests_properties(kernels.ring_one_gpu_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS kernels
                       ENVIRONMENT "NCCL_NVLS_ENABLE=0;TORCH_SYMM_MEM_DISABLE_MULTICAST=1;NVSHMEM_DISABLE_NVLS=1")
  # Bad input is refused before any GPU is touched: exit 2, nothing on stdout, on any machine.
  attnlab_cli_test(ring_gpu_bad_gqa EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--kv-heads must divide --heads" ARGS --heads 6 --kv-heads 4)
  attnlab_cli_test(ring_gpu_bad_block EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--block must be between 1 and 1048576" ARGS --block 0)
  attnlab_cli_test(ring_gpu_bad_layout EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--layout must be contiguous, zigzag or striped \\(got 'diagonal'\\)" ARGS --layout diagonal)
  attnlab_cli_test(ring_gpu_zigzag_odd EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--layout zigzag .*--block must be even \\(got 777\\)" ARGS --layout zigzag --block 777)
  attnlab_cli_test(ring_gpu_sweep_odd EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--layout zigzag .*--block must be even \\(got 1001\\)" ARGS --sweep layouts --block 1024,1001)
  attnlab_cli_test(ring_gpu_virtual_json EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--virtual runs the checks only" ARGS --virtual 4 --json x.json)
  attnlab_cli_test(ring_gpu_virtual_bad EXE $<TARGET_FILE:attnlab-ring-attention> RC 2 EMPTY_STDOUT
                   STDERR "--virtual values must be between 1 and 64 \\(got 0\\)" ARGS --virtual 2,0)
  set_tests_properties(cli.ring_gpu_bad_gqa cli.ring_gpu_bad_block cli.ring_gpu_bad_layout cli.ring_gpu_zigzag_odd
                       cli.ring_gpu_sweep_odd cli.ring_gpu_virtual_json cli.ring_gpu_virtual_bad PROPERTIES LABELS kernels)
endif()

# The shipped measurement beside the model (no GPU needed): `attnlab ring --measured FILE`.
attnlab_cli_test(ring_measured STDOUT "2 x NVIDIA H200, NCCL 2.28.9, attn-mma.*32/32 +16,384 +no +256 MiB +15.1 ms +4.45 ms +3.40.*H 32/32: measured 2,048, model 2,199\n +H 32/8: measured 1,536, model 550"
  ARGS ring --measured assets/measurements/ring-h200x2.json)
attnlab_cli_test(ring_measured_calibrated STDOUT "efficiency 0.2937 \\(attention at n = 16,384\\), link 307 GB/s \\+ 44.1 µs.*H 32/32: measured 2,048, model 1,477"
  ARGS ring --measured assets/measurements/ring-h200x2.json --calibrate)
attnlab_cli_test(ring_measured_json STDOUT "\"compute_ratio\": 3.40[0-9]*,"
  ARGS ring --measured assets/measurements/ring-h200x2.json --format json)
attnlab_cli_test(ring_latency STDOUT "per direction \\+ 25.0 µs per transfer.*a = 25.0 µs -> 2,749 tokens per device"
  ARGS ring --model llama-2-7b --gpu h200 --link-latency-us 25)
attnlab_cli_error(ring_measured_missing "no-such-file.json: cannot open the measurement file" ring --measured no-such-file.json)
attnlab_cli_error(ring_measured_not_ring "has no \"ring\" section" ring --measured assets/measurements/h100-gqa.json)
attnlab_cli_error(ring_calibrate_alone "--calibrate needs --measured FILE" ring --calibrate)
attnlab_cli_error(ring_calibrate_conflict "--calibrate takes the efficiency and the link from the file"
  ring --measured assets/measurements/ring-h200x2.json --calibrate --link-gbps 100)
attnlab_cli_error(ring_latency_negative "--link-latency-us must be between 0 and 1000000 \\(got -1\\)" ring --link-latency-us -1)
