#include "hw/dtype.hpp"

#include <fmt/format.h>

#include "util/errors.hpp"

namespace attnlab {

unsigned dtype_bits(DType t) {
  switch (t) {
    case DType::fp32: return 32;
    case DType::tf32: return 32;  // stored as fp32; tf32 is a matrix-unit mode
    case DType::fp16: return 16;
    case DType::bf16: return 16;
    case DType::fp8: return 8;
    case DType::int4: return 4;
  }
  return 32;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::fp32: return "fp32";
    case DType::tf32: return "tf32";
    case DType::fp16: return "fp16";
    case DType::bf16: return "bf16";
    case DType::fp8: return "fp8";
    case DType::int4: return "int4";
  }
  return "?";
}

DType parse_dtype(std::string_view s, std::string_view option, const std::vector<DType>& allowed) {
  std::string names;
  for (DType t : allowed) {
    if (dtype_name(t) == s) return t;
    if (!names.empty()) names += ", ";
    names += dtype_name(t);
  }
  throw InputError(fmt::format("{} must be one of {} (got '{}')", option, names, s));
}

}  // namespace attnlab
