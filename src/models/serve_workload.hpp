// Request streams for the serving simulation (src/models/paged.*): prompt and output lengths drawn
// from a seeded distribution, or read from a CSV trace.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "models/sim_random.hpp"
#include "util/checked.hpp"

namespace attnlab {

// A length distribution, written "fixed:N", "uniform:A:B", "exp:MEAN" or "lognormal:MEAN:SIGMA"
// (MEAN is the mean of the lengths themselves, SIGMA the spread of their logarithm).
struct LengthDist {
  enum class Kind { fixed, uniform, exponential, lognormal };
  Kind kind = Kind::fixed;
  double a = 1, b = 0;
  std::string text;  // as the user wrote it
  double mean() const;
};
LengthDist parse_length_dist(std::string_view s, std::string_view option);  // throws InputError naming option
// A draw rounded to a whole number of tokens, at least 1 (not yet capped by the max length).
u64 length_sample(const LengthDist& d, SimRandom& rng);

// Named workloads: the mean lengths of the two traces in the vLLM paper (Kwon et al. 2023,
// arXiv 2309.06180, section 6.1: ShareGPT prompts 161.31 / outputs 337.99 tokens on average,
// Alpaca 19.31 / 58.45). The lognormal shape (sigma 1) is our assumption, not the traces'.
struct WorkloadPreset {
  std::string name;
  LengthDist prompt, output;
  std::string source;
};
const std::vector<WorkloadPreset>& workload_presets();
const WorkloadPreset& workload_find(std::string_view name);  // throws InputError listing the names

struct ServeRequest {
  u64 id = 0;
  u64 arrival = 0;             // step at which it arrives
  u64 prompt = 0;              // tokens
  std::vector<u64> outputs;    // tokens to generate, one entry per parallel sample
};

struct WorkloadSpec {
  u64 requests = 500;
  LengthDist prompt, output;
  u64 samples = 1;    // parallel samples per request (they share the prompt)
  double rate = 0;    // mean arrivals per step (exponential gaps); 0 = all arrive at step 0
  u64 max_len = 2048; // prompt + output of one sample never exceeds this (the model's context)
  u64 seed = 1;
};
// Prompts are capped at max_len - 1 and each output at max_len - prompt, so the means of long-tailed
// distributions come out a little lower than asked.
std::vector<ServeRequest> workload_generate(const WorkloadSpec& w);

// A CSV trace with a header naming the columns prompt, output and optionally arrival (any order);
// '#' starts a comment line. Every error names file:line. Each request gets `samples` samples,
// all with the trace's output length.
std::vector<ServeRequest> workload_read_csv(const std::string& path, u64 max_len, u64 samples);

}  // namespace attnlab
