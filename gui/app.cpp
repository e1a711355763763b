// The main loop, in the phases of Dear ImGui's GLFW + OpenGL 3 example: window, context, style,
// backends, state, loop (poll, new frame, draw, render), cleanup in reverse order. Everything that
// can be wrong with the user's input (lessons, measurement files, presets, options) was checked
// before the window phase, so a bad file never leaves a half-open window behind.
#include "app.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <regex>
#include <string>
#include <vector>

#include "capture.hpp"
#include "frame.hpp"
#include "models/hf_config.hpp"
#include "open_file.hpp"
#include "panels/registry.hpp"
#include "platform.hpp"
#include "style.hpp"
#include "util/errors.hpp"
#include "view.hpp"

namespace attnlab::gui {

// What the frame loop uses lives as long as the loop. The desktop's loop runs inside app_run; the
// browser's runs after app_run has handed control to the page (platform::run_loop throws through
// it, and with WebAssembly exceptions that unwinding destroys app_run's locals), so there those
// variables are static.
#ifdef __EMSCRIPTEN__
#define ATTNLAB_LOOP_STATE static
#else
#define ATTNLAB_LOOP_STATE
#endif

namespace {
std::string g_glfw_error;
void on_glfw_error(int code, const char* text) { g_glfw_error = fmt::format("GLFW error {}: {}", code, text); }

// CPU time of the whole process (every thread), seconds.
double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void parse_size(const std::string& text, int& width, int& height) {
  static const std::regex re(R"(^\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*$)");
  std::smatch m;
  constexpr int lo = 64, hi = 16384;
  if (!std::regex_match(text, m, re))
    throw InputError(fmt::format("--size must be WIDTHxHEIGHT, e.g. 1280x720 (got '{}')", text));
  const int w = std::stoi(m[1]), h = std::stoi(m[2]);
  if (w < lo || w > hi || h < lo || h > hi)
    throw InputError(fmt::format("--size must have width and height between {} and {} (got {}x{})", lo, hi, w, h));
  width = w;
  height = h;
}

int app_run(const AppOptions& o) {
  // ---- state (first: every input is checked before a window exists) ----------------------
  // Cheapest checks first, so that a mistyped option is answered at once: the options, the GPU
  // preset and model config, the lesson list and --chapter, the measurement files; only then
  // every lesson rendered through the simulator (the bulk of the start-up time).
  ATTNLAB_LOOP_STATE View v;
  v.settings.present = o.present;
  v.settings.autoplay = o.autoplay;
  v.lazy_lessons = o.lazy_lessons;
  if (!o.panel.empty()) {
    if (!panel_find(o.panel)) {
      std::string names;
      for (const auto& p : panel_registry()) names += (names.empty() ? "" : ", ") + std::string(p.name);
      throw InputError(fmt::format("--panel: no panel '{}' in this build (known: {})", o.panel, names));
    }
    v.first_panel = o.panel;
  }
  if (!o.view.empty()) {
    if (o.view != "model" && o.view != "measured")
      throw InputError(fmt::format("--view must be model or measured (got '{}')", o.view));
    v.settings.ring_measured = o.view == "measured";
  }
  v.set_gpu(o.gpu.empty() ? v.settings.gpu : o.gpu);
  if (!o.config.empty()) v.settings.kv_model = model_session_add_file(o.config).name;
  v.load_lessons(o.lessons_dir);
  if (!o.chapter.empty()) {
    const Lesson& l = lesson_find(v.lessons, o.chapter);
    v.set_chapter(static_cast<int>(&l - v.lessons.data()));
  }
  ATTNLAB_LOOP_STATE bool measurements_pending = o.defer_measurements;
  if (!measurements_pending) v.load_measurements(o.measurement_dirs);
  platform::mark("attnlab: inputs read");
  v.render_lessons();
  ATTNLAB_LOOP_STATE const bool capture = o.screenshot.has_value();
  ATTNLAB_LOOP_STATE const bool bench = o.bench_frames > 0;
  v.headless_capture = capture || bench;
  v.dt_s = 1.0 / 30;

  // ---- window ------------------------------------------------------------------------------
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    const char* display = std::getenv("DISPLAY");
    std::fprintf(stderr,
                 "attnlab-gui: cannot open a window: %s (%s).\n"
                 "  The dashboard needs a display. On a machine without one, run it under a virtual one:\n"
                 "    xvfb-run -a -s \"-screen 0 1280x800x24\" attnlab-gui ...\n"
                 "  The CLI (`attnlab`) needs no display.\n",
                 display && *display ? "the display did not answer" : "no display (DISPLAY is not set)",
                 g_glfw_error.empty() ? "glfwInit failed" : g_glfw_error.c_str());
    return 1;
  }
#ifndef __EMSCRIPTEN__  // the browser: WebGL 2 (OpenGL ES 3.0), asked for at link time; the page sets the pixel ratio
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
#endif
  if (v.headless_capture) glfwWindowHint(GLFW_RESIZABLE, GLFW_FALSE);  // the PNG must have the asked size
  GLFWmonitor* monitor = nullptr;
  int win_w = o.width, win_h = o.height;
  if (o.present && !v.headless_capture) {
    monitor = glfwGetPrimaryMonitor();
    if (const GLFWvidmode* mode = monitor ? glfwGetVideoMode(monitor) : nullptr) {
      win_w = mode->width;
      win_h = mode->height;
    }
  }
  ATTNLAB_LOOP_STATE GLFWwindow* window = glfwCreateWindow(win_w, win_h, "attnlab — efficient attention, seen from the inside", monitor, nullptr);
  if (!window) {
    std::fprintf(stderr, "attnlab-gui: cannot create an OpenGL 3.3 window (%s)\n", g_glfw_error.c_str());
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  platform::mark("attnlab: GL context");
#ifndef __EMSCRIPTEN__  // the page's animation frames pace the browser
  glfwSwapInterval(v.headless_capture ? 0 : 1);
#endif
  gui_open_install_drop(window, v);  // a config.json or GPU file dropped on the window opens it

  // ---- context -----------------------------------------------------------------------------
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is ours, not saved between runs (the browser keeps it: platform)
  if (v.headless_capture) io.ConfigFlags |= ImGuiConfigFlags_NoMouse;  // no stray hover in screenshots

  // ---- style -------------------------------------------------------------------------------
  // Fonts are rasterized at the screen's pixel density (the browser's devicePixelRatio; 1 on the desktop);
  // presenter mode sizes them to the window's height in CSS pixels.
  ATTNLAB_LOOP_STATE auto body_px = [&] {
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    const float scale = platform::ui_scale();
    return body_font_px(v.settings, static_cast<float>(fb_h) / scale) * scale;
  };
  ATTNLAB_LOOP_STATE float built_px = body_px();
  fonts() = fonts_load(built_px);
  if (!fonts().missing.empty())
    std::fprintf(stderr,
                 "attnlab-gui: font not found: %s (install fonts-dejavu-core or set ATTNLAB_FONT_DIR); "
                 "drawing with ImGui's built-in font\n",
                 fonts().missing.c_str());
  style_apply(v.settings.present, built_px);
  platform::mark("attnlab: fonts");

  // ---- backends ----------------------------------------------------------------------------
  ImGui_ImplGlfw_InitForOpenGL(window, true);
#ifdef __EMSCRIPTEN__
  ImGui_ImplOpenGL3_Init("#version 300 es");  // WebGL 2
#else
  ImGui_ImplOpenGL3_Init("#version 330 core");
#endif
  ATTNLAB_LOOP_STATE std::string toast = platform::start(v, window);
  ATTNLAB_LOOP_STATE double toast_until = toast.empty() ? 0 : now_s() + 8;
  // The status bar names the measurements loaded: until they are, it says that they are coming.
  static const std::string reading = "Reading the bundled measurement files…";
  if (measurements_pending && toast.empty()) {
    toast = reading;
    toast_until = now_s() + 60;
  }
  platform::mark("attnlab: window");

  // ---- loop --------------------------------------------------------------------------------
  [[maybe_unused]] ATTNLAB_LOOP_STATE int windowed_x = 80, windowed_y = 60, windowed_w = o.width, windowed_h = o.height;  // not in the browser
  ATTNLAB_LOOP_STATE const int total_frames = capture ? o.frames : bench ? o.bench_frames + 10 : -1;  // bench: 10 warm-up frames
  ATTNLAB_LOOP_STATE std::vector<double> frame_ms, ui_ms;  // ui: building the frame (panels, layout, draw lists) on the CPU
  ATTNLAB_LOOP_STATE std::vector<double> cpu_ms;  // this process's CPU time per frame, all threads (llvmpipe's included):
                               // on a shared machine the wall time also counts other people's work
  ATTNLAB_LOOP_STATE double last = now_s();
  ATTNLAB_LOOP_STATE int exit_code = 0;
  ATTNLAB_LOOP_STATE int frame = -1;
  // One frame; false ends the loop. The desktop calls it in a loop, the browser once per page frame.
  auto run_frame = [&]() -> bool {
    ++frame;
    if (glfwWindowShouldClose(window)) return false;
    const double t0 = now_s(), c0 = cpu_s();
    if (frame == 1 && measurements_pending) {
      // The first frame is on the screen: now the measurement files it did not need.
      measurements_pending = false;
      if (toast == reading) toast_until = 0;
      try {
        v.load_measurements(o.measurement_dirs);
      } catch (const std::exception& e) {
        toast = e.what();
        toast_until = now_s() + 8;
      }
      platform::mark("attnlab: measurements read");
    }
    // poll
    glfwPollEvents();
    if (std::string note = platform::frame_begin(v, window); !note.empty()) {
      toast = note;
      toast_until = now_s() + 8;
    }
    // presenter mode changes the font size (and sizes it to the window): rebuild the atlas between frames.
    if (body_px() != built_px) {
      built_px = body_px();
      fonts() = fonts_load(built_px);
      ImGui_ImplOpenGL3_DestroyFontsTexture();
      ImGui_ImplOpenGL3_CreateFontsTexture();
      style_apply(v.settings.present, built_px);
    }
    // new frame
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    // A long frame (a lesson rendered when its chapter is first shown, a slow point of a sweep)
    // counts as 0.1 s at most, as v.dt_s below: a key held through it is not taken for a repeat
    // (PgDn would skip a chapter).
    ImGui::GetIO().DeltaTime = std::min(ImGui::GetIO().DeltaTime, 0.1f);
    ImGui::NewFrame();
    const double t = now_s();
    v.dt_s = v.headless_capture ? 1.0 / 30 : std::clamp(t - last, 0.0, 0.1);
    last = t;
    v.time_s += v.dt_s;

    // draw
    FrameRequests req;
    frame_draw(v, req, t < toast_until ? toast : std::string());
    if (frame == 0) platform::mark("attnlab: frame 1 built");

    // render
    ImGui::Render();
    const double t_ui = now_s();
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    const ImVec4 bg = ImGui::ColorConvertU32ToFloat4(theme().bg);
    glClearColor(bg.x, bg.y, bg.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    if (capture && frame + 1 == total_frames) {
      const std::string err = capture_png(o.screenshot->string(), fb_w, fb_h);
      if (!err.empty()) {
        std::fprintf(stderr, "attnlab-gui: %s\n", err.c_str());
        exit_code = 1;
      } else {
        std::printf("saved %s (%dx%d, chapter %d: %s)\n", o.screenshot->string().c_str(), fb_w, fb_h,
                    v.current_lesson()->chapter, v.current_lesson()->title.c_str());
      }
    }
    if (req.screenshot) {
      const std::string name = capture_default_name(v.current_lesson() ? v.current_lesson()->stem : "");
      const std::string err = capture_png(name, fb_w, fb_h);
      if (err.empty()) platform::file_written(name);
      toast = err.empty() ? "Saved " + name : err;
      toast_until = t + 3;
    }
    if (bench) glFinish();  // count the (software) rasterizer's work in the frame, not after it
    glfwSwapBuffers(window);
    if (bench && frame >= 10) {
      frame_ms.push_back((now_s() - t0) * 1e3);
      ui_ms.push_back((t_ui - t0) * 1e3);
      cpu_ms.push_back((cpu_s() - c0) * 1e3);
    }

    // requests that change the window
    platform::frame_end(v);
    if (req.toggle_present && !v.headless_capture) {
      v.settings.present = !v.settings.present;
#ifndef __EMSCRIPTEN__  // in the browser the page already fills the tab (F11 makes it full screen)
      if (v.settings.present) {
        glfwGetWindowPos(window, &windowed_x, &windowed_y);
        glfwGetWindowSize(window, &windowed_w, &windowed_h);
        if (GLFWmonitor* mon = glfwGetPrimaryMonitor())
          if (const GLFWvidmode* mode = glfwGetVideoMode(mon))
            glfwSetWindowMonitor(window, mon, 0, 0, mode->width, mode->height, mode->refreshRate);
      } else {
        glfwSetWindowMonitor(window, nullptr, windowed_x, windowed_y, windowed_w, windowed_h, 0);
      }
#endif
    }
    if (req.quit) glfwSetWindowShouldClose(window, GLFW_TRUE);
    return !(total_frames > 0 && frame + 1 >= total_frames);
  };
  platform::run_loop(run_frame);

  if (bench && !frame_ms.empty()) {
    std::vector<double> s = frame_ms;
    std::sort(s.begin(), s.end());
    const double median = s[s.size() / 2], p90 = s[std::min(s.size() - 1, s.size() * 9 / 10)], mx = s.back();
    const char* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window, &fb_w, &fb_h);
    std::vector<double> u = ui_ms, c = cpu_ms;
    std::sort(u.begin(), u.end());
    std::sort(c.begin(), c.end());
    std::printf("frame time, chapter %d (%s), %zu frames at %dx%d on %s: median %.2f ms, p90 %.2f ms, max %.2f ms"
                " (building the frame: median %.2f ms; the rest is rasterizing and presenting; CPU time of this process"
                " per frame, all threads: median %.2f ms)\n",
                v.current_lesson()->chapter, v.current_lesson()->title.c_str(), s.size(), fb_w, fb_h,
                renderer ? renderer : "?", median, p90, mx, u[u.size() / 2], c[c.size() / 2]);
  }

  // ---- cleanup (reverse order) ---------------------------------------------------------------
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}

}  // namespace attnlab::gui
