#include "markdown/md_render.hpp"

#include <algorithm>
#include <cfloat>
#include <string>
#include <vector>

#include "style.hpp"

namespace attnlab::gui {

namespace {

struct Word {
  std::string text;
  const md::Span* span;
  bool space_before;
};

ImFont* span_font(const md::Span& s, ImFont* base) {
  const Fonts& F = fonts();
  if (s.code) return F.mono ? F.mono : base;
  if (base != F.body) return base;  // headings keep their own font
  if (s.strong && s.emphasis) return F.bold_italic ? F.bold_italic : base;
  if (s.strong) return F.bold ? F.bold : base;
  if (s.emphasis) return F.italic ? F.italic : base;
  return base;
}

std::vector<Word> split_words(const md::Inline& spans) {
  std::vector<Word> words;
  bool pending_space = false;
  for (const auto& s : spans) {
    std::string cur;
    for (char c : s.text) {
      if (c == ' ' || c == '\n' || c == '\t') {
        if (!cur.empty()) {
          words.push_back({cur, &s, pending_space});
          cur.clear();
        }
        pending_space = true;
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) {
      words.push_back({cur, &s, pending_space});
      pending_space = false;
    }
  }
  return words;
}

// Lays out `spans` from the cursor, wrapped at the right edge of the content region, with
// continuation lines starting at `indent_x` (screen x). Advances the cursor past the text.
void draw_inline(const md::Inline& spans, ImFont* base, ImU32 color, float indent_x) {
  const Theme& th = theme();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 start = ImGui::GetCursorScreenPos();
  const float right = start.x + std::max(40.0f, ImGui::GetContentRegionAvail().x);
  const float size = base->FontSize;
  const float line_h = size * 1.32f;
  const float space_w = base->CalcTextSizeA(size, FLT_MAX, 0, " ").x;
  float x = start.x, y = start.y;
  bool line_empty = true;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const std::string* hovered_link = nullptr;

  for (const auto& w : split_words(spans)) {
    ImFont* f = span_font(*w.span, base);
    const float fs = w.span->code ? size * 0.92f : size;
    const float ww = f->CalcTextSizeA(fs, FLT_MAX, 0, w.text.c_str()).x + (w.span->code ? 6 : 0);
    const float gap = (w.space_before && !line_empty) ? space_w : 0;
    if (!line_empty && x + gap + ww > right) {
      x = indent_x;
      y += line_h;
      line_empty = true;
    } else {
      x += gap;
    }
    const float dy = (size - fs) * 0.75f;
    ImU32 col = color;
    if (w.span->code) {
      dl->AddRectFilled(ImVec2(x, y + dy - 1), ImVec2(x + ww, y + dy + fs + 2), th.frame, 3);
      add_text(dl, f, fs, ImVec2(x + 3, y + dy), color, w.text.c_str());
    } else {
      if (!w.span->link.empty()) col = th.accent;
      add_text(dl, f, fs, ImVec2(x, y + dy), col, w.text.c_str());
      if (!w.span->link.empty()) {
        dl->AddLine(ImVec2(x, y + fs + 1), ImVec2(x + ww, y + fs + 1), color_alpha(th.accent, 0.6f), 1);
        if (mouse.x >= x && mouse.x <= x + ww && mouse.y >= y && mouse.y <= y + line_h) hovered_link = &w.span->link;
      }
    }
    x += ww;
    line_empty = false;
  }
  ImGui::SetCursorScreenPos(start);
  ImGui::Dummy(ImVec2(std::max(1.0f, right - start.x), y - start.y + line_h));
  if (hovered_link && ImGui::IsWindowHovered()) ImGui::SetTooltip("%s", hovered_link->c_str());
}

void draw_heading(const md::Block& b) {
  const Fonts& F = fonts();
  const Theme& th = theme();
  ImFont* f = b.level <= 1 ? F.h1 : b.level == 2 ? F.h2 : F.h3;
  if (!f) f = ImGui::GetFont();
  ImGui::Dummy(ImVec2(0, b.level <= 2 ? f->FontSize * 0.35f : f->FontSize * 0.2f));
  draw_inline(b.text, f, b.level <= 1 ? th.text : th.accent, ImGui::GetCursorScreenPos().x);
  if (b.level <= 1) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::GetWindowDrawList()->AddLine(ImVec2(p.x, p.y - 2), ImVec2(p.x + ImGui::GetContentRegionAvail().x, p.y - 2),
                                        th.grid, 1.5f);
    ImGui::Dummy(ImVec2(0, 4));
  }
}

void draw_list(const md::Block& b) {
  const Fonts& F = fonts();
  const Theme& th = theme();
  ImFont* body = F.body ? F.body : ImGui::GetFont();
  const float em = body->FontSize;
  const float x0 = ImGui::GetCursorPosX();
  for (const auto& it : b.items) {
    const float indent = x0 + em * (0.4f + 1.4f * it.depth);
    const std::string mark = it.ordered ? std::to_string(it.number) + "." : (it.depth % 2 == 0 ? "•" : "◦");
    ImGui::SetCursorPosX(indent);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    add_text(ImGui::GetWindowDrawList(), body, em, p, it.ordered ? th.text : th.accent, mark.c_str());
    const float text_x = indent + em * (it.ordered ? 1.5f : 1.1f);
    ImGui::SetCursorPosX(text_x);
    draw_inline(it.text, body, th.text, ImGui::GetCursorScreenPos().x);
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - em * 0.12f);
  }
  ImGui::SetCursorPosX(x0);
}

void draw_code(const md::Block& b) {
  const Fonts& F = fonts();
  const Theme& th = theme();
  ImFont* f = F.mono ? F.mono : ImGui::GetFont();
  const float pad = f->FontSize * 0.5f;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = std::max(40.0f, ImGui::GetContentRegionAvail().x);
  std::string code = b.code;
  while (!code.empty() && code.back() == '\n') code.pop_back();
  const ImVec2 sz = f->CalcTextSizeA(f->FontSize, FLT_MAX, w - 2 * pad, code.c_str());
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + w, p.y + sz.y + 2 * pad), th.panel_bg, 4);
  dl->AddRectFilled(p, ImVec2(p.x + 3, p.y + sz.y + 2 * pad), th.accent, 2);
  add_text(dl, f, f->FontSize, ImVec2(p.x + pad, p.y + pad), th.text, code.c_str(), nullptr, w - 2 * pad);
  ImGui::Dummy(ImVec2(w, sz.y + 2 * pad));
}

