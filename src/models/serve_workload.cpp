#include "models/serve_workload.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>

#include "util/parse_number.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {
std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

bool parse_double(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(out);
}
}  // namespace

double LengthDist::mean() const {
  switch (kind) {
    case Kind::fixed: return a;
    case Kind::uniform: return (a + b) / 2;
    case Kind::exponential: return a;
    case Kind::lognormal: return a;
  }
  return a;
}

LengthDist parse_length_dist(std::string_view s, std::string_view option) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError(fmt::format("{} must be fixed:N, uniform:A:B, exp:MEAN or lognormal:MEAN:SIGMA{} (got '{}')",
                                  option, why, s));
  };
  auto parts = split(s, ':');
  LengthDist d;
  d.text = std::string(s);
  const std::string& k = parts[0];
  // Lengths (fixed:N, uniform:A:B) are read as every size is (util/parse_number: 2K, 1e3, 2^11);
  // a mean or a sigma is a real number.
  const bool lengths = k == "fixed" || k == "uniform";
  std::vector<double> v;
  for (size_t i = 1; i < parts.size(); ++i) {
    double x;
    if (lengths) {
      const std::optional<WholeNumber> w = whole_number_read(parts[i]);
      if (!w) throw bad(k == "fixed" ? ", N a whole number" : ", with whole numbers 1 <= A <= B");
      x = w->huge ? 1e40 : to_double(w->value) * (w->negative ? -1 : 1);
    } else if (!parse_double(parts[i], x)) {
      throw bad("");
    }
    v.push_back(x);
  }
  if (k == "fixed" && v.size() == 1) {
    d.kind = LengthDist::Kind::fixed;
  } else if (k == "uniform" && v.size() == 2) {
    d.kind = LengthDist::Kind::uniform;
  } else if (k == "exp" && v.size() == 1) {
    d.kind = LengthDist::Kind::exponential;
  } else if (k == "lognormal" && v.size() == 2) {
    d.kind = LengthDist::Kind::lognormal;
  } else {
    throw bad("");
  }
  d.a = v[0];
  d.b = v.size() > 1 ? v[1] : 0;
  if (d.a < 1 || d.a > 1e9) throw bad(", with lengths of at least 1");
  if (d.kind == LengthDist::Kind::fixed && d.a != std::floor(d.a)) throw bad(", N a whole number");
  if (d.kind == LengthDist::Kind::uniform && (d.b < d.a || d.b > 1e9 || d.a != std::floor(d.a) || d.b != std::floor(d.b)))
    throw bad(", with whole numbers 1 <= A <= B");
  if (d.kind == LengthDist::Kind::lognormal && (d.b < 0 || d.b > 4)) throw bad(", with 0 <= SIGMA <= 4");
  return d;
}

u64 length_sample(const LengthDist& d, SimRandom& rng) {
  double x = 1;
  switch (d.kind) {
    case LengthDist::Kind::fixed: return static_cast<u64>(d.a);
    case LengthDist::Kind::uniform: return rng.uniform_int(static_cast<u64>(d.a), static_cast<u64>(d.b));
    case LengthDist::Kind::exponential: x = -d.a * std::log1p(-rng.uniform()); break;
    case LengthDist::Kind::lognormal: {
      // E[exp(mu + sigma z)] = exp(mu + sigma^2 / 2): pick mu so that the mean is d.a.
      const double mu = std::log(d.a) - d.b * d.b / 2;
      x = std::exp(mu + d.b * rng.normal());
      break;
    }
  }
  return static_cast<u64>(std::max(1.0, std::min(std::round(x), 1e12)));
}

const std::vector<WorkloadPreset>& workload_presets() {
  static const std::vector<WorkloadPreset> p = {
      {"sharegpt", parse_length_dist("lognormal:161.31:1", "--prompt"), parse_length_dist("lognormal:337.99:1", "--output"),
       "vLLM paper (arXiv 2309.06180) section 6.1: ShareGPT means 161.31 prompt / 337.99 output tokens; lognormal shape assumed"},
      {"alpaca", parse_length_dist("lognormal:19.31:1", "--prompt"), parse_length_dist("lognormal:58.45:1", "--output"),
       "vLLM paper (arXiv 2309.06180) section 6.1: Alpaca means 19.31 prompt / 58.45 output tokens; lognormal shape assumed"},
  };
  return p;
}

