// attnlab-gui: the dashboard. main() only reads the options; gui/app.cpp runs the app.
// Exit codes: 0 ok; 2 bad input (an option, a lesson, a measurement file) with one line on
// stderr; 1 anything else (no display, a file that cannot be written).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "app.hpp"
#include "util/errors.hpp"

int main(int argc, char** argv) {
  using namespace attnlab;
  gui::AppOptions o;
  std::string size;
  std::string lessons, screenshot;
  std::vector<std::string> measurements;
  CLI::App app{"attnlab-gui: the attnlab dashboard. Chapters from lessons/, live simulator panels, measured kernels.\n"
               "Keys: PgUp/PgDn (and arrows in presenter mode) change chapter, Space plays/pauses the animation,\n"
               "F5 presenter mode, F12 saves a PNG, Esc leaves presenter mode."};
  app.add_option("--lessons", lessons, "folder of chapter Markdown files (default: the lessons/ next to the source or binary)");
  app.add_option("--measurements", measurements, "a folder of measurement JSON files to show beside the bundled ones (repeatable)");
  app.add_option("--gpu", o.gpu, "GPU preset (see `attnlab gpus`)");
  app.add_option("--config", o.config, "a model's Hugging Face config.json: added to the model pickers and selected");
  app.add_option("--chapter", o.chapter, "chapter to open: its number, file stem or slug");
  app.add_option("--panel", o.panel, "panel to bring to the front when the chapter has several");
  app.add_option("--view", o.view,
                 "the ring panel's tab to open: model (animated) or measured (the shipped NCCL run beside the model)");
  app.add_option("--screenshot", screenshot, "render the chapter without input, save a PNG to FILE and exit");
  app.add_option("--frames", o.frames, "frames to render before the screenshot (animations advance 1/30 s per frame)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--size", size, "window size WIDTHxHEIGHT (default 1280x720)");
  app.add_flag("--present", o.present, "presenter mode: full screen, large font, high contrast, lesson and panel only");
  app.add_flag("--autoplay", o.autoplay, "animations play by themselves");
  app.add_option("--bench-frames", o.bench_frames, "render N frames of the chapter, print the median frame time and exit")
      ->check(CLI::Range(1, 1000000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "attnlab-gui: %s\n", e.what());
    return 2;
  }
  try {
    if (!size.empty()) gui::parse_size(size, o.width, o.height);
    if (!lessons.empty()) o.lessons_dir = lessons;
    if (!screenshot.empty()) o.screenshot = screenshot;
    for (const auto& m : measurements) o.measurement_dirs.emplace_back(m);
    return gui::app_run(o);
  } catch (const InputError& e) {
    std::fprintf(stderr, "attnlab-gui: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnlab-gui: %s\n", e.what());
    return 1;
  }
}
