# Failure paths of the real binaries: every one ends with a clear one-line message and a
# non-zero exit, nothing half-printed on stdout. Fixtures: tests/fuzz/regressions/ (see its README).

set(_fix ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions)
set(_env ${CMAKE_COMMAND} -E env)

# --- bad numbers, every subcommand, every number option -----------------------------------------
# The sweep (each bad value on each number option of each subcommand) runs in-process in
# tests/test_cli_common.cpp; the cases below run the real binary, exit code and streams included.

# Numbers read the way people write them, the same in every subcommand (src/cli/common.cpp).
attnlab_cli_test(hardening_leading_zero_is_decimal STDOUT "N=10 " ARGS traffic --seq 010 --no-l2)
attnlab_cli_test(hardening_exact_power_of_ten STDOUT "N=1000000 " ARGS traffic --seq 1e6 --no-l2)
attnlab_cli_error(hardening_hex_refused "--seq: must be a whole number \\(got '0x10'\\)" traffic --seq 0x10)
attnlab_cli_error(hardening_fraction_refused "--batch: must be a whole number \\(got '2.5'\\)" traffic --batch 2.5)
attnlab_cli_error(hardening_past_64_bits "--seed: 18446744073709551616 is too large" specdec --seed 18446744073709551616)
attnlab_cli_error(hardening_real_nan "--hbm-gbps: must be a number \\(got 'nan'\\)" traffic --hbm-gbps nan)
attnlab_cli_error(hardening_real_inf "--alpha: must be a number \\(got 'inf'\\)" specdec --alpha inf)
attnlab_cli_error(hardening_real_trailing_junk "--link-gbps: must be a number \\(got '450GB'\\)" ring --link-gbps 450GB)

# --- unreadable or missing assets ---------------------------------------------------------------
# models.json: missing, a folder, empty, cut in half; each subcommand that needs it names the file.
foreach(_cmd models kv ring paged tour)
  attnlab_cli_test(hardening_models_missing_${_cmd} EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT
    STDERR "no-such-models.json: cannot open the model presets file"
    ARGS -E env ATTNLAB_MODELS=${_fix}/no-such-models.json $<TARGET_FILE:attnlab> ${_cmd})
endforeach()
attnlab_cli_test(hardening_models_missing_lesson EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT
  STDERR "05-kv-cache.md:[0-9]+: .*no-such-models.json: cannot open the model presets file"
  ARGS -E env ATTNLAB_MODELS=${_fix}/no-such-models.json $<TARGET_FILE:attnlab> lesson 5)
attnlab_cli_test(hardening_models_folder EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT
  STDERR "regressions: is a folder, not a model presets file"
  ARGS -E env ATTNLAB_MODELS=${_fix} $<TARGET_FILE:attnlab> models)
attnlab_cli_test(hardening_models_empty EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT
  STDERR "empty.json: not valid JSON"
  ARGS -E env ATTNLAB_MODELS=${_fix}/empty.json $<TARGET_FILE:attnlab> kv)
attnlab_cli_test(hardening_models_truncated EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT
  STDERR "models-truncated.json: not valid JSON \\(.*line 99"
  ARGS -E env ATTNLAB_MODELS=${_fix}/models-truncated.json $<TARGET_FILE:attnlab> models)
# Commands that do not need the presets still work without them.
attnlab_cli_test(hardening_models_not_needed EXE ${CMAKE_COMMAND} STDOUT "full attention"
  ARGS -E env ATTNLAB_MODELS=${_fix}/no-such-models.json $<TARGET_FILE:attnlab> steps --seq 1000)

# Files named on the command line.
attnlab_cli_error(hardening_trace_unwritable "--trace: cannot write '/nonexistent-attnlab-dir/t.csv'"
  traffic --seq 64 --trace /nonexistent-attnlab-dir/t.csv)
attnlab_cli_error(hardening_paged_trace_missing "no-such-trace.csv: cannot open the trace file"
  paged --trace ${_fix}/no-such-trace.csv)
attnlab_cli_error(hardening_paged_trace_empty "empty.json: empty trace" paged --trace ${_fix}/empty.json)

# Measurement files are read by the dashboard and the tests, not the CLI: see
# tests/test_hardening_assets.cpp (missing, folder, empty, truncated, newer schema_version ...).

