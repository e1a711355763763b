#include "models/masks.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "util/errors.hpp"

namespace attnlab {

namespace {

void require_positive(u64 v, const char* what) {
  if (v < 1 || v > mask_max_seq)
    throw InputError(fmt::format("mask {} must be between 1 and {} (got {})", what, mask_max_seq, v));
}

void require_n(u64 n, u64 limit, const char* what) {
  if (n < 1 || n > limit)
    throw InputError(fmt::format("{} must be between 1 and {} (got {})", what, limit, n));
}

// The local window test shared by window, longformer and the local layers of alternating.
bool window_allows(u64 w, bool causal, u64 q, u64 k) {
  if (causal) return k <= q && q - k < w;
  u64 dist = q > k ? q - k : k - q;
  return dist <= w / 2;
}

// Keys of row q (of an n-token sequence) within |q-k| <= h.
u128 symmetric_band_row(u64 n, u64 q, u64 h) {
  u64 lo = q > h ? q - h : 0;
  u64 hi = (n - 1 - q) > h ? q + h : n - 1;
  return u128{hi} - lo + 1;
}

// Count of the local-window part of a pattern on an n×n matrix (n may be 0: the longformer
// sub-matrix when every token is global).
u128 window_count(u64 w, bool causal, u64 n) {
  if (n == 0) return 0;
  return causal ? causal_band_count(n, w) : symmetric_band_count(n, w / 2);
}

u128 window_row(u64 w, bool causal, u64 n, u64 q) {
  return causal ? u128{std::min<u64>(q + 1, w)} : symmetric_band_row(n, q, w / 2);
}

}  // namespace

// ---- closed forms ---------------------------------------------------------------------------

u128 causal_band_count(u64 n, u64 w) {
  if (w == 0 || n == 0) return 0;
  if (w >= n) return cmul(n, u128{n} + 1, "causal band count") / 2;
  // The first w rows are a triangle 1 + 2 + ... + w, the other n - w rows hold w keys each.
  u128 triangle = cmul(w, u128{w} + 1, "causal band count") / 2;
  return cadd(triangle, cmul(n - w, w, "causal band count"), "causal band count");
}

u128 symmetric_band_count(u64 n, u64 h) {
  if (n == 0) return 0;
  if (h >= n - 1) return cmul(n, n, "band count");
  // Symmetric about the diagonal: the lower half with the diagonal is a causal band of h+1 keys;
  // doubling it counts the diagonal twice.
  return csub(cmul(2, causal_band_count(n, h + 1), "band count"), n, "band count");
}

u128 floor_sum(u64 n, u64 s) {
  // Rows q = j*s ... j*s + s-1 all have floor(q/s) = j. n = a*s + b: a whole blocks, j = 0..a-1,
  // then b rows with value a.
  u64 a = n / s, b = n % s;
  u128 whole = a == 0 ? 0 : cmul(cmul(a, a - 1, "strided count") / 2, s, "strided count");
  return cadd(whole, cmul(a, b, "strided count"), "strided count");
}

// ---- constructors and names -----------------------------------------------------------------

MaskPattern mask_full(bool causal) { return MaskPattern{MaskKind::full, causal, 0, 0, 0, 0}; }

MaskPattern mask_window(u64 w, bool causal) {
  require_positive(w, "window");
  return MaskPattern{MaskKind::window, causal, w, 0, 0, 0};
}

MaskPattern mask_strided(u64 stride, bool causal) {
  require_positive(stride, "stride");
  return MaskPattern{MaskKind::strided, causal, 0, stride, 0, 0};
}

MaskPattern mask_longformer(u64 w, u64 globals, bool causal) {
  require_positive(w, "window");
  if (globals > mask_max_seq)
    throw InputError(fmt::format("mask global tokens must be at most {} (got {})", mask_max_seq, globals));
  return MaskPattern{MaskKind::longformer, causal, w, 0, globals, 0};
}

MaskPattern mask_alternating(u64 every_k, u64 local_window, bool causal) {
  require_positive(every_k, "global-layer interval k");
  require_positive(local_window, "local window");
  return MaskPattern{MaskKind::alternating, causal, local_window, 0, 0, every_k};
}

std::string_view mask_kind_name(MaskKind k) {
  switch (k) {
    case MaskKind::full: return "full";
    case MaskKind::window: return "window";
    case MaskKind::strided: return "strided";
    case MaskKind::longformer: return "longformer";
    case MaskKind::alternating: return "alternating";
  }
  return "?";
}

MaskKind parse_mask_kind(std::string_view s, std::string_view option) {
  if (s == "full" || s == "causal") return MaskKind::full;
  if (s == "window" || s == "sliding") return MaskKind::window;
  if (s == "strided" || s == "sparse") return MaskKind::strided;
  if (s == "longformer") return MaskKind::longformer;
  if (s == "alternating" || s == "modernbert") return MaskKind::alternating;
  throw InputError(fmt::format("{} must be full, causal, window, strided, longformer or alternating (got '{}')",
                               option, s));
}

std::string mask_describe(const MaskPattern& p) {
  std::string dir = p.causal ? "causal" : "bidirectional";
  switch (p.kind) {
    case MaskKind::full: return dir + " full";
    case MaskKind::window: return fmt::format("{} window w={}", dir, p.window);
    case MaskKind::strided: return fmt::format("{} strided s={}", dir, p.stride);
    case MaskKind::longformer: return fmt::format("{} longformer w={} g={}", dir, p.window, p.globals);
    case MaskKind::alternating:
      return fmt::format("{} alternating: global every {} layers, local w={}", dir, p.every_k, p.window);
  }
  return dir;
}

std::string_view mask_paper(MaskKind k) {
  switch (k) {
    case MaskKind::full: return "";
    case MaskKind::window: return "arXiv:2310.06825";  // Mistral 7B (causal); Longformer for bidirectional
    case MaskKind::strided: return "arXiv:1904.10509";
    case MaskKind::longformer: return "arXiv:2004.05150";
    case MaskKind::alternating: return "arXiv:2412.13663";
  }
  return "";
}

bool mask_layer_is_global(const MaskPattern& p, u64 layer) {
  if (p.kind == MaskKind::full) return true;
  if (p.kind == MaskKind::alternating) return layer % p.every_k == 0;
  return false;
}

// ---- one cell, one row, the whole matrix ----------------------------------------------------

bool mask_allowed(const MaskPattern& p, u64 q, u64 k, u64 layer) {
  if (p.causal && k > q) return false;
  switch (p.kind) {
    case MaskKind::full: return true;
    case MaskKind::window: return window_allows(p.window, p.causal, q, k);
    case MaskKind::strided: {
      u64 dist = q > k ? q - k : k - q;
      return dist < p.stride || dist % p.stride == 0;
    }
    case MaskKind::longformer:
      return k < p.globals || q < p.globals || window_allows(p.window, p.causal, q, k);
    case MaskKind::alternating:
      return mask_layer_is_global(p, layer) || window_allows(p.window, p.causal, q, k);
  }
  return false;
}

u128 mask_row_count(const MaskPattern& p, u64 n, u64 q, u64 layer) {
  require_n(n, mask_max_seq, "sequence length");
  if (q >= n) throw InputError(fmt::format("query position must be below the sequence length {} (got {})", n, q));
  switch (p.kind) {
    case MaskKind::full: return p.causal ? u128{q} + 1 : u128{n};
    case MaskKind::window: return window_row(p.window, p.causal, n, q);
    case MaskKind::strided: {
      // Keys at or before q: distances 0..s-1, then s, 2s, ... up to q.
      u128 left = u128{std::min<u64>(q + 1, p.stride)} + q / p.stride;
      if (p.causal) return left;
      u64 after = n - 1 - q;  // keys after q: distances 1..after
      return left + std::min<u64>(after, p.stride - 1) + after / p.stride;
    }
    case MaskKind::longformer: {
      u64 g = std::min(p.globals, n);
      if (q < g) return p.causal ? u128{q} + 1 : u128{n};
      // Every global key, plus the window inside the non-global tokens g..n-1.
      return u128{g} + window_row(p.window, p.causal, n - g, q - g);
    }
    case MaskKind::alternating:
      if (mask_layer_is_global(p, layer)) return p.causal ? u128{q} + 1 : u128{n};
      return window_row(p.window, p.causal, n, q);
  }
  return 0;
}

u128 mask_count(const MaskPattern& p, u64 n, u64 layer) {
  require_n(n, mask_max_seq, "sequence length");
  u128 full = p.causal ? cmul(n, u128{n} + 1, "score entries") / 2 : cmul(n, n, "score entries");
  switch (p.kind) {
    case MaskKind::full: return full;
    case MaskKind::window: return window_count(p.window, p.causal, n);
    case MaskKind::strided: {
      u128 causal = cadd(causal_band_count(n, p.stride), floor_sum(n, p.stride), "score entries");
      // Symmetric in |q-k|: mirror the lower half; the diagonal is counted once.
      return p.causal ? causal : csub(cmul(2, causal, "score entries"), n, "score entries");
    }
    case MaskKind::longformer: {
      u64 g = std::min(p.globals, n);
      u128 rest = window_count(p.window, p.causal, n - g);  // non-global rows and columns
      if (p.causal) {
        // Global rows q < g see 0..q; every later row sees all g global keys.
        u128 global_rows = cmul(g, u128{g} + 1, "score entries") / 2;
        return cadd(cadd(global_rows, cmul(n - g, g, "score entries"), "score entries"), rest, "score entries");
      }
      // g full rows plus g full columns, their g×g overlap counted once.
      u128 cross = csub(cmul(2 * u128{g}, n, "score entries"), cmul(g, g, "score entries"), "score entries");
      return cadd(cross, rest, "score entries");
    }
    case MaskKind::alternating:
      return mask_layer_is_global(p, layer) ? full : window_count(p.window, p.causal, n);
  }
  return 0;
}

u128 mask_count_brute(const MaskPattern& p, u64 n, u64 layer) {
  require_n(n, mask_max_grid, "sequence length for a brute-force count");
  u128 c = 0;
  for (u64 q = 0; q < n; ++q)
    for (u64 k = 0; k < n; ++k) c += mask_allowed(p, q, k, layer);
  return c;
}

std::vector<bool> mask_grid(const MaskPattern& p, u64 n, u64 layer) {
  require_n(n, mask_max_grid, "sequence length for a mask grid");
  std::vector<bool> g(n * n);
  for (u64 q = 0; q < n; ++q)
    for (u64 k = 0; k < n; ++k) g[q * n + k] = mask_allowed(p, q, k, layer);
  return g;
}

std::string mask_grid_text(const MaskPattern& p, u64 n, u64 layer) {
  std::vector<bool> g = mask_grid(p, n, layer);
  std::string out;
  out.reserve(n * (n + 1));
  for (u64 q = 0; q < n; ++q) {
    for (u64 k = 0; k < n; ++k) out.push_back(g[q * n + k] ? '#' : '.');
    out.push_back('\n');
  }
  return out;
}

}  // namespace attnlab
