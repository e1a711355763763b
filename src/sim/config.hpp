// The question the simulator answers: one attention layer's shape, precision and pass, and
// which algorithm computes it. Every face (CLI flags, dashboard sliders, lesson templates)
// fills an AttnConfig and asks the simulator; nothing else counts bytes.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hw/dtype.hpp"
#include "util/checked.hpp"

namespace attnlab {

// naive  = standard attention (S = QKᵀ and P = softmax(S) written to HBM; FlashAttention paper, Alg. 0)
// flash1 = FlashAttention-1 loop order: outer over K/V tiles, inner over Q tiles (paper, Alg. 1)
// flash2 = FlashAttention-2 order: one thread block per Q tile, K/V streamed, O written once
enum class Algo { naive, flash1, flash2 };
enum class Pass { fwd, bwd, fwd_bwd };

std::string_view algo_name(Algo a);
Algo parse_algo(std::string_view s);                      // throws InputError naming --algo
std::vector<Algo> parse_algo_list(std::string_view csv);  // "naive,flash2"
std::string_view pass_name(Pass p);
Pass parse_pass(std::string_view s);                      // fwd | bwd | fwd+bwd

struct AttnConfig {
  u64 batch = 1;
  u64 heads = 16;
  u64 kv_heads = 0;  // 0 = same as heads (MHA); heads/kv_heads = GQA group size; 1 = MQA
  u64 seq = 4096;    // N: sequence length (queries = keys: self-attention)
  u64 head_dim = 128;  // d
  bool causal = false;
  DType dtype = DType::fp16;              // Q, K, V, O and gradients
  std::optional<DType> score_dtype;       // naive's S and P; default: dtype (fp32 models upcasting)
  Pass pass = Pass::fwd;
  u64 block_q = 0;   // Br; 0 = the algorithm's default
  u64 block_kv = 0;  // Bc; 0 = the algorithm's default
  // The backward's own tiles (flash2: one block per K/V tile of Bc_bwd rows streaming query tiles
  // of Br_bwd rows); 0 = block_q/block_kv when given, else FlashAttention-2's backward defaults.
  u64 block_q_bwd = 0;
  u64 block_kv_bwd = 0;
  // Sliding window (flash2's forward pass): query q sees key k when
  // q − window_left <= k <= q + window_right; a negative side is unbounded, causal caps the right
  // side at 0. Blocks skip the K/V tiles wholly outside the band, as kernels/attn-window.cpp does.
  long long window_left = -1;
  long long window_right = -1;

  u64 kv_heads_eff() const { return kv_heads == 0 ? heads : kv_heads; }
  u64 group() const { return heads / kv_heads_eff(); }  // query heads per K/V head
  DType score_type() const { return score_dtype.value_or(dtype); }
  bool has_fwd() const { return pass != Pass::bwd; }
  bool has_bwd() const { return pass != Pass::fwd; }
  bool windowed() const { return window_left >= 0 || (!causal && window_right >= 0); }
  // FP8 attention, as FlashAttention-3's FP8 path and kernels/' fp8 rung run it: Q, K and V in
  // e4m3 (1 byte) with one fp32 scale per tile (block quantization: Q one per Br rows of a head,
  // K and V one per Bc rows of a K/V head, each read with its tile), O written in bf16: an FP8
  // output would throw away the accuracy the fp32 accumulators kept, and the next layer wants bf16.
  DType out_type() const { return dtype == DType::fp8 ? DType::bf16 : dtype; }
  u64 scale_bytes_per_tile() const { return dtype == DType::fp8 ? kTileScaleBytes : 0; }
  static constexpr u64 kTileScaleBytes = 4;  // one fp32 scale

  // Every field: two configs that compare equal are the same simulation (sim_vs_ncu's cache).
  bool operator==(const AttnConfig&) const = default;
};

// Limits: exact counts are guaranteed inside them (128-bit arithmetic; see util/checked.hpp).
inline constexpr u64 kMaxSeq = u64{1} << 32;
inline constexpr u64 kMaxBatch = u64{1} << 24;
inline constexpr u64 kMaxHeads = u64{1} << 20;
inline constexpr u64 kMaxHeadDim = 1024;

// Throws InputError naming the option and the limit ("--kv-heads 5 must divide --heads 16").
void validate(const AttnConfig& c);

}  // namespace attnlab
