#include "panels/registry.hpp"

namespace attnlab::gui {

// One row per panel, in course order. A panel is listed only when the core model behind it is in
// the tree; see registry.hpp.
const std::vector<PanelInfo>& panel_registry() {
  static const std::vector<PanelInfo> panels = {
      {"growth", "Cost vs length", "scaling model (src/models/scaling)", draw_growth},
      {"hierarchy", "Memory hierarchy", "GPU presets (src/hw), simulator (src/sim), measurement files", draw_hierarchy},
      {"tiling", "Tiling walk", "simulator tile events (src/sim)", draw_tiling},
      {"traffic", "Bytes vs N", "simulator (src/sim), ncu measurement files", draw_traffic},
      {"kernels", "Measured kernels", "measurement files (assets/measurements, --measurements)", draw_kernels},
      {"backward", "Backward pass", "measurement files' backward sections, simulator vs ncu (src/measure)", draw_backward},
      {"kv", "KV cache", "KV-cache model (src/models/kv_cache), model presets", draw_kv},
      {"paged", "PagedAttention", "serving simulation (src/models/paged)", draw_paged},
      {"masks", "Masks", "mask model (src/models/masks)", draw_masks},
      {"ssm", "Scan vs attention", "scaling model (src/models/scaling), measurement files", draw_ssm},
      {"position", "RoPE and ALiBi", "position model (src/models/position)", draw_position},
      {"ring", "Ring attention", "ring model (src/models/ring), link presets (src/hw/link)", draw_ring},
      {"specdec", "Speculative decoding", "speculative decoding model (src/models/specdec)", draw_specdec},
  };
  return panels;
}

const PanelInfo* panel_find(std::string_view name) {
  for (const auto& p : panel_registry())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace attnlab::gui
