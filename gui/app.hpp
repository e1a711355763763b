// The dashboard application: options from the command line, and the main loop.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace attnlab::gui {

struct AppOptions {
  std::optional<std::filesystem::path> lessons_dir;       // --lessons DIR
  std::vector<std::filesystem::path> measurement_dirs;    // --measurements DIR (repeatable)
  std::string gpu;                                        // --gpu NAME ("" = default preset)
  std::string config;                                     // --config FILE: a config.json for the model pickers
  std::string chapter;                                    // --chapter N|slug ("" = the first)
  std::string panel;                                      // --panel NAME: in front when a chapter has several
  std::string view;                                       // --view model|measured: the ring panel's tab
  std::optional<std::filesystem::path> screenshot;        // --screenshot FILE: render, save, exit
  int frames = 4;                                         // --frames K: frames rendered before the capture
  int width = 1280, height = 720;                         // --size WxH
  bool present = false;                                   // --present
  bool autoplay = false;                                  // --autoplay
  int bench_frames = 0;                                   // --bench-frames N
  // Render each lesson when its chapter is first shown instead of all at load (the browser: the
  // templates run the simulator, and all thirteen lessons delayed the page's first frame by seconds).
  bool lazy_lessons = false;
  // Read the bundled measurement files after the first frame, not before it (the browser: a
  // megabyte of JSON parsed and checked that no first frame shows; the status bar says so meanwhile).
  bool defer_measurements = false;
};

// Parses "1280x720" into width/height; InputError naming --size and the limits.
void parse_size(const std::string& text, int& width, int& height);

// Loads everything (InputError on bad lessons/measurements/presets, before any window opens),
// then opens the window and runs until closed, or renders the screenshot / benchmark and returns.
// Returns the process exit code: 0, or 1 when no window can be opened (no display) or the
// screenshot cannot be written.
int app_run(const AppOptions& o);

}  // namespace attnlab::gui
