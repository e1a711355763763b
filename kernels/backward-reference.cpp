// The fp64 backward reference: see backward-reference.hpp.
#include "backward-reference.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace attnlab::kernels {

BackwardReference reference_backward(const AttnShape& s, const HostInputs& in, const std::vector<std::uint16_t>& d_o,
                                     double scale) {
  const int d = s.head_dim, nq = s.seq_q, nk = s.seq_kv, group = s.group();
  const int off = nk - nq;
  auto f = [&](std::uint16_t b) { return double(half_bits_to_float(b, s.dtype)); };
  BackwardReference r;
  r.dq.assign(q_elems(s), 0.0);
  r.dk.assign(kv_elems(s), 0.0);
  r.dv.assign(kv_elems(s), 0.0);
  std::vector<double> q(size_t(nq) * d), g(size_t(nq) * d), k(size_t(nk) * d), v(size_t(nk) * d);
  std::vector<double> p(static_cast<size_t>(nk)), dp(static_cast<size_t>(nk)), o(static_cast<size_t>(d));
  for (int b = 0; b < s.batch; ++b)
    for (int h = 0; h < s.heads; ++h) {
      const int kvh = h / group;
      const size_t qbase = (size_t(b) * s.heads + h) * nq * d;
      const size_t kbase = (size_t(b) * s.kv_heads + kvh) * nk * d;
      for (size_t x = 0; x < q.size(); ++x) q[x] = f(in.q[qbase + x]), g[x] = f(d_o[qbase + x]);
      for (size_t x = 0; x < k.size(); ++x) k[x] = f(in.k[kbase + x]), v[x] = f(in.v[kbase + x]);
      for (int i = 0; i < nq; ++i) {
        const double* qi = &q[size_t(i) * d];
        const double* gi = &g[size_t(i) * d];
        const int last = s.causal ? std::min(nk - 1, i + off) : nk - 1;  // keys 0..last visible
        if (last < 0) continue;  // sees no key: O = 0, every gradient contribution 0
        double mx = -INFINITY;
        for (int j = 0; j <= last; ++j) {
          double acc = 0;
          for (int c = 0; c < d; ++c) acc += qi[c] * k[size_t(j) * d + c];
          p[j] = acc * scale;
          mx = std::max(mx, p[j]);
        }
        double l = 0;
        for (int j = 0; j <= last; ++j) l += (p[j] = std::exp(p[j] - mx));
        std::fill(o.begin(), o.end(), 0.0);
        for (int j = 0; j <= last; ++j) {
          p[j] /= l;
          for (int c = 0; c < d; ++c) o[c] += p[j] * v[size_t(j) * d + c];
        }
        double dd = 0;
        for (int c = 0; c < d; ++c) dd += gi[c] * o[c];
        for (int j = 0; j <= last; ++j) {
          double acc = 0;
          for (int c = 0; c < d; ++c) acc += gi[c] * v[size_t(j) * d + c];
          dp[j] = p[j] * (acc - dd);  // dS
        }
        double* dqi = &r.dq[qbase + size_t(i) * d];
        for (int j = 0; j <= last; ++j) {
          double* dkj = &r.dk[kbase + size_t(j) * d];
          double* dvj = &r.dv[kbase + size_t(j) * d];
          const double* kj = &k[size_t(j) * d];
          for (int c = 0; c < d; ++c) {
            dqi[c] += scale * dp[j] * kj[c];
            dkj[c] += scale * dp[j] * qi[c];
            dvj[c] += p[j] * gi[c];
          }
        }
      }
    }
  return r;
}

GradTolerance grad_tolerance(ElemType t) {
  if (t == ElemType::bf16) return {2e-2, 2e-2};
  return {3e-3, 3e-3};
}

GradCheck check_grad(const std::vector<std::uint16_t>& got, const std::vector<double>& ref, ElemType t,
                     const GradTolerance& tol) {
  GradCheck c;
  double err2 = 0, ref2 = 0;
  for (double x : ref) c.max_ref = std::max(c.max_ref, std::abs(x));
  const double atol = tol.atol_frac * c.max_ref;
  size_t bad = 0;
  for (size_t x = 0; x < got.size() && x < ref.size(); ++x) {
    const double gv = half_bits_to_float(got[x], t);
    if (!std::isfinite(gv)) {
      if (c.unwritten++ == 0 && c.first_failure.empty())
        c.first_failure = fmt::format("i={}: got {} (unwritten or overflow), want {:.6g}", x, gv, ref[x]);
      continue;
    }
    const double e = std::abs(gv - ref[x]);
    err2 += e * e;
    ref2 += ref[x] * ref[x];
    c.max_abs = std::max(c.max_abs, e);
    if (e > atol && bad++ == 0 && c.first_failure.empty())
      c.first_failure = fmt::format("i={}: got {:.6g}, want {:.6g}", x, gv, ref[x]);
  }
  c.rel_l2 = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  c.ok = got.size() == ref.size() && c.unwritten == 0 && bad == 0 && c.rel_l2 <= tol.rel_l2;
  if (c.ok) c.first_failure.clear();
  else if (c.first_failure.empty())
    c.first_failure = fmt::format("relative L2 error {:.3g} > {:.3g}", c.rel_l2, tol.rel_l2);
  return c;
}

}  // namespace attnlab::kernels
