# CLI tests of the serving models: models, kv, paged, specdec, ring.

# ---- models -----------------------------------------------------------------------------------
attnlab_cli_test(models_table STDOUT "llama-2-7b +decoder +32 +4,096 +32 +32 +128 +MHA +all global +4,096 +6.74B +512 KiB"
  ARGS models)
attnlab_cli_test(models_mla STDOUT "deepseek-v2 +decoder +60 .*MLA 512\\+64 .*67.5 KiB" ARGS models)
attnlab_cli_test(models_jamba STDOUT "jamba +hybrid +32 .*4 global \\+ 28 Mamba" ARGS models)
attnlab_cli_test(models_sources STDOUT "mistral-7b\n +architecture: Mistral 7B paper .*window: Mistral 7B paper Table 1: window_size 4096"
  ARGS models --sources)
attnlab_cli_test(models_one STDOUT "falcon-7b .*MQA.*Sources:\n  falcon-7b\n    architecture: config.json of tiiuae/falcon-7b"
  ARGS models --model falcon-7b)
attnlab_cli_test(models_json STDOUT "\"name\": \"gemma-2-9b\",.*\"pattern\": \"LG\",.*\"local_layers\": 21"
  ARGS models --format json)
attnlab_cli_test(models_csv STDOUT "model,kind,layers.*\nllama-2-70b,decoder,80,8192,64,8,128,GQA,G,4096,68976648192,327680\n"
  ARGS models --format csv)
attnlab_cli_error(models_unknown "--model: unknown model 'llama-9' \\(known: gpt2-medium, llama-2-7b" models --model llama-9)

# ---- kv ---------------------------------------------------------------------------------------
attnlab_cli_test(kv_llama2_7b STDOUT "per token and layer +16.0 KiB.*per token +512 KiB +x 32 attention layers.*per sequence +2.00 GiB"
  ARGS kv --model llama-2-7b)
attnlab_cli_test(kv_default_is_llama2_7b STDOUT "^llama-2-7b: Llama 2 7B" ARGS kv)
attnlab_cli_test(kv_whatif STDOUT "MHA \\(model\\) +32 +8,192 .*GQA-8 +8 +2,048 .*MQA +1 +256 .*MLA-512\\+64 +- +576"
  ARGS kv --model llama-2-7b)
attnlab_cli_test(kv_compare STDOUT "llama-2-70b +GQA.*320 KiB.*mistral-7b +GQA +all local \\(window 4096\\).*512 MiB.*falcon-7b +MQA.*8.00 KiB.*deepseek-v2 +MLA.*latent 512 \\+ RoPE key 64.*67.5 KiB.*Sources:"
  ARGS kv --model llama-2-70b,mistral-7b,falcon-7b,deepseek-v2)
attnlab_cli_test(kv_mistral_window STDOUT "per sequence +512 MiB +local layers cap at the 4,096-token window"
  ARGS kv --model mistral-7b --seq 32768)
attnlab_cli_test(kv_window_off STDOUT "per sequence +4.00 GiB +32,768 tokens" ARGS kv --model mistral-7b --seq 32768 --window 0)
attnlab_cli_test(kv_jamba STDOUT "per sequence \\(KV\\) +4.00 GiB.*Mamba state\\) +8.75 MiB" ARGS kv --model jamba --seq 262144)
attnlab_cli_test(kv_int4 STDOUT "per token +128 KiB" ARGS kv --model llama-2-7b --dtype int4)
attnlab_cli_test(kv_batch STDOUT "batch of 8 +16.0 GiB" ARGS kv --model llama-2-7b --seq 4096 --batch 8)
attnlab_cli_test(kv_gpu STDOUT "On 1 x h100-sxm .*: weights 12.6 GiB .* 30 sequences of 4,096 tokens fit"
  ARGS kv --model llama-2-7b --gpu h100)
