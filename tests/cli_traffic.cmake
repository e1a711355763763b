# attnlab traffic: the README's examples, the papers' figures and every bad-input case.
attnlab_cli_test(traffic_default STDOUT "naive +T=128.*\nflash2 +128x64.*naive / flash2: [0-9.]+x the HBM traffic" ARGS traffic)
attnlab_cli_test(traffic_fig2 STDOUT "B=64 H=16 KV-heads=16 N=1024 d=64.*naive +T=128 +22.2 GiB +8.50 GiB +30.8 GiB.*flash1 +64x326 +3.56 GiB +1.54 GiB +5.10 GiB"
  ARGS traffic --pass fwd+bwd --batch 64 --heads 16 --seq 1024 --head-dim 64 --dtype fp16 --gpu a100-40gb --algo naive,flash1,flash2)
attnlab_cli_test(traffic_json STDOUT "\"algo\": \"flash2\",.*\"hbm_read_bytes\": 2228224,.*\"hbm_write_bytes\": 135168,.*\"dram_read_bytes\": 393216"
  ARGS traffic --batch 1 --heads 1 --seq 1024 --head-dim 64 --algo flash2 --format json)
attnlab_cli_test(traffic_csv STDOUT "^algo,block_q,block_kv,hbm_read_bytes.*\nflash2,128,128,2228224,135168,393216,"
  ARGS traffic --batch 1 --heads 1 --seq 1024 --head-dim 64 --algo flash2 --format csv)
attnlab_cli_test(traffic_verify STDOUT "max \\|naive - tiled\\|: fp32 [0-9.]+e-0[6-9], fp64 [0-9.]+e-1[5-7]"
  ARGS traffic --seq 512 --head-dim 64 --causal --verify)
attnlab_cli_test(traffic_gqa STDOUT "KV-heads=2 " ARGS traffic --heads 16 --kv-heads 2 --seq 2048)
attnlab_cli_test(traffic_huge STDOUT "N=16777216.*sample" ARGS traffic --batch 1024 --heads 1024 --seq 16777216 --algo flash2)
attnlab_cli_test(traffic_help STDOUT "--block-q.*--sram-kib" ARGS traffic --help)
attnlab_cli_error(traffic_seq_zero "--seq must be between 1 and 4294967296 \\(got 0\\)" traffic --seq 0)
attnlab_cli_error(traffic_seq_negative "--seq must be between 1 and 4294967296 \\(got -5\\)" traffic --seq -5)
attnlab_cli_error(traffic_seq_huge "--seq must be between 1 and 4294967296" traffic --seq 99999999999)
attnlab_cli_error(traffic_seq_text "seq" traffic --seq many)
attnlab_cli_error(traffic_batch_zero "--batch must be between 1" traffic --batch 0)
attnlab_cli_error(traffic_kv_not_dividing "--kv-heads 5 must divide --heads 16" traffic --heads 16 --kv-heads 5)
attnlab_cli_error(traffic_blocks_too_big "need 384 KiB of SRAM per block; h100-sxm allows 227 KiB" traffic --block-q 512 --block-kv 512)
attnlab_cli_error(traffic_unknown_gpu "--gpu: unknown GPU 'tpu'" traffic --gpu tpu)
attnlab_cli_error(traffic_unknown_dtype "--dtype must be one of fp32, fp16, bf16, fp8 \\(got 'int7'\\)" traffic --dtype int7)
attnlab_cli_error(traffic_unknown_algo "--algo must be naive, flash1 or flash2 \\(got 'flash9'\\)" traffic --algo flash9)
attnlab_cli_error(traffic_bad_pass "--pass must be fwd, bwd or fwd\\+bwd" traffic --pass sideways)
attnlab_cli_error(traffic_verify_too_long "--verify needs --seq between 1 and 4096 \\(got 8192\\)" traffic --seq 8192 --verify)
attnlab_cli_error(traffic_bad_sram "--sram-kib must be > 0" traffic --sram-kib 0)
attnlab_cli_error(traffic_trace_unwritable "--trace: cannot write" traffic --seq 256 --trace /nonexistent/dir/t.csv)

# One number reader for every size option (util/parse_number): what `steps` takes, plus K, M, k.
attnlab_cli_test(traffic_seq_power STDOUT "N=32768 " ARGS traffic --seq 2^15 --algo flash2)
attnlab_cli_test(traffic_seq_binary_k STDOUT "N=32768 " ARGS traffic --seq 32K --algo flash2)
attnlab_cli_test(traffic_seq_decimal_k STDOUT "N=32000 " ARGS traffic --seq 32k --algo flash2)
attnlab_cli_test(traffic_seq_underscore STDOUT "N=100000 " ARGS traffic --seq 100_000 --algo flash2)
attnlab_cli_test(traffic_help_numbers STDOUT "Whole numbers: 4096, 1e5, 2\\^15, 100_000 or 32K \\(K = 1024, M = 1024\\^2, k = 1000\\)"
  ARGS traffic --help)
attnlab_cli_error(traffic_seq_garbage "--seq: must be a whole number \\(got '32x'\\)" traffic --seq 32x)
attnlab_cli_error(traffic_seq_overflow "--seq: 2\\^70 is too large" traffic --seq 2^70)
attnlab_cli_error(traffic_seq_negative_suffix "--seq must be between 1 and [0-9]+ \\(got -32768\\)" traffic --seq -32K)
attnlab_cli_error(traffic_seq_zero_suffix "--seq must be between 1 and [0-9]+ \\(got 0\\)" traffic --seq 0K)
