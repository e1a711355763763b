# CLI tests of `attnlab steps`: the course's numbers, each table and format, huge N, bad input.

# The course: 10 words -> 100 comparisons, 1,000 -> 1,000,000, 100,000 -> 10 billion; Mamba: 100,000 steps.
attnlab_cli_test(steps_default
  STDOUT " 10  full attention +bidir +100 +- .* 1,000  full attention +bidir +1,000,000 +- .*100,000  full attention +bidir +10,000,000,000 +- .*100,000  SSM \\(Mamba\\) +D=1536 n=16 +- +100,000 "
  ARGS steps)
attnlab_cli_test(steps_default_families
  STDOUT "sliding window \\(Mistral\\) +causal w=4096\\*.*Longformer +bidir w=512 g=1.*strided \\(Sparse Transformer\\) +causal s=1000 +1,499,000,500 .*alternating \\(ModernBERT\\) +bidir k=3 w=128 .*linear \\(Performer\\) +r=256"
  ARGS steps)
# 8x the tokens -> 64x the computation (and 8x for an SSM).
attnlab_cli_test(steps_8x_tokens_64x_compute
  STDOUT "8,000  full attention .* 64.0x\n8,000  SSM \\(Mamba\\) .* 8.00x"
  ARGS steps --seq 1000,8000 --baseline-seq 1000 --families full,ssm)
# "If a model handles 10,000 words in 1 second, how long would 100,000 words take?"
attnlab_cli_test(steps_whatif_time
  STDOUT "100,000  full attention .* 100x +100 s\n100,000  linear \\(Performer\\) .* 10.0x +10.0 s\n100,000  SSM \\(Mamba\\) .* 10.0x +10.0 s"
  ARGS steps --seq 100000 --baseline-seq 10000 --baseline-time 1s --families full,linear,ssm)
attnlab_cli_test(steps_whatif_json
  STDOUT "\"baseline_ratio\": 100,\n *\"predicted_seconds\": 0.5"
  ARGS steps --seq 1e5 --baseline-seq 1e4 --baseline-time 5ms --families full --format json)
# Mistral: receptive field 4096 x 32 = 131,072.
attnlab_cli_test(steps_receptive_field
  STDOUT "receptive field 4,096 × 32 layers = 131,072 tokens"
  ARGS steps --seq 1e6 --families window)
attnlab_cli_test(steps_window_exact
  STDOUT "1,000,000  sliding window \\(Mistral\\) +causal w=4096 +4,087,613,440 .* 12.0 MiB"
  ARGS steps --seq 1e6 --families window)
attnlab_cli_test(steps_causal
  STDOUT "10  full attention +causal +55 "
  ARGS steps --seq 10 --families full --causal)

# The course's table: 512 -> 0.26M entries and 1 MiB ... 32768 -> 1.07B and 4 GiB.
attnlab_cli_test(steps_scores_table
  STDOUT "512 +262,144 +0.26M +262,144 +1.00 MiB .*2,048 +4,194,304 +4.19M .* 16.0 MiB.*8,192 +67,108,864 +67.1M .* 256 MiB.*32,768 +1,073,741,824 +1.07B .* 4.00 GiB"
  ARGS steps --table scores)
attnlab_cli_test(steps_scores_4096 STDOUT "4,096 +16,777,216 " ARGS steps --table scores --seq 4096)
attnlab_cli_test(steps_scores_json
  STDOUT "\"seq\": 32768,\n *\"entries\": 1073741824,\n *\"computed\": 1073741824,\n *\"bytes_fp32\": 4294967296,"
  ARGS steps --table scores --format json)

# Formats.
attnlab_cli_test(steps_json
  STDOUT "\"family\": \"full\",.*\"score_entries_per_head\": 10000000000,"
  ARGS steps --seq 100000 --families full --format json)
attnlab_cli_test(steps_json_alternating_mean
  STDOUT "\"score_entries_per_head\": 425676.25,\n *\"score_entries_per_head_stack\": 13621640,"
  ARGS steps --seq 1000 --families alternating --format json)
attnlab_cli_test(steps_csv
  STDOUT "^N,family,pattern,scores/head,steps,FLOPs/layer,vs full,decode FLOPs/token,decode memory/layer\n10,full,bidir,100,-,307200,1,30720,30720\n"
  ARGS steps --seq 10 --families full --format csv)

# Huge N: exact to 10^9 and past 64 bits; past 128 bits rounded and marked, never wrapped.
attnlab_cli_test(steps_huge_1e9
  STDOUT "\"score_entries_per_head\": 1000000000000000000,\n *\"score_entries_per_head_stack\": 32000000000000000000,"
  ARGS steps --seq 1e9 --families full --format json)
attnlab_cli_test(steps_huge_1e12
  STDOUT "\"score_entries_per_head\": 1000000000000000000000000,.*\"flops_per_layer\": 3072000000000000000000000000,"
  ARGS steps --seq 10^12 --families full --format json)
