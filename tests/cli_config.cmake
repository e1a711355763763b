# CLI tests of your own model and GPU: --config FILE (a Hugging Face config.json) and --gpu FILE
# (a GPU description file), good and bad.
set(_hf tests/data/hf)
set(_gpu tests/data/gpu)

# ---- --config ----------------------------------------------------------------------------------
attnlab_cli_test(config_kv_llama2 STDOUT "^llama-2-7b: meta-llama/Llama-2-7b-hf, decoder, 32 layers \\(all global\\), 32 heads, 32 KV heads \\(MHA\\), head dim 128.*per token +512 KiB.*config: defaulted: head_dim = hidden_size / num_attention_heads = 128.*config: read: num_hidden_layers 32"
  ARGS kv --config ${_hf}/llama-2-7b.json)
attnlab_cli_test(config_kv_json_exact STDOUT "\"bytes_per_token\": 524288,.*\"bytes_per_seq\": 2147483648"
  ARGS kv --config ${_hf}/llama-2-7b.json --format json)
attnlab_cli_test(config_kv_compare STDOUT "llama-2-70b +GQA.*320 KiB.*llama-2-70b +GQA.*320 KiB"
  ARGS kv --model llama-2-70b --config ${_hf}/llama-2-70b.json)
attnlab_cli_test(config_kv_mla STDOUT "deepseek-v2 +MLA.*latent 512 \\+ RoPE key 64.*67.5 KiB"
  ARGS kv --config ${_hf}/deepseek-v2.json --model deepseek-v2 --seq 4096)
attnlab_cli_test(config_kv_gemma_alternating STDOUT "21 global \\+ 21 local \\(window 4096\\)"
  ARGS kv --config ${_hf}/gemma-2-9b.json)
attnlab_cli_test(config_kv_jamba STDOUT "per sequence \\(KV\\) +4.00 GiB.*Mamba state\\) +8.75 MiB"
  ARGS kv --config ${_hf}/jamba.json --seq 262144)
attnlab_cli_test(config_kv_falcon_mqa STDOUT "71 heads, 1 KV head \\(MQA\\).*multi_query = true|multi_query true"
  ARGS kv --config ${_hf}/falcon-7b.json)
attnlab_cli_test(config_model_path STDOUT "^mistral-7b: mistral-7b, decoder, 32 layers \\(all local \\(window 4096\\)\\)"
  ARGS kv --model ${_hf}/mistral-7b.json)
attnlab_cli_test(config_models_listing STDOUT "qwen2.5-72b +decoder +80 " ARGS models --model ${_hf}/other/qwen2.5-72b.json)
attnlab_cli_test(config_gemma3 STDOUT "10 global \\+ 52 local \\(window 1024\\).*config: note: fields read from text_config"
  ARGS kv --config ${_hf}/other/gemma-3-27b-it.json)
attnlab_cli_test(config_traffic STDOUT "\nflash2,.*,1,64,8,4096,128,false,fp16,fwd,h100-sxm\n"
  ARGS traffic --config ${_hf}/llama-2-70b.json --no-l2 --format csv)
attnlab_cli_test(config_steps STDOUT "Per layer of 32 heads × d=128 .*32 layers"
  ARGS steps --config ${_hf}/mistral-7b.json --seq 4096 --families full,window)

# Bad configs: one line naming the file and the field, exit 2, nothing on stdout.
attnlab_cli_error(config_not_json "^attnlab: error: tests/data/hf/bad/not-json.json: not valid JSON: .*\n$"
  kv --config ${_hf}/bad/not-json.json)
attnlab_cli_error(config_no_heads "^attnlab: error: tests/data/hf/bad/no-heads.json: field 'num_attention_heads': missing \\(the query head count\\)\n$"
  kv --config ${_hf}/bad/no-heads.json)
attnlab_cli_error(config_kv_not_divide "^attnlab: error: tests/data/hf/bad/kv-not-divide.json: field 'num_key_value_heads': 6 K/V heads do not divide 32 query heads\n$"
  kv --config ${_hf}/bad/kv-not-divide.json)
attnlab_cli_error(config_absurd "^attnlab: error: tests/data/hf/bad/absurd-context.json: field 'max_position_embeddings': must be between 1 and 1073741824 \\(got 100000000000\\)\n$"
  kv --config ${_hf}/bad/absurd-context.json)
attnlab_cli_error(config_zero_layers "field 'num_hidden_layers': must be between 1 and 65536 \\(got 0\\)"
  traffic --config ${_hf}/bad/zero-layers.json)
