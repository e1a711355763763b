// The link preset table. Figures are per direction: a ring sends to one neighbour while it receives
// from the other, so the bidirectional totals on datasheets are halved. Latency is left out: at
// the block sizes ring attention uses (thousands of tokens, megabytes per step) bandwidth dominates.
#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "hw/link.hpp"
#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {
// PCIe x16 payload rate: transfers/s x 16 lanes x 128/130 (the 128b/130b encoding of PCIe 3.0+) / 8 bits.
constexpr double pcie_x16(double gigatransfers) { return gigatransfers * 1e9 * 16 * 128.0 / 130.0 / 8; }

std::vector<LinkSpec> make_link_presets() {
  return {
      {"nvlink4", "NVLink 4 (H100 SXM: 18 links)", 450e9,
       "NVIDIA H100 datasheet: NVLink 900 GB/s per GPU (both directions; Hopper whitepaper: 18 links x 50 GB/s) -> 450 GB/s each way"},
      {"nvlink3", "NVLink 3 (A100 SXM: 12 links)", 300e9,
       "NVIDIA A100 datasheet: NVLink 600 GB/s per GPU (both directions; A100 whitepaper: 12 links x 50 GB/s) -> 300 GB/s each way"},
      {"pcie5", "PCIe 5.0 x16", pcie_x16(32),
       "PCI-SIG PCIe 5.0: 32 GT/s per lane, 128b/130b encoding: 16 lanes -> 63.0 GB/s each way"},
      {"pcie4", "PCIe 4.0 x16", pcie_x16(16),
       "PCI-SIG PCIe 4.0: 16 GT/s per lane, 128b/130b encoding: 16 lanes -> 31.5 GB/s each way"},
      {"ib-ndr", "InfiniBand NDR, one 400 Gb/s port per GPU", 50e9,
       "NVIDIA ConnectX-7 / Quantum-2 datasheets: NDR 400 Gb/s per port (one NIC per GPU as in DGX H100) -> 50 GB/s each way"},
      {"ib-hdr", "InfiniBand HDR, one 200 Gb/s port per GPU", 25e9,
       "NVIDIA ConnectX-6 / Quantum datasheets: HDR 200 Gb/s per port (one NIC per GPU as in DGX A100) -> 25 GB/s each way"},
      {"ib-edr", "InfiniBand EDR, one 100 Gb/s port", 12.5e9,
       "InfiniBand EDR: 100 Gb/s per port -> 12.5 GB/s each way (the InfiniBand figure in the Ring Attention paper's analysis)"},
  };
}

}  // namespace

const std::vector<LinkSpec>& link_presets() {
  static const std::vector<LinkSpec> presets = make_link_presets();
  return presets;
}

std::string_view default_link_name() { return "nvlink4"; }

const LinkSpec& link_find(std::string_view name) {
  std::string key = lower(name);
  for (const auto& l : link_presets())
    if (l.name == key) return l;
  std::string names;
  for (const auto& l : link_presets()) names += (names.empty() ? "" : ", ") + l.name;
  throw InputError(fmt::format("--link: unknown link '{}' (known: {})", name, names));
}

}  // namespace attnlab
