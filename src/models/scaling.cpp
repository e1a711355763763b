#include "models/scaling.hpp"

#include <cmath>
#include <fmt/format.h>

#include "util/errors.hpp"

namespace attnlab {

namespace {

void check(u64 v, const char* option, u64 min, u64 max) {
  if (v < min || v > max) throw InputError(fmt::format("{} must be between {} and {} (got {})", option, min, max, v));
}

void validate(const ScalingConfig& c) {
  check(c.head_dim, "--head-dim", 1, 65536);
  check(c.heads, "--heads", 1, 65536);
  check(c.layers, "--layers", 1, 100000);
  check(c.window, "--window", 1, scaling_max_seq);
  check(c.longformer_window, "--longformer-window", 1, scaling_max_seq);
  check(c.globals, "--globals", 0, scaling_max_seq);
  check(c.stride, "--stride", 0, scaling_max_seq);
  check(c.every_k, "--every-k", 1, 100000);
  check(c.local_window, "--local-window", 1, scaling_max_seq);
  check(c.features, "--features", 1, 1u << 20);
  check(c.state, "--state", 1, 1u << 20);
  check(c.channels, "--channels", 1, 1u << 24);
  check(c.conv_width, "--conv-width", 1, 1024);
  if (dtype_bits(c.dtype) % 8 != 0)
    throw InputError(fmt::format("--dtype must be a whole number of bytes (got {})", dtype_name(c.dtype)));
}

// One kind of layer in the stack and how many layers are of that kind.
struct LayerKind {
  u64 layer;  // a representative layer index
  u64 count;
};

std::vector<LayerKind> layer_kinds(const MaskPattern& m, u64 layers) {
  if (m.kind != MaskKind::alternating) return {{0, layers}};
  // Layers 0, k, 2k ... < layers are global: (layers-1)/k + 1 of them; layer 1 stands for the rest.
  u64 global = (layers - 1) / m.every_k + 1;
  if (global == layers) return {{0, layers}};
  return {{0, global}, {1, layers - global}};
}

}  // namespace

std::string_view family_name(Family f) {
  switch (f) {
    case Family::full: return "full";
    case Family::window: return "window";
    case Family::longformer: return "longformer";
    case Family::strided: return "strided";
    case Family::alternating: return "alternating";
    case Family::linear: return "linear";
    case Family::ssm: return "ssm";
  }
  return "?";
}

std::string_view family_label(Family f) {
  switch (f) {
    case Family::full: return "full attention";
    case Family::window: return "sliding window (Mistral)";
    case Family::longformer: return "Longformer";
    case Family::strided: return "strided (Sparse Transformer)";
    case Family::alternating: return "alternating (ModernBERT)";
    case Family::linear: return "linear (Performer)";
    case Family::ssm: return "SSM (Mamba)";
  }
  return "?";
}

std::string_view family_paper(Family f) {
  switch (f) {
    case Family::full: return "arXiv:1706.03762";
    case Family::window: return "arXiv:2310.06825";
    case Family::longformer: return "arXiv:2004.05150";
    case Family::strided: return "arXiv:1904.10509";
    case Family::alternating: return "arXiv:2412.13663";
    case Family::linear: return "arXiv:2009.14794";
    case Family::ssm: return "arXiv:2312.00752";
  }
  return "";
}

Family parse_family(std::string_view s, std::string_view option) {
  if (s == "full") return Family::full;
  if (s == "window" || s == "sliding") return Family::window;
  if (s == "longformer") return Family::longformer;
  if (s == "strided" || s == "sparse") return Family::strided;
  if (s == "alternating" || s == "modernbert") return Family::alternating;
  if (s == "linear" || s == "performer") return Family::linear;
  if (s == "ssm" || s == "mamba") return Family::ssm;
  throw InputError(fmt::format(
      "{} must be a list of full, window, longformer, strided, alternating, linear, ssm (got '{}')", option, s));
}

const std::vector<Family>& all_families() {
  static const std::vector<Family> all{Family::full,        Family::window, Family::longformer, Family::strided,
                                       Family::alternating, Family::linear, Family::ssm};
  return all;
}

bool family_is_attention(Family f) { return f != Family::linear && f != Family::ssm; }

u64 isqrt_floor(u64 n) {
  u64 r = static_cast<u64>(std::sqrt(static_cast<long double>(n)));
  // The floating-point root can be off by one either way near 2^64; settle it exactly.
  while (r > 0 && static_cast<u128>(r) * r > n) --r;
  while (static_cast<u128>(r + 1) * (r + 1) <= n) ++r;
  return r;
}

bool family_causal(Family f, Direction d) {
  if (f == Family::ssm) return true;  // a scan runs left to right
  if (d == Direction::causal) return true;
  if (d == Direction::bidirectional) return false;
  // The papers: Mistral and the Sparse Transformer decode left to right; full attention as the
  // course counts it (N × N), Longformer, ModernBERT and Performer's encoder setting see both ways.
  return f == Family::window || f == Family::strided;
}

MaskPattern family_mask(Family f, u64 n, const ScalingConfig& cfg) {
  bool causal = family_causal(f, cfg.direction);
  switch (f) {
    case Family::full: return mask_full(causal);
    case Family::window: return mask_window(cfg.window, causal);
    case Family::longformer: return mask_longformer(cfg.longformer_window, cfg.globals, causal);
    case Family::strided: return mask_strided(cfg.stride ? cfg.stride : std::max<u64>(1, isqrt_floor(n)), causal);
    case Family::alternating: return mask_alternating(cfg.every_k, cfg.local_window, causal);
    default: break;
  }
  throw InputError(fmt::format("{} has no attention mask", family_name(f)));
}

bool family_window_covers(Family f, u64 n, const ScalingConfig& cfg, bool causal) {
  // A causal window of w keys (itself and w - 1 before) covers every earlier key once w >= n; a
  // bidirectional one sees floor(w/2) each way, so query 0 reaches key n - 1 once w/2 + 1 >= n.
  auto covers = [&](u64 w) { return (causal ? w : w / 2 + 1) >= n; };
  switch (f) {
    case Family::window: return covers(cfg.window);
    case Family::longformer: return covers(cfg.longformer_window);
    case Family::alternating: return covers(cfg.local_window);
    default: return false;
  }
}

FamilyCost scaling_cost(Family f, u64 n, const ScalingConfig& cfg) {
  validate(cfg);
  check(n, "--seq", 1, scaling_max_seq);
  const u64 L = cfg.layers;
  const Count elem_bytes(u128{dtype_bytes(cfg.dtype)});
  FamilyCost c;
  c.family = f;
  c.n = n;
  c.causal = family_causal(f, cfg.direction);
  c.window_covers_seq = family_window_covers(f, n, cfg, c.causal);
  auto zero = [&] { return PerLayer{Count(0), L}; };
  c.work = c.flops = c.decode_keys = c.decode_flops = c.decode_elements = c.decode_bytes = c.scan_updates = zero();

  if (f == Family::linear) {
    const Count rd = Count(cfg.features) * Count(cfg.head_dim);
    const Count heads(cfg.heads);
    c.work = PerLayer::uniform(Count(n), L);
    c.flops = PerLayer::uniform(Count(4) * Count(n) * rd * heads, L);
    c.decode_flops = PerLayer::uniform(Count(4) * rd * heads, L);
    c.decode_elements = PerLayer::uniform(heads * (rd + Count(cfg.features)), L);
  } else if (f == Family::ssm) {
    const Count dn = Count(cfg.channels) * Count(cfg.state);
    c.work = PerLayer::uniform(Count(n), L);
    c.scan_updates = PerLayer::uniform(Count(n) * dn, L);
    c.flops = PerLayer::uniform(Count(6) * Count(n) * dn, L);
    c.decode_flops = PerLayer::uniform(Count(6) * dn, L);
    c.decode_elements = PerLayer::uniform(dn + Count(cfg.channels) * Count(cfg.conv_width - 1), L);
  } else {
    const MaskPattern m = family_mask(f, n, cfg);
    if (f == Family::strided) c.stride = m.stride;
    MaskPattern decode = m;
    decode.causal = true;
    const Count per_entry = Count(4) * Count(cfg.head_dim) * Count(cfg.heads);
    const Count kv_per_key = Count(2) * Count(cfg.head_dim) * Count(cfg.heads);
    for (const LayerKind& k : layer_kinds(m, L)) {
      const Count layers(k.count);
      const Count entries(mask_count(m, n, k.layer));
      const Count keys(mask_row_count(decode, n, n - 1, k.layer));
      // Full attention and strided patterns may need any earlier key later on: the cache holds all
      // N. A window (with its global tokens) only ever needs the keys the newest token reads.
      bool keeps_all = m.kind == MaskKind::full || m.kind == MaskKind::strided || mask_layer_is_global(m, k.layer);
      const Count kept = keeps_all ? Count(n) : keys;
      c.work.total = c.work.total + layers * entries;
      c.flops.total = c.flops.total + layers * per_entry * entries;
      c.decode_keys.total = c.decode_keys.total + layers * keys;
      c.decode_flops.total = c.decode_flops.total + layers * per_entry * keys;
      c.decode_elements.total = c.decode_elements.total + layers * kv_per_key * kept;
    }
  }
  c.decode_bytes = PerLayer{c.decode_elements.total * elem_bytes, L};
  return c;
}

double scaling_ratio(const PerLayer& a, const PerLayer& b) {
  if (a.layers != b.layers)
    throw InputError(fmt::format("cannot compare figures averaged over {} and {} layers", a.layers, b.layers));
  if (b.total.approx() == 0) return 0;
  return static_cast<double>(a.total.approx() / b.total.approx());
}

double scaling_whatif_seconds(const FamilyCost& at, const FamilyCost& base, double base_seconds) {
  if (at.family != base.family) throw InputError("a what-if compares one family at two lengths");
  return base_seconds * scaling_ratio(at.flops, base.flops);
}

ScoreMatrix scaling_score_matrix(u64 n, u64 head_dim, bool causal) {
  check(n, "--seq", 1, scaling_max_seq);
  check(head_dim, "--head-dim", 1, 65536);
  ScoreMatrix s;
  s.n = n;
  s.entries = cmul(n, n, "score entries");
  s.computed = causal ? cmul(n, u128{n} + 1, "score entries") / 2 : s.entries;
  s.bytes_fp32 = cmul(s.entries, 4, "score matrix bytes");
  s.bytes_fp16 = cmul(s.entries, 2, "score matrix bytes");
  s.flops = Count(4) * Count(head_dim) * Count(s.computed);
  return s;
}

ReceptiveField scaling_receptive_field(u64 window, u64 layers, bool causal) {
  check(window, "--window", 1, scaling_max_seq);
  check(layers, "--layers", 1, 100000);
  ReceptiveField r;
  r.paper = cmul(window, layers, "receptive field");
  if (causal) r.exact = cadd(cmul(window - 1, layers, "receptive field"), 1, "receptive field");
  else r.exact = cadd(cmul(2 * u128{window / 2}, layers, "receptive field"), 1, "receptive field");
  return r;
}

}  // namespace attnlab
