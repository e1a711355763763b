// The browser side of gui/platform.hpp (compiled only by the web build, gui/web/CMakeLists.txt):
// the page's animation frames drive the loop, the canvas follows the page's size and pixel ratio,
// the address holds the state (url_state.hpp), back/forward move between chapters, files are
// downloads and picks, and localStorage keeps the layout and the last state between visits.
// The page (index.html) owns the DOM: #canvas, #note (messages the learner must see), #picker.
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/html5.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "measure/measurement.hpp"
#include "platform.hpp"
#include "url_state.hpp"
#include "util/errors.hpp"
#include "view.hpp"

// ---- page side (JavaScript) -------------------------------------------------------------------
// Strings cross as UTF-8 in the wasm heap; the C++ side frees what JavaScript allocated.
EM_JS(char*, js_hash, (), {
  const h = decodeURIComponent(location.hash.replace(/^#/, ""));
  const n = lengthBytesUTF8(h) + 1, p = _malloc(n);
  stringToUTF8(h, p, n);
  return p;
});
EM_JS(void, js_hash_set, (const char* s, int push), {
  const h = "#" + UTF8ToString(s);
  if (location.hash === h) return;
  if (push) history.pushState(null, "", h); else history.replaceState(null, "", h);
});
EM_JS(int, js_hash_moved, (), {
  // Set by the page on popstate/hashchange (back, forward, an edited address).
  const m = Module.attnlabHashMoved ? 1 : 0;
  Module.attnlabHashMoved = false;
  return m;
});
EM_JS(void, js_note, (const char* s), {
  if (typeof Module.attnlabNote === "function") Module.attnlabNote(UTF8ToString(s));
});
EM_JS(char*, js_storage_get, (const char* key), {
  let v = null;
  try { v = localStorage.getItem(UTF8ToString(key)); } catch (e) {}
  if (v === null) return 0;
  const n = lengthBytesUTF8(v) + 1, p = _malloc(n);
  stringToUTF8(v, p, n);
  return p;
});
EM_JS(void, js_storage_set, (const char* key, const char* value), {
  try { localStorage.setItem(UTF8ToString(key), UTF8ToString(value)); } catch (e) {}  // private mode: no memory
});
EM_JS(void, js_download, (const char* path), {
  const p = UTF8ToString(path);
  const bytes = FS.readFile(p);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes], {type: "image/png"}));
  a.download = p.split("/").pop();
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
});
EM_JS(void, js_pick, (const char* accept, const char* purpose), {
  Module.attnlabPick(UTF8ToString(accept), UTF8ToString(purpose));
});
EM_JS(void, js_canvas_size, (int w, int h), {
  // Browser.setCanvasSize tells emscripten's GLFW, which reports the new window and framebuffer
  // size to ImGui's backend; the page's stylesheet keeps the canvas at the page's CSS size.
  Browser.setCanvasSize(w, h);
});

EM_JS(void, js_frame_done, (double t0), {
  const t = performance.now();
  if (!Module.attnlabFirstFrameMs) Module.attnlabFirstFrameMs = t;
  const p = Module.attnlabPeriods = Module.attnlabPeriods || [];
  if (Module.attnlabLastTick) p.push(t - Module.attnlabLastTick);
  if (p.length > 600) p.shift();
  const b = Module.attnlabBuildMs = Module.attnlabBuildMs || [];
  b.push(t - t0);
  if (b.length > 600) b.shift();
  Module.attnlabLastTick = t;
  Module.attnlabFrames = (Module.attnlabFrames || 0) + 1;
});
EM_JS(void, js_mark, (const char* what), {
  performance.mark(UTF8ToString(what));
});
EM_JS(void, js_widget, (const char* id, float x0, float y0, float x1, float y1), {
  (Module.attnlabWidgets = Module.attnlabWidgets || {})[UTF8ToString(id)] = {x0: x0, y0: y0, x1: x1, y1: y1};
});

