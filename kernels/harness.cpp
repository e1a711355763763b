// The shared harness, host half: see harness.hpp.
#include "harness.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <random>
#include <set>
#include <thread>

#include "sim/flops.hpp"

namespace attnlab::kernels {

// ---------------------------------------------------------------------------------------------
// bf16 / fp16 bits

std::uint16_t float_to_half_bits(float f, ElemType t) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if (t == ElemType::bf16) {
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN stays NaN
    x += 0x7fffu + ((x >> 16) & 1u);                    // round to nearest even
    return static_cast<std::uint16_t>(x >> 16);
  }
  // fp16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
  std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t mag = x & 0x7fffffffu;
  if (mag > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);
  if (mag >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds past 65504: inf
  if (mag < 0x38800000u) {  // below fp16's smallest normal: subnormal or zero
    float af;
    std::memcpy(&af, &mag, 4);
    // Subnormal step is 2^-24; nearbyint rounds to even in the default mode.
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::nearbyint(af * 16777216.0f)));
  }
  std::uint32_t e = ((mag >> 23) - 127 + 15) << 10;
  std::uint32_t m = mag & 0x7fffffu;
  std::uint32_t h = e | (m >> 13);
  std::uint32_t rest = m & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carry may bump the exponent: still right
  return static_cast<std::uint16_t>(sign | h);
}

float half_bits_to_float(std::uint16_t h, ElemType t) {
  if (t == ElemType::bf16) {
    std::uint32_t x = std::uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
  std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t e = (h >> 10) & 0x1fu;
  std::uint32_t m = h & 0x3ffu;
  float f;
  if (e == 0) {
    f = std::ldexp(float(m), -24);
    if (sign) f = -f;
    return f;
  }
  std::uint32_t x = (e == 31) ? (sign | 0x7f800000u | (m << 13)) : (sign | ((e - 15 + 127) << 23) | (m << 13));
  std::memcpy(&f, &x, 4);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Inputs and the fp64 reference

size_t q_elems(const AttnShape& s) { return size_t(s.batch) * s.heads * s.seq_q * s.head_dim; }
size_t kv_elems(const AttnShape& s) { return size_t(s.batch) * s.kv_heads * s.seq_kv * s.head_dim; }

namespace {
void fill(std::vector<std::uint16_t>& v, size_t n, ElemType t, std::uint64_t seed, float lo, float hi) {
  v.resize(n);
  // Split the fill over threads (the device machine has 16 cores; inputs reach ~100 M elements).
  unsigned workers = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + w);
      std::uniform_real_distribution<float> dist(lo, hi);
      for (size_t i = w; i < n; i += workers) v[i] = float_to_half_bits(dist(rng), t);
    });
  }
  for (auto& th : pool) th.join();
}
}  // namespace

HostInputs make_inputs(const AttnShape& s, std::uint64_t seed) {
  HostInputs in;
  fill(in.q, q_elems(s), s.dtype, seed * 3 + 1, -2.5f, 2.5f);
  fill(in.k, kv_elems(s), s.dtype, seed * 3 + 2, -2.5f, 2.5f);
  fill(in.v, kv_elems(s), s.dtype, seed * 3 + 3, -1.0f, 1.0f);
  return in;
}

