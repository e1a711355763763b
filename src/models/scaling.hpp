// How the cost of attention grows with the length of the text, for every family the course
// teaches: exact counts of score entries (or recurrent steps), FLOPs, and the per-token cost and
// memory of decoding as the context grows. The learner's first question: "10 words -> 100
// comparisons, 100,000 words -> 10 billion; what do the alternatives cost?"
//
// Families (the mask conventions are in src/models/masks.hpp, which counts the score entries):
//   full         N^2 score entries (N(N+1)/2 causal).                          [arXiv:1706.03762]
//   window       sliding window w, Mistral's W = 4096: about N·w.              [arXiv:2310.06825]
//   longformer   local window w plus g global tokens.                          [arXiv:2004.05150]
//   strided      Sparse Transformer, stride s = floor(sqrt(N)) unless given: O(N sqrt N). [arXiv:1904.10509]
//   alternating  ModernBERT: global every k-th layer (k = 3), local window 128 otherwise; every
//                per-layer figure is the mean over the layer stack.           [arXiv:2412.13663]
//   linear       Performer-style phi(Q) (phi(K)^T V) with r features: O(N·r·d), an r×d state
//                per head (plus the r-vector normaliser). With r = d it is the course's O(N·d²).
//                                                                              [arXiv:2009.14794]
//   ssm          Mamba's selective scan: N steps × D channels × n state, a constant D×n state
//                at decode instead of a KV cache growing with N.               [arXiv:2312.00752]
//
// What is counted (per layer, summed over heads; "work" and decode keys per head):
//   attention FLOPs   = 4 · d · heads · (allowed score entries): 2 for each multiply-add of Q·Kᵀ
//                       and of P·V, only over allowed entries (an ideal sparse kernel). Softmax,
//                       projections and the feature map are left out, as in 4·N²·d.
//   linear FLOPs      = 4 · N · r · d · heads: building the state phi(K)ᵀV (2·N·r·d) and reading
//                       it with phi(Q) (2·N·r·d). The feature map itself (another 2·N·r·d for each
//                       of phi(Q), phi(K)) and the normaliser are left out.
//   ssm FLOPs         = 6 · N · D · n: per step, channel and state element: Δ·A (1), B̄x = (Δx)·B
//                       (1), h = Ā·h + B̄x (2), y += C·h (2). The exp in Ā = exp(ΔA) is one more
//                       operation per element, not counted as a FLOP; projections and the
//                       short convolution are left out.
//   decode            the newest token at context N, with each pattern's causal form (decoding is
//                       causal even for an encoder's bidirectional pattern): the keys it reads, its
//                       FLOPs, and what must stay in memory per layer: the KV cache (2 · keys kept ·
//                       d · heads elements: all N for full and strided, whose future queries need
//                       any key; the window plus the global keys otherwise), Performer's
//                       heads · (r·d + r) state, or Mamba's D·n state plus the D·(conv−1)
//                       convolution buffer.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "hw/dtype.hpp"
#include "models/masks.hpp"
#include "models/scaling_count.hpp"

