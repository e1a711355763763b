// Live numbers in lessons: `{{name key=value ...}}` is replaced, when a lesson is shown, by a figure
// the core library computes (the simulator, the KV-cache model, the GPU presets ...). A lesson
// therefore never carries a hand-typed number that the code can compute, and cannot go stale.
//
//   {{gpu name=h100-sxm field=hbm_bw}}                      -> 3.35 TB/s
//   {{traffic algo=naive seq=4096 d=128 field=hbm_bytes}}   -> 1.03 GiB
//   {{kv model=llama-2-7b seq=4096 field=total}}            -> 2.00 GiB
//   {{= {{traffic algo=naive field=hbm_bytes}} / {{traffic algo=flash2 field=hbm_bytes}} as=ratio}}
//
// Every template is a TemplateDef in one registry (templates.cpp and templates_*.cpp): its keys
// with defaults, its fields, and one function that asks the core library. `as=` and `digits=` are
// accepted by every template and choose how the value is written. Errors (unknown template, key,
// field or a bad value) are InputErrors naming the file and line.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hw/dtype.hpp"
#include "util/checked.hpp"

namespace attnlab {

// What a figure measures: chooses how it is written by default.
enum class ValueUnit {
  plain,        // 12.5
  count,        // 1,048,576
  bytes,        // 1.50 GiB
  flops,        // 275 GFLOP
  seconds,      // 4.56 ms
  bytes_per_s,  // 3.35 TB/s
  flops_per_s,  // 989 TFLOP/s
  ratio,        // 8.9x
  intensity,    // 295 FLOP/B
};

struct TemplateValue {
  double number = 0;          // always set: expressions and quiz checks use it
  std::optional<u128> exact;  // set when the figure is an exact count
  ValueUnit unit = ValueUnit::plain;

  static TemplateValue of_count(u128 v, ValueUnit u = ValueUnit::count);
  static TemplateValue of(double v, ValueUnit u);
};

// How to write a value. `as`: auto (by unit), raw (exact digits or %.6g), count, bytes (binary:
// GiB), bytes_si (decimal: GB, as datasheets write capacities), flops,
// seconds, rate (bytes/s), ratio, percent (x100 with %), plain. `digits`: decimals for plain,
// ratio and percent (-1 = three significant digits).
std::string template_format(const TemplateValue& v, std::string_view as = "auto", int digits = -1);
const std::vector<std::string>& template_format_names();

// The keys a template call gave, with the defaults of the keys it left out. Getters check the
// value and throw InputError("key 'seq' must be between 1 and 4294967296 (got '0')"); the caller
// adds the file and line.
class TemplateArgs {
 public:
  explicit TemplateArgs(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  const std::string& str(const std::string& key) const;
  u64 u64_in(const std::string& key, u64 min, u64 max) const;
  double number(const std::string& key, double min, double max) const;
  bool flag(const std::string& key) const;  // true/false, yes/no, on/off, 1/0
  DType dtype(const std::string& key) const;
  bool has(const std::string& key) const;   // given in the call or defaulted to non-empty
 private:
  std::map<std::string, std::string> values_;
};

struct TemplateParam {
  std::string key;
  std::string default_value;  // "" = no default: the key is optional and empty when left out
  std::string help;
};
struct TemplateField {
  std::string name;
  std::string help;
};
struct TemplateDef {
  std::string name;
  std::string help;
  std::string source;                // which part of the core library answers ("src/models/kv_cache.hpp")
  std::vector<TemplateParam> params;  // `field` is implied when fields is not empty
  std::vector<TemplateField> fields;  // empty: the template has one figure and no `field` key
  std::string example;               // a call that works, e.g. "kv model=llama-2-7b seq=4096 field=total"
  std::function<TemplateValue(const TemplateArgs& args, const std::string& field)> fn;
};

// The registry, built once. Sorted by name.
const std::vector<TemplateDef>& template_registry();
const TemplateDef* template_find(std::string_view name);

// One call, the text between {{ and }} ("kv model=llama-2-7b field=total"). `file` and `line` go
// into errors: "lessons/05-kv-cache.md:12: {{kv ...}}: unknown key 'sq' (known: model, seq, ...)".
struct TemplateResult {
  TemplateValue value;
  std::string as = "auto";
  int digits = -1;
  std::string text() const { return template_format(value, as, digits); }
};
TemplateResult template_eval(std::string_view call, std::string_view file, int line);

// An arithmetic expression of numbers and {{templates}}: + - * / ^ ( ), optionally followed by
// `as=...` and `digits=N`. A single template keeps its unit; anything computed is plain unless
// `as=` says otherwise. Division by zero is an error.
TemplateResult template_eval_expr(std::string_view expr, std::string_view file, int line);

// Every {{...}} of `text` replaced by its value ({{= expr}} for expressions); `\{{` stays a literal
// "{{". `line` is the file line of text's first line (text may span lines). `uses` collects each
// call and what it became.
struct TemplateUse {
  int line = 0;
  std::string call;  // as written, without the braces
  TemplateResult result;
};
std::string template_fill(std::string_view text, std::string_view file, int line,
                          std::vector<TemplateUse>* uses = nullptr);

// Registration, one function per area (explicit calls: a static library drops self-registering
// objects nobody references).
void register_templates_hw_sim(std::vector<TemplateDef>& reg);      // templates_sim.cpp
void register_templates_models(std::vector<TemplateDef>& reg);      // templates_models.cpp
void register_templates_serving(std::vector<TemplateDef>& reg);     // templates_serving.cpp
void register_templates_measured(std::vector<TemplateDef>& reg);    // templates_measured.cpp
void register_templates_tiles(std::vector<TemplateDef>& reg);       // templates_tiles.cpp
void register_templates_backward(std::vector<TemplateDef>& reg);    // templates_backward.cpp

}  // namespace attnlab
