// "Same math, proved": standard attention and tiled attention with the online softmax, computed
// numerically on the CPU in fp32 and fp64 from the same seeded random inputs. FlashAttention
// changes where the numbers travel, not what they are: the differences are rounding only.
#pragma once
#include "util/checked.hpp"

namespace attnlab {

struct VerifyResult {
  u64 seq = 0, head_dim = 0, Br = 0, Bc = 0;
  bool causal = false;
  double max_diff_fp32 = 0;   // max |naive − tiled|, both in fp32
  double max_diff_fp64 = 0;   // max |naive − tiled|, both in fp64
  double max_err_fp32 = 0;    // max |tiled fp32 − naive fp64|: the rounding of fp32 itself
  double max_abs_out = 0;     // max |O|, for scale
};

inline constexpr u64 kVerifyMaxSeq = 4096;

// One head of N x d; inputs uniform in [-1, 1) from `seed`. Throws InputError past kVerifyMaxSeq.
VerifyResult verify_same_math(u64 seq, u64 head_dim, bool causal, u64 Br, u64 Bc, u64 seed = 42);

}  // namespace attnlab