void draw_table(const md::Block& b, int index) {
  const Fonts& F = fonts();
  const Theme& th = theme();
  const int cols = static_cast<int>(b.header.size());
  if (cols == 0) return;
  ImGui::PushID(index);
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
  if (ImGui::BeginTable("table", cols, flags)) {
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int c = 0; c < cols; ++c) {
      ImGui::TableSetColumnIndex(c);
      draw_inline(b.header[c], F.bold ? F.bold : ImGui::GetFont(), th.text, ImGui::GetCursorScreenPos().x);
    }
    for (const auto& row : b.rows) {
      ImGui::TableNextRow();
      for (int c = 0; c < cols && c < static_cast<int>(row.size()); ++c) {
        ImGui::TableSetColumnIndex(c);
        const md::Align al = c < static_cast<int>(b.align.size()) ? b.align[c] : md::Align::none;
        if (al == md::Align::right || al == md::Align::center) {
          // Short cells (numbers) are aligned; a cell that wraps is left as it is.
          const std::string plain = md::plain_text(row[c]);
          const float tw = ImGui::CalcTextSize(plain.c_str()).x, avail = ImGui::GetContentRegionAvail().x;
          if (tw < avail) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + (al == md::Align::right ? avail - tw : (avail - tw) / 2));
        }
        draw_inline(row[c], F.body ? F.body : ImGui::GetFont(), th.text, ImGui::GetCursorScreenPos().x);
      }
    }
    ImGui::EndTable();
  }
  ImGui::PopID();
}

void draw_blocks(const std::vector<md::Block>& blocks, int id_base);

void draw_quote(const md::Block& b, int index) {
  const Theme& th = theme();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float bar = ImGui::GetFontSize() * 0.9f;
  ImGui::Indent(bar);
  ImGui::PushID(index);
  draw_blocks(b.children, 1000);
  ImGui::PopID();
  ImGui::Unindent(bar);
  const float y1 = ImGui::GetCursorScreenPos().y - ImGui::GetStyle().ItemSpacing.y;
  ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x + 2, p.y), ImVec2(p.x + 6, y1), th.accent, 2);
}

