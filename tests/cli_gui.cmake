# Dashboard tests.
#  1. attnlab_gui_tests: the doctest files tests/test_gui_*.cpp, in their own binary so that the
#     core test binary does not pull in ImGui/GLFW. The plot math is GUI-independent and always
#     tested; the files that need ImGui (panel registry, lesson renderer) only when the dashboard
#     is built (ATTNLAB_HAVE_GUI).
#  2. Screenshot tests: every chapter rendered under xvfb-run to a PNG of the requested size that
#     is not blank (skipped where xvfb-run is absent).
#  3. Bad-input tests of attnlab-gui (exit codes and messages).

# (1) Take the GUI test files out of attnlab_tests (tests/CMakeLists.txt globs every test_*.cpp).
get_target_property(_attnlab_test_srcs attnlab_tests SOURCES)
list(FILTER _attnlab_test_srcs EXCLUDE REGEX "/test_gui_[^/]*\\.cpp$")
set_target_properties(attnlab_tests PROPERTIES SOURCES "${_attnlab_test_srcs}")

if(NOT TARGET attnlab_plot_math)
  # gui/ was skipped (no GLFW/ImGui): build the plot math on its own, it needs neither.
  add_library(attnlab_plot_math STATIC ${PROJECT_SOURCE_DIR}/gui/plot/plot_math.cpp)
  target_include_directories(attnlab_plot_math PUBLIC ${PROJECT_SOURCE_DIR}/gui)
  target_link_libraries(attnlab_plot_math PUBLIC fmt::fmt)
endif()

file(GLOB ATTNLAB_GUI_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_gui_*.cpp)
add_executable(attnlab_gui_tests main.cpp ${ATTNLAB_GUI_TEST_SOURCES})
if(ATTNLAB_HAVE_GUI)
  target_link_libraries(attnlab_gui_tests PRIVATE attnlab_gui doctest::doctest)
  target_compile_definitions(attnlab_gui_tests PRIVATE ATTNLAB_HAVE_GUI=1)
else()
  target_link_libraries(attnlab_gui_tests PRIVATE attnlab_plot_math attnlab_core doctest::doctest)
endif()
doctest_discover_tests(attnlab_gui_tests TEST_PREFIX "gui: ")