attnlab_cli_test(kv_gpu_too_small STDOUT "the weights alone need 2 GPUs" ARGS kv --model llama-2-70b --gpu h100)
attnlab_cli_test(kv_override STDOUT "32 heads, 8 KV heads \\(GQA\\).*\\[overridden\\].*per token +128 KiB" ARGS kv --model llama-2-7b --kv-heads 8)
attnlab_cli_test(kv_json STDOUT "\"bytes_per_token\": 524288,.*\"bytes_per_seq\": 2147483648" ARGS kv --model llama-2-7b --format json)
attnlab_cli_test(kv_csv STDOUT "variant,KV heads,.*\nMHA \\(model\\),32,8192,16384,524288,2147483648,2147483648,1\n"
  ARGS kv --model llama-2-7b --format csv)
attnlab_cli_error(kv_unknown_model "--model: unknown model 'gpt-5' \\(known: gpt2-medium, llama-2-7b, .*jamba\\)" kv --model gpt-5)
attnlab_cli_error(kv_bad_kv_heads "--kv-heads must divide --heads \\(32 heads, got 5 KV heads\\)" kv --model llama-2-7b --kv-heads 5)
attnlab_cli_error(kv_negative_layers "--layers must be between 1 and 65536 \\(got -4\\)" kv --layers -4)
attnlab_cli_error(kv_zero_seq "--seq must be between 1 and 1073741824 \\(got 0\\)" kv --seq 0)
attnlab_cli_error(kv_negative_batch "--batch must be between 1 and 1048576 \\(got -1\\)" kv --batch -1)
attnlab_cli_error(kv_bad_dtype "--dtype must be one of fp32, fp16, bf16, fp8, int4 \\(got 'fp4'\\)" kv --dtype fp4)
attnlab_cli_error(kv_bad_pattern "--pattern must be 1 to 1024 letters" kv --pattern GXG)
attnlab_cli_error(kv_heads_on_mla "--kv-heads does not change the cache of an MLA model \\(deepseek-v2 caches a latent of 512" kv --model deepseek-v2 --kv-heads 8)
attnlab_cli_error(paged_zero_kv_gib "--kv-gib must be more than 0 and at most 1000000 \\(got 0\\)" paged --kv-gib 0)
attnlab_cli_error(kv_rope_without_mla "--rope-dim needs an MLA model" kv --rope-dim 64)
attnlab_cli_error(kv_unknown_gpu "--gpu: unknown GPU 'tpu'" kv --gpu tpu)

# ---- specdec ----------------------------------------------------------------------------------
attnlab_cli_test(specdec_default STDOUT "tokens per target pass +3.6893 .*speed-up \\(pass costs 1.25\\) +2.951x.*inside the Monte-Carlo 95% interval"
  ARGS specdec --alpha 0.8 --gamma 5)
attnlab_cli_test(specdec_best STDOUT "best gamma up to 12: 8, 3.092x" ARGS specdec --alpha 0.8 --gamma 5 --c 0.05)
attnlab_cli_test(specdec_steps STDOUT "pass +drafts +emitted.*\n +1 +[AR.]+ \\+(fix|bonus)" ARGS specdec --steps 3)
attnlab_cli_test(specdec_no_gain STDOUT "alpha <= c: no draft length gives a speed-up" ARGS specdec --alpha 0.1 --c 0.2)
attnlab_cli_test(specdec_json STDOUT "\"expected_tokens\": 3.68928.*\"closed_form_inside_ci95\": true" ARGS specdec --format json)
attnlab_cli_test(specdec_csv STDOUT "gamma,tokens/pass,cost/pass,speed-up,\n0,1,1,1,plain decoding\n1,1.8,1.05," ARGS specdec --format csv)
attnlab_cli_error(specdec_alpha_one "--alpha must be in .0, 1. \\(got 1\\)" specdec --alpha 1)
attnlab_cli_error(specdec_alpha_negative "--alpha must be in .0, 1. \\(got -0.5\\)" specdec --alpha -0.5)
attnlab_cli_error(specdec_gamma_negative "--gamma must be between 0 and 1024 \\(got -2\\)" specdec --gamma -2)
attnlab_cli_error(specdec_c_negative "--c must be between 0 and 100 \\(got -1\\)" specdec --c -1)
attnlab_cli_error(specdec_passes "--passes must be between 2 and 100000000 \\(got 0\\)" specdec --passes 0)

