# `attnlab measured`: the shipped measurement files, runs vs PyTorch, the simulator vs Nsight Compute.
# Expected figures worked out from the files: h100-key.json's attn-mma d128 runs at 289.1 TFLOP/s
# against torch-flash's 345.2 in the same session (3.80 ms vs its time: 289.1 / 345.2 = 0.84x);
# h100-ncu.json's attn-mma B4 H16 N4096 d128 causal record reads+writes 264.0 MB of DRAM, the
# simulator 269.5 MB (of which Q, K, V read once and O written once are 4 x 4 x 16 x 4096 x 128 x 2 B
# = 268.4 MB), +2.1%.
attnlab_cli_test(measured_files STDOUT "h100-ladder.json +NVIDIA H100 80GB HBM3 +580.159.04 +13.0 +2026-11-23 +96 +94 +0"
  ARGS measured)
attnlab_cli_test(measured_runs STDOUT "h100-key.json +attn-mma +B8 H16/16 N4096 d128 bf16 +128x64 +3.80 ms +289.1 .* 0.84x +torch-cudnn"
  ARGS measured --runs --kernel attn-mma)
attnlab_cli_test(measured_runs_json STDOUT "\"kernel\": \"attn-mma\",.*\"vs_torch_flash\": 0.8"
  ARGS measured --runs --kernel attn-mma --format json)
attnlab_cli_test(measured_ncu STDOUT "attn-mma B4 H16/16 N4096 d128 causal +264.0 MB +254.3 MB +-3.7% +ok"
  ARGS measured --ncu)
attnlab_cli_test(measured_ncu_known_miss STDOUT "attn-mma B4 H16/16 N2048 d64 .* known miss"
  ARGS measured --ncu --kernel mma)
attnlab_cli_test(measured_ncu_why STDOUT "Known misses.*attn-mma L2 d64:\n +SM-side L2 reads"
  ARGS measured --ncu --why)
# Was a known miss (+30.3% L2) until the naive model read only the visible part of S under the
# causal mask, as the softmax kernel does.
attnlab_cli_test(measured_ncu_naive_causal
  STDOUT "attn-naive-cublas B4 H16/16 N4096 d128 causal +7798.0 MB +7693.2 MB +-1.3% +ok +15071.1 MB +18025.4 MB +\\+19.6% +ok"
  ARGS measured --ncu --kernel naive-cublas)
# The csv and json writers on one kernel's records (ok rows and a known miss: every kind of row),
# not all of them: each full --ncu run simulates every shipped record again (~2 s in Release, many
# times that under the sanitizers), and the table above already runs them all.
attnlab_cli_test(measured_ncu_csv
  STDOUT "^record,DRAM ncu,DRAM sim,diff,,L2 ncu,L2 sim,diff,\n.*\nattn-mma B4 H16/16 N4096 d128 causal,263984896,[0-9]+,"
  ARGS measured --ncu --kernel mma --format csv)
attnlab_cli_test(measured_ncu_json
  STDOUT "\"dram_tolerance\": 0.2,.*\"record\": \"attn-mma B4 H16/16 N1024 d128\",\n +\"kernel\": \"attn-mma\",\n +\"dram_measured_bytes\": 60321280,"
  ARGS measured --ncu --kernel mma --format json)
attnlab_cli_test(measured_own_file STDOUT "measurement-roundtrip" ARGS measured --file tests/fuzz/regressions/measurement-roundtrip-optin-missing.json)
attnlab_cli_error(measured_no_dir "--dir: no such folder 'tests/no_such_folder'" measured --dir tests/no_such_folder)
attnlab_cli_error(measured_two_views "give one of --runs and --ncu" measured --runs --ncu)
attnlab_cli_error(measured_why_alone "--why goes with --ncu" measured --why)
attnlab_cli_error(measured_no_such_kernel "--kernel: no run of a kernel matching 'warp9'" measured --runs --kernel warp9)
attnlab_cli_error(measured_truncated "measurement-truncated.json: not valid JSON" measured --file tests/fuzz/regressions/measurement-truncated.json)
attnlab_cli_error(measured_newer_schema "is newer than this attnlab reads" measured --file tests/fuzz/regressions/measurement-newer-schema.json)
