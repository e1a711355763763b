# `attnlab measured --runs` with the backward section of assets/measurements/h200-backward.json, in
# every format. Expected figures from the file: attn-bwd-mma B8 H16 N4096 d128 backward 10.318 ms
# (266.4 TFLOP/s = 2.5 x 4·8·16·4096²·128 / 10.318 ms) against torch-flash's 9.743 ms (9.743 / 10.318
# = 0.94x) and torch-cudnn's 5.199 ms (0.50x, the fastest reference).
attnlab_cli_test(measured_backward_runs
  STDOUT "Backward pass: .*attn-bwd-mma +bwd +B8 H16/16 N4096 d128 bf16 +64x128 +10.3 ms +266.6 +0.96x +0.51x"
  ARGS measured --runs)
# The Hopper rung's row beside it: faster than FA2, short of cuDNN.
attnlab_cli_test(measured_backward_runs_hopper
  STDOUT "attn-bwd-hopper +bwd +B8 H16/16 N4096 d128 bf16 +64x128 +6.29 ms +437.1 +1.57x +0.84x"
  ARGS measured --runs)
attnlab_cli_test(measured_backward_runs_csv_header
  STDOUT "^file,kernel,pass,config,Br x Bc,median,TFLOP/s,GB/s,max [|]err[|],vs torch-flash,fastest reference,vs it\n"
  ARGS measured --runs --format csv)
attnlab_cli_test(measured_backward_runs_csv
  STDOUT "h200-backward.json,attn-bwd-mma,bwd,B8 H16/16 N4096 d128 bf16,64x128,0.01030958[0-9]*,266.62[0-9]*,-,-,0.959[0-9]*,torch-cudnn,0.509[0-9]*\n"
  ARGS measured --runs --format csv)
# The references of a pass are rows too: PyTorch's cuDNN training step at d128.
attnlab_cli_test(measured_backward_runs_csv_reference
  STDOUT "h200-backward.json,torch-cudnn,fwd[+]bwd,B8 H16/16 N4096 d128 bf16,-,0.00729063[0-9]*,527.8"
  ARGS measured --runs --format csv --kernel torch-cudnn)
# A filter that only backward runs match: the CSV keeps its header and holds the backward rows alone.
attnlab_cli_test(measured_backward_runs_csv_only
  STDOUT "^file,kernel,pass,[^\n]*\nh200-backward.json,attn-bwd-mma,bwd,B8 H16/16 N4096 d64 bf16,64x64,"
  ARGS measured --runs --format csv --kernel bwd)
# (". " stands for the array's "[": an unbalanced bracket would hide the list separators after it from CMake.)
attnlab_cli_test(measured_backward_runs_json
  STDOUT "\"backward_runs\": .\n.*\"kernel\": \"attn-bwd-mma\",\n *\"pass\": \"bwd\",.*\"median_ms\": 10.309[0-9]*,\n *\"tflops\": 266.6[0-9]*,\n *\"vs_torch_flash\": 0.959[0-9]*,\n *\"vs_torch_cudnn\": 0.509"
  ARGS measured --runs --format json)
# A malformed backward section is refused with one line, nothing on stdout, in every format.
attnlab_cli_error(measured_backward_bad_pass
  "unknown-pass.json: backward.runs\\[0\\].pass must be fwd, bwd or fwd[+]bwd [(]got 'bwd2'[)]"
  measured --runs --format csv --file tests/data/backward/unknown-pass.json)
attnlab_cli_error(measured_backward_empty_runs
  "empty-runs.json: backward.runs must list at least one timed run of ours"
  measured --runs --format json --file tests/data/backward/empty-runs.json)
attnlab_cli_error(measured_backward_ncu_unknown_kernel
  "unknown-kernel.json: backward.ncu\\[0\\].kernel 'attn-bwd-warp9' is neither a PyTorch reference"
  measured --ncu --file tests/data/backward/unknown-kernel.json)