# ---- ring -------------------------------------------------------------------------------------
attnlab_cli_test(ring_default STDOUT "N = 1,048,576 tokens over P = 8 devices: blocks of n = 131,072.*Q block +b n H d +1.00 GiB.*K/V sent to the next device +512 MiB.*Transfers hide behind compute.*-> 550 tokens per device"
  ARGS ring)
attnlab_cli_test(ring_paper_condition STDOUT "-> 1,040 tokens per device.*MHA in 16 bits: n >= F/B"
  ARGS ring --model llama-2-7b --gpu a100-80gb --link nvlink3 --dtype fp16)
attnlab_cli_test(ring_pcie_no_hide STDOUT "Transfers do NOT hide behind compute" ARGS ring --seq 16384 --devices 4 --link pcie4)
attnlab_cli_test(ring_scaling STDOUT "\n +8 +131,072 +3.03 GiB +512 MiB .* yes .* 25,773,192\n" ARGS ring)
attnlab_cli_test(ring_causal STDOUT "KV3 masked" ARGS ring --causal --devices 4 --seq 16384)
attnlab_cli_test(ring_links STDOUT "nvlink4 +NVLink 4.*450 GB/s.*pcie4 +PCIe 4.0 x16 +31.5 GB/s.*ib-ndr" ARGS ring --list-links)
attnlab_cli_test(ring_json STDOUT "\"min_block\": 550,.*\"timeline\": ." ARGS ring --format json)
attnlab_cli_test(ring_csv STDOUT "devices,block n,memory/device.*\n8,131072,3254779904,536870912," ARGS ring --format csv)
attnlab_cli_error(ring_unknown_link "--link: unknown link 'nvlink9' \\(known: nvlink4, nvlink3, pcie5, pcie4, ib-ndr, ib-hdr, ib-edr\\)" ring --link nvlink9)
attnlab_cli_error(ring_zero_devices "--devices must be between 1 and 65536 \\(got 0\\)" ring --devices 0)
attnlab_cli_error(ring_negative_seq "--seq must be between 1 and 68719476736 \\(got -8\\)" ring --seq -8)
attnlab_cli_error(ring_too_many_devices "--devices must be at most --seq" ring --seq 4 --devices 8)
attnlab_cli_error(ring_bad_kv_heads "--kv-heads must divide --heads \\(32 heads, got 3 KV heads\\)" ring --kv-heads 3)
attnlab_cli_error(ring_bad_efficiency "--efficiency must be in \\(0, 1. \\(got 2\\)" ring --efficiency 2)
attnlab_cli_error(ring_mla "ring attention here needs K/V heads" ring --model deepseek-v2)

# ---- paged ------------------------------------------------------------------------------------
attnlab_cli_test(paged_default STDOUT "15,728 token slots = 12.0 GiB of llama-2-13b KV at fp16 \\(800 KiB per token\\).*contiguous max +2[0-9].[0-9]% .* [67][0-9].[0-9]% .*paged \\(16\\) +9[0-9].[0-9]% .* [0-3].[0-9]% .*Compared with the vLLM paper"
  ARGS paged)
attnlab_cli_test(paged_sampling STDOUT "paged \\(16\\), no sharing.*Parallel sampling, 4 samples sharing each prompt.*sharing saves [0-9.]+% of the blocks"
  ARGS paged --samples 4 --workload alpaca --requests 200)
