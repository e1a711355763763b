# Renders one chapter to a PNG under xvfb-run and checks it (tests/cli_gui.cmake adds one per chapter):
#   cmake -DXVFB=xvfb-run -DGUI=attnlab-gui -DCHECK=attnlab_png_check -DCHAPTER=stem -DOUT=file.png
#         -DSIZE=1280x720 [-DEXTRA=--present] [-DSIZE_ONLY=1] -P screenshot_check.cmake
string(REPLACE "x" ";" dims "${SIZE}")
list(GET dims 0 width)
list(GET dims 1 height)
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
file(REMOVE "${OUT}")
separate_arguments(extra UNIX_COMMAND "${EXTRA}")
execute_process(
  COMMAND ${XVFB} -a -s "-screen 0 1920x1080x24" ${GUI} --chapter ${CHAPTER} --size ${SIZE} --frames 90 --autoplay
          ${extra} --screenshot ${OUT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "attnlab-gui exited with ${rc}\n${out}\n${err}")
endif()
set(mode "")
if(SIZE_ONLY)
  set(mode size-only)  # a tiny window shows a short note: check the size only
endif()
execute_process(COMMAND ${CHECK} ${OUT} ${width} ${height} ${mode} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${out}${err}")
endif()
message(STATUS "${out}")
