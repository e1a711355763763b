// What differs between the desktop and the browser, all in one place. The app (app.cpp) and the
// frame (frame.cpp) are the same code in both; they call these few functions. The desktop versions
// (platform_native.cpp) do nothing or the obvious thing; the browser versions (web/platform_web.cpp)
// talk to the page: its address, its file picker, its downloads, its localStorage.
#pragma once
#include <functional>
#include <optional>
#include <string>

struct GLFWwindow;

namespace attnlab::gui {

class View;

namespace platform {

// Runs `frame` until it returns false. Desktop: a plain loop. Browser: once per animation frame
// of the page (the browser owns the loop; this call does not return there).
void run_loop(const std::function<bool()>& frame);

// Called once the window exists and before the first frame: the browser restores imgui.ini and the
// state in the page's address (#ch=3&N=8192...), sizes the canvas to the page, and says so on the
// page. Returns a note for the learner ("" when none), e.g. a link value that was out of range.
std::string start(View& v, GLFWwindow* window);

// Called at the start of every frame. The browser follows the page's size and pixel ratio, the
// back/forward buttons and a measurement file the learner picked. Returns a note to show ("" none).
std::string frame_begin(View& v, GLFWwindow* window);

// Called after the frame was drawn: the browser writes the state into the address and saves the
// layout now and then. Desktop: nothing.
void frame_end(View& v);

// A file just written at `path` (a screenshot): the browser hands it to the learner as a download.
void file_written(const std::string& path);

// Ask the learner for a file: the browser's file picker (`accept` like ".json"). The bytes arrive
// in a later frame. `purpose` says who asked: "measurements" files are overlaid by frame_begin (as
// `--measurements` does natively); any other purpose (a model config, ...) waits for its caller in
// take_picked_file(purpose). False where the platform has no picker of its own: the desktop takes
// files on the command line (or a native dialog its caller brings).
bool pick_file(const char* accept, const char* purpose);
bool can_pick_files();
struct PickedFile {
  std::string purpose;
  std::string name;
  std::string bytes;
};
std::optional<PickedFile> take_picked_file(const std::string& purpose);

// A message the learner must see about something they asked for (a picked file opened, or why
// not): the browser shows it in the page's note; the desktop shows such answers in its own popup.
void show_note(const std::string& text);

// Pixels per layout pixel: the browser's devicePixelRatio (fonts and sizes are scaled by it so that
// text is sharp on HiDPI screens); 1 on the desktop.
float ui_scale();

// A named moment of the start-up (a performance mark in the browser, read by
// tests/web/bench_first_frame.py); nothing on the desktop.
void mark(const char* what);

// Browser: the rectangle of a slider drawn this frame, by its ImGui id, so that tests can drag it.
void note_widget(const char* id);

}  // namespace platform
}  // namespace attnlab::gui
