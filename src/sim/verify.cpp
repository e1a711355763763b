#include "sim/verify.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <random>
#include <vector>

namespace attnlab {

namespace {

template <typename T>
using Mat = std::vector<T>;  // row-major

// Standard attention: S = Q Kᵀ / sqrt(d), P = softmax(S) row by row, O = P V.
template <typename T>
Mat<T> attention_naive(const Mat<T>& Q, const Mat<T>& K, const Mat<T>& V, u64 N, u64 d, bool causal) {
  const T scale = T(1) / std::sqrt(T(d));
  Mat<T> O(N * d, T(0)), S(N);
  for (u64 i = 0; i < N; ++i) {
    const u64 keys = causal ? i + 1 : N;
    T m = -std::numeric_limits<T>::infinity();
    for (u64 j = 0; j < keys; ++j) {
      T acc = 0;
      for (u64 k = 0; k < d; ++k) acc += Q[i * d + k] * K[j * d + k];
      S[j] = acc * scale;
      m = std::max(m, S[j]);
    }
    T l = 0;
    for (u64 j = 0; j < keys; ++j) l += (S[j] = std::exp(S[j] - m));
    for (u64 j = 0; j < keys; ++j)
      for (u64 k = 0; k < d; ++k) O[i * d + k] += S[j] / l * V[j * d + k];
  }
  return O;
}

// FlashAttention's tiled loop: for each Br-row tile of Q, stream Bc-row tiles of K and V,
// keeping the running max m, the running sum l and an unnormalised O; rescale as m grows.
template <typename T>
Mat<T> attention_tiled(const Mat<T>& Q, const Mat<T>& K, const Mat<T>& V, u64 N, u64 d, bool causal, u64 Br, u64 Bc) {
  const T scale = T(1) / std::sqrt(T(d));
  Mat<T> O(N * d, T(0));
  std::vector<T> m(Br), l(Br), S(Br * Bc);
  for (u64 i0 = 0; i0 < N; i0 += Br) {
    const u64 r = std::min(Br, N - i0);
    std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
    std::fill(l.begin(), l.end(), T(0));
    for (u64 j0 = 0; j0 < N; j0 += Bc) {
      if (causal && j0 > i0 + r - 1) break;  // the whole tile is above the diagonal
      const u64 c = std::min(Bc, N - j0);
      for (u64 a = 0; a < r; ++a) {
        // S_ij = Qi Kjᵀ (masked), then m_new = max(m, rowmax S), P = exp(S − m_new)
        T row_max = -std::numeric_limits<T>::infinity();
        for (u64 b = 0; b < c; ++b) {
          T acc = 0;
          for (u64 k = 0; k < d; ++k) acc += Q[(i0 + a) * d + k] * K[(j0 + b) * d + k];
          const bool masked = causal && j0 + b > i0 + a;
          S[a * Bc + b] = masked ? -std::numeric_limits<T>::infinity() : acc * scale;
          row_max = std::max(row_max, S[a * Bc + b]);
        }
        const T m_new = std::max(m[a], row_max);
        const T alpha = std::exp(m[a] - m_new);  // rescales what was accumulated so far
        T row_sum = 0;
        for (u64 b = 0; b < c; ++b) row_sum += (S[a * Bc + b] = std::exp(S[a * Bc + b] - m_new));
        l[a] = alpha * l[a] + row_sum;
        for (u64 k = 0; k < d; ++k) {
          T pv = 0;
          for (u64 b = 0; b < c; ++b) pv += S[a * Bc + b] * V[(j0 + b) * d + k];
          O[(i0 + a) * d + k] = alpha * O[(i0 + a) * d + k] + pv;
        }
        m[a] = m_new;
      }
    }
    for (u64 a = 0; a < r; ++a)  // FlashAttention-2 divides by l once, at the end
      for (u64 k = 0; k < d; ++k) O[(i0 + a) * d + k] /= l[a];
  }
  return O;
}

template <typename T>
double max_diff(const Mat<T>& a, const Mat<T>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return m;
}

template <typename A, typename B>
double max_diff_mixed(const Mat<A>& a, const Mat<B>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return m;
}

}  // namespace

VerifyResult verify_same_math(u64 N, u64 d, bool causal, u64 Br, u64 Bc, u64 seed) {
  if (N < 1 || N > kVerifyMaxSeq)
    throw InputError(fmt::format("--verify needs --seq between 1 and {} (got {}): it computes N x N on the CPU",
                                 kVerifyMaxSeq, N));
  if (d < 1 || d > 256) throw InputError(fmt::format("--verify needs --head-dim between 1 and 256 (got {})", d));
  if (Br < 1 || Bc < 1) throw InputError("--verify needs positive tile sizes");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  Mat<double> Q(N * d), K(N * d), V(N * d);
  for (auto* m : {&Q, &K, &V})
    for (auto& x : *m) x = dist(rng);
  Mat<float> Qf(Q.begin(), Q.end()), Kf(K.begin(), K.end()), Vf(V.begin(), V.end());

  const auto n64 = attention_naive(Q, K, V, N, d, causal);
  const auto t64 = attention_tiled(Q, K, V, N, d, causal, Br, Bc);
  const auto n32 = attention_naive(Qf, Kf, Vf, N, d, causal);
  const auto t32 = attention_tiled(Qf, Kf, Vf, N, d, causal, Br, Bc);

  VerifyResult r;
  r.seq = N;
  r.head_dim = d;
  r.Br = Br;
  r.Bc = Bc;
  r.causal = causal;
  r.max_diff_fp64 = max_diff(n64, t64);
  r.max_diff_fp32 = max_diff(n32, t32);
  r.max_err_fp32 = max_diff_mixed(t32, n64);
  for (double x : n64) r.max_abs_out = std::max(r.max_abs_out, std::abs(x));
  return r;
}

}  // namespace attnlab
