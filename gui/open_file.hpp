// Your own model and GPU in the dashboard: a Hugging Face config.json joins the model pickers, a
// GPU file (attnlab-bench --describe-gpu) the GPU picker, for this session. Files arrive three
// ways and all go through gui_open_text: the "Open a model config..." path field, GLFW
// drag-and-drop onto the window, and the browser build's file picker (which has the text, not a path).
#pragma once
#include <string>
#include <string_view>

struct GLFWwindow;

namespace attnlab::gui {

class View;

// Adds the file's model or GPU to the session and selects it. A GPU file is told apart by its
// "schema": "attnlab-gpu-1"; anything else is read as a model config. `label` (a path or a file
// name) names the model (its stem) and the file in errors. Returns the one-line status shown
// under the pickers: "opened ..." or the reader's error; never throws.
std::string gui_open_text(View& v, std::string_view text, const std::string& label);
std::string gui_open_path(View& v, const std::string& path);

// Drops onto the window open each file (the native build).
void gui_open_install_drop(GLFWwindow* window, View& v);

// "Open a model config..." / "Open a GPU file...": the picker's last item calls gui_open_request;
// gui_open_draw (once per frame, from the menu bar) draws the path field, and the last status.
void gui_open_request();
void gui_open_draw(View& v);
const std::string& gui_open_status();

}  // namespace attnlab::gui
