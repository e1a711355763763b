// Tile sizes (the paper's Br x Bc) and the SRAM each thread block needs for them.
// Defaults follow the papers; user sizes that do not fit the GPU's SRAM are an error.
#pragma once
#include <string>

#include "hw/gpu.hpp"
#include "sim/config.hpp"

namespace attnlab {

struct TilePlan {
  u64 Br = 0, Bc = 0;          // forward: Q rows x K/V rows per tile
  u64 Br_bwd = 0, Bc_bwd = 0;  // backward (FlashAttention-2 uses its own defaults)
  u64 T = 0;                   // naive: square GEMM tile (T x T output, full d reduction)
  u64 softmax_passes = 1;      // naive: 1 if a whole row of S fits in SRAM, else 2 (max/sum, then normalize)
  u64 smem_fwd = 0, smem_bwd = 0;  // SRAM bytes one thread block needs
  std::string why;             // how the sizes were chosen, for the reader
};

// Throws InputError when user-given --block-q/--block-kv do not fit the SRAM per block.
TilePlan tiles_choose(Algo a, const AttnConfig& c, const GpuSpec& gpu);

// SRAM bytes of one thread block for the given tile sizes (the fit rule of each algorithm).
u64 tiles_smem_flash1(u64 Br, u64 Bc, const AttnConfig& c);
u64 tiles_smem_flash2_fwd(u64 Br, u64 Bc, const AttnConfig& c);
u64 tiles_smem_flash_bwd(u64 Br, u64 Bc, const AttnConfig& c);
u64 tiles_smem_naive(u64 T, const AttnConfig& c);

}  // namespace attnlab
