// The page's address as a state: "ch=3&N=8192&d=128&causal=1". The chapter by its number, the
// panel in front by its name, the GPU and dtype, and the settings of the panel in front under
// short names (N, d, causal, heads, ...). A teacher's link opens exactly that; a value that is not
// valid any more (a chapter that was renumbered, N outside its slider) falls back to the default
// and is named in the returned note, never a blank page. Settings the hash does not name are left
// as they are.
#pragma once
#include <string>

namespace attnlab::gui {

class View;

// Applies `hash` (without '#') to the view. Returns "" or a note naming every value ignored.
std::string url_state_apply(View& v, const std::string& hash);

// The state of the view as a hash (without '#'), the inverse of url_state_apply.
std::string url_state_make(const View& v);

}  // namespace attnlab::gui
