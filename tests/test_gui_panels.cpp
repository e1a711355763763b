// The panel registry and every panel drawn headless: an ImGui context without a window or GPU
// (ImGui builds draw lists on the CPU), so these run anywhere the dashboard builds, display or not.
#include <doctest/doctest.h>

#if ATTNLAB_HAVE_GUI

#include <algorithm>
#include <set>
#include <string>

#include "frame.hpp"
#include "gui_headless.hpp"
#include "lessons/lesson.hpp"
#include "markdown/md_render.hpp"
#include "models/scaling.hpp"
#include "panels/registry.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

using namespace attnlab;
using namespace attnlab::gui;
using namespace attnlab::gui::test;

namespace {

View loaded_view() {
  View v;
  v.headless_capture = true;  // sweeps run synchronously
  v.load(std::nullopt, {});
  return v;
}

}  // namespace

TEST_CASE("panel registry") {
  const auto& reg = panel_registry();
  SUBCASE("names are unique and each is a panel name lessons may use") {
    std::set<std::string_view> seen;
    const auto& allowed = lesson_panel_names();
    for (const auto& p : reg) {
      CAPTURE(p.name);
      CHECK(seen.insert(p.name).second);
      CHECK(std::find(allowed.begin(), allowed.end(), std::string(p.name)) != allowed.end());
      CHECK((p.draw != nullptr));
      CHECK_FALSE(p.title.empty());
      CHECK_FALSE(p.source.empty());
    }
  }
  SUBCASE("lookup by name") {
    REQUIRE(panel_find("tiling") != nullptr);
    CHECK((panel_find("tiling")->draw == &draw_tiling));
    CHECK((panel_find("hierarchy")->draw == &draw_hierarchy));
    CHECK(panel_find("no-such-panel") == nullptr);
    CHECK(panel_find("") == nullptr);
  }
  SUBCASE("the panels whose models are in the tree are registered") {
    for (const char* name : {"growth", "hierarchy", "tiling", "traffic", "kernels", "kv", "paged", "masks", "ssm", "position", "ring", "specdec"}) {
      CAPTURE(name);
      CHECK(panel_find(name) != nullptr);
    }
  }
}

TEST_CASE("every panel draws, at a classroom size and in a tiny window") {
  // `warm` draws each panel once first: ImGui lays tab bars out over two frames, so only from the
  // second frame on does the same panel print the same text.
  View warm = loaded_view();
  View v = loaded_view();
  for (const auto& p : panel_registry()) {
    CAPTURE(p.name);
    frame(900, 700, [&] { p.draw(warm); });
    const std::string first = frame_text(900, 700, [&] { p.draw(v); });  // computed
    CAPTURE(first);
    CHECK(first.size() > 20);  // the panel printed its figures, not only shapes
    // Drawn again from the panel's cache: the same text (a cache keyed on the wrong settings, or a
    // figure recomputed differently, shows here).
    CHECK(frame_text(900, 700, [&] { p.draw(v); }) == first);
    frame(120, 90, [&] { p.draw(v); });  // must not crash or assert
  }
}

TEST_CASE("the growth panel prints the simulator's figures for its settings") {
  View v = loaded_view();
  const std::string text = frame_text(1200, 1400, [&] { panel_find("growth")->draw(v); });
  CAPTURE(text);
  // The panel's settings start at `attnlab steps`' defaults (one ScalingConfig) and its table is
  // scaling_cost's at the marked N: what decoding keeps per layer, for full attention and the window.
  ScalingConfig cfg;
  CHECK(v.settings.growth_window == cfg.window);
  CHECK(v.settings.growth_d == cfg.head_dim);
  cfg.dtype = v.settings.dtype;
  for (Family f : {Family::full, Family::window, Family::ssm}) {
    cfg.direction = f == Family::full ? Direction::bidirectional : Direction::paper;
    const FamilyCost c = scaling_cost(f, v.settings.growth_n, cfg);
    const std::string kept = format_bytes(static_cast<double>(c.decode_bytes.mean_approx()));
    CAPTURE(kept);
    CHECK(text.find(kept) != std::string::npos);
  }
}

TEST_CASE("the whole frame: every chapter, desk and presenter, and a tiny window") {
  View v = loaded_view();
  REQUIRE_FALSE(v.lessons.empty());
  FrameRequests req;
  for (int c = 0; c < static_cast<int>(v.lessons.size()); ++c) {
    CAPTURE(v.lessons[c].file);
    v.set_chapter(c);
    CHECK(frame(1280, 720, [&] { frame_draw(v, req, ""); }) > 500);
  }
  v.settings.present = true;
  CHECK(frame(1280, 720, [&] { frame_draw(v, req, ""); }) > 500);
  v.settings.present = false;
  // Below the minimum layout size the window shows a note instead of the layout.
  const int tiny = frame(300, 200, [&] { frame_draw(v, req, ""); });
  CHECK(tiny > 0);
  CHECK(tiny < frame(1280, 720, [&] { frame_draw(v, req, ""); }));
}

TEST_CASE("chapter navigation clamps at both ends") {
  View v = loaded_view();
  v.set_chapter(-5);
  CHECK(v.chapter == 0);
  v.set_chapter(1000);
  CHECK(v.chapter == static_cast<int>(v.lessons.size()) - 1);
}

TEST_CASE("lesson documents render with every block kind") {
  const md::Document doc = md::parse(
      "# Title\n\nSome *em* and **strong** and `code` and [a link](https://arxiv.org).\n\n"
      "- one\n  - nested\n1. first\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n```\ncode block\n```\n\n> quoted\n\n---\n",
      "inline.md");
  REQUIRE(doc.blocks.size() >= 7);
  CHECK(frame(800, 600, [&] { markdown_draw(doc, 0); }) > 200);
  CHECK(frame(200, 600, [&] { markdown_draw(doc, 0); }) > 200);  // narrow: wraps, no assert
}
#endif
