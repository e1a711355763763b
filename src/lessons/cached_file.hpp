// The measurement file a lesson template names with `file=`, loaded once per process: the
// `measured`, `fp8_*` and `backward*` templates all read their files through this one cache.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "measure/measurement.hpp"
#include "util/errors.hpp"

namespace attnlab {

// The file named by `file=` ("h100-ladder" or "h100-ladder.json") in measurement_dir(), loaded
// once by `load` (a file's path -> T) and kept for the process. `files` lists the files that
// could have been meant, for the error naming a missing one ("known: ..." / `known_what`).
template <class T>
const T& cached_file(const std::string& name, T (*load)(const std::filesystem::path&),
                     std::vector<std::filesystem::path> (*files)(const std::filesystem::path&),
                     const char* known_what) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<T>> cache;
  const std::string stem = name.size() > 5 && name.ends_with(".json") ? name.substr(0, name.size() - 5) : name;
  if (stem.empty() || stem.find_first_of("/\\") != std::string::npos)
    throw InputError(fmt::format("key 'file' must name a file of {} (got '{}')", measurement_dir().string(), name));
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(stem);
  if (it != cache.end()) return *it->second;
  const std::filesystem::path path = measurement_dir() / (stem + ".json");
  if (!std::filesystem::exists(path)) {
    std::string known;
    for (const auto& f : files(measurement_dir())) known += (known.empty() ? "" : ", ") + f.stem().string();
    throw InputError(fmt::format("key 'file': no measurement file '{}' in {} ({}: {})", stem,
                                 measurement_dir().string(), known_what, known.empty() ? "none" : known));
  }
  auto m = std::make_unique<T>(load(path));
  return *cache.emplace(stem, std::move(m)).first->second;
}

}  // namespace attnlab
