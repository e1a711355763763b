#include "sim/tiles.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "util/units.hpp"

namespace attnlab {

namespace {
u64 elem(const AttnConfig& c) { return dtype_bytes(c.dtype); }
constexpr u64 kMinTile = 16;  // an mma tile is 16 rows: smaller tiles are not worth modelling

// Fits a default (Br, Bc) by halving Bc, then Br, until `smem(Br, Bc)` fits the block's SRAM.
template <typename F>
bool shrink_to_fit(u64& Br, u64& Bc, u64 limit, F smem) {
  while (smem(Br, Bc) > limit) {
    if (Bc > kMinTile && Bc >= Br) Bc /= 2;
    else if (Br > kMinTile) Br /= 2;
    else if (Bc > kMinTile) Bc /= 2;
    else return false;
  }
  return true;
}

[[noreturn]] void throw_no_fit(const char* what, u64 need, const GpuSpec& gpu) {
  throw InputError(fmt::format("{} need {} of SRAM per block; {} allows {} (shrink --block-q/--block-kv or raise --sram-kib)",
                               what, format_bytes(u128{need}), gpu.name, format_bytes(u128{gpu.smem_per_block})));
}
}  // namespace

u64 tiles_smem_flash1(u64 Br, u64 Bc, const AttnConfig& c) {
  // Paper, Alg. 1: Qi, Oi (Br x d) and Kj, Vj (Bc x d) live in SRAM; Sij stays in registers.
  return (2 * Br + 2 * Bc) * c.head_dim * elem(c);
}
u64 tiles_smem_flash2_fwd(u64 Br, u64 Bc, const AttnConfig& c) {
  // Qi (Br x d) plus one Kj and one Vj (Bc x d); O accumulates in registers.
  return (Br + 2 * Bc) * c.head_dim * elem(c);
}
u64 tiles_smem_flash_bwd(u64 Br, u64 Bc, const AttnConfig& c) {
  // Kj, Vj (Bc x d) stay; Qi and dOi (Br x d) stream; dKj, dVj accumulate in registers.
  return (2 * Br + 2 * Bc) * c.head_dim * elem(c);
}
u64 tiles_smem_naive(u64 T, const AttnConfig& c) {
  // A GEMM tile: a T x d panel of each operand.
  return 2 * T * c.head_dim * elem(c);
}

TilePlan tiles_choose(Algo a, const AttnConfig& c, const GpuSpec& gpu) {
  TilePlan t;
  const u64 d = c.head_dim, N = c.seq, limit = gpu.smem_per_block;
  const bool user = c.block_q != 0 || c.block_kv != 0;

  if (a == Algo::naive) {
    t.T = 128;
    while (tiles_smem_naive(t.T, c) > limit && t.T > kMinTile) t.T /= 2;
    if (tiles_smem_naive(t.T, c) > limit) throw_no_fit("naive GEMM tiles of 16 rows", tiles_smem_naive(t.T, c), gpu);
    t.smem_fwd = t.smem_bwd = tiles_smem_naive(t.T, c);
    t.softmax_passes = c.seq * dtype_bytes(c.score_type()) <= limit ? 1 : 2;
    t.why = fmt::format("GEMM tiles {}x{} (cuBLAS-like), full d={} reduction", t.T, t.T, d);
    return t;
  }

  if (a == Algo::flash1) {
    if (c.block_q_bwd != 0 || c.block_kv_bwd != 0)
      throw InputError("--block-q-bwd/--block-kv-bwd: FlashAttention-1's backward uses the forward's tiles "
                       "(--block-q/--block-kv); backward tiles of their own are flash2's");
    // Paper, Alg. 1 line 1: Bc = ceil(M / 4d), Br = min(ceil(M / 4d), d), M = SRAM in elements.
    const u64 M = limit / elem(c);
    u64 Bc = std::max<u64>(1, (M + 4 * d - 1) / (4 * d));
    u64 Br = std::min(Bc, d);
    Bc = std::min(Bc, N);
    Br = std::min(Br, N);
    if (c.block_q) Br = c.block_q;
    if (c.block_kv) Bc = c.block_kv;
    if (user) {
      if (tiles_smem_flash1(Br, Bc, c) > limit)
        throw_no_fit(fmt::format("--block-q {} x --block-kv {} tiles", Br, Bc).c_str(), tiles_smem_flash1(Br, Bc, c), gpu);
    } else if (!shrink_to_fit(Br, Bc, limit, [&](u64 r, u64 k) { return tiles_smem_flash1(r, k, c); })) {
      throw_no_fit("16-row tiles", tiles_smem_flash1(Br, Bc, c), gpu);
    }
    t.Br = t.Br_bwd = Br;
    t.Bc = t.Bc_bwd = Bc;
    t.smem_fwd = t.smem_bwd = tiles_smem_flash1(Br, Bc, c);
    t.why = user ? "user-given Br, Bc" : fmt::format("paper: Bc = ceil(M/4d), Br = min(Bc, d) with M = {} elements", M);
    return t;
  }

  // flash2: FlashAttention-2's defaults, forward 128x128 (d <= 64), 128x64 (d <= 128), 64x64 beyond;
  // backward 128x128 (d <= 64), 64x128 (d <= 128), 64x64 beyond.
  u64 Br = d <= 128 ? 128 : 64, Bc = d <= 64 ? 128 : 64;
  u64 Brb = d <= 64 ? 128 : 64, Bcb = d <= 128 ? 128 : 64;
  if (c.block_q) Br = Brb = c.block_q;
  if (c.block_kv) Bc = Bcb = c.block_kv;
  if (c.block_q_bwd) Brb = c.block_q_bwd;
  if (c.block_kv_bwd) Bcb = c.block_kv_bwd;
  const bool user_bwd = user || c.block_q_bwd != 0 || c.block_kv_bwd != 0;
  if (user_bwd) {
    if (user && tiles_smem_flash2_fwd(Br, Bc, c) > limit)
      throw_no_fit(fmt::format("--block-q {} x --block-kv {} tiles", Br, Bc).c_str(), tiles_smem_flash2_fwd(Br, Bc, c), gpu);
    if (c.has_bwd() && tiles_smem_flash_bwd(Brb, Bcb, c) > limit)
      throw_no_fit(fmt::format("backward tiles {} x {} (--block-q-bwd x --block-kv-bwd)", Brb, Bcb).c_str(),
                   tiles_smem_flash_bwd(Brb, Bcb, c), gpu);
  }
  if (!user && !shrink_to_fit(Br, Bc, limit, [&](u64 r, u64 k) { return tiles_smem_flash2_fwd(r, k, c); }))
    throw_no_fit("16-row tiles", tiles_smem_flash2_fwd(Br, Bc, c), gpu);
  if (!user_bwd && !shrink_to_fit(Brb, Bcb, limit, [&](u64 r, u64 k) { return tiles_smem_flash_bwd(r, k, c); }))
    throw_no_fit("16-row backward tiles", tiles_smem_flash_bwd(Brb, Bcb, c), gpu);
  t.Br = Br;
  t.Bc = Bc;
  t.Br_bwd = Brb;
  t.Bc_bwd = Bcb;
  t.smem_fwd = tiles_smem_flash2_fwd(Br, Bc, c);
  t.smem_bwd = tiles_smem_flash_bwd(Brb, Bcb, c);
  t.why = user ? "user-given Br, Bc" : "FlashAttention-2 defaults for this head dimension";
  if (c.has_bwd() && (c.block_q_bwd != 0 || c.block_kv_bwd != 0)) t.why += "; user-given backward tiles";
  return t;
}

}  // namespace attnlab
