// attnlab in the browser: main() for the page (the desktop's is gui/main.cpp, with its command
// line). The page has no options: the state comes from its address (platform_web.cpp), the data
// from the bundle (/attnlab/lessons, /attnlab/assets), and the window is the page's canvas.
#include <emscripten.h>
#include <emscripten/html5.h>

#include <cstdio>
#include <exception>

#include "app.hpp"
#include "platform.hpp"

int main() {
  static attnlab::gui::AppOptions o;  // the loop outlives main's frame (app.cpp, ATTNLAB_LOOP_STATE)
  o.lazy_lessons = true;  // the first frame comes before every lesson's numbers are simulated
  o.defer_measurements = true;  // ... and before the bundled measurement files are read
  // The window is the canvas at the size the page gave it (its CSS size x devicePixelRatio) before
  // its WebGL context was made: opened at any other size, the context's drawing buffer would be
  // reallocated before the first frame.
  int w = 0, h = 0;
  if (emscripten_get_canvas_element_size("#canvas", &w, &h) == EMSCRIPTEN_RESULT_SUCCESS && w > 0 && h > 0) {
    o.width = w;
    o.height = h;
  }
  attnlab::gui::platform::mark("attnlab: main");
  try {
    // The browser drives the loop from here on; app_run returns only when it could not start.
    const int rc = attnlab::gui::app_run(o);
    if (rc != 0)
      EM_ASM({ Module.onAbort("no WebGL 2 drawing context for the page's canvas (the browser refused it)"); });
    return rc;
  } catch (const std::exception& e) {
    // Nothing the learner can do about a broken bundle but report it: say it in the page.
    std::fprintf(stderr, "attnlab: %s\n", e.what());
    EM_ASM({ Module.onAbort(UTF8ToString($0)); }, e.what());
    return 1;
  }
}