namespace attnlab {

enum class Family { full, window, longformer, strided, alternating, linear, ssm };

// Which direction each attention family's mask takes: the one its paper uses (full and the
// encoders bidirectional, Mistral and the Sparse Transformer causal), or all causal / all
// bidirectional. Linear attention costs the same either way; an SSM scan is always causal.
enum class Direction { paper, causal, bidirectional };

struct ScalingConfig {
  u64 head_dim = 64;            // d
  u64 heads = 12;               // attention heads per layer (d_model = heads · d = 768)
  u64 layers = 32;              // Mistral 7B's 32 layers: receptive field 4096 · 32
  u64 window = 4096;            // sliding window (Mistral 7B)
  u64 longformer_window = 512;  // Longformer's w (base model setting)
  u64 globals = 1;              // Longformer global tokens: [CLS]
  u64 stride = 0;               // strided: 0 = floor(sqrt(N)) for each N
  u64 every_k = 3;              // alternating: a global layer every k layers
  u64 local_window = 128;       // alternating: local window (ModernBERT)
  u64 features = 256;           // linear: r random features
  u64 state = 16;               // ssm: state size n (Mamba)
  u64 channels = 1536;          // ssm: D = expand (2) · d_model (768)
  u64 conv_width = 4;           // ssm: Mamba's short causal convolution
  Direction direction = Direction::paper;
  DType dtype = DType::fp16;    // bytes per element of KV caches and recurrent states
};

// Largest N: score entries (N^2 <= 10^36) stay exact below 2^128.
inline constexpr u64 scaling_max_seq = mask_max_seq;

std::string_view family_name(Family f);   // "full", "window", ... (the --families spelling)
std::string_view family_label(Family f);  // "sliding window (Mistral)" ... (for tables)
std::string_view family_paper(Family f);  // "arXiv:2310.06825" ...
Family parse_family(std::string_view s, std::string_view option);  // also sliding, sparse, modernbert, performer, mamba
const std::vector<Family>& all_families();
bool family_is_attention(Family f);  // has a score matrix (not linear, not ssm)

// The integer square root floor(sqrt(n)): the Sparse Transformer's default stride.
u64 isqrt_floor(u64 n);

// Direction the family's mask takes under `cfg.direction`.
bool family_causal(Family f, Direction d);
// The family's mask at length n (stride resolved for n); for attention families only.
MaskPattern family_mask(Family f, u64 n, const ScalingConfig& cfg);

struct FamilyCost {
  Family family = Family::full;
  u64 n = 0;
  bool causal = false;      // mask direction (ssm: always true)
  u64 stride = 0;           // strided: the stride used for this n
  PerLayer work;            // attention: allowed score entries per head; linear/ssm: N steps
  PerLayer flops;           // per layer, all heads (or channels)
  PerLayer decode_keys;     // attention: keys the newest token reads, per head; else 0
  PerLayer decode_flops;    // per new token, per layer
  PerLayer decode_elements; // kept for decoding, per layer: KV cache or recurrent state
  PerLayer decode_bytes;    // decode_elements · dtype size
  PerLayer scan_updates;    // ssm: state-element updates of the selective scan, N·D·n; else 0
  bool window_covers_seq = false;  // family_window_covers: the row equals full (or causal) attention
};

// Whether a windowed family's window reaches every key of a length-n text, so that at this n it
// costs what full (causal: causal) attention costs: the window of window, longformer and
// alternating's local layers (causal: w >= n; bidirectional: w/2 + 1 >= n). False for the others.
bool family_window_covers(Family f, u64 n, const ScalingConfig& cfg, bool causal);

// Cost of one family at length n (n in [1, scaling_max_seq]); validates cfg.
FamilyCost scaling_cost(Family f, u64 n, const ScalingConfig& cfg);

// FLOPs ratio of two costs (a / b), e.g. the same family at two lengths, or a family against full
// attention. Both must average over the same number of layers.
double scaling_ratio(const PerLayer& a, const PerLayer& b);

// "If it takes `base_seconds` at `base`, how long at `at`?" Time scales with FLOPs (same hardware,
// same efficiency): 100× for full attention from 10,000 to 100,000 tokens, 10× for linear.
double scaling_whatif_seconds(const FamilyCost& at, const FamilyCost& base, double base_seconds);

// The course's table: the N×N score matrix a naive kernel writes, per head.
struct ScoreMatrix {
  u64 n = 0;
  u128 entries = 0;          // N^2 (the matrix is stored whole even when causal)
  u128 computed = 0;         // entries computed: N^2, or N(N+1)/2 when causal
  u128 bytes_fp32 = 0;
  u128 bytes_fp16 = 0;
  Count flops;               // 4 · d · computed
};
ScoreMatrix scaling_score_matrix(u64 n, u64 head_dim, bool causal);

// Receptive field of a stack of windowed layers: the papers' figure w · layers (Mistral: 4096 · 32
// = 131,072; Longformer: l · w), and the exact reach under our convention: causal, each layer
// moves information back w-1 positions, so a token hears layers·(w-1)+1 positions (itself
// included); bidirectional, floor(w/2) each way per layer: 2·layers·floor(w/2)+1.
struct ReceptiveField {
  u128 paper = 0;
  u128 exact = 0;
};
ReceptiveField scaling_receptive_field(u64 window, u64 layers, bool causal);

}  // namespace attnlab
