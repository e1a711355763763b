// Token placement and per-step launches of ring attention's layouts (see ring_placement.hpp).
#include "models/ring_placement.hpp"

#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <stdexcept>

#include "util/errors.hpp"

namespace attnlab {

void ring_placement_validate(const RingPlacement& p) {
  if (p.devices < 1) throw InputError(fmt::format("--devices must be at least 1 (got {})", p.devices));
  if (p.block < 1) throw InputError(fmt::format("--block must be at least 1 (got {})", p.block));
  if (p.layout == RingLayout::zigzag && p.block % 2 != 0)
    throw InputError(fmt::format("--layout zigzag holds two chunks of n / 2 tokens per device: --block must be even "
                                 "(got {})", p.block));
}

namespace {
// The global chunk a local chunk is (contiguous and zigzag, whose chunks are token ranges).
int global_chunk(const RingPlacement& p, int dev, int c) {
  if (p.layout == RingLayout::zigzag) return c == 0 ? dev : 2 * p.devices - 1 - dev;
  return dev;
}

// The mask of (query chunk qc of q_dev) x (key chunk kc of kv_dev); nullopt: nothing visible.
std::optional<RingMask> pair_mask(const RingPlacement& p, bool causal, int q_dev, int qc, int kv_dev, int kc) {
  if (!causal) return RingMask::full;
  if (p.layout == RingLayout::striped)  // key i' + P b against query i + P a: b <= a, or b < a when i' > i
    return kv_dev <= q_dev ? RingMask::causal : RingMask::causal_strict;
  // Token ranges of equal length, aligned: before, the same, or after.
  const int gq = global_chunk(p, q_dev, qc), gk = global_chunk(p, kv_dev, kc);
  if (gk < gq) return RingMask::full;
  if (gk == gq) return RingMask::causal;
  return std::nullopt;
}

double mask_pairs(RingMask m, double h) {
  switch (m) {
    case RingMask::full: return h * h;
    case RingMask::causal: return h * (h + 1) / 2;
    case RingMask::causal_strict: return h * (h - 1) / 2;
  }
  return 0;
}

// Does the launch list make local query `ql` see local key `kl`?
bool covers(const RingPlacement& p, const std::vector<RingLaunch>& launches, int ql, int kl) {
  const int h = p.chunk_len(), qc = ql / h, kc = kl / h, rq = ql % h, rk = kl % h;
  for (const RingLaunch& l : launches) {
    const bool hit = l.diagonal_group ? qc == kc : (l.q_chunk == qc && l.kv_chunk == kc);
    if (!hit) continue;
    switch (l.mask) {
      case RingMask::full: return true;
      case RingMask::causal: return rk <= rq;
      case RingMask::causal_strict: return rk < rq;
    }
  }
  return false;
}
}  // namespace

long long ring_token(const RingPlacement& p, int dev, int local) {
  switch (p.layout) {
    case RingLayout::contiguous: return (long long)dev * p.block + local;
    case RingLayout::zigzag: {
      const int h = p.chunk_len();
      return (long long)global_chunk(p, dev, local / h) * h + local % h;
    }
    case RingLayout::striped: return (long long)local * p.devices + dev;
  }
  return 0;
}

const char* ring_mask_name(RingMask m) {
  switch (m) {
    case RingMask::full: return "full";
    case RingMask::causal: return "causal";
    case RingMask::causal_strict: return "causal-strict";
  }
  return "?";
}

std::vector<RingLaunch> ring_step_launches(const RingPlacement& p, bool causal, int q_dev, int kv_dev) {
  const int C = p.chunks();
  std::vector<RingLaunch> out;
  // The pairs (c, c): one launch for all when their masks agree.
  std::vector<std::optional<RingMask>> diag(C);
  for (int c = 0; c < C; ++c) diag[c] = pair_mask(p, causal, q_dev, c, kv_dev, c);
  bool same = true;
  for (int c = 0; c < C; ++c) same = same && diag[c] && *diag[c] == *diag[0];
  if (same) {
    out.push_back({-1, -1, *diag[0], true});
  } else {
    for (int c = 0; c < C; ++c)
      if (diag[c]) out.push_back({c, c, *diag[c], false});
  }
  for (int qc = 0; qc < C; ++qc)
    for (int kc = 0; kc < C; ++kc)
      if (qc != kc)
        if (auto m = pair_mask(p, causal, q_dev, qc, kv_dev, kc)) out.push_back({qc, kc, *m, false});
  return out;
}

double ring_launches_pairs(const RingPlacement& p, const std::vector<RingLaunch>& launches) {
  double pairs = 0;
  for (const RingLaunch& l : launches) pairs += mask_pairs(l.mask, p.chunk_len()) * (l.diagonal_group ? p.chunks() : 1);
  return pairs;
}

RingConfig ring_placement_config(const RingPlacement& p, bool causal) {
  RingConfig c;
  c.seq = u64(p.seq());
  c.devices = u64(p.devices);
  c.causal = causal;
  c.layout = p.layout;
  return c;
}

void ring_placement_check(const RingPlacement& p, bool causal) {
  ring_placement_validate(p);
  const RingConfig c = ring_placement_config(p, causal);
  const double n = p.block;
  // Query/key positions checked token by token: every one for small blocks, else the ends of each
  // chunk and a stride through it.
  std::vector<int> locals;
  for (int l = 0; l < p.block; l += p.block <= 64 ? 1 : std::max(1, p.block / 37)) locals.push_back(l);
  for (int ch = 0; ch < p.chunks(); ++ch)
    for (int r : {0, 1, p.chunk_len() - 2, p.chunk_len() - 1})
      if (r >= 0 && r < p.chunk_len()) locals.push_back(ch * p.chunk_len() + r);
  for (int i = 0; i < p.devices; ++i)
    for (int j = 0; j < p.devices; ++j) {
      const std::vector<RingLaunch> launches = ring_step_launches(p, causal, i, j);
      const double have = ring_launches_pairs(p, launches), want = ring_block_work(c, u64(i), u64(j)) * n * n;
      if (std::fabs(have - want) > 1e-9 * std::max(1.0, want))
        throw std::logic_error(fmt::format("ring {} P={} n={}: device {} on block {} launches {} visible pairs, the "
                                           "model's ring_block_work says {}", ring_layout_name(p.layout), p.devices,
                                           p.block, i, j, have, want));
      for (int ql : locals)
        for (int kl : locals) {
          const bool visible = !causal || ring_token(p, j, kl) <= ring_token(p, i, ql);
          if (covers(p, launches, ql, kl) != visible)
            throw std::logic_error(fmt::format("ring {} P={} n={}: device {} on block {}: local query {} and key {} "
                                               "(tokens {} and {}) are {} but the launches say otherwise",
                                               ring_layout_name(p.layout), p.devices, p.block, i, j, ql, kl,
                                               ring_token(p, i, ql), ring_token(p, j, kl),
                                               visible ? "visible" : "masked"));
        }
    }
}

void ring_gather(const RingPlacement& p, int dev, const void* whole, void* block, long long rows, long long width,
                 int elem) {
  const long long h = p.chunk_len(), row_bytes = width * elem, seq = p.seq();
  const char* src = static_cast<const char*>(whole);
  char* dst = static_cast<char*>(block);
  for (int c = 0; c < p.chunks(); ++c)
    for (long long bh = 0; bh < rows; ++bh)
      for (long long r = 0; r < h; ++r) {
        const long long t = ring_token(p, dev, int(c * h + r));
        std::memcpy(dst + ((c * rows + bh) * h + r) * row_bytes, src + (bh * seq + t) * row_bytes, size_t(row_bytes));
      }
}

void ring_scatter(const RingPlacement& p, int dev, const void* block, void* whole, long long rows, long long width,
                  int elem) {
  const long long h = p.chunk_len(), row_bytes = width * elem, seq = p.seq();
  const char* src = static_cast<const char*>(block);
  char* dst = static_cast<char*>(whole);
  for (int c = 0; c < p.chunks(); ++c)
    for (long long bh = 0; bh < rows; ++bh)
      for (long long r = 0; r < h; ++r) {
        const long long t = ring_token(p, dev, int(c * h + r));
        std::memcpy(dst + (bh * seq + t) * row_bytes, src + ((c * rows + bh) * h + r) * row_bytes, size_t(row_bytes));
      }
}

}  // namespace attnlab
