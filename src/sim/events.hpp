// Tile events: the simulator's common language. An algorithm is a list of kernels; a kernel is a
// grid of thread blocks; each block is a program-ordered list of events: a tile moved between
// global memory and the block's SRAM (load/store), or on-chip work reading and writing SRAM.
// The hierarchy model consumes events; the dashboard animates them; --trace writes them as CSV.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "util/checked.hpp"

namespace attnlab {

// Tensors by the paper's names. stats = per-row softmax statistics (m and l, or the log-sum-exp);
// D = rowsum(dO ∘ O) of the backward pass; dQacc = FlashAttention-2's fp32 dQ accumulator;
// dKexp/dVexp = per-query-head dK/dV before a GQA group is summed. Qscale/Kscale/Vscale = FP8
// attention's per-tile fp32 scales (config.hpp, AttnConfig::out_type), one event per tile.
enum class Tensor : std::uint8_t {
  Q, K, V, O, S, P, dO, dQ, dK, dV, dS, dP, stats, D, dQacc, dKexp, dVexp, Qscale, Kscale, Vscale, count
};
inline constexpr std::size_t kTensorCount = static_cast<std::size_t>(Tensor::count);
std::string_view tensor_name(Tensor t);

enum class EventOp : std::uint8_t {
  load,     // global -> SRAM: `bytes` read from global memory, written into SRAM
  store,    // SRAM -> global: `bytes` read out of SRAM, written to global memory
  compute,  // on-chip work on tile (row, col): reads `bytes` from SRAM, writes `sram_write` bytes
  // An atomic add done by the L2 (red.global.add: FlashAttention-2's fp32 dQ accumulation): `bytes`
  // leave SRAM/registers once, as a global write; no data comes back. The L2 reads the line from
  // DRAM when it is not resident and keeps the sum dirty.
  reduce,
};
std::string_view event_op_name(EventOp op);

struct TileEvent {
  std::uint32_t kernel = 0;  // index into the algorithm's kernel list
  u64 block = 0;             // thread block id, in launch (grid) order
  EventOp op = EventOp::load;
  Tensor tensor = Tensor::Q;
  u64 head = 0;   // flattened batch*head index of the tensor (K/V: the K/V head)
  u64 row = 0;    // tile row index (in the tensor's own tiling)
  u64 col = 0;    // tile column index (0 for N x d tensors)
  u64 rows = 0;   // tile shape in elements (ragged edges are smaller)
  u64 cols = 0;
  u64 bytes = 0;       // bytes moved (load/store) or read from SRAM (compute)
  u64 sram_write = 0;  // compute only: bytes written into SRAM (S and P tiles kept on chip)
};

}  // namespace attnlab
