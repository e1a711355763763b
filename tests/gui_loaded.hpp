// A View loaded the way the dashboard loads it (lessons, measurement files, GPU preset), for the GUI
// tests. Loading is most of a dashboard start and rendering the lessons most of that (every
// template filled in through the simulator: seconds per start under the sanitizers), so each test
// process loads once and every View it makes gets copies; the lessons are rendered only for the
// tests that read them (LessonText::rendered), the others render a chapter only if they show it.
#pragma once
#include <optional>

#include "view.hpp"

namespace attnlab::gui::test {

enum class LessonText { on_demand, rendered };

// Copies what View::load fills (a View itself is move-only: it owns the panels' caches).
inline void view_copy_loaded(const View& from, View& to) {
  to.lessons_dir = from.lessons_dir;
  to.lessons = from.lessons;
  to.documents = from.documents;
  to.rendered = from.rendered;
  to.measurements = from.measurements;
  to.ring_measurements = from.ring_measurements;
  to.measurement_dirs = from.measurement_dirs;
  to.set_gpu(from.settings.gpu);
}

// headless_capture: sweeps run synchronously, animations on a fixed step.
inline View loaded_view(LessonText text = LessonText::on_demand) {
  static const View listed = [] {
    View v;
    v.lazy_lessons = true;  // load() lists the lessons and reads the measurement files, renders nothing
    v.load(std::nullopt, {});
    return v;
  }();
  View v;
  v.headless_capture = true;
  v.lazy_lessons = true;
  if (text == LessonText::rendered) {
    static const View rendered = [] {
      View r;
      view_copy_loaded(listed, r);
      r.render_lessons();  // every lesson, as the desktop dashboard does at start
      return r;
    }();
    view_copy_loaded(rendered, v);
  } else {
    view_copy_loaded(listed, v);
  }
  return v;
}

}  // namespace attnlab::gui::test