namespace attnlab::gui::platform {

namespace {

std::string take(char* p) {
  if (!p) return {};
  std::string s(p);
  free(p);
  return s;
}

std::function<bool()> g_frame;
std::string g_last_hash;
int g_last_chapter = -1;
double g_last_save = 0;
std::string g_ini;  // the imgui.ini last written to localStorage
std::optional<PickedFile> g_picked;

// Each page frame also leaves its timing on the page for the benchmarks (tests/web): the time
// of the first frame since navigation, and the intervals between frames (the period includes the
// WebGL rasterizing, which runs between our frames), the last 600 of them.
void tick() {
  const double t0 = emscripten_get_now();
  const bool more = g_frame();
  js_frame_done(t0);
  if (!more) emscripten_cancel_main_loop();
}

float dpr() {
  const double r = emscripten_get_device_pixel_ratio();
  return static_cast<float>(std::clamp(std::isfinite(r) ? r : 1.0, 1.0, 4.0));
}

// Canvas pixels = its CSS size x devicePixelRatio, so that text is drawn 1:1 on the screen.
void follow_page_size() {
  double css_w = 0, css_h = 0;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  const int w = std::max(1, static_cast<int>(std::lround(css_w * dpr())));
  const int h = std::max(1, static_cast<int>(std::lround(css_h * dpr())));
  int cw = 0, ch = 0;
  emscripten_get_canvas_element_size("#canvas", &cw, &ch);
  if (w != cw || h != ch) js_canvas_size(w, h);
}

std::string apply_hash(View& v) {
  const std::string h = take(js_hash());
  std::string note = url_state_apply(v, h);
  g_last_hash = url_state_make(v);
  g_last_chapter = v.chapter;
  return note;
}

// The learner's measurement file, overlaid like `attnlab-gui --measurements`: checked by the same
// loader, and on any error the loaded files stay as they were.
std::string load_measurement(View& v, const PickedFile& f) {
  std::string name = f.name;
  std::replace(name.begin(), name.end(), '/', '_');
  const std::string path = "/user/" + name;
  std::error_code ec;
  std::filesystem::create_directories("/user", ec);
  std::ofstream(path, std::ios::binary) << f.bytes;
  try {
    Measurements m = measurement_load(path);
    std::erase_if(v.measurements, [&](const MeasurementSet& s) { return !s.bundled && s.file == path; });
    v.measurements.push_back({path, false, std::move(m)});
    if (std::find(v.measurement_dirs.begin(), v.measurement_dirs.end(), "your file") == v.measurement_dirs.end())
      v.measurement_dirs.push_back("your file");
    return fmt::format("Loaded {}: shown beside the bundled measurements", f.name);
  } catch (const std::exception& e) {
    std::filesystem::remove(path, ec);
    return fmt::format("Cannot use {}: {}", f.name, e.what());
  }
}

}  // namespace

void run_loop(const std::function<bool()>& frame) {
  g_frame = frame;
  // 0 = the browser's animation frames; 1 = never return (main's locals stay alive).
  emscripten_set_main_loop(tick, 0, 1);
}

float ui_scale() { return dpr(); }

std::string start(View& v, GLFWwindow*) {
  follow_page_size();
  const std::string ini = take(js_storage_get("attnlab.imgui.ini"));
  if (!ini.empty()) ImGui::LoadIniSettingsFromMemory(ini.data(), ini.size());
  g_ini = ini;
  // A link wins; without one the learner continues where they left off.
  std::string hash = take(js_hash());
  std::string note;
  if (hash.empty()) {
    const std::string last = take(js_storage_get("attnlab.state"));
    if (!last.empty()) url_state_apply(v, last);  // a stale saved state is dropped silently
    g_last_hash = url_state_make(v);
    g_last_chapter = v.chapter;
    js_hash_set(g_last_hash.c_str(), 0);
  } else {
    note = apply_hash(v);
    js_hash_set(g_last_hash.c_str(), 0);
  }
  js_note(note.c_str());
  return note;
}

std::string frame_begin(View& v, GLFWwindow*) {
  follow_page_size();
  std::string note;
  if (js_hash_moved()) {
    note = apply_hash(v);
    js_note(note.c_str());
  }
  if (auto f = take_picked_file("measurements")) {
    note = load_measurement(v, *f);
    js_note(note.c_str());
  }
  return note;
}

void frame_end(View& v) {
  const std::string h = url_state_make(v);
  if (h != g_last_hash) {
    // A new chapter is a new history entry (back returns to it); a moved slider replaces it.
    js_hash_set(h.c_str(), v.chapter != g_last_chapter ? 1 : 0);
    g_last_hash = h;
    g_last_chapter = v.chapter;
    js_storage_set("attnlab.state", h.c_str());
  }
  const double now = emscripten_get_now();
  if (now - g_last_save > 2000) {  // the layout, now and then (ImGui marks it dirty itself)
    g_last_save = now;
    size_t n = 0;
    const char* ini = ImGui::SaveIniSettingsToMemory(&n);
    if (ini && g_ini != std::string(ini, n)) {
      g_ini.assign(ini, n);
      js_storage_set("attnlab.imgui.ini", g_ini.c_str());
    }
  }
}

void file_written(const std::string& path) { js_download(path.c_str()); }

bool pick_file(const char* accept, const char* purpose) {
  js_pick(accept, purpose);
  return true;
}
bool can_pick_files() { return true; }

std::optional<PickedFile> take_picked_file(const std::string& purpose) {
  if (!g_picked || g_picked->purpose != purpose) return std::nullopt;
  auto f = std::move(g_picked);
  g_picked.reset();
  return f;
}

void show_note(const std::string& text) { js_note(text.c_str()); }

void mark(const char* what) { js_mark(what); }

void note_widget(const char* id) {
  // Tests find sliders by id: the page keeps the last rectangle of each, in CSS pixels.
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  const float s = dpr();
  js_widget(id, a.x / s, a.y / s, b.x / s, b.y / s);
}

}  // namespace attnlab::gui::platform

// Called by the page when the learner picked a file (index.html, #picker's change event).
extern "C" EMSCRIPTEN_KEEPALIVE void attnlab_file_picked(const char* purpose, const char* name, const char* bytes, int size) {
  attnlab::gui::platform::g_picked =
      attnlab::gui::platform::PickedFile{purpose, name, std::string(bytes, static_cast<size_t>(size))};
}