attnlab_cli_test(paged_trace STDOUT "Workload: trace tests/data/models_trace_good.csv \\(3 requests\\)" ARGS paged --trace tests/data/models_trace_good.csv --budget-tokens 4096)
attnlab_cli_test(paged_show_steps STDOUT "paged \\(4\\): memory, one character per 4 slots.*\n  step +0 +run +[0-9]+ wait +[0-9]+  [A-Za-z#.-]+\n"
  ARGS paged --requests 5 --budget-tokens 128 --block-size 4 --max-len 64 --prompt uniform:4:20 --output uniform:4:30 --show-steps 3)
attnlab_cli_test(paged_csv STDOUT ",used \\(token states\\),reserved,internal frag,external frag,free,waste,avg batch,max batch,steps,tokens/step,preempted\ncontiguous max,0\\.[0-9]+,"
  ARGS paged --requests 50 --format csv)
attnlab_cli_test(paged_json STDOUT "\"budget_tokens\": 15728,.*\"scheme\": \"paged \\(16\\)\",.*\"under_load\": .*\"steps\": ." ARGS paged --requests 50 --show-steps 2 --format json)
attnlab_cli_error(paged_zero_block "--block-size must be between 1 and 65536 \\(got 0\\)" paged --block-size 0)
attnlab_cli_error(paged_bad_trace "tests/data/models_trace_number.csv:3: output must be a whole number such as 4096, 1e6 or 2\\^20 \\(got 'five'\\)" paged --trace tests/data/models_trace_number.csv)
attnlab_cli_error(paged_trace_fields "tests/data/models_trace_fields.csv:3: expected 2 fields, got 1" paged --trace tests/data/models_trace_fields.csv)
attnlab_cli_error(paged_missing_trace "no_such_trace.csv: cannot open the trace file" paged --trace no_such_trace.csv)
attnlab_cli_error(paged_bad_dist "--prompt must be fixed:N, uniform:A:B, exp:MEAN or lognormal:MEAN:SIGMA \\(got 'gauss:5'\\)" paged --prompt gauss:5)
attnlab_cli_error(paged_zero_samples "--samples must be between 1 and 64 \\(got 0\\)" paged --samples 0)
attnlab_cli_error(paged_negative_requests "--requests must be between 1 and 1000000 \\(got -5\\)" paged --requests -5)
attnlab_cli_error(paged_zero_budget "--budget-tokens must be between 1 and 4294967296 \\(got 0\\)" paged --budget-tokens 0)
attnlab_cli_error(paged_too_small "request 0 needs 2048 token slots reserved \\(1 sample\\) but the KV memory holds only 1000" paged --budget-tokens 1000)
attnlab_cli_error(paged_unknown_workload "--workload: unknown workload 'dolly' \\(known: sharegpt, alpaca\\)" paged --workload dolly)
attnlab_cli_error(paged_unknown_model "--model: unknown model 'opt-13b'" paged --model opt-13b)

# ---- the presets file -------------------------------------------------------------------------
# ATTNLAB_MODELS names another presets file; a missing or malformed one is refused with its name.
attnlab_cli_test(models_env_file EXE ${CMAKE_COMMAND} STDOUT "^tiny: Tiny test model, hybrid, 6 layers \\(2 global \\+ 2 local \\(window 32\\) \\+ 2 Mamba\\), 4 heads, 2 KV heads"
  ARGS -E env ATTNLAB_MODELS=${CMAKE_CURRENT_SOURCE_DIR}/data/models_tiny.json $<TARGET_FILE:attnlab> kv --model tiny)
attnlab_cli_test(models_env_bad_json EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT STDERR "models_bad_syntax.json: not valid JSON \\(.*line 3"
  ARGS -E env ATTNLAB_MODELS=${CMAKE_CURRENT_SOURCE_DIR}/data/models_bad_syntax.json $<TARGET_FILE:attnlab> models)
attnlab_cli_test(models_env_missing EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT STDERR "models_gone.json: cannot open the model presets file"
  ARGS -E env ATTNLAB_MODELS=${CMAKE_CURRENT_SOURCE_DIR}/data/models_gone.json $<TARGET_FILE:attnlab> kv)
