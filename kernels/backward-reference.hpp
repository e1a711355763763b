// The fp64 CPU reference of the attention backward (dQ, dK, dV) and the gradient check, for
// kernels/attn-bwd-mma.cu. Plain C++: the inputs are the rounded bf16/fp16 values the GPU saw.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "harness.hpp"

namespace attnlab::kernels {

struct BackwardReference {
  std::vector<double> dq;  // [B][H][Nq][d]
  std::vector<double> dk;  // [B][Hkv][Nkv][d], summed over the group's query heads
  std::vector<double> dv;
};

// Straight from the definition, per (b, h): S = scale·Q Kᵀ (bottom-right causal mask), P = softmax
// (a row that sees no key has P = 0), O = P V, dP = dO Vᵀ, D = rowsum(dO ∘ O), dS = P ∘ (dP − D),
// dQ = scale·dS K, dK += scale·dSᵀ Q, dV += Pᵀ dO. O(B·H·Nq·Nkv·d): for check sizes only.
BackwardReference reference_backward(const AttnShape& s, const HostInputs& in, const std::vector<std::uint16_t>& d_o,
                                     double scale);

// Tolerance by precision on a whole gradient tensor: ‖got − ref‖/‖ref‖ <= rel_l2 and every
// |got − ref| <= atol_frac · max|ref| (the gradients' scale varies with N, so the absolute bound
// follows the tensor's largest entry). bf16 rounds P, dS and the output to 8 mantissa bits, fp16 to
// 11: fp16's bounds are 8× tighter.
struct GradTolerance {
  double rel_l2, atol_frac;
};
GradTolerance grad_tolerance(ElemType t);

struct GradCheck {
  bool ok = false;
  size_t unwritten = 0;  // NaN/inf anywhere (poison left behind)
  double rel_l2 = 0, max_abs = 0, max_ref = 0;
  std::string first_failure;  // "i=1234: got 0.25, want 0.3125" or ""
};
GradCheck check_grad(const std::vector<std::uint16_t>& got, const std::vector<double>& ref, ElemType t,
                     const GradTolerance& tol);

}  // namespace attnlab::kernels
