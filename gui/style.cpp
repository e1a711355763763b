#include "style.hpp"

#include <imgui_internal.h>  // ImGui::LogRenderedText, GImGui->LogEnabled

#include <cstdlib>
#include <filesystem>

namespace attnlab::gui {

namespace {
Fonts g_fonts;
Theme g_theme;

ImU32 rgb(unsigned hex, int a = 255) { return IM_COL32((hex >> 16) & 255, (hex >> 8) & 255, hex & 255, a); }

// What the lessons and panels write besides ASCII: accents, Greek (θ, σ, Θ), ², ×, ≈, ≤, →, µ,
// box and block characters. Everything else would draw as '?'.
const ImWchar* text_ranges() {
  static const ImWchar ranges[] = {
      0x0020, 0x017F,  // Basic Latin, Latin-1 (×, ², µ, ·), Latin Extended-A
      0x0300, 0x036F,  // Combining diacritics (the bar of B̄ in chapter 9)
      0x0370, 0x03FF,  // Greek
      0x1D00, 0x1DBF,  // Phonetic extensions: modifier letters (Kᵀ)
      0x2000, 0x206F,  // General punctuation (– — ‘ ’ “ ” … ‖)
      0x2070, 0x209F,  // Superscripts and subscripts
      0x2100, 0x214F,  // Letterlike symbols (ℓ, the softmax row sum of chapters 3-4)
      0x2190, 0x21FF,  // Arrows
      0x2200, 0x22FF,  // Mathematical operators (≈ ≤ ≥ √ ∑ ∘ ⋅)
      0x2300, 0x23FF,  // Misc technical (⌈ ⌉ ⌊ ⌋)
      0x2500, 0x25FF,  // Box drawing, blocks, geometric shapes (▶ ■ ●)
      0x2700, 0x27BF,  // Dingbats (✓ ✗)
      0,
  };
  return ranges;
}
// Headings and small labels: Latin, Greek and the common punctuation only (keeps the atlas small).
const ImWchar* short_ranges() {
  static const ImWchar ranges[] = {0x0020, 0x017F, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F, 0x2100, 0x214F,
                                   0x2190, 0x21FF, 0x2200, 0x22FF, 0};
  return ranges;
}

bool in_ranges(const ImWchar* r, unsigned cp) {
  for (; r[0]; r += 2)
    if (cp >= r[0] && cp <= r[1]) return true;
  return false;
}
}  // namespace

bool font_covers(unsigned codepoint, bool small_label) {
  return in_ranges(small_label ? short_ranges() : text_ranges(), codepoint);
}

std::string font_dir() {
  if (const char* d = std::getenv("ATTNLAB_FONT_DIR"); d && *d) return d;
  return "/usr/share/fonts/truetype/dejavu";
}

Fonts& fonts() { return g_fonts; }
const Theme& theme() { return g_theme; }

Fonts fonts_load(float px) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  Fonts f;
  f.px = px;
  const std::string dir = font_dir();
  auto load = [&](const char* file, float size, const ImWchar* ranges) -> ImFont* {
    const std::string path = dir + "/" + file;
    if (!std::filesystem::exists(path)) {
      if (f.missing.empty()) f.missing = path;
      f.dejavu = false;
      ImFontConfig cfg;
      cfg.SizePixels = size;  // ProggyClean scaled: blocky, but readable and always there
      return io.Fonts->AddFontDefault(&cfg);
    }
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    cfg.OversampleV = 1;
    cfg.PixelSnapH = false;
    return io.Fonts->AddFontFromFileTTF(path.c_str(), size, &cfg, ranges);
  };
  f.body = load("DejaVuSans.ttf", px, text_ranges());
  f.bold = load("DejaVuSans-Bold.ttf", px, text_ranges());
  f.italic = load("DejaVuSans-Oblique.ttf", px, text_ranges());
  f.bold_italic = load("DejaVuSans-BoldOblique.ttf", px, short_ranges());
  f.mono = load("DejaVuSansMono.ttf", px * 0.92f, text_ranges());
  f.h1 = load("DejaVuSans-Bold.ttf", px * 1.55f, short_ranges());
  f.h2 = load("DejaVuSans-Bold.ttf", px * 1.3f, short_ranges());
  f.h3 = load("DejaVuSans-Bold.ttf", px * 1.12f, short_ranges());
  f.small = load("DejaVuSans.ttf", px * 0.82f, text_ranges());
  io.FontDefault = f.body;
  // The atlas as tall as its glyphs (2048x1422 at 16 px, not 2048x2048): the texture is converted
  // to RGBA and uploaded before the first frame (in the browser, about 0.3 s of it here).
  io.Fonts->Flags |= ImFontAtlasFlags_NoPowerOfTwoHeight;
  io.Fonts->Build();
  return f;
}