std::vector<double> reference_row(const AttnShape& s, const HostInputs& in, int b, int h, int i, double scale,
                                  double* lse_out, int window_left, int window_right) {
  const int d = s.head_dim;
  const int kvh = h / s.group();  // GQA: the kv head this query head reads
  const size_t q_off = ((size_t(b) * s.heads + h) * s.seq_q + i) * d;
  const size_t kv_base = (size_t(b) * s.kv_heads + kvh) * size_t(s.seq_kv) * d;
  // Causal, bottom-right aligned: key j is visible when j <= i + (seq_kv - seq_q); a window adds
  // i + off − window_left <= j (and j <= i + off + window_right when not causal).
  const long off = long(s.seq_kv) - s.seq_q;
  long last = s.seq_kv - 1, first = 0;
  if (s.causal) last = std::min(last, i + off);
  else if (window_right >= 0) last = std::min(last, i + off + window_right);
  if (window_left >= 0) first = std::max(first, i + off - window_left);
  std::vector<double> q(d), score(std::max(0L, last + 1)), o(d, 0.0);
  for (int x = 0; x < d; ++x) q[x] = half_bits_to_float(in.q[q_off + x], s.dtype);
  double m = -INFINITY;
  for (long j = first; j <= last; ++j) {
    double acc = 0;
    const std::uint16_t* kr = &in.k[kv_base + size_t(j) * d];
    for (int x = 0; x < d; ++x) acc += q[x] * double(half_bits_to_float(kr[x], s.dtype));
    score[j] = acc * scale;
    m = std::max(m, score[j]);
  }
  double l = 0;
  for (long j = first; j <= last; ++j) {
    double p = std::exp(score[j] - m);
    l += p;
    const std::uint16_t* vr = &in.v[kv_base + size_t(j) * d];
    for (int x = 0; x < d; ++x) o[x] += p * double(half_bits_to_float(vr[x], s.dtype));
  }
  if (lse_out) *lse_out = l > 0 ? m + std::log(l) : -INFINITY;
  if (l > 0)
    for (int x = 0; x < d; ++x) o[x] /= l;  // no visible key: O = 0 (what the flash rungs write)
  return o;
}

std::vector<RowId> pick_rows(const AttnShape& s, size_t max_rows, std::uint64_t seed) {
  std::vector<RowId> rows;
  const size_t total = size_t(s.batch) * s.heads * s.seq_q;
  if (total <= max_rows) {
    for (int b = 0; b < s.batch; ++b)
      for (int h = 0; h < s.heads; ++h)
        for (int i = 0; i < s.seq_q; ++i) rows.push_back({b, h, i});
    return rows;
  }
  std::set<std::tuple<int, int, int>> chosen;
  auto add = [&](int b, int h, int i) {
    if (i >= 0 && i < s.seq_q) chosen.insert({b, h, i});
  };
  std::mt19937_64 rng(seed);
  // Every (b, h) gets its first and last row (the last is where a ragged tail ends) ...
  for (int b = 0; b < s.batch; ++b)
    for (int h = 0; h < s.heads; ++h) {
      add(b, h, 0);
      add(b, h, s.seq_q - 1);
    }
  // ... then rows on both sides of tile edges (16: a warp's rows, 32/64: Br), then random rows.
  while (chosen.size() < max_rows) {
    int b = int(rng() % s.batch), h = int(rng() % s.heads);
    int edge = int(rng() % 3);
    int i = int(rng() % s.seq_q);
    if (edge == 0) {
      int tile = 16 << (rng() % 3);
      i = (i / tile) * tile + (rng() % 2 ? 0 : tile - 1);
    }
    add(b, h, std::min(i, s.seq_q - 1));
  }
  for (auto& [b, h, i] : chosen) rows.push_back({b, h, i});
  return rows;
}

Tolerance tolerance_for(KernelId id, ElemType t) {
  // Errors come from rounding O to the output type (2^-9 relative for bf16, 2^-12 for fp16) and,
  // in the flash rungs, from P rounded to bf16/fp16 before the P·V product. The cuBLAS rung also
  // stores S in the input type before the softmax: an S of 8 in bf16 is off by up to 0.016, which
  // moves exp(S) by 1.6%; that expected loss is why its bound is looser.
  if (t == ElemType::bf16) {
    if (id == KernelId::naive_cublas) return {3e-2, 5e-2, 2e-2};
    return {1e-2, 2e-2, 1e-2};
  }
  if (id == KernelId::naive_cublas) return {5e-3, 1e-2, 4e-3};
  return {2e-3, 4e-3, 2e-3};
}