# --- the lessons folder moved away --------------------------------------------------------------
attnlab_cli_error(hardening_lessons_gone "--lessons: no such folder '/nonexistent-attnlab-lessons'"
  lesson 1 --lessons /nonexistent-attnlab-lessons)
attnlab_cli_error(hardening_lessons_is_a_file "--lessons: no such folder '.*empty.json'"
  lesson --list --lessons ${_fix}/empty.json)
attnlab_cli_error(hardening_lessons_empty_read "no lessons" lesson 1 --lessons ${_fix})

# --- a GPU without enough shared memory for a kernel's tiles ------------------------------------
attnlab_cli_error(hardening_sram_8kib
  "16-row tiles need 12.0 KiB of SRAM per block; h100-sxm allows 8.00 KiB \\(shrink --block-q/--block-kv or raise --sram-kib\\)"
  traffic --sram-kib 8)
attnlab_cli_error(hardening_sram_8kib_json "16-row tiles need 12.0 KiB of SRAM per block" traffic --sram-kib 8 --format json)
attnlab_cli_error(hardening_sram_8kib_bwd "16-row tiles need .* KiB of SRAM per block; h100-sxm allows 8.00 KiB"
  traffic --sram-kib 8 --pass fwd+bwd)
attnlab_cli_error(hardening_sram_naive_l4 "naive GEMM tiles of 16 rows need 128 KiB of SRAM per block; l4 allows 99.0 KiB"
  traffic --gpu l4 --head-dim 1024 --dtype fp32 --algo naive)
attnlab_cli_error(hardening_sram_explicit_tiles
  "--block-q 4096 x --block-kv 4096 tiles need 3.00 MiB of SRAM per block; h100-sxm allows 227 KiB"
  traffic --block-q 4096 --block-kv 4096)

# --- no GPU for the kernel binaries (built only where nvcc exists) ------------------------------
# CUDA_VISIBLE_DEVICES= hides every GPU, so these hold on a GPU machine too: exit 77 (CTest's
# "skipped" code the kernel checks use), the reason on stderr, nothing on stdout.
foreach(_k attnlab-bench attnlab-attn-decode attnlab-attn-window attnlab-scan-selective)
  if(TARGET ${_k})
    set(_args)
    if(_k STREQUAL "attnlab-bench")
      set(_args --check --quiet)
    endif()
    attnlab_cli_test(hardening_no_gpu_${_k} EXE ${CMAKE_COMMAND} RC 77 EMPTY_STDOUT
      STDERR "no (usable )?CUDA device"
      ARGS -E env CUDA_VISIBLE_DEVICES= $<TARGET_FILE:${_k}> ${_args})
  endif()
endforeach()

# --- bugs found by reading the failure paths, fixed: each case fails if its bug returns ----------
# A number past the double range: nlohmann's out_of_range (406), not only parse_error.
attnlab_cli_test(hardening_models_number_1e400 EXE ${CMAKE_COMMAND} RC 2 EMPTY_STDOUT
  STDERR "models-number-1e400.json: not valid JSON \\(.*number overflow"
  ARGS -E env ATTNLAB_MODELS=${_fix}/models-number-1e400.json $<TARGET_FILE:attnlab> models)
# A folder without lessons: a check of nothing must not pass, a list of nothing is an error.
attnlab_cli_error(hardening_lessons_empty_check "no lessons in .*regressions \\(expected files like 01-why-attention-is-slow.md\\); pass --lessons DIR"
  lesson --check --lessons ${_fix})
attnlab_cli_error(hardening_lessons_empty_list "no lessons in .*regressions" lesson --list --lessons ${_fix})
# A link so slow that no block of fewer than 2^64 tokens hides it (the block was cast to u64: 0).
attnlab_cli_error(hardening_ring_link_too_slow "--link-gbps 1e-300 is too slow for this GPU: no block of fewer than 2\\^64 tokens"
  ring --link-gbps 1e-300)