attnlab_cli_test(steps_huge_rounded
  STDOUT "1,000,000,000,000,000,000,000,000,000,000,000,000 +- +≈3.07e\\+39 FLOP.*≈ past 2\\^128: rounded, not exact"
  ARGS steps --seq 1e18 --families full)
attnlab_cli_test(steps_huge_rounded_json STDOUT "\"rounded\": true" ARGS steps --seq 1e18 --families full --format json)

# Mask grids.
attnlab_cli_test(steps_masks_window
  STDOUT "causal window w=3, N = 5: 12 of 25 cells allowed \\[arXiv:2310.06825\\]\n#....\n##...\n###..\n.###.\n..###\n"
  ARGS steps --table masks --seq 5 --families window --window 3)
attnlab_cli_test(steps_masks_alternating
  STDOUT "layer 0 \\(global\\), N = 6: 36 of 36.*layer 1 \\(local\\), N = 6: 24 of 36"
  ARGS steps --table masks --seq 6 --families modernbert)
attnlab_cli_test(steps_masks_json
  STDOUT "\"family\": \"strided\",.*\"allowed\": 39,.*\"rows\": .\n *\"#\\.\\.\\.\\.\\.\\.\\.\\.\\.\","
  ARGS steps --table masks --seq 10 --families strided --stride 3 --format json)

# Bad input: one line naming the option, exit 2, nothing on stdout.
attnlab_cli_error(steps_seq_zero "--seq must be between 1 and 1000000000000000000 \\(got 0\\)" steps --seq 0)
attnlab_cli_error(steps_seq_negative "--seq must be between 1 and [0-9]+ \\(got -5\\)" steps --seq -5)
attnlab_cli_error(steps_seq_text "--seq must be a whole number such as 4096, 1e6 or 2\\^20 \\(got 'abc'\\)" steps --seq abc)
attnlab_cli_error(steps_seq_fraction "--seq must be a whole number .*\\(got '1.5'\\)" steps --seq 1.5)
attnlab_cli_error(steps_seq_too_big "--seq must be between 1 and 1000000000000000000 \\(got 1e19 = " steps --seq 1e19)
attnlab_cli_error(steps_k_zero "--every-k must be between 1 and 100000 \\(got 0\\)" steps --every-k 0)
attnlab_cli_error(steps_k_short_zero "--every-k must be between 1" steps -k 0)
attnlab_cli_error(steps_unknown_family "--families must be a list of full, window, .*\\(got 'rnn'\\)" steps --families full,rnn)
attnlab_cli_error(steps_window_longer_than_n "--window must be at most the longest --seq \\(1000\\) \\(got 4096\\)" steps --seq 1000 --window 4096)
attnlab_cli_error(steps_globals_longer_than_n "--globals must be at most the longest --seq \\(100\\) \\(got 200\\)" steps --seq 100 --globals 200)
attnlab_cli_error(steps_stride_longer_than_n "--stride must be at most the longest --seq" steps --seq 100 --stride 101)
attnlab_cli_error(steps_local_window_longer_than_n "--local-window must be at most the longest --seq" steps --seq 100 --local-window 101)
attnlab_cli_error(steps_window_zero "--window must be between 1 and" steps --window 0)
attnlab_cli_error(steps_head_dim_text "--head-dim must be a whole number .*\\(got 'x'\\)" steps --head-dim x)
attnlab_cli_error(steps_layers_text "--layers must be a whole number" steps --layers many)
attnlab_cli_error(steps_features_zero "--features must be between 1 and" steps --features 0)
attnlab_cli_error(steps_table_unknown "--table must be main, scores or masks \\(got 'foo'\\)" steps --table foo)
attnlab_cli_error(steps_time_without_seq "--baseline-time needs --baseline-seq" steps --baseline-time 1s)
attnlab_cli_error(steps_time_bad "--baseline-time must be a duration such as 1s" steps --baseline-seq 100 --baseline-time fast)
attnlab_cli_error(steps_baseline_zero "--baseline-seq must be between 1 and" steps --baseline-seq 0)
attnlab_cli_error(steps_masks_too_long "--seq \\(with --table masks\\) must be between 1 and 64 \\(got 100\\)" steps --table masks --seq 100)
attnlab_cli_error(steps_masks_ssm "--families: ssm has no attention mask" steps --table masks --families ssm)
attnlab_cli_error(steps_dtype "--dtype must be one of fp32, fp16, bf16, fp8 \\(got 'int4'\\)" steps --dtype int4)
attnlab_cli_error(steps_causal_and_bidirectional "--causal excludes --bidirectional" steps --causal --bidirectional)
attnlab_cli_error(steps_bad_format "--format must be table, json or csv" steps --format xml)
attnlab_cli_test(steps_seq_suffix STDOUT "32,768 +full" ARGS steps --seq 32K --families full)
