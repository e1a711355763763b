// The panel registry and every panel drawn headless: an ImGui context without a window or GPU
// (ImGui builds draw lists on the CPU), so these run anywhere the dashboard builds, display or not.
#include <doctest/doctest.h>

#if ATTNLAB_HAVE_GUI

#include <algorithm>
#include <fmt/format.h>
#include <set>
#include <string>

#include "frame.hpp"
#include "gui_headless.hpp"
#include "gui_loaded.hpp"
#include "lessons/lesson.hpp"
#include "markdown/md_render.hpp"
#include "models/kv_cache.hpp"
#include "models/model_spec.hpp"
#include "models/scaling.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

using namespace attnlab;
using namespace attnlab::gui;
using namespace attnlab::gui::test;

namespace {

// The first paragraph of a lesson as a reader sees it (templates filled in).
std::string first_paragraph(const md::Document& doc) {
  for (const auto& b : doc.blocks)
    if (b.kind == md::BlockKind::paragraph) return md::plain_text(b.text);
  return "";
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
  View v = loaded_view(LessonText::rendered);
  REQUIRE_FALSE(v.lessons.empty());
  FrameRequests req;
  // Desk: the menu bar names the chapter, the chapter list holds every title, the lesson column
  // shows the chapter's text with its numbers filled in, the status bar names the GPU.
  for (int c = 0; c < static_cast<int>(v.lessons.size()); ++c) {
    const Lesson& l = v.lessons[c];
    CAPTURE(l.file);
    v.set_chapter(c);
    const std::string text = squeeze(frame_text(1280, 720, [&] { frame_draw(v, req, ""); }));
    CHECK(text.find(squeeze(fmt::format("Chapter {}  ({}/{})", l.chapter, c + 1, v.lessons.size()))) != std::string::npos);
    for (const auto& other : v.lessons) CHECK(text.find(squeeze(other.title)) != std::string::npos);
    const std::string para = squeeze(first_paragraph(v.documents[c]));
    REQUIRE_FALSE(para.empty());
    CHECK(text.find(para) != std::string::npos);
    CHECK(text.find(squeeze("GPU: " + v.gpu.full_name)) != std::string::npos);
  }
  // Presenter mode: the lesson and its panel only (no menu, chapter list or status bar).
  v.set_chapter(0);
  v.settings.present = true;
  const std::string present = squeeze(frame_text(1280, 720, [&] { frame_draw(v, req, ""); }));
  CHECK(present.find(squeeze(first_paragraph(v.documents[0]))) != std::string::npos);
  CHECK(present.find("CHAPTERS") == std::string::npos);
  CHECK(present.find(squeeze("F12 screenshot")) == std::string::npos);
  CHECK(present.find(squeeze(fmt::format("Chapter {}  (1/", v.lessons[0].chapter))) == std::string::npos);
  v.settings.present = false;
  // Below the minimum layout size the window says so, with the size it needs, and draws nothing else.
  const std::string tiny = frame_text(300, 200, [&] { frame_draw(v, req, ""); });
  CHECK(squeeze(tiny) == squeeze(fmt::format("Window too small for attnlab\nmake it at least {:.0f} x {:.0f}",
                                             kMinLayoutWidth, kMinLayoutHeight)));
}

TEST_CASE("the KV panel prints the KV-cache model's bytes for its settings") {
  View v = loaded_view();
  const std::string text = squeeze(frame_text(1200, 1000, [&] { panel_find("kv")->draw(v); }));
  CAPTURE(text);
  const Settings& s = v.settings;
  const ModelSpec& m = model_find(s.kv_model);
  const auto variants = kv_what_if(m, s.dtype, s.kv_seq, s.kv_batch);
  REQUIRE(variants.size() >= 2);
  for (const auto& var : variants) {
    CAPTURE(var.label);
    CHECK(text.find(squeeze(var.label)) != std::string::npos);
    if (var.possible) CHECK(text.find(squeeze(format_bytes(var.kv.bytes_total))) != std::string::npos);
    if (var.is_model) {
      // The verdict: the model's own cache against what the weights leave on one GPU.
      const KvFit fit = kv_fit(var.spec, var.kv, u128{v.gpu.hbm_bytes}, 1, m.weight_dtype);
      REQUIRE(fit.weights_fit);
      CHECK(text.find(squeeze(fmt::format("weights {}, {} left for the cache; {} sequences of {} tokens fit.",
                                          format_bytes(fit.weight_bytes), format_bytes(fit.free_bytes),
                                          format_count(fit.seqs_fit), tokens_text(s.kv_seq)))) != std::string::npos);
    }
  }
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
  // What a reader sees, in order: the heading, the styled sentence, the list with its marks, the
  // table's cells, the code and the quote; narrow, the same words wrap onto more lines.
  const std::string want = squeeze("Title Some em and strong and code and a link. • one ◦ nested 1. first");
  for (float width : {800.0f, 200.0f}) {
    CAPTURE(width);
    const std::string raw = frame_text(width, 600, [&] { markdown_draw(doc, 0); });
    const std::string text = squeeze(raw);
    CAPTURE(raw);
    CHECK(text.find(want) != std::string::npos);
    const size_t table = text.find("|a|b||1|2|"), code = text.find("codeblock"), quote = text.find("quoted");
    CHECK(table != std::string::npos);
    CHECK(code != std::string::npos);
    CHECK(quote != std::string::npos);
    CHECK(text.find(want) < table);
    CHECK(table < code);
    CHECK(code < quote);
  }
  // Narrow, the same words take more lines.
  const std::string wide = frame_text(800, 600, [&] { markdown_draw(doc, 0); });
  const std::string narrow = frame_text(200, 600, [&] { markdown_draw(doc, 0); });
  CHECK(std::count(narrow.begin(), narrow.end(), '\n') > std::count(wide.begin(), wide.end(), '\n'));
}
#endif
