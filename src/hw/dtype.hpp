// Element types and their sizes. int4 is half a byte: sizes are kept in bits so that
// 4-bit KV caches count exactly.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace attnlab {

enum class DType { fp32, tf32, fp16, bf16, fp8, int4 };

unsigned dtype_bits(DType t);
inline unsigned dtype_bytes(DType t) { return (dtype_bits(t) + 7) / 8; }
std::string_view dtype_name(DType t);
// Parses a name; `allowed` limits which ones a command accepts. Throws InputError naming `option`.
DType parse_dtype(std::string_view s, std::string_view option, const std::vector<DType>& allowed);

}  // namespace attnlab
