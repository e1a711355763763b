// One frame of the dashboard: menu bar, chapter list, lesson text, the chapter's panels, status
// bar; or, in presenter mode, lesson and panel only. Keys are read here too.
#pragma once
#include <string>

namespace attnlab::gui {

class View;

// What a frame asks the main loop to do after rendering.
struct FrameRequests {
  bool toggle_present = false;  // F5
  bool screenshot = false;      // F12
  bool quit = false;
};

// Draws the whole window. `toast` is a short message shown over the status bar ("Saved ...").
void frame_draw(View& v, FrameRequests& req, const std::string& toast);

// Below this size the window shows a note instead of squeezing the layout.
inline constexpr float kMinLayoutWidth = 560, kMinLayoutHeight = 320;

}  // namespace attnlab::gui
