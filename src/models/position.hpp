// Position in attention: rotary embeddings (RoPE, Su et al. 2021, arXiv 2104.09864) and linear
// biases (ALiBi, Press, Smith & Lewis 2021, arXiv 2108.12409). The dashboard's position panel and
// the lessons ask here.
//
// RoPE splits a head's d dimensions into d/2 pairs; pair i at position m is rotated by the angle
// m·θ_i with θ_i = base^(−2i/d) (base 10000). Because both query and key are rotated, their dot
// product depends only on the offset m − n: q_m·k_n = Σ_i Re[(q_i conj k_i) e^{i(m−n)θ_i}].
// Pair 0 turns once every 2π tokens; the last pair barely turns (wavelength up to 2π·base).
//
// ALiBi adds −slope_h·(q − k) to the score of query q and key k ≤ q in head h. For H a power of two
// the slopes are 2^(−8/H), 2^(−16/H), ..., 2^(−8); otherwise the slopes of the nearest smaller
// power of two, then every other slope of the next power of two (the paper's reference code).
#pragma once
#include <array>
#include <vector>

#include "util/checked.hpp"

namespace attnlab {

inline constexpr double rope_default_base = 10000.0;

// θ_i for pair i of a head of size d (d even, i < d/2). Throws InputError otherwise.
double rope_theta(u64 pair, u64 head_dim, double base = rope_default_base);
// Tokens per full turn of pair i: 2π / θ_i.
double rope_wavelength(u64 pair, u64 head_dim, double base = rope_default_base);
// The pair (x0, x1) rotated by pos·θ.
std::array<double, 2> rope_rotate(double x0, double x1, double pos, double theta);
// Dot product of query pair q at position m with key pair k at position n, both rotated.
double rope_pair_score(std::array<double, 2> q, std::array<double, 2> k, double m, double n, double theta);
// Score of two full head vectors (size d, even) at positions m and n after rotation.
double rope_score(const std::vector<double>& q, const std::vector<double>& k, double m, double n,
                  double base = rope_default_base);
// The RoPE paper's long-range picture: q = k = all ones, score at offsets 0..max_offset,
// Σ_i 2 cos(offset·θ_i) (each pair contributes cos·2 for unit pairs (1, 1)).
std::vector<double> rope_ones_score(u64 head_dim, u64 max_offset, double base = rope_default_base);

// ALiBi slopes for `heads` heads (heads >= 1), head 0 first.
std::vector<double> alibi_slopes(u64 heads);
// The bias ALiBi adds for query q, key k (k <= q) in a head with `slope`: −slope·(q − k).
double alibi_bias(double slope, u64 q, u64 k);

}  // namespace attnlab
