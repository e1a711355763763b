// attnlab in the browser: main() for the page (the desktop's is gui/main.cpp, with its command
// line). The page has no options: the state comes from its address (platform_web.cpp), the data
// from the bundle (/attnlab/lessons, /attnlab/assets), and the window is the page's canvas.
#include <emscripten.h>

#include <cstdio>
#include <exception>

#include "app.hpp"

int main() {
  static attnlab::gui::AppOptions o;  // the loop outlives main's frame (app.cpp, ATTNLAB_LOOP_STATE)
  o.lazy_lessons = true;  // the first frame comes before every lesson's numbers are simulated
  try {
    return attnlab::gui::app_run(o);  // the browser drives the loop from here on
  } catch (const std::exception& e) {
    // Nothing the learner can do about a broken bundle but report it: say it in the page.
    std::fprintf(stderr, "attnlab: %s\n", e.what());
    EM_ASM({ Module.onAbort(UTF8ToString($0)); }, e.what());
    return 1;
  }
}
