// The Hopper rung's host entry points (kernels in attn-hopper.cu, sm_90a only): the variants its
// program checks and times, beside attn_forward's default (attn_hopper_forward(p, stream) in attn.hpp).
#pragma once
#include <string>

#include "attn.hpp"

namespace attnlab::kernels {

// Variants of the one kernel, chosen at run time (uniform branches, no extra instantiations).
struct HopperOptions {
  bool pingpong = true;     // consumer warpgroups take turns issuing GEMMs
  bool plant_race = false;  // producer skips its "empty" waits: a deliberate bug for the sanitizer study
  // How blocks map to query tiles. per_tile: one block per tile, the hardware hands out tiles as
  // SMs free up (dynamic, balances the unequal causal tiles). persistent: one block per SM taking
  // every gridDim.x-th tile (static), so the next tile's loads overlap this tile's epilogue.
  // automatic: persistent when not causal (+0.7% d128, +4.8% d64), per tile when causal (the
  // static round-robin hands some SMs more diagonal work: -6% d128, -13% at N16384), measured on
  // the H100 (attn-hopper.cu's header).
  enum class Grid { per_tile, persistent, automatic };
  Grid grid = Grid::automatic;
};

// Which problems this rung takes; "" when it can, otherwise the reason.
std::string hopper_refuses(const AttnShape& s);
cudaError_t attn_hopper_forward(const AttnProblem& p, const HopperOptions& opt, cudaStream_t stream);

}  // namespace attnlab::kernels
