// The shared harness, host half (plain C++): random inputs, the fp64 CPU reference, the output
// check, tolerances by precision, and statistics. The CUDA half (buffers, timing, device facts)
// is harness-cuda.hpp. Every rung is checked through these same functions before it is timed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_choose.hpp"

namespace attnlab::kernels {

// bf16 / fp16 <-> float on the host, round to nearest even (the GPU's conversion).
std::uint16_t float_to_half_bits(float f, ElemType t);
float half_bits_to_float(std::uint16_t h, ElemType t);
// The bit pattern we poison outputs with: a quiet NaN in both formats, so an element a kernel
// forgot to write can never pass the check.
inline constexpr std::uint16_t poison_bits = 0xFFFF;

// Host copies of the inputs (raw bf16/fp16 bits, BHND layout).
struct HostInputs {
  std::vector<std::uint16_t> q, k, v;
};

size_t q_elems(const AttnShape& s);   // = O's element count
size_t kv_elems(const AttnShape& s);  // K's (and V's)

// Fresh random inputs: Q and K uniform in [-2.5, 2.5) so that scores (scale 1/sqrt(d)) have a
// standard deviation near 2 and the softmax is peaked, not flat; V uniform in [-1, 1).
// A flat softmax would hide indexing errors (every row would average to ~0).
HostInputs make_inputs(const AttnShape& s, std::uint64_t seed);

// One output row O[b, h, i, :] in fp64 from the rounded inputs. Optional: the row's log-sum-exp
// (natural log of Σ exp(scale·q·k) over visible keys; −inf and O = 0 when it sees none) and a
// sliding window (AttnProblem::window_left/right; negative = unbounded).
std::vector<double> reference_row(const AttnShape& s, const HostInputs& in, int b, int h, int i, double scale,
                                  double* lse_out = nullptr, int window_left = -1, int window_right = -1);

struct RowId {
  int b, h, i;
};
// Rows to compare: all of them when the problem is small; otherwise the first and last rows of
// every (b, h), the rows around tile edges of 16/32/64, and random ones: up to `max_rows`.
std::vector<RowId> pick_rows(const AttnShape& s, size_t max_rows, std::uint64_t seed);

// Tolerance by precision: |out − ref| <= atol + rtol·|ref| per element, and ‖out − ref‖/‖ref‖
// under rel_l2. fp16 has 3 more mantissa bits than bf16, so its bounds are ~8× tighter.
struct Tolerance {
  double atol, rtol, rel_l2;
};
Tolerance tolerance_for(KernelId id, ElemType t);

struct CheckResult {
  bool ok = false;
  size_t rows_checked = 0;
  size_t unwritten = 0;     // non-finite outputs anywhere in O (poison left behind, or NaN/inf)
  size_t mismatches = 0;    // elements outside atol + rtol·|ref| in the checked rows
  double max_abs_error = 0;
  double rel_l2_error = 0;
  std::string first_failure;  // "b=0 h=3 i=129 d=5: got 0.25, want 0.3125" or ""
  // With CheckExtras::lse: NaN entries anywhere (poison left behind) and the largest error in the
  // checked rows; an entry passes when |got − want| <= 1e-3 + 1e-4·|want| (fp32 statistics).
  size_t lse_unwritten = 0;
  double lse_max_error = 0;
};
struct CheckExtras {
  const std::vector<float>* lse = nullptr;  // the kernel's lse output [B][H][Nq], or nullptr
  int window_left = -1, window_right = -1;  // the mask the kernel was given
};
// `out` is the whole of O copied back (all of it is scanned for poison; `rows` are compared).
CheckResult check_output(const AttnShape& s, const HostInputs& in, const std::vector<std::uint16_t>& out,
                         const std::vector<RowId>& rows, const Tolerance& tol, double scale,
                         const CheckExtras& extras = {});

struct Stats {
  double median = 0, min = 0, max = 0;
};
Stats stats_of(std::vector<double> v);

// The forward's FLOPs (the count: src/sim/flops.hpp, 4·B·H·Nq·Nkv·d, half when causal).
double forward_flops(const AttnShape& s);
// Fewest bytes a forward pass must move: Q, K, V read once, O written once.
double forward_min_bytes(const AttnShape& s);

std::string shape_label(const AttnShape& s);  // "B8 H16/16 N4096 d128 causal bf16"

}  // namespace attnlab::kernels