ImU32 color_alpha(ImU32 c, float alpha) {
  ImVec4 v = ImGui::ColorConvertU32ToFloat4(c);
  v.w *= alpha;
  return ImGui::ColorConvertFloat4ToU32(v);
}

ImU32 color_mix(ImU32 a, ImU32 b, float t) {
  const ImVec4 x = ImGui::ColorConvertU32ToFloat4(a), y = ImGui::ColorConvertU32ToFloat4(b);
  return ImGui::ColorConvertFloat4ToU32(
      ImVec4(x.x + (y.x - x.x) * t, x.y + (y.y - x.y) * t, x.z + (y.z - x.z) * t, x.w + (y.w - x.w) * t));
}

void style_apply(bool presenter, float px) {
  ImGuiStyle style;  // fresh defaults, then scaled: ScaleAllSizes is not idempotent
  Theme t;
  t.light = presenter;
  if (presenter) {
    // Projector: white ground, black text, saturated colours, thick lines.
    ImGui::StyleColorsLight(&style);
    t.bg = rgb(0xFFFFFF);
    t.panel_bg = rgb(0xF4F5F7);
    t.text = rgb(0x000000);
    t.text_dim = rgb(0x3A3A3A);
    t.grid = rgb(0xC8CCD2);
    t.axis = rgb(0x202020);
    t.accent = rgb(0x0059B3);
    t.frame = rgb(0xE2E5EA);
    t.good = rgb(0x00783E);
    t.bad = rgb(0xC0300A);
    t.warn = rgb(0x9A6700);
    t.series[0] = rgb(0x0064B0);  // blue
    t.series[1] = rgb(0xD55E00);  // vermilion
    t.series[2] = rgb(0x00875F);  // bluish green
    t.series[3] = rgb(0xB8458F);  // reddish purple
    t.series[4] = rgb(0xC98A00);  // orange
    t.series[5] = rgb(0x3E9BD6);  // sky blue
    t.series[6] = rgb(0x6B6B6B);
    t.series[7] = rgb(0x000000);
    t.line_width = 3.5f;
    t.point_radius = 6.5f;
  } else {
    ImGui::StyleColorsDark(&style);
    t.bg = rgb(0x1B1E24);
    t.panel_bg = rgb(0x22262E);
    t.text = rgb(0xE8EAED);
    t.text_dim = rgb(0xA4ABB6);
    t.grid = rgb(0x3A404B);
    t.axis = rgb(0xA4ABB6);
    t.accent = rgb(0x56B4E9);
    t.frame = rgb(0x2E333D);
    t.good = rgb(0x3CC48A);
    t.bad = rgb(0xF0664A);
    t.warn = rgb(0xF0C040);
    t.series[0] = rgb(0x56B4E9);  // sky blue
    t.series[1] = rgb(0xE69F00);  // orange
    t.series[2] = rgb(0x2FBF8F);  // bluish green
    t.series[3] = rgb(0xE07BB8);  // reddish purple
    t.series[4] = rgb(0xF0E442);  // yellow
    t.series[5] = rgb(0xF07A3A);  // vermilion
    t.series[6] = rgb(0xB0B6C0);
    t.series[7] = rgb(0x8E7CF0);
    t.line_width = 2.2f;
    t.point_radius = 4.5f;
  }
  t.sram = t.series[2];
  t.l2 = t.series[3];
  t.hbm = t.series[1];
  t.dram = t.series[5];
  t.q = t.series[0];
  t.k = t.series[1];
  t.v = t.series[3];
  t.o = t.series[2];
  t.s = presenter ? rgb(0x6A4FC8) : rgb(0x8E7CF0);  // S tiles: a colour no tensor strip uses

  const ImVec4 text = ImGui::ColorConvertU32ToFloat4(t.text), dim = ImGui::ColorConvertU32ToFloat4(t.text_dim);
  style.Colors[ImGuiCol_Text] = text;
  style.Colors[ImGuiCol_TextDisabled] = dim;
  style.Colors[ImGuiCol_WindowBg] = ImGui::ColorConvertU32ToFloat4(t.bg);
  style.Colors[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
  style.Colors[ImGuiCol_MenuBarBg] = ImGui::ColorConvertU32ToFloat4(t.panel_bg);
  style.Colors[ImGuiCol_FrameBg] = ImGui::ColorConvertU32ToFloat4(t.frame);
  style.Colors[ImGuiCol_Border] = ImGui::ColorConvertU32ToFloat4(t.grid);
  style.Colors[ImGuiCol_Separator] = ImGui::ColorConvertU32ToFloat4(t.grid);
  const ImVec4 accent = ImGui::ColorConvertU32ToFloat4(t.accent);
  style.Colors[ImGuiCol_SliderGrab] = accent;
  style.Colors[ImGuiCol_SliderGrabActive] = accent;
  style.Colors[ImGuiCol_CheckMark] = accent;
  ImVec4 sel = accent;
  sel.w = presenter ? 0.22f : 0.35f;
  style.Colors[ImGuiCol_Header] = sel;
  sel.w += 0.15f;
  style.Colors[ImGuiCol_HeaderHovered] = sel;
  style.Colors[ImGuiCol_HeaderActive] = sel;
  if (presenter) {
    style.Colors[ImGuiCol_Button] = ImGui::ColorConvertU32ToFloat4(t.frame);
    style.Colors[ImGuiCol_Tab] = ImGui::ColorConvertU32ToFloat4(t.frame);
    style.Colors[ImGuiCol_TabActive] = ImGui::ColorConvertU32ToFloat4(rgb(0xCFE0F5));
  }

  style.WindowRounding = 0;
  style.ChildRounding = 4;
  style.FrameRounding = 4;
  style.GrabRounding = 4;
  style.TabRounding = 4;
  style.ScrollbarRounding = 6;
  style.WindowBorderSize = 0;
  style.ChildBorderSize = 1;
  style.FrameBorderSize = presenter ? 1 : 0;
  style.WindowPadding = ImVec2(10, 8);
  style.FramePadding = ImVec2(7, 4);
  style.ItemSpacing = ImVec2(9, 6);
  style.ItemInnerSpacing = ImVec2(6, 5);
  style.ScrollbarSize = 14;
  style.GrabMinSize = 12;
  // Sizes above were chosen for a 16 px font; scale them with the body font.
  style.ScaleAllSizes(px / 16.0f);
  ImGui::GetStyle() = style;
  g_theme = t;
}

void add_text(ImDrawList* dl, ImFont* font, float size, const ImVec2& pos, ImU32 color, const char* text,
              const char* text_end, float wrap_width) {
  if (!font) {
    font = ImGui::GetFont();
    size = ImGui::GetFontSize();
  }
  dl->AddText(font, size, pos, color, text, text_end, wrap_width);
  if (GImGui->LogEnabled) ImGui::LogRenderedText(&pos, text, text_end);
}

}  // namespace attnlab::gui