attnlab_cli_error(config_missing_file "^attnlab: error: tests/data/hf/nope.json: cannot open the model config\n$" kv --config ${_hf}/nope.json)
attnlab_cli_error(config_bad_in_steps "no-heads.json: field 'num_attention_heads': missing" steps --config ${_hf}/bad/no-heads.json)

# ---- --gpu FILE ----------------------------------------------------------------------------------
attnlab_cli_test(gpu_file_traffic STDOUT "\nflash2,.*,1,16,16,4096,128,false,fp16,fwd,h200-file\n"
  ARGS traffic --gpu ${_gpu}/h200-as-preset.json --no-l2 --format csv)
attnlab_cli_test(gpu_file_kv STDOUT "On 1 x h200-file \\(140 GiB\\)" ARGS kv --model llama-2-7b --gpu ${_gpu}/h200-as-preset.json)
attnlab_cli_error(gpu_file_no_sm "^attnlab: error: tests/data/gpu/bad/no-sm-count.json: field 'sm_count': missing\n$"
  traffic --gpu ${_gpu}/bad/no-sm-count.json)
attnlab_cli_error(gpu_file_units "field 'hbm_bytes_per_s': must be between 1e\\+09 and 1e\\+15 \\(got 4800\\)"
  kv --gpu ${_gpu}/bad/bandwidth-in-gbps.json)
attnlab_cli_error(gpu_file_not_json "^attnlab: error: tests/data/gpu/bad/not-json.json: not valid JSON" traffic --gpu ${_gpu}/bad/not-json.json)
attnlab_cli_error(gpu_file_missing "^attnlab: error: tests/data/gpu/nope.json: cannot open the GPU file\n$" traffic --gpu ${_gpu}/nope.json)

# ---- scripts/measure-my-gpu's folder from an H200 (2026-12-02) ------------------------------------
attnlab_cli_test(my_gpu_measured STDOUT "ladder-key.json +NVIDIA H200 +580.159.04 +13.0 +2026-12-02 +16 +0 +4"
  ARGS measured --file tests/data/my-gpu-h200/decode-key.json tests/data/my-gpu-h200/hopper-key.json tests/data/my-gpu-h200/ladder-key.json)
attnlab_cli_test(my_gpu_ncu STDOUT "DRAM within ±20%: 4 of 4 records; L2 within ±25%: 4 of 4"
  ARGS measured --file tests/data/my-gpu-h200/ladder-key.json --ncu)
attnlab_cli_test(my_gpu_traffic STDOUT "on nvidia-h200-measured: SRAM 227 KiB/block, L2 60.0 MiB, DRAM 4.22 TB/s, 878 TFLOP/s fp16"
  ARGS traffic --gpu tests/data/my-gpu-h200/gpu/gpu.json --no-l2)

# ---- the dashboard: a bad --config is refused before a window opens (no display needed) ----------
if(ATTNLAB_HAVE_GUI)
  attnlab_cli_test(gui_config_bad EXE $<TARGET_FILE:attnlab-gui> RC 2 EMPTY_STDOUT
    STDERR "^attnlab-gui: tests/data/hf/bad/no-heads.json: field 'num_attention_heads': missing \\(the query head count\\)\n$"
    ARGS --config tests/data/hf/bad/no-heads.json)
  attnlab_cli_test(gui_gpu_file_bad EXE $<TARGET_FILE:attnlab-gui> RC 2 EMPTY_STDOUT
    STDERR "tests/data/gpu/bad/no-sm-count.json: field 'sm_count': missing"
    ARGS --gpu tests/data/gpu/bad/no-sm-count.json)
endif()

# The KV panel with a config.json's model, the GPU file and the measured folder of an H200 (this
# file is included before cli_gui.cmake, so the screenshot test is declared here in full).
find_program(ATTNLAB_XVFB_RUN xvfb-run)
if(ATTNLAB_HAVE_GUI AND ATTNLAB_XVFB_RUN)
  add_test(NAME gui.screenshot.own_model_and_gpu
    COMMAND ${CMAKE_COMMAND} -DXVFB=${ATTNLAB_XVFB_RUN} -DGUI=$<TARGET_FILE:attnlab-gui>
            -DCHECK=$<TARGET_FILE:attnlab_png_check> -DCHAPTER=5 -DSIZE=1280x720
            "-DEXTRA=--config tests/data/hf/other/gemma-3-27b-it.json --gpu tests/data/my-gpu-h200/gpu/gpu.json --measurements tests/data/my-gpu-h200"
            -DOUT=${PROJECT_BINARY_DIR}/screenshots/own_model_and_gpu.png
            -P ${PROJECT_SOURCE_DIR}/gui/tests/screenshot_check.cmake
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
