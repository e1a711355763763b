// Attention masks: which key k a query q may look at, in layer `layer`, for each attention
// pattern the course teaches. One answer three ways: allowed(q, k, layer) for a single cell, an
// N×N grid for small N (the dashboard's masks panel, the lessons), and the exact number of allowed
// cells from a closed form (the scaling model, src/models/scaling.hpp, counts with it, and the tests
// hold the closed forms to a brute-force count of allowed()).
//
// Positions are 0-based: q, k in [0, N). Conventions (each pattern's paper in brackets):
//
//   full         every query sees every key. Causal: k <= q, N(N+1)/2 cells.
//   window w     causal   : q sees itself and the w-1 previous keys (k in [q-w+1, q]): w keys,
//                           fewer in the first w-1 rows. The Mistral paper writes "positions between
//                           i-W and i", which read literally is W+1 keys; we follow the rolling
//                           buffer of W keys it describes, as Hugging Face and FlashAttention's
//                           window_size=(w-1, 0) do. [Mistral 7B, arXiv:2310.06825]
//                bidirect.: q sees floor(w/2) keys on each side plus itself (|q-k| <= w/2): w+1 keys
//                           in the middle rows for even w, as Longformer defines w ("1/2 w tokens on
//                           each side") and ModernBERT's 128-token window (64 each side) does.
//                           [Longformer, arXiv:2004.05150; ModernBERT, arXiv:2412.13663]
//   strided s    causal   : k <= q and ((q-k) < s or (q-k) is a multiple of s): the union of the
//                           Sparse Transformer's two strided heads (previous s keys, every s-th
//                           key); the paper's "merged head". Bidirectional: the same test on |q-k|.
//                           Some course notes draw "every k-th position" as absolute positions
//                           0, k, 2k ...; that is closer to the paper's *fixed* pattern, not this one.
//                           [Sparse Transformer, arXiv:1904.10509]
//   longformer   window w as above plus g global tokens at positions 0..g-1: a global token sees
//                every key and every query sees it (k < g or q < g), within the causal limit when
//                causal. [Longformer, arXiv:2004.05150]
//   alternating  layer l is global (full) when l % k == 0, otherwise a local window w: layers
//                0, k, 2k ... are global, as ModernBERT's global_attn_every_n_layers = 3 (layer 0
//                global) with a 128-token local window. [ModernBERT, arXiv:2412.13663]
//
// A window at least as wide as the sequence is simply full (causal) attention: counts stay exact
// for every w >= 1. Whether such a window is a user error is the CLI's call (see cmd_steps.cpp).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

enum class MaskKind { full, window, strided, longformer, alternating };

struct MaskPattern {
  MaskKind kind = MaskKind::full;
  bool causal = false;
  u64 window = 0;   // window, longformer, alternating (local layers)
  u64 stride = 0;   // strided
  u64 globals = 0;  // longformer: positions 0..globals-1 are global
  u64 every_k = 0;  // alternating: layers 0, k, 2k ... are global
};

// Largest N the exact counts accept: N^2 = 10^36 still fits 128 bits (2^128 ~ 3.4e38).
inline constexpr u64 mask_max_seq = 1'000'000'000'000'000'000ull;
// Largest N for which mask_grid builds the N×N grid (16 M cells).
inline constexpr u64 mask_max_grid = 4096;

// Constructors for each pattern; each checks its parameters (InputError naming the option).
MaskPattern mask_full(bool causal);
MaskPattern mask_window(u64 w, bool causal);
MaskPattern mask_strided(u64 stride, bool causal);
MaskPattern mask_longformer(u64 w, u64 globals, bool causal);
MaskPattern mask_alternating(u64 every_k, u64 local_window, bool causal);

// Pattern name for messages and output ("full", "window", "strided", "longformer", "alternating")
// and its parse ("causal" = full causal; "sliding" = window; "sparse" = strided; "modernbert" =
// alternating). Parsing fills in the kind and direction only; the caller sets the sizes.
std::string_view mask_kind_name(MaskKind k);
MaskKind parse_mask_kind(std::string_view s, std::string_view option);
// "causal window w=4096", "bidirectional longformer w=512 g=1" ...
std::string mask_describe(const MaskPattern& p);
// The arXiv id of the paper the pattern follows ("" for full attention).
std::string_view mask_paper(MaskKind k);

// True when layer `layer` of the pattern is a full (global) layer: always for full, never for
// window/strided/longformer, every k-th layer for alternating.
bool mask_layer_is_global(const MaskPattern& p, u64 layer);

// May query q look at key k in layer `layer`? q, k in [0, n) are the caller's business.
bool mask_allowed(const MaskPattern& p, u64 q, u64 k, u64 layer = 0);

// Exact number of keys row q sees in a sequence of n tokens (decode: the newest token is q = n-1).
u128 mask_row_count(const MaskPattern& p, u64 n, u64 q, u64 layer = 0);

// Exact number of allowed (q, k) cells in the n×n matrix of layer `layer`, from the closed forms.
// n in [1, mask_max_seq].
u128 mask_count(const MaskPattern& p, u64 n, u64 layer = 0);

// The same count by asking mask_allowed for every cell: the check on the closed forms (tests, small n).
u128 mask_count_brute(const MaskPattern& p, u64 n, u64 layer = 0);

// Row-major n×n grid, grid[q*n + k] = allowed. n in [1, mask_max_grid].
std::vector<bool> mask_grid(const MaskPattern& p, u64 n, u64 layer = 0);

// The grid drawn in text, one row per query: '#' allowed, '.' masked.
std::string mask_grid_text(const MaskPattern& p, u64 n, u64 layer = 0);

// Closed forms the counts are built from (exposed for the scaling model and the tests).
// Sum over rows q = 0..n-1 of min(q+1, w): a causal band of w keys.
u128 causal_band_count(u64 n, u64 w);
// Cells with |q-k| <= h in an n×n matrix.
u128 symmetric_band_count(u64 n, u64 h);
// Sum over q = 0..n-1 of floor(q/s).
u128 floor_sum(u64 n, u64 s);

}  // namespace attnlab
