// Host helpers of the FP8 rung's program (attn-fp8-main.cpp), plain C++: the accuracy study's
// inputs (normal, with or without outliers), an fp64 reference over float tensors (the harness's
// reference_row reads bf16 bits; the dequantized FP8 inputs are not bf16 values), the error
// figures, and the decoding of what the quantize kernels wrote (e4m3 bytes, scales, V^T's
// permuted columns) back into float tensors.
#pragma once
#include <cstdint>
#include <vector>

#include "harness.hpp"

namespace attnlab::kernels {

// Q, K, V as floats, BHND (K and V: kv_heads).
struct FloatInputs {
  std::vector<float> q, k, v;
};

// N(0, 1) entries rounded to bf16 (the bits in `bits`, their values in the returned floats); with
// outlier_fraction > 0, that fraction of the entries of Q and of K (chosen at random) is
// multiplied by outlier_scale before rounding: FlashAttention-3's accuracy test.
FloatInputs make_normal_inputs(const AttnShape& s, std::uint64_t seed, double outlier_fraction, double outlier_scale,
                               HostInputs& bits);
FloatInputs floats_of(const AttnShape& s, const HostInputs& bits);  // bf16 bits -> floats

// O in fp64 for every row (threads over rows), [B][H][Nq][d].
std::vector<double> reference_all(const AttnShape& s, const FloatInputs& in, double scale);
// The same for the chosen rows only, in the order given.
std::vector<double> reference_rows(const AttnShape& s, const FloatInputs& in, double scale,
                                   const std::vector<RowId>& rows);

struct ErrorFigures {
  double rmse = 0, rel_l2 = 0, max_abs = 0;
  size_t non_finite = 0;
};
// `out` bf16 bits of all of O; `ref` rows of O in fp64: all rows when rows is empty.
ErrorFigures error_figures(const AttnShape& s, const std::vector<std::uint16_t>& out, const std::vector<double>& ref,
                           const std::vector<RowId>& rows);

float e4m3_to_float(std::uint8_t b);
// What the quantize kernels wrote, decoded: q8 [B][H][Nq][d], k8 [B][Hkv][Nkv][d], vt8
// [B][Hkv][d][vt_cols] with the column permutation, scales per tile -> float Q, K, V (BHND).
FloatInputs dequantize(const AttnShape& s, const std::vector<std::uint8_t>& q8, const std::vector<std::uint8_t>& k8,
                       const std::vector<std::uint8_t>& vt8, const std::vector<float>& sq,
                       const std::vector<float>& sk, const std::vector<float>& sv);

}  // namespace attnlab::kernels
