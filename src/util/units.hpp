// Human-readable units: binary byte sizes (KiB, MiB, GiB), times (ns, µs, ms, s),
// FLOP counts and rates, and counts with thousands separators.
#pragma once
#include <string>

#include "util/checked.hpp"

namespace attnlab {

// Binary byte units for sizes written in code (preset tables, file limits); GB is decimal (HBM capacity).
inline constexpr u64 KiB = 1024, MiB = 1024 * KiB, GB = 1000ull * 1000 * 1000;

std::string format_bytes(u128 bytes);        // "512 B", "1.50 KiB", "40.3 GiB"
std::string format_bytes(double bytes);
std::string format_seconds(double seconds);  // "812 ns", "12.3 µs", "4.56 ms", "1.20 s"
std::string format_flops(u128 flops);        // "275 GFLOP", "1.07 TFLOP"
std::string format_rate(double per_second, const char* unit);  // "3.35 TB/s" (decimal SI)
std::string format_count(u128 n);            // "1,048,576"
std::string format_ratio(double r);          // "8.9x"

}  // namespace attnlab
