// Fuzz target (d): the model presets loader (load_model_presets reads a file, so the input is
// written to a private temporary file first), then every derived figure a face asks of a loaded
// model (attention kind, layer pattern summary, per-layer kinds). Malformed files must end as
// attnlab::InputError.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/model_spec.hpp"
#include "util/errors.hpp"

namespace {
std::string temp_path() {
  static std::string path = [] {
    char tmpl[] = "/tmp/attnlab-fuzz-models-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) std::abort();
    close(fd);
    return std::string(tmpl);
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const std::string& path = temp_path();
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
  }
  try {
    auto models = attnlab::load_model_presets(path);
    for (const auto& m : models) {
      (void)m.attn_kind();
      (void)m.pattern_summary();
      (void)m.attention_layers();
      for (attnlab::u64 l = 0; l < m.layers && l < 64; ++l) (void)m.layer_kind(l);
      attnlab::model_validate(m);
    }
  } catch (const attnlab::InputError&) {
  }
  return 0;
}
