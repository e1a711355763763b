# The browser tests (label web): the site this build wrote (build-web/site) in headless chromium,
# driven by tests/web/test_web.py over the DevTools protocol. Included by gui/web/CMakeLists.txt,
# so they exist only in the `web` build (ctest --preset web). Debian's python3 (python3-websocket).
set(ATTNLAB_WEB_PYTHON "/usr/bin/python3" CACHE FILEPATH "python3 with the websocket module (python3-websocket)")
set(ATTNLAB_WEB_SHOTS "${PROJECT_BINARY_DIR}/web-shots" CACHE PATH "where the browser tests leave their screenshots")
foreach(check chapters navigation slider link files config nowebgl resize)
  add_test(NAME web_${check}
           COMMAND ${ATTNLAB_WEB_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_web.py --site ${PROJECT_BINARY_DIR}/site
                   --lessons ${PROJECT_SOURCE_DIR}/lessons --check ${check} --shots ${ATTNLAB_WEB_SHOTS})
  # One chromium at a time: each uses both cores (SwiftShader) and the tests time frames.
  set_tests_properties(web_${check} PROPERTIES LABELS web TIMEOUT 300 RUN_SERIAL ON)
endforeach()
