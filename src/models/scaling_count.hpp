// Counts for the scaling model that may outgrow 128 bits.
//
// Score entries stay exact for every N the model accepts (N <= 10^18, N^2 <= 10^36 < 2^128), but
// FLOPs (4·N²·d·heads) and stack totals (× layers) can pass 2^128 ~ 3.4e38 near the top of that
// range. Rather than wrap around or refuse the whole table for one family, a Count that outgrows
// 128 bits becomes a rounded floating-point estimate and says so: exact() is false, and every face
// marks it ("≈3.07e+39, rounded"). Below 2^128 a Count is always exact.
#pragma once
#include <optional>
#include <string>

#include "util/checked.hpp"

namespace attnlab {

class Count {
 public:
  Count() = default;
  Count(u128 v) : exact_(true), value_(v), approx_(static_cast<long double>(v)) {}  // NOLINT: exact counts convert
  static Count rounded(long double v);

  bool exact() const { return exact_; }
  u128 value() const;  // the exact value; throws OverflowError when the count was rounded
  long double approx() const { return approx_; }

  friend Count operator*(const Count& a, const Count& b);
  friend Count operator+(const Count& a, const Count& b);
  friend bool operator==(const Count& a, const Count& b);

 private:
  bool exact_ = true;
  u128 value_ = 0;
  long double approx_ = 0;
};

// "12345678" when exact, "≈1.23e+40" when rounded.
std::string count_text(const Count& c);
// Plain number for CSV: the digits when exact, "1.23456789e+40" when rounded.
std::string count_raw(const Count& c);

// A per-layer figure that may differ from layer to layer (alternating attention): kept as the
// total over the layer stack and the number of layers; the per-layer figure is the mean.
struct PerLayer {
  Count total;
  u64 layers = 1;

  static PerLayer uniform(const Count& per_layer, u64 layers);
  // The mean when it is a whole number and exact; nullopt otherwise.
  std::optional<u128> mean_exact() const;
  long double mean_approx() const;
};

// The mean per layer in words: "1,000,000" exact, "425,676.25" exact decimal, "≈1.33" when the
// decimal does not end within two places, "≈3.07e+39" when the total was rounded.
std::string per_layer_text(const PerLayer& p);
// The same for CSV/JSON raw cells: "1000000", "425676.25", "1.3333333333", "3.07e+39".
std::string per_layer_raw(const PerLayer& p);

}  // namespace attnlab