const WorkloadPreset& workload_find(std::string_view name) {
  for (const auto& w : workload_presets())
    if (w.name == name) return w;
  std::string names;
  for (const auto& w : workload_presets()) names += (names.empty() ? "" : ", ") + w.name;
  throw InputError(fmt::format("--workload: unknown workload '{}' (known: {})", name, names));
}

std::vector<ServeRequest> workload_generate(const WorkloadSpec& w) {
  if (w.max_len < 2) throw InputError(fmt::format("--max-len must be at least 2 (got {})", w.max_len));
  SimRandom rng(w.seed);
  std::vector<ServeRequest> out;
  double clock = 0;
  for (u64 i = 0; i < w.requests; ++i) {
    ServeRequest r;
    r.id = i;
    if (w.rate > 0) {
      clock += -std::log1p(-rng.uniform()) / w.rate;  // Poisson arrivals: exponential gaps
      r.arrival = static_cast<u64>(clock);
    }
    r.prompt = std::min(length_sample(w.prompt, rng), w.max_len - 1);
    for (u64 s = 0; s < w.samples; ++s) r.outputs.push_back(std::min(length_sample(w.output, rng), w.max_len - r.prompt));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ServeRequest> workload_read_csv(const std::string& path, u64 max_len, u64 samples) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open the trace file", path));
  std::string line;
  u64 lineno = 0;
  int col_prompt = -1, col_output = -1, col_arrival = -1;
  size_t ncols = 0;
  std::vector<ServeRequest> out;
  auto fail = [&](const std::string& why) -> InputError { return InputError(fmt::format("{}:{}: {}", path, lineno, why)); };
  while (std::getline(in, line)) {
    ++lineno;
    std::string t(trim(line));
    if (t.empty() || t[0] == '#') continue;
    auto fields = split(t, ',');
    for (auto& f : fields) f = trim(f);
    if (col_prompt < 0) {  // the header
      ncols = fields.size();
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i] == "prompt") col_prompt = static_cast<int>(i);
        else if (fields[i] == "output") col_output = static_cast<int>(i);
        else if (fields[i] == "arrival") col_arrival = static_cast<int>(i);
        else throw fail(fmt::format("unknown column '{}' (expected prompt, output and optionally arrival)", fields[i]));
      }
      if (col_prompt < 0 || col_output < 0)
        throw fail("the header must name the columns prompt and output (and optionally arrival)");
      continue;
    }
    if (fields.size() != ncols) throw fail(fmt::format("expected {} fields, got {}", ncols, fields.size()));
    // The numbers a person types anywhere else (util/parse_number), the file and line in front.
    auto number = [&](int col, const char* name, u64 lo, u64 hi) {
      try {
        return parse_whole(fields[col], name, lo, hi);
      } catch (const InputError& e) {
        throw fail(e.what());
      }
    };
    ServeRequest r;
    r.id = out.size();
    r.prompt = number(col_prompt, "prompt", 1, max_len - 1);
    u64 o = number(col_output, "output", 1, max_len);
    if (r.prompt + o > max_len)
      throw fail(fmt::format("prompt + output = {} exceeds --max-len {}", r.prompt + o, max_len));
    if (col_arrival >= 0) {
      r.arrival = number(col_arrival, "arrival", 0, u64{1} << 40);
      if (!out.empty() && r.arrival < out.back().arrival)
        throw fail(fmt::format("arrivals must not decrease ({} after {})", r.arrival, out.back().arrival));
    }
    r.outputs.assign(samples, o);
    out.push_back(std::move(r));
  }
  if (col_prompt < 0) throw InputError(fmt::format("{}: empty trace (expected a header: prompt,output[,arrival])", path));
  if (out.empty()) throw InputError(fmt::format("{}: the trace has a header but no requests", path));
  return out;
}

}  // namespace attnlab
