// Draws a lesson's document model (src/lessons/markdown.hpp) with ImGui: headings, wrapped
// paragraphs with emphasis/strong/code/link spans, nested lists, code blocks, tables, block
// quotes, rules, and "think about it" quiz boxes the learner can answer. The parser is the core's;
// this file only lays out and draws.
#pragma once
#include "lessons/markdown.hpp"

namespace attnlab::gui {

// Draws `doc` at the cursor, wrapped to the available width. `id` keeps quiz answers apart
// between documents (use the chapter index).
void markdown_draw(const md::Document& doc, int id);

}  // namespace attnlab::gui
