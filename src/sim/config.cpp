#include "sim/config.hpp"

#include <fmt/format.h>

namespace attnlab {

std::string_view algo_name(Algo a) {
  switch (a) {
    case Algo::naive: return "naive";
    case Algo::flash1: return "flash1";
    case Algo::flash2: return "flash2";
  }
  return "?";
}

Algo parse_algo(std::string_view s) {
  for (Algo a : {Algo::naive, Algo::flash1, Algo::flash2})
    if (algo_name(a) == s) return a;
  throw InputError(fmt::format("--algo must be naive, flash1 or flash2 (got '{}')", s));
}

std::vector<Algo> parse_algo_list(std::string_view csv) {
  std::vector<Algo> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    std::string_view item = csv.substr(start, comma == std::string_view::npos ? csv.npos : comma - start);
    Algo a = parse_algo(item);
    for (Algo seen : out)
      if (seen == a) throw InputError(fmt::format("--algo lists '{}' twice", item));
    out.push_back(a);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string_view pass_name(Pass p) {
  switch (p) {
    case Pass::fwd: return "fwd";
    case Pass::bwd: return "bwd";
    case Pass::fwd_bwd: return "fwd+bwd";
  }
  return "?";
}

Pass parse_pass(std::string_view s) {
  if (s == "fwd") return Pass::fwd;
  if (s == "bwd") return Pass::bwd;
  if (s == "fwd+bwd" || s == "fwd_bwd" || s == "train") return Pass::fwd_bwd;
  throw InputError(fmt::format("--pass must be fwd, bwd or fwd+bwd (got '{}')", s));
}

namespace {
void check_range(u64 v, const char* option, u64 min, u64 max) {
  if (v < min || v > max) throw InputError(fmt::format("{} must be between {} and {} (got {})", option, min, max, v));
}
}  // namespace

void validate(const AttnConfig& c) {
  check_range(c.batch, "--batch", 1, kMaxBatch);
  check_range(c.heads, "--heads", 1, kMaxHeads);
  check_range(c.seq, "--seq", 1, kMaxSeq);
  check_range(c.head_dim, "--head-dim", 1, kMaxHeadDim);
  if (c.kv_heads != 0) {
    check_range(c.kv_heads, "--kv-heads", 1, c.heads);
    if (c.heads % c.kv_heads != 0)
      throw InputError(fmt::format("--kv-heads {} must divide --heads {} (query heads are shared in equal groups)",
                                   c.kv_heads, c.heads));
  }
  if (c.dtype == DType::int4 || c.dtype == DType::tf32)
    throw InputError(fmt::format("--dtype must be fp32, fp16, bf16 or fp8 (got '{}')", dtype_name(c.dtype)));
  // FP8 attention kernels (FlashAttention-3's, ours) are forward-only: training keeps 16-bit gradients.
  if (c.dtype == DType::fp8 && c.has_bwd())
    throw InputError("--dtype fp8 is simulated for the forward pass only (--pass fwd): FP8 attention kernels have no backward");
  if (c.block_q != 0) check_range(c.block_q, "--block-q", 1, 4096);
  if (c.block_kv != 0) check_range(c.block_kv, "--block-kv", 1, 4096);
  if (c.block_q_bwd != 0) check_range(c.block_q_bwd, "--block-q-bwd", 1, 4096);
  if (c.block_kv_bwd != 0) check_range(c.block_kv_bwd, "--block-kv-bwd", 1, 4096);
  if ((c.block_q_bwd != 0 || c.block_kv_bwd != 0) && !c.has_bwd())
    throw InputError("--block-q-bwd/--block-kv-bwd are the backward's tiles: give --pass bwd or fwd+bwd");
}

}  // namespace attnlab