CheckResult check_output(const AttnShape& s, const HostInputs& in, const std::vector<std::uint16_t>& out,
                         const std::vector<RowId>& rows, const Tolerance& tol, double scale,
                         const CheckExtras& extras) {
  CheckResult r;
  for (std::uint16_t bits : out)
    if (!std::isfinite(half_bits_to_float(bits, s.dtype))) ++r.unwritten;
  if (extras.lse)
    for (float x : *extras.lse)
      if (std::isnan(x)) ++r.lse_unwritten;

  // The reference rows are independent: spread them over the CPU's cores.
  const int d = s.head_dim;
  std::vector<std::vector<double>> refs(rows.size());
  std::vector<double> ref_lse(rows.size());
  unsigned workers = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (size_t n = w; n < rows.size(); n += workers)
        refs[n] = reference_row(s, in, rows[n].b, rows[n].h, rows[n].i, scale, &ref_lse[n], extras.window_left,
                                extras.window_right);
    });
  for (auto& th : pool) th.join();

  size_t lse_bad = 0;
  if (extras.lse)
    for (size_t n = 0; n < rows.size(); ++n) {
      const RowId& row = rows[n];
      const double got = (*extras.lse)[(size_t(row.b) * s.heads + row.h) * s.seq_q + row.i], want = ref_lse[n];
      const double e = (std::isinf(want) && got == want) ? 0.0 : std::fabs(got - want);
      r.lse_max_error = std::max(r.lse_max_error, std::isnan(e) ? INFINITY : e);
      if (!(e <= 1e-3 + 1e-4 * std::fabs(want))) {
        if (lse_bad++ == 0)
          r.first_failure = fmt::format("lse b={} h={} i={}: got {:.7g}, want {:.7g}", row.b, row.h, row.i, got, want);
      }
    }

  double err2 = 0, ref2 = 0;
  for (size_t n = 0; n < rows.size(); ++n) {
    const RowId& row = rows[n];
    const size_t off = ((size_t(row.b) * s.heads + row.h) * s.seq_q + row.i) * d;
    for (int x = 0; x < d; ++x) {
      double got = half_bits_to_float(out[off + x], s.dtype);
      double want = refs[n][x];
      double e = std::fabs(got - want);
      if (!std::isfinite(got)) e = INFINITY;
      r.max_abs_error = std::max(r.max_abs_error, e);
      err2 += std::isfinite(e) ? e * e : 1e30;
      ref2 += want * want;
      if (!(e <= tol.atol + tol.rtol * std::fabs(want))) {
        if (r.mismatches == 0)
          r.first_failure = fmt::format("b={} h={} i={} d={}: got {:.6g}, want {:.6g}", row.b, row.h, row.i, x, got, want);
        ++r.mismatches;
      }
    }
  }
  r.rows_checked = rows.size();
  r.rel_l2_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  r.ok = r.unwritten == 0 && r.mismatches == 0 && r.rel_l2_error <= tol.rel_l2 && r.lse_unwritten == 0 &&
         lse_bad == 0;
  if (r.unwritten > 0 && r.first_failure.empty())
    r.first_failure = fmt::format("{} output elements are NaN/inf (unwritten poison?)", r.unwritten);
  if (r.lse_unwritten > 0 && r.first_failure.empty())
    r.first_failure = fmt::format("{} lse entries are NaN (unwritten poison?)", r.lse_unwritten);
  return r;
}

Stats stats_of(std::vector<double> v) {
  Stats st;
  if (v.empty()) return st;
  std::sort(v.begin(), v.end());
  st.min = v.front();
  st.max = v.back();
  size_t n = v.size();
  st.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return st;
}

double forward_flops(const AttnShape& s) {
  return attention_forward_flops_approx(
      {u64(s.batch), u64(s.heads), u64(s.seq_q), u64(s.seq_kv), u64(s.head_dim), s.causal});
}

double forward_min_bytes(const AttnShape& s) {
  return 2.0 * (2.0 * q_elems(s) + 2.0 * kv_elems(s));
}

std::string shape_label(const AttnShape& s) {
  std::string n = s.seq_q == s.seq_kv ? fmt::format("N{}", s.seq_q) : fmt::format("Nq{} Nkv{}", s.seq_q, s.seq_kv);
  return fmt::format("B{} H{}/{} {} d{}{} {}", s.batch, s.heads, s.kv_heads, n, s.head_dim, s.causal ? " causal" : "",
                     elem_name(s.dtype));
}

}  // namespace attnlab::kernels
