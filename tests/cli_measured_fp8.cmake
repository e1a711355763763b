# `attnlab measured --fp8` on the FP8 test fixture (tests/data/fp8/measured-fp8-fixture.json: invented
# values in the shape kernels/' fp8 rung writes, not a measurement). Expected figures by hand:
# N4096: 4 x 8 x 16 x 4096^2 x 128 = 1.0995 TFLOP in 1.00 ms = 1099.5 TFLOP/s; bf16 1.60 ms = 687.2;
# 1.60 / 1.00 = 1.60x; end to end (the -e2e run) 1.15 ms: 1.60 / 1.15 = 1.39x. N8192 has no -e2e run:
# 6.40 / (3.90 + 0.70) = 1.39x. Outliers: per-tensor RMSE 9.5e-3 / per tile + Hadamard 2.9e-3 = 3.28x.
attnlab_cli_test(measured_fp8_speed
  STDOUT "attn-fp8-hopper +B8 H16/16 N4096 d128 +128x128 +1.00 ms +1099.5 +1.60 ms +687.2 +1.60x +180 [^ ]+s +1.39x"
  ARGS measured --fp8 --dir tests/data/fp8 --part speed)
attnlab_cli_test(measured_fp8_all
  STDOUT "N8192 d128 +128x128 +3.90 ms .* 1.64x +700 [^ ]+s +1.39x.*outliers +B1 H4/4 N1024 d128 +FP8, per tile \\+ Hadamard +2.90e-03 +4.00e-02 +2.30e-02 +3.28x.*0.1% of their entries scaled by 10.*fp8-quantize-block-hadamard +B8 H16/16 N4096 d128 +240 [^ ]+s"
  ARGS measured --fp8 --dir tests/data/fp8)
attnlab_cli_test(measured_fp8_json
  STDOUT "\"speed\": .*\"speedup\": 1.6,.*\"speedup_with_quantize\": 1.391.*\"accuracy\": .*\"method\": \"fp8-block-hadamard\".*\"quantize\": "
  ARGS measured --fp8 --dir tests/data/fp8 --format json)
attnlab_cli_test(measured_fp8_csv STDOUT "^file,input,shape,method,RMSE,rel. L2,max \\|err\\|,per-tensor RMSE / this\n"
  ARGS measured --fp8 --dir tests/data/fp8 --part accuracy --format csv)
attnlab_cli_test(measured_fp8_help STDOUT "--fp8 .*--part" ARGS measured --help)
attnlab_cli_error(measured_fp8_csv_all "--format csv with --fp8 needs --part speed, accuracy or quantize"
  measured --fp8 --dir tests/data/fp8 --format csv)
attnlab_cli_error(measured_fp8_bad_part "--part must be speed, accuracy or quantize \\(got 'all'\\)"
  measured --fp8 --dir tests/data/fp8 --part all)
attnlab_cli_error(measured_fp8_part_alone "--part goes with --fp8" measured --part speed)
attnlab_cli_error(measured_fp8_two_views "--fp8 is a view of its own" measured --fp8 --runs)
attnlab_cli_error(measured_fp8_not_fp8 "measurement-roundtrip-optin-missing.json: has no \"fp8\" section"
  measured --fp8 --file tests/fuzz/regressions/measurement-roundtrip-optin-missing.json)
attnlab_cli_error(measured_fp8_none_in_dir "no measurement file in the folder has an \"fp8\" section"
  measured --fp8 --dir tests/data/gpu)
# The simulator's FP8 attention: B1 H2 N1024 d128, 128 x 128 tiles, no L2: O written in bf16
# (2 x 1024 x 128 x 2 = 524,288 B), Q's scales 2 heads x 8 tiles x 4 B = 64 B.
attnlab_cli_test(traffic_fp8_bytes
  STDOUT "\"O\": \\{[^}]*\"hbm_write_bytes\": 524288.*\"Qscale\": \\{[^}]*\"hbm_read_bytes\": 64,"
  ARGS traffic --dtype fp8 --algo flash2 --seq 1024 --heads 2 --batch 1 --no-l2 --block-q 128 --block-kv 128 --format json)
attnlab_cli_test(traffic_fp8_header STDOUT "fp8 \\(scores fp8\\), O bf16, an fp32 scale per Q, K, V tile"
  ARGS traffic --dtype fp8 --algo flash2)
attnlab_cli_error(traffic_fp8_backward "--dtype fp8 is simulated for the forward pass only" traffic --dtype fp8 --pass fwd+bwd)
