# CLI tests of ring attention's causal layouts (attnlab ring --layout): the imbalance of contiguous
# blocks and the balanced zigzag and striped layouts, side by side for the same pass; bad layouts.
attnlab_cli_test(ring_layout_table
  STDOUT "8,192 tokens, zigzag layout.*contiguous +7\\.500 blocks +0\\.500 blocks.*53\\.3%.*zigzag \\* +4\\.000 blocks +4\\.000 blocks.*100\\.0%.*striped +4\\.000 blocks +4\\.000 blocks"
  ARGS ring --causal --layout zigzag --seq 65536 --devices 8)
attnlab_cli_test(ring_layout_timeline_shares
  STDOUT "KV0 50%.*KV7 50%"
  ARGS ring --causal --layout zigzag --seq 65536 --devices 8)
attnlab_cli_test(ring_layout_json
  STDOUT "\"layout\": \"striped\".*\"efficiency_vs_ideal\": 0\\.999.*\"layouts\": .*\"layout\": \"contiguous\",.*\"efficiency_vs_ideal\": 0\\.533"
  ARGS ring --causal --layout striped --seq 65536 --devices 8 --format json)
attnlab_cli_test(ring_layout_unknown RC 2 EMPTY_STDOUT
  STDERR "--layout must be contiguous, zigzag or striped \\(got 'diagonal'\\)"
  ARGS ring --causal --layout diagonal)
attnlab_cli_test(ring_layout_zigzag_indivisible RC 2 EMPTY_STDOUT
  STDERR "--layout zigzag .*--seq must be a multiple of 16 \\(got 1000\\)"
  ARGS ring --causal --layout zigzag --seq 1000 --devices 8)