attnlab_cli_error(hardening_ring_link_too_slow_json "--link-gbps 1e-300 is too slow" ring --link-gbps 1e-300 --format json)
# 65536 devices: the P x P schedule took over a minute and its timeline ended as std::bad_alloc.
attnlab_cli_error(hardening_ring_devices_65536 "--devices 65536: the ring schedule is simulated step by step .*at most 4096 devices"
  ring --devices 65536 --seq 65536)
# The scaling table still reaches 4096 devices (one step of the schedule kept at a time).
attnlab_cli_test(hardening_ring_devices_4096 STDOUT "\n4096,256," ARGS ring --devices 1024 --seq 1048576 --max-devices 4096 --format csv)
# The simulator's thread-block grid past 2^64 (it wrapped to 0: est. time inf, grid 0).
attnlab_cli_error(hardening_traffic_grid_2_64 "thread blocks = 18446744073709551616 does not fit 64 bits"
  traffic --seq 4294967296 --batch 16384 --heads 1 --no-l2 --algo naive)
attnlab_cli_error(hardening_traffic_grid_2_64_json "thread blocks = 18446744073709551616 does not fit 64 bits"
  traffic --seq 4294967296 --batch 16384 --heads 1 --no-l2 --format json)

# --- the dashboard: a measurement file from a newer schema, fonts missing ------------------------
# (no display: cli.gui_no_display in tests/cli_gui.cmake; bad --lessons/--measurements there too)
if(ATTNLAB_HAVE_GUI)
  attnlab_cli_test(hardening_gui_newer_schema EXE $<TARGET_FILE:attnlab-gui> RC 2 EMPTY_STDOUT
    STDERR "measurement-newer-schema.json: schema_version 2 is newer than this attnlab reads \\(up to 1\\); update attnlab to read it"
    ARGS --measurements ${CMAKE_CURRENT_SOURCE_DIR}/data/hardening-newer-schema)
  # DejaVu missing: ImGui's built-in font stands in and every frame still draws (exit 0, the
  # screenshot written); the status bar says which font is missing (in warning colour) and
  # stderr says it once at start.
  if(ATTNLAB_XVFB_RUN)
    file(GLOB _first_lesson ${PROJECT_SOURCE_DIR}/lessons/01-*.md)
    if(_first_lesson)
      list(GET _first_lesson 0 _first_lesson)
      get_filename_component(_first_lesson ${_first_lesson} NAME_WE)
      # Its PNG's folder made here: the screenshot tests make it too, but this test may run first
      # (ctest -R, or -j2 ordering), and then the dashboard cannot write the file.
      file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/screenshots)
      attnlab_cli_test(hardening_gui_fonts_missing EXE ${CMAKE_COMMAND}
        STDERR "attnlab-gui: font not found: /nonexistent-attnlab-fonts/DejaVuSans.ttf \\(install fonts-dejavu-core or set ATTNLAB_FONT_DIR\\)"
        ARGS -E env ATTNLAB_FONT_DIR=/nonexistent-attnlab-fonts ${ATTNLAB_XVFB_RUN} -a -s "-screen 0 1280x800x24"
             $<TARGET_FILE:attnlab-gui> --chapter ${_first_lesson} --size 640x400 --frames 5
             --screenshot ${PROJECT_BINARY_DIR}/screenshots/hardening-fonts-missing.png)
    endif()
  endif()
endif()

# --- the sanitizer build (the asan preset: ATTNLAB_SANITIZE=ON) ----------------------------------
# Processes that draw through OpenGL under xvfb load Mesa's llvmpipe, whose JIT leaks 240 bytes
# in 3 allocations at exit (LeakSanitizer: "<unknown module>", not attnlab code; every screenshot
# test failed with exit 134 after writing its PNG). Leak checks stay on everywhere else.
# The asan preset builds -O1 -g1; of the screenshots it runs one chapter (tests/cli_gui.cmake), the
# Release tree runs them all.
if(ATTNLAB_SANITIZE AND ATTNLAB_HAVE_GUI)
  get_property(_all_tests DIRECTORY PROPERTY TESTS)
  foreach(_t IN LISTS _all_tests)
    if(_t MATCHES "^gui\\.screenshot\\." OR _t STREQUAL "cli.gui_bench_runs" OR _t STREQUAL "cli.hardening_gui_fonts_missing")
      set_tests_properties(${_t} PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
    endif()
  endforeach()
endif()
