// The FP8 rung's host entry points (sm_90a only): the quantize kernels (fp8-quantize.cu: bf16 ->
// e4m3 with scales, V written transposed) and the FP8 forward (attn-fp8-hopper.cu: Q, K, V in
// e4m3, fp32 accumulation, O in bf16). Plain declarations: the program (attn-fp8-main.cpp) is C++.
#pragma once
#include <string>

#include "attn.hpp"

namespace attnlab::kernels {

// Tiles of the FP8 rung, and so the granularity of the block scales: one fp32 scale per
// (batch, head, Br query rows) of Q and per (batch, kv head, Bc keys) of K and of V.
inline constexpr int kFp8Br = 128;
inline constexpr int kFp8Bc = 128;
inline int fp8_q_tiles(const AttnShape& s) { return (s.seq_q + kFp8Br - 1) / kFp8Br; }
inline int fp8_kv_tiles(const AttnShape& s) { return (s.seq_kv + kFp8Bc - 1) / kFp8Bc; }
// V^T's row length in keys: whole tiles, the keys past seq_kv written as zeros.
inline int fp8_vt_cols(const AttnShape& s) { return fp8_kv_tiles(s) * kFp8Bc; }

// How the scales are chosen (the accuracy study compares the three).
//   tensor: one scale per tensor (amax of all of Q, of K, of V / 448); two passes over the input.
//   block: one scale per tile (amax of the tile / 448); one pass.
//   block_hadamard: Q and K first multiplied along head_dim by the same random orthogonal matrix
//     M = H diag(signs) / sqrt(d) (H: Sylvester-Hadamard), so Q K^T is unchanged while an outlier
//     is spread over all d coordinates; then block scales. V is quantized as in `block`.
enum class Fp8Scaling { tensor, block, block_hadamard };
const char* fp8_scaling_name(Fp8Scaling m);  // "fp8-tensor", "fp8-block", "fp8-block-hadamard"

// bf16 inputs (BHND as everywhere) -> the FP8 rung's inputs.
//   q8 [B][H][Nq][d] e4m3, k8 [B][Hkv][Nkv][d] e4m3, vt8 [B][Hkv][d][vt_cols] e4m3 (V transposed;
//   within every 32 keys the columns are permuted, see attn-fp8-hopper.cu), sq [B][H][q_tiles],
//   sk and sv [B][Hkv][kv_tiles] fp32 (stored value x scale = the real value).
//   signs: d floats of +-1 on the device (block_hadamard only).
struct Fp8QuantizeArgs {
  AttnShape shape;
  const void *q = nullptr, *k = nullptr, *v = nullptr;
  void *q8 = nullptr, *k8 = nullptr, *vt8 = nullptr;
  float *sq = nullptr, *sk = nullptr, *sv = nullptr;
  const float* signs = nullptr;
};
cudaError_t fp8_quantize(const Fp8QuantizeArgs& a, Fp8Scaling m, cudaStream_t stream);

struct Fp8Problem {
  AttnShape shape;  // dtype is ignored: inputs e4m3, O bf16
  const void *q8 = nullptr, *k8 = nullptr, *vt8 = nullptr;
  const float *sq = nullptr, *sk = nullptr, *sv = nullptr;
  void* o = nullptr;  // [B][H][Nq][d] bf16
  float scale = 0;    // softmax scale, 1/sqrt(d)
};
struct Fp8Options {
  // Consumer warpgroups take turns issuing GEMMs (the bf16 rung's ping-pong). automatic: on at
  // d = 128, off at d = 64, where it measured slower on the H200 (attn-fp8-hopper.cu's header).
  enum class PingPong { automatic, on, off };
  PingPong pingpong = PingPong::automatic;
  // Persistent grid (one block per SM) when not causal, one block per query tile when causal:
  // the bf16 rung's choice (attn-hopper.hpp). per_tile forces one block per tile.
  bool per_tile = false;
  // Where the softmax's exp2 runs (d = 128 only; d = 64 always uses mufu). Measured on the H200,
  // all slower than mufu (attn-fp8-hopper.cu's header): kept so the comparison can be re-run.
  // mufu: ex2.approx.f32 on
  // the MUFU/XU pipe, 16 a cycle per SM. poly25 / poly50: a quarter / half of each row's exp2 as a
  // degree-3 polynomial on the FMA pipe (FlashAttention-4's idea; max rel. error 1.7e-4, far below
  // e4m3's 6%). half2: two exp2 per MUFU instruction (ex2.approx.f16x2), P kept in f16 pairs that
  // convert straight to e4m3 pairs, row sums added in f16 pairs then in fp32.
  enum class Exp2 { mufu, poly25, poly50, half2 };
  Exp2 exp2 = Exp2::mufu;
  // Row maxima of S as trees, both rows' shuffles together (true), or as one dependent chain per
  // row (false, the first version). The same values either way; tree measured 0.8-2.6% slower on
  // the H200, so false is the default.
  bool tree_max = false;
};
const char* fp8_exp2_name(Fp8Options::Exp2 e);  // "mufu", "poly25", "poly50", "half2"

// "" when the rung takes the problem, otherwise why not.
std::string fp8_refuses(const AttnShape& s);
cudaError_t attn_fp8_forward(const Fp8Problem& p, const Fp8Options& opt, cudaStream_t stream);

}  // namespace attnlab::kernels