void draw_quiz(const md::Block& b, int index) {
  const Fonts& F = fonts();
  const Theme& th = theme();
  const md::Quiz& q = b.quiz;
  ImGui::PushID(index);
  ImGuiStorage* st = ImGui::GetStateStorage();
  const ImGuiID key = ImGui::GetID("answer");
  int answer = st->GetInt(key, 0);  // 0 = not answered; choices: index + 1; numeric: -1 = revealed

  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->ChannelsSplit(2);
  dl->ChannelsSetCurrent(1);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float pad = ImGui::GetFontSize() * 0.6f;
  ImGui::Dummy(ImVec2(0, pad * 0.5f));
  ImGui::Indent(pad);
  ImGui::PushFont(F.bold ? F.bold : ImGui::GetFont());
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.accent), "Think about it");
  ImGui::PopFont();
  draw_inline(q.question, F.body ? F.body : ImGui::GetFont(), th.text, ImGui::GetCursorScreenPos().x);
  if (!q.choices.empty()) {
    for (size_t i = 0; i < q.choices.size(); ++i) {
      ImGui::PushID(static_cast<int>(i));
      const bool picked = answer == static_cast<int>(i) + 1;
      const char* mark = picked ? (q.choices[i].correct ? "✓" : "✗") : (answer != 0 && q.choices[i].correct ? "✓" : " ");
      if (ImGui::RadioButton("##c", picked)) st->SetInt(key, answer = static_cast<int>(i) + 1);
      ImGui::SameLine();
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(q.choices[i].correct ? th.good : th.bad), "%s", answer ? mark : " ");
      ImGui::SameLine();
      draw_inline(q.choices[i].text, F.body ? F.body : ImGui::GetFont(), th.text, ImGui::GetCursorScreenPos().x);
      ImGui::PopID();
    }
  } else if (answer == 0) {
    if (ImGui::Button("Show the answer")) st->SetInt(key, answer = -1);
  }
  if (answer != 0) {
    if (!q.answer.empty()) {
      md::Inline a{{"Answer: ", false, true, false, {}}};
      a.insert(a.end(), q.answer.begin(), q.answer.end());
      draw_inline(a, F.body ? F.body : ImGui::GetFont(), th.text, ImGui::GetCursorScreenPos().x);
    }
    if (!q.explain.empty()) draw_inline(q.explain, F.italic ? F.italic : ImGui::GetFont(), th.text_dim, ImGui::GetCursorScreenPos().x);
  }
  ImGui::Unindent(pad);
  ImGui::Dummy(ImVec2(0, pad * 0.3f));
  const ImVec2 p1(p0.x + ImGui::GetContentRegionAvail().x, ImGui::GetCursorScreenPos().y);
  dl->ChannelsSetCurrent(0);
  dl->AddRectFilled(p0, p1, color_alpha(th.accent, th.light ? 0.08f : 0.12f), 6);
  dl->AddRect(p0, p1, color_alpha(th.accent, 0.6f), 6, 0, 1.5f);
  dl->ChannelsMerge();
  ImGui::PopID();
}

void draw_blocks(const std::vector<md::Block>& blocks, int id_base) {
  const Fonts& F = fonts();
  const Theme& th = theme();
  ImFont* body = F.body ? F.body : ImGui::GetFont();
  for (size_t i = 0; i < blocks.size(); ++i) {
    const md::Block& b = blocks[i];
    const int id = id_base + static_cast<int>(i);
    switch (b.kind) {
      case md::BlockKind::heading: draw_heading(b); break;
      case md::BlockKind::paragraph: draw_inline(b.text, body, th.text, ImGui::GetCursorScreenPos().x); break;
      case md::BlockKind::list: draw_list(b); break;
      case md::BlockKind::code: draw_code(b); break;
      case md::BlockKind::table: draw_table(b, id); break;
      case md::BlockKind::quote: draw_quote(b, id); break;
      case md::BlockKind::rule: ImGui::Separator(); break;
      case md::BlockKind::quiz: draw_quiz(b, id); break;
    }
    ImGui::Dummy(ImVec2(0, body->FontSize * 0.3f));
  }
}

}  // namespace

void markdown_draw(const md::Document& doc, int id) {
  ImGui::PushID(id);
  draw_blocks(doc.blocks, 0);
  ImGui::PopID();
}

}  // namespace attnlab::gui
