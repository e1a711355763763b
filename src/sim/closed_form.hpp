// Closed forms of the traffic: for each kernel of an algorithm, the exact bytes each tensor moves
// between global memory and SRAM, and the SRAM bytes of on-chip work, as formulas in N, d, Br,
// Bc (sums over tile rows where causal masks or ragged tiles make the count uneven; O(N/Br) work).
// They answer for any size in microseconds; tests hold them equal to the event trace.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/events.hpp"
#include "sim/tiles.hpp"

namespace attnlab {

// A row statistic of the online softmax (m or l, or the backward's lse and D): one fp32 per query row.
inline constexpr u64 kStatBytes = 4;

struct LevelBytes {
  u128 read = 0, write = 0;
  u128 total() const { return cadd(read, write, "bytes"); }
  LevelBytes& operator+=(const LevelBytes& o) {
    read = cadd(read, o.read, "bytes read");
    write = cadd(write, o.write, "bytes written");
    return *this;
  }
};

// Bytes summed over the tensors.
LevelBytes level_sum(const std::array<LevelBytes, kTensorCount>& per_tensor);

struct KernelCounts {
  std::string name;
  std::array<LevelBytes, kTensorCount> hbm{};  // global memory, per tensor
  LevelBytes sram;                             // SRAM bytes read / written (loads, stores, on-chip work)
  LevelBytes hbm_total() const;
};

// The visible (query tile, key tile) pairs of an N x N score matrix cut into Br x Bc tiles, and
// the sums the traffic formulas need: Σ rows, Σ cols, Σ rows·cols over visible pairs.
struct PairSums {
  u128 pairs = 0, sum_r = 0, sum_c = 0, sum_rc = 0;
};
PairSums pair_sums(u64 N, u64 Br, u64 Bc, bool causal);
// The same for c's mask: full, causal or a sliding window (kernel_plan.hpp's kv_tiles).
PairSums pair_sums(const AttnConfig& c, u64 Br, u64 Bc);

// Per kernel, in the same order as plan_algorithm() (sim/kernel_plan.hpp).
std::vector<KernelCounts> closed_form_counts(Algo a, const AttnConfig& c, const TilePlan& t);

// The papers' IO-complexity expressions with their constants, in bytes, for the forward pass:
// standard attention Θ(Nd + N²): 4Nd + 4N² elements per head read+written (Alg. 0, no GEMM
// re-reads); FlashAttention Θ(N²d²/M) with M = SRAM elements per block (Theorem 2).
u128 paper_io_standard_fwd(const AttnConfig& c);
u128 paper_io_flash_fwd(const AttnConfig& c, u64 sram_bytes);

}  // namespace attnlab
