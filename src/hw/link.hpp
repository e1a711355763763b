// Interconnect presets: the bandwidth one GPU can send to its neighbour in a ring, per direction,
// each with its source. Used by ring attention (src/models/ring.*) to weigh transfer against compute.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace attnlab {

struct LinkSpec {
  std::string name;       // preset key, e.g. "nvlink4"
  std::string full_name;  // "NVLink 4 (H100 SXM, 18 links)"
  double bytes_per_s = 0; // one direction, one GPU to its neighbour
  std::string source;
};

const std::vector<LinkSpec>& link_presets();
std::string_view default_link_name();
// Finds a preset by name (case-insensitive); throws InputError listing the known names.
const LinkSpec& link_find(std::string_view name);

}  // namespace attnlab
