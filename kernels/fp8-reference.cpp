// Host helpers of the FP8 rung's program: see fp8-reference.hpp.
#include "fp8-reference.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "attn-fp8.hpp"

namespace attnlab::kernels {

namespace {

std::vector<double> one_row(const AttnShape& s, const FloatInputs& in, double scale, int b, int h, int i) {
  const int d = s.head_dim;
  const int kvh = h / s.group();
  const float* q = &in.q[((size_t(b) * s.heads + h) * s.seq_q + i) * d];
  const size_t kv_base = (size_t(b) * s.kv_heads + kvh) * size_t(s.seq_kv) * d;
  long last = s.seq_kv - 1;
  if (s.causal) last = std::min(last, long(i) + s.seq_kv - s.seq_q);  // bottom-right mask
  std::vector<double> score(std::max(0L, last + 1)), o(d, 0.0);
  double m = -INFINITY;
  for (long j = 0; j <= last; ++j) {
    const float* k = &in.k[kv_base + size_t(j) * d];
    double acc = 0;
    for (int x = 0; x < d; ++x) acc += double(q[x]) * double(k[x]);
    score[j] = acc * scale;
    m = std::max(m, score[j]);
  }
  double l = 0;
  for (long j = 0; j <= last; ++j) {
    const double p = std::exp(score[j] - m);
    l += p;
    const float* v = &in.v[kv_base + size_t(j) * d];
    for (int x = 0; x < d; ++x) o[x] += p * double(v[x]);
  }
  if (l > 0)
    for (double& x : o) x /= l;
  return o;
}

// Runs f(r) for r in [0, n) over the machine's cores.
template <typename F>
void parallel_for(size_t n, F f) {
  const size_t workers = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (size_t r = w; r < n; r += workers) f(r);
    });
  for (auto& t : pool) t.join();
}

}  // namespace

FloatInputs make_normal_inputs(const AttnShape& s, std::uint64_t seed, double outlier_fraction, double outlier_scale,
                               HostInputs& bits) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto fill = [&](std::vector<std::uint16_t>& b, std::vector<float>& f, size_t n, bool outliers) {
    b.resize(n);
    f.resize(n);
    for (size_t x = 0; x < n; ++x) {
      float v = normal(rng);
      if (outliers && u(rng) < outlier_fraction) v *= float(outlier_scale);
      b[x] = float_to_half_bits(v, ElemType::bf16);
      f[x] = half_bits_to_float(b[x], ElemType::bf16);
    }
  };
  FloatInputs in;
  fill(bits.q, in.q, q_elems(s), outlier_fraction > 0);
  fill(bits.k, in.k, kv_elems(s), outlier_fraction > 0);
  fill(bits.v, in.v, kv_elems(s), false);
  return in;
}

FloatInputs floats_of(const AttnShape& s, const HostInputs& bits) {
  FloatInputs in;
  auto conv = [&](const std::vector<std::uint16_t>& b, std::vector<float>& f) {
    f.resize(b.size());
    for (size_t x = 0; x < b.size(); ++x) f[x] = half_bits_to_float(b[x], s.dtype);
  };
  conv(bits.q, in.q);
  conv(bits.k, in.k);
  conv(bits.v, in.v);
  return in;
}

std::vector<double> reference_all(const AttnShape& s, const FloatInputs& in, double scale) {
  const size_t rows = size_t(s.batch) * s.heads * s.seq_q, d = s.head_dim;
  std::vector<double> o(rows * d);
  parallel_for(rows, [&](size_t r) {
    const int i = int(r % s.seq_q), h = int((r / s.seq_q) % s.heads), b = int(r / s.seq_q / s.heads);
    const std::vector<double> row = one_row(s, in, scale, b, h, i);
    std::copy(row.begin(), row.end(), o.begin() + r * d);
  });
  return o;
}

