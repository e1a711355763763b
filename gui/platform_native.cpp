// The desktop side of platform.hpp: the plain loop, and nothing for the page-only hooks.
#include "platform.hpp"

namespace attnlab::gui::platform {

void run_loop(const std::function<bool()>& frame) {
  while (frame()) {
  }
}
std::string start(View&, GLFWwindow*) { return {}; }
std::string frame_begin(View&, GLFWwindow*) { return {}; }
void frame_end(View&) {}
void file_written(const std::string&) {}
bool pick_file(const char*, const char*) { return false; }
bool can_pick_files() { return false; }
std::optional<PickedFile> take_picked_file(const std::string&) { return std::nullopt; }
void show_note(const std::string&) {}
void note_widget(const char*) {}
void mark(const char*) {}
float ui_scale() { return 1.0f; }

}  // namespace attnlab::gui::platform
