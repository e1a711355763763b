# Dashboard tests run through the real binary (its unit tests, attnlab_gui_tests, are declared in
# tests/CMakeLists.txt):
#  1. Screenshot tests: every chapter rendered under xvfb-run to a PNG of the requested size that
#     is not blank (skipped where xvfb-run is absent).
#  2. Bad-input tests of attnlab-gui (exit codes and messages).

if(NOT ATTNLAB_HAVE_GUI)
  return()
endif()

# (1) Screenshots: every chapter under a virtual display, plus presenter mode and a tiny window.
find_program(ATTNLAB_XVFB_RUN xvfb-run)
file(GLOB ATTNLAB_LESSON_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lessons/[0-9]*.md)
function(attnlab_gui_screenshot name chapter size)
  cmake_parse_arguments(S "SIZE_ONLY" "EXTRA" "" ${ARGN})
  add_test(NAME gui.screenshot.${name}
    COMMAND ${CMAKE_COMMAND} -DXVFB=${ATTNLAB_XVFB_RUN} -DGUI=$<TARGET_FILE:attnlab-gui>
            -DCHECK=$<TARGET_FILE:attnlab_png_check> -DCHAPTER=${chapter} -DSIZE=${size} "-DEXTRA=${S_EXTRA}"
            -DSIZE_ONLY=${S_SIZE_ONLY} -DOUT=${PROJECT_BINARY_DIR}/screenshots/${name}.png
            -P ${PROJECT_SOURCE_DIR}/gui/tests/screenshot_check.cmake
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
if(ATTNLAB_XVFB_RUN AND ATTNLAB_SANITIZE)
  # Under the sanitizers one chapter is enough to run the GL path (Mesa's software renderer is
  # ~10x slower there); every chapter, size and view is rendered in the Release tree.
  list(GET ATTNLAB_LESSON_FILES 0 first)
  get_filename_component(first ${first} NAME_WE)
  attnlab_gui_screenshot(${first} ${first} 1280x720)
elseif(ATTNLAB_XVFB_RUN)
  foreach(f ${ATTNLAB_LESSON_FILES})
    get_filename_component(stem ${f} NAME_WE)
    attnlab_gui_screenshot(${stem} ${stem} 1280x720)
  endforeach()
  list(LENGTH ATTNLAB_LESSON_FILES n_lessons)
  if(n_lessons GREATER 0)
    list(GET ATTNLAB_LESSON_FILES 0 first)
    get_filename_component(first ${first} NAME_WE)
    attnlab_gui_screenshot(present ${first} 1280x720 EXTRA --present)
  endif()
  # Presenter mode at the two projector sizes, on the chapters whose panels were squeezed before
  # (the tiling grids; the KV bars and plot). The layout itself is checked in test_gui_layout.cpp.
  attnlab_gui_screenshot(present_ch3_1920x1080 3 1920x1080 EXTRA --present)
  attnlab_gui_screenshot(present_ch6_1280x720 6 1280x720 EXTRA --present)
  if(n_lessons GREATER 0)
    attnlab_gui_screenshot(small_window ${first} 640x400)
    attnlab_gui_screenshot(tiny_window ${first} 200x150 SIZE_ONLY)
  endif()
  # The ring panel's measured tab: the shipped NCCL run (assets/measurements/ring-h200x2.json).
  attnlab_gui_screenshot(ring_measured 11 1280x720 EXTRA "--view measured")
  # Chapter 4's backward panel on the shipped H200 backward file (docs/backward-ch4.png is this, at 1920x1080).
  attnlab_gui_screenshot(backward_ch4 4 1280x720 EXTRA "--panel backward --gpu h200")
  # The frame-time benchmark runs (a smoke test: the figure itself is reported, never asserted).
  attnlab_cli_test(gui_bench_runs EXE ${ATTNLAB_XVFB_RUN} STDOUT "median [0-9.]+ ms"
                   ARGS -a -s "-screen 0 1280x800x24" $<TARGET_FILE:attnlab-gui> --bench-frames 5)
else()
  # No xvfb-run here: say so as a skipped test rather than silently testing less.
  add_test(NAME gui.screenshot.skipped_no_xvfb_run COMMAND ${CMAKE_COMMAND} -E false)
  set_tests_properties(gui.screenshot.skipped_no_xvfb_run PROPERTIES SKIP_RETURN_CODE 1)
endif()

# (2) Bad input: exit code 2, one line on stderr, nothing on stdout; all before any window opens,
# so these need no display. No display at all: exit 1 with a message that says what to do.
set(_gui $<TARGET_FILE:attnlab-gui>)
set(_data ${PROJECT_SOURCE_DIR}/gui/tests/data)
attnlab_cli_test(gui_help EXE ${_gui} STDOUT "--screenshot.*--bench-frames" ARGS --help)
attnlab_cli_test(gui_missing_lessons_exe EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "/nonexistent/lessons" ARGS --lessons /nonexistent/lessons)
attnlab_cli_test(gui_bad_lesson EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "01-broken.md:1: .*front matter" ARGS --lessons ${_data}/bad-lesson)
attnlab_cli_test(gui_bad_markdown EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "01-unclosed.md:[0-9]+: code block opened with ``` is never closed" ARGS --lessons ${_data}/bad-markdown)
attnlab_cli_test(gui_bad_json EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "truncated.json" ARGS --measurements ${_data}/bad-json)
attnlab_cli_test(gui_foreign_json EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "other.json" ARGS --measurements ${_data}/foreign-json)
attnlab_cli_test(gui_measurements_not_a_folder EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "--measurements: .* is not a folder" ARGS --measurements /nonexistent/runs)
attnlab_cli_test(gui_bad_size EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "--size must be WIDTHxHEIGHT" ARGS --size big)
attnlab_cli_test(gui_size_range EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "--size must have width and height between 64 and 16384 \\(got 10x10\\)" ARGS --size 10x10)
attnlab_cli_test(gui_unknown_chapter EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "99" ARGS --chapter 99)
attnlab_cli_test(gui_unknown_panel EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "--panel: no panel 'frobnicate'.*known: .*tiling" ARGS --panel frobnicate)
attnlab_cli_test(gui_unknown_gpu EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "h100-sxm" ARGS --gpu z80)
attnlab_cli_test(gui_bad_view EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "--view must be model or measured \\(got 'chart'\\)" ARGS --view chart)
attnlab_cli_test(gui_bad_frames EXE ${_gui} RC 2 EMPTY_STDOUT STDERR "frames" ARGS --frames 0)
attnlab_cli_test(gui_no_display EXE env RC 1 STDERR "no display.*xvfb-run"
                 ARGS -u DISPLAY -u WAYLAND_DISPLAY ${_gui} --chapter 1)