std::vector<double> reference_rows(const AttnShape& s, const FloatInputs& in, double scale,
                                   const std::vector<RowId>& rows) {
  const size_t d = s.head_dim;
  std::vector<double> o(rows.size() * d);
  parallel_for(rows.size(), [&](size_t r) {
    const std::vector<double> row = one_row(s, in, scale, rows[r].b, rows[r].h, rows[r].i);
    std::copy(row.begin(), row.end(), o.begin() + r * d);
  });
  return o;
}

ErrorFigures error_figures(const AttnShape& s, const std::vector<std::uint16_t>& out, const std::vector<double>& ref,
                           const std::vector<RowId>& rows) {
  ErrorFigures e;
  const size_t d = s.head_dim;
  for (std::uint16_t b : out)
    if (!std::isfinite(half_bits_to_float(b, ElemType::bf16))) ++e.non_finite;
  const size_t n_rows = rows.empty() ? out.size() / d : rows.size();
  double se = 0, sr = 0;
  for (size_t r = 0; r < n_rows; ++r) {
    const size_t o_row = rows.empty() ? r : ((size_t(rows[r].b) * s.heads + rows[r].h) * s.seq_q + rows[r].i);
    for (size_t x = 0; x < d; ++x) {
      const double got = half_bits_to_float(out[o_row * d + x], ElemType::bf16), want = ref[r * d + x];
      const double diff = got - want;
      se += diff * diff;
      sr += want * want;
      e.max_abs = std::max(e.max_abs, std::isfinite(diff) ? std::abs(diff) : INFINITY);
    }
  }
  e.rmse = std::sqrt(se / double(n_rows * d));
  e.rel_l2 = sr > 0 ? std::sqrt(se / sr) : std::sqrt(se);
  return e;
}

float e4m3_to_float(std::uint8_t b) {
  const int sign = b >> 7, exp = (b >> 3) & 15, man = b & 7;
  if (exp == 15 && man == 7) return NAN;
  const float mag = exp == 0 ? std::ldexp(float(man) / 8.f, -6) : std::ldexp(1.f + float(man) / 8.f, exp - 7);
  return sign ? -mag : mag;
}

FloatInputs dequantize(const AttnShape& s, const std::vector<std::uint8_t>& q8, const std::vector<std::uint8_t>& k8,
                       const std::vector<std::uint8_t>& vt8, const std::vector<float>& sq,
                       const std::vector<float>& sk, const std::vector<float>& sv) {
  const int d = s.head_dim, qt = fp8_q_tiles(s), kt = fp8_kv_tiles(s), cols = fp8_vt_cols(s);
  FloatInputs f;
  f.q.resize(q8.size());
  f.k.resize(k8.size());
  f.v.resize(kv_elems(s));
  for (size_t z = 0; z < size_t(s.batch) * s.heads; ++z)
    for (int i = 0; i < s.seq_q; ++i)
      for (int x = 0; x < d; ++x) {
        const size_t at = (z * s.seq_q + i) * d + x;
        f.q[at] = e4m3_to_float(q8[at]) * sq[z * qt + i / kFp8Br];
      }
  for (size_t z = 0; z < size_t(s.batch) * s.kv_heads; ++z)
    for (int j = 0; j < s.seq_kv; ++j) {
      const float ks = sk[z * kt + j / kFp8Bc], vs = sv[z * kt + j / kFp8Bc];
      // V^T column of key j: inside its 32-key group, key 16*hi + 8*half + 2*t + bit sits in
      // column 16*hi + 4*t + 2*half + bit (the inverse of the kernel's permutation).
      const int w = j % 32, hi = w / 16, half = (w % 16) / 8, t = (w % 8) / 2, bit = w % 2;
      const int col = (j / 32) * 32 + 16 * hi + 4 * t + 2 * half + bit;
      for (int x = 0; x < d; ++x) {
        const size_t at = (z * s.seq_kv + j) * d + x;
        f.k[at] = e4m3_to_float(k8[at]) * ks;
        f.v[at] = e4m3_to_float(vt8[(z * d + x) * cols + col]) * vs;
      }
    }
  return f;
}

}  // namespace attnlab::kernels
