// Templates that ask the serving models: speculative decoding (src/models/specdec.hpp). Paged
// attention and ring attention join here when their models land.
#include <fmt/format.h>

#include "lessons/templates.hpp"
#include "models/specdec.hpp"
#include "util/errors.hpp"

namespace attnlab {

namespace {

TemplateValue specdec_value(const TemplateArgs& a, const std::string& field) {
  SpecDecParams p;
  p.alpha = a.number("alpha", 0.0, 1.0);
  p.gamma = a.u64_in("gamma", 0, 1024);
  p.c = a.number("c", 0.0, 1e6);
  specdec_validate(p);
  const u64 max_gamma = a.u64_in("max_gamma", 1, 1024);
  if (field == "tokens") return TemplateValue::of(specdec_expected_tokens(p.alpha, p.gamma), ValueUnit::plain);
  if (field == "speedup") return TemplateValue::of(specdec_speedup(p), ValueUnit::ratio);
  if (field == "best_gamma") return TemplateValue::of_count(specdec_best_gamma(p.alpha, p.c, max_gamma));
  if (field == "best_speedup") {
    SpecDecParams b = p;
    b.gamma = specdec_best_gamma(p.alpha, p.c, max_gamma);
    return TemplateValue::of(specdec_speedup(b), ValueUnit::ratio);
  }
  if (field == "all_accepted") return TemplateValue::of(specdec_tokens_pmf(p.alpha, p.gamma, p.gamma + 1), ValueUnit::plain);
  // pmf: P(a pass emits k tokens)
  const u64 k = a.u64_in("k", 1, p.gamma + 1);
  return TemplateValue::of(specdec_tokens_pmf(p.alpha, p.gamma, k), ValueUnit::plain);
}

}  // namespace

void register_templates_serving(std::vector<TemplateDef>& reg) {
  reg.push_back({"specdec",
                 "Speculative decoding with acceptance rate alpha and gamma draft tokens (see `attnlab specdec`).",
                 "src/models/specdec.hpp",
                 {{"alpha", "0.8", "probability that the target accepts a draft token"},
                  {"gamma", "5", "draft tokens per target pass"},
                  {"c", "0.05", "cost of one draft token / cost of one target pass"},
                  {"max_gamma", "16", "largest gamma searched by best_gamma"},
                  {"k", "1", "pmf: tokens emitted by one pass"}},
                 {{"tokens", "expected tokens per target pass"},
                  {"speedup", "expected speed-up over plain decoding"},
                  {"best_gamma", "gamma with the largest expected speed-up"},
                  {"best_speedup", "the speed-up at best_gamma"},
                  {"all_accepted", "probability that all gamma drafts are accepted"},
                  {"pmf", "probability that one pass emits k tokens"}},
                 "specdec alpha=0.8 gamma=5 c=0.05 field=speedup",
                 specdec_value});
}

}  // namespace attnlab
