// The one table of dashboard panels: name (as lessons write it in their front matter), title,
// and the draw function (one file per panel, panels/<name>.cpp). A panel whose model is not in
// the core library yet is simply not in the table: the chapter then says so instead of showing
// made-up numbers.
#pragma once
#include <string_view>
#include <vector>

namespace attnlab::gui {

class View;

struct PanelInfo {
  std::string_view name;   // "tiling"
  std::string_view title;  // "FlashAttention, tile by tile"
  std::string_view source; // where its numbers come from: "simulator (src/sim)", ...
  void (*draw)(View&);
};

const std::vector<PanelInfo>& panel_registry();
// nullptr when no panel of that name is registered.
const PanelInfo* panel_find(std::string_view name);

// The panels (one declaration per file in panels/).
void draw_growth(View& v);
void draw_hierarchy(View& v);
void draw_tiling(View& v);
void draw_traffic(View& v);
void draw_kernels(View& v);
void draw_backward(View& v);
void draw_kv(View& v);
void draw_paged(View& v);
void draw_masks(View& v);
void draw_ssm(View& v);
void draw_position(View& v);
void draw_ring(View& v);
void draw_specdec(View& v);

}  // namespace attnlab::gui
