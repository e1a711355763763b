// The template engine: call parsing, the registry, value formatting, expressions, and filling a
// text. The templates themselves (what each asks of the core library) are in templates_*.cpp.
#include "lessons/templates.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <set>

#include "util/errors.hpp"
#include "util/parse_number.hpp"
#include "util/units.hpp"
#include "util/text.hpp"

namespace attnlab {

namespace {

[[noreturn]] void fail(std::string_view file, int line, std::string_view call, const std::string& what) {
  throw InputError(fmt::format("{}:{}: {{{{{}}}}}: {}", file, line, trim(call), what));
}

// Three significant digits, or fixed decimals when asked.
std::string plain_number(double v, int digits) {
  if (digits >= 0) return fmt::format("{:.{}f}", v, digits);
  double a = std::fabs(v);
  if (a < 1e15 && v == std::floor(v)) {
    std::string s = format_count(static_cast<u128>(a));
    return v < 0 ? "-" + s : s;
  }
  if (a >= 1000.0 && a < 1e15) {  // whole thousands read better with separators: "54,410"
    std::string s = format_count(static_cast<u128>(std::llround(a)));
    return v < 0 ? "-" + s : s;
  }
  if (a >= 100.0) return fmt::format("{:.0f}", v);
  if (a >= 10.0) return fmt::format("{:.1f}", v);
  if (a >= 1.0) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3g}", v);
}

u128 as_u128(const TemplateValue& v) {
  if (v.exact) return *v.exact;
  if (!(v.number >= 0) || v.number >= 3.0e38) return 0;
  return static_cast<u128>(v.number + 0.5);
}

// Splits "name a=1 b=\"two words\"" into the name and key/value pairs, in order.
struct ParsedCall {
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;
};

ParsedCall parse_call(std::string_view call, std::string_view file, int line) {
  ParsedCall p;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < call.size() && std::isspace(static_cast<unsigned char>(call[i]))) ++i;
  };
  skip_space();
  size_t start = i;
  while (i < call.size() && !std::isspace(static_cast<unsigned char>(call[i]))) ++i;
  p.name = std::string(call.substr(start, i - start));
  if (p.name.empty()) fail(file, line, call, "empty template (write {{name key=value ...}})");
  while (true) {
    skip_space();
    if (i >= call.size()) break;
    size_t k = i;
    while (i < call.size() && call[i] != '=' && !std::isspace(static_cast<unsigned char>(call[i]))) ++i;
    std::string key(call.substr(k, i - k));
    if (i >= call.size() || call[i] != '=')
      fail(file, line, call, fmt::format("expected key=value (got '{}')", key));
    ++i;
    std::string value;
    if (i < call.size() && call[i] == '"') {
      size_t close = call.find('"', i + 1);
      if (close == std::string_view::npos) fail(file, line, call, fmt::format("value of '{}' has no closing quote", key));
      value = std::string(call.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t v = i;
      while (i < call.size() && !std::isspace(static_cast<unsigned char>(call[i]))) ++i;
      value = std::string(call.substr(v, i - v));
    }
    if (key.empty()) fail(file, line, call, "a key is missing before '='");
    if (value.empty()) fail(file, line, call, fmt::format("key '{}' has no value", key));
    p.args.emplace_back(std::move(key), std::move(value));
  }
  return p;
}

// Reads as= and digits= (valid in every template and expression).
void read_format_keys(const std::string& key, const std::string& value, TemplateResult& r, std::string_view call,
                      std::string_view file, int line) {
  if (key == "as") {
    const auto& names = template_format_names();
    if (std::find(names.begin(), names.end(), value) == names.end())
      fail(file, line, call, fmt::format("as must be one of {} (got '{}')", join(names), value));
    r.as = value;
  } else {
    bool ok = !value.empty() && value.size() <= 2 &&
              std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); });
    int d = ok ? std::stoi(value) : -1;
    if (d < 0 || d > 12) fail(file, line, call, fmt::format("digits must be between 0 and 12 (got '{}')", value));
    r.digits = d;
  }
}

std::vector<TemplateDef> build_registry() {
  std::vector<TemplateDef> reg;
  register_templates_hw_sim(reg);
  register_templates_models(reg);
  register_templates_serving(reg);
  register_templates_measured(reg);
  register_templates_tiles(reg);
  register_templates_backward(reg);
  std::sort(reg.begin(), reg.end(), [](const TemplateDef& a, const TemplateDef& b) { return a.name < b.name; });
  return reg;
}

// Finds the "}}" closing the "{{" at `open`, counting nested pairs. npos when unclosed.
size_t find_close(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i + 1 < s.size();) {
    if (s[i] == '{' && s[i + 1] == '{') {
      ++depth;
      i += 2;
    } else if (s[i] == '}' && s[i + 1] == '}') {
      if (--depth == 0) return i;
      i += 2;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}

int newlines(std::string_view s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// ---------------------------------------------------------------- expressions

class ExprParser {
 public:
  ExprParser(std::string_view text, std::string_view file, int line) : s_(text), file_(file), line_(line) {}

  // Returns the value; `single` is set when the whole expression was one template.
  TemplateValue parse() {
    TemplateValue v = sum();
    skip();
    if (pos_ < s_.size()) fail(file_, line_, "= " + std::string(s_), fmt::format("unexpected '{}' in expression", s_.substr(pos_)));
    return v;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  TemplateValue combine(const TemplateValue& a, const TemplateValue& b, char op) {
    double r = 0;
    switch (op) {
      case '+': r = a.number + b.number; break;
      case '-': r = a.number - b.number; break;
      case '*': r = a.number * b.number; break;
      case '/':
        if (b.number == 0) fail(file_, line_, "= " + std::string(s_), "division by zero");
        r = a.number / b.number;
        break;
    }
    return TemplateValue::of(r, ValueUnit::plain);
  }
  TemplateValue sum() {
    TemplateValue v = product();
    while (true) {
      skip();
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        char op = s_[pos_++];
        v = combine(v, product(), op);
      } else {
        return v;
      }
    }
  }
  TemplateValue product() {
    TemplateValue v = unary();
    while (true) {
      skip();
      if (pos_ < s_.size() && (s_[pos_] == '*' || s_[pos_] == '/')) {
        char op = s_[pos_++];
        v = combine(v, unary(), op);
      } else {
        return v;
      }
    }
  }
  TemplateValue unary() {
    skip();
    if (pos_ < s_.size() && s_[pos_] == '-') {
      ++pos_;
      TemplateValue v = unary();
      return TemplateValue::of(-v.number, ValueUnit::plain);
    }
    return power();
  }
  // a ^ b, right-associative, binding tighter than unary minus on its left: -2^2 = -4.
  TemplateValue power() {
    TemplateValue base = atom();
    skip();
    if (pos_ < s_.size() && s_[pos_] == '^') {
      ++pos_;
      TemplateValue e = unary();
      return TemplateValue::of(std::pow(base.number, e.number), ValueUnit::plain);
    }
    return base;
  }
  TemplateValue atom() {
    skip();
    const std::string whole = "= " + std::string(s_);
    if (pos_ >= s_.size()) fail(file_, line_, whole, "expression ends where a number or {{template}} was expected");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      TemplateValue v = sum();
      skip();
      if (pos_ >= s_.size() || s_[pos_] != ')') fail(file_, line_, whole, "missing ')'");
      ++pos_;
      return v;
    }
    if (c == '{' && s_.substr(pos_, 2) == "{{") {
      size_t close = find_close(s_, pos_);
      if (close == std::string_view::npos) fail(file_, line_, whole, "'{{' is never closed with '}}'");
      std::string_view inner = s_.substr(pos_ + 2, close - pos_ - 2);
      pos_ = close + 2;
      std::string_view t = trim(inner);
      if (!t.empty() && t.front() == '=') return template_eval_expr(t.substr(1), file_, line_).value;
      return template_eval(inner, file_, line_).value;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t start = pos_;
      while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        size_t save = pos_++;
        if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
        if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        } else {
          pos_ = save;
        }
      }
      std::string num(s_.substr(start, pos_ - start));
      try {
        size_t used = 0;
        double v = std::stod(num, &used);
        if (used != num.size()) throw std::invalid_argument("partial");
        return TemplateValue::of(v, ValueUnit::plain);
      } catch (const std::exception&) {
        fail(file_, line_, whole, fmt::format("'{}' is not a number", num));
      }
    }
    fail(file_, line_, whole, fmt::format("unexpected '{}' in expression", s_.substr(pos_)));
  }

  std::string_view s_;
  std::string_view file_;
  int line_;
  size_t pos_ = 0;
};

}  // namespace

// ---------------------------------------------------------------- values

TemplateValue TemplateValue::of_count(u128 v, ValueUnit u) {
  TemplateValue t;
  t.number = to_double(v);
  t.exact = v;
  t.unit = u;
  return t;
}

TemplateValue TemplateValue::of(double v, ValueUnit u) {
  TemplateValue t;
  t.number = v;
  t.unit = u;
  return t;
}

const std::vector<std::string>& template_format_names() {
  static const std::vector<std::string> names = {"auto",  "raw",     "plain", "count", "bytes",  "bytes_si",
                                                 "flops", "seconds", "rate",  "ratio", "percent"};
  return names;
}

std::string template_format(const TemplateValue& v, std::string_view as, int digits) {
  ValueUnit u = v.unit;
  if (as == "raw") {
    if (v.exact) return to_string_u128(*v.exact);
    return fmt::format("{}", v.number);
  }
  if (as == "plain") u = ValueUnit::plain;
  else if (as == "count") u = ValueUnit::count;
  else if (as == "bytes") u = ValueUnit::bytes;
  else if (as == "flops") u = ValueUnit::flops;
  else if (as == "seconds") u = ValueUnit::seconds;
  else if (as == "rate") u = ValueUnit::bytes_per_s;
  else if (as == "ratio") u = ValueUnit::ratio;
  else if (as == "bytes_si") return format_rate(v.number, "B");  // decimal: "80.0 GB", as datasheets write
  else if (as == "percent") {
    double p = v.number * 100.0;
    return (digits >= 0 ? fmt::format("{:.{}f}", p, digits) : plain_number(p, -1)) + "%";
  }
  switch (u) {
    case ValueUnit::plain: return plain_number(v.number, digits);
    case ValueUnit::count:
      if (v.exact) return format_count(*v.exact);
      return plain_number(std::round(v.number), -1);
    case ValueUnit::bytes: return v.exact ? format_bytes(*v.exact) : format_bytes(v.number);
    case ValueUnit::flops: return format_flops(as_u128(v));
    case ValueUnit::seconds: return format_seconds(v.number);
    case ValueUnit::bytes_per_s: return format_rate(v.number, "B/s");
    case ValueUnit::flops_per_s: return format_rate(v.number, "FLOP/s");
    case ValueUnit::ratio:
      if (digits >= 0) return fmt::format("{:.{}f}x", v.number, digits);
      return format_ratio(v.number);
    case ValueUnit::intensity: return plain_number(std::round(v.number), -1) + " FLOP/B";
  }
  return plain_number(v.number, digits);
}

// ---------------------------------------------------------------- arguments

const std::string& TemplateArgs::str(const std::string& key) const {
  static const std::string empty;
  auto it = values_.find(key);
  return it == values_.end() ? empty : it->second;
}

bool TemplateArgs::has(const std::string& key) const { return !str(key).empty(); }

// The forms `attnlab steps --seq` takes: {{steps n=2^15}}, n=1e5, n=32K.
u64 TemplateArgs::u64_in(const std::string& key, u64 min, u64 max) const {
  return parse_whole(str(key), fmt::format("key '{}'", key), min, max);
}

double TemplateArgs::number(const std::string& key, double min, double max) const {
  const std::string& v = str(key);
  double d = 0;
  bool ok = false;
  try {
    size_t used = 0;
    d = std::stod(v, &used);
    ok = used == v.size() && std::isfinite(d);
  } catch (const std::exception&) {
  }
  if (!ok || d < min || d > max)
    throw InputError(fmt::format("key '{}' must be a number between {} and {} (got '{}')", key, min, max, v));
  return d;
}

bool TemplateArgs::flag(const std::string& key) const {
  const std::string& v = str(key);
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw InputError(fmt::format("key '{}' must be true or false (got '{}')", key, v));
}

DType TemplateArgs::dtype(const std::string& key) const {
  return parse_dtype(str(key), key, {DType::fp32, DType::tf32, DType::fp16, DType::bf16, DType::fp8, DType::int4});
}

// ---------------------------------------------------------------- registry and evaluation

const std::vector<TemplateDef>& template_registry() {
  static const std::vector<TemplateDef> reg = build_registry();
  return reg;
}

const TemplateDef* template_find(std::string_view name) {
  for (const auto& d : template_registry())
    if (d.name == name) return &d;
  return nullptr;
}

TemplateResult template_eval(std::string_view call, std::string_view file, int line) {
  ParsedCall p = parse_call(call, file, line);
  if (p.name == "=") fail(file, line, call, "write an expression as {{= ...}} directly, not inside another call");
  const TemplateDef* def = template_find(p.name);
  if (def == nullptr) {
    std::vector<std::string> names;
    for (const auto& d : template_registry()) names.push_back(d.name);
    fail(file, line, call, fmt::format("unknown template '{}' (known: {})", p.name, join(names)));
  }
  TemplateResult r;
  std::map<std::string, std::string> values;
  std::set<std::string> seen;
  for (const auto& [key, value] : p.args) {
    if (!seen.insert(key).second) fail(file, line, call, fmt::format("key '{}' given twice", key));
    if (key == "as" || key == "digits") {
      read_format_keys(key, value, r, call, file, line);
      continue;
    }
    bool known = (key == "field" && !def->fields.empty()) ||
                 std::any_of(def->params.begin(), def->params.end(), [&k = key](const TemplateParam& q) { return q.key == k; });
    if (!known) {
      std::vector<std::string> keys;
      for (const auto& q : def->params) keys.push_back(q.key);
      if (!def->fields.empty()) keys.push_back("field");
      keys.push_back("as");
      keys.push_back("digits");
      fail(file, line, call, fmt::format("unknown key '{}' for {} (known: {})", key, def->name, join(keys)));
    }
    values[key] = value;
  }
  for (const auto& q : def->params)
    if (!values.count(q.key) && !q.default_value.empty()) values[q.key] = q.default_value;
  std::string field;
  if (!def->fields.empty()) {
    std::vector<std::string> names;
    for (const auto& f : def->fields) names.push_back(f.name);
    auto it = values.find("field");
    if (it == values.end()) fail(file, line, call, fmt::format("missing field= (fields of {}: {})", def->name, join(names)));
    field = it->second;
    if (std::find(names.begin(), names.end(), field) == names.end())
      fail(file, line, call, fmt::format("unknown field '{}' for {} (fields: {})", field, def->name, join(names)));
  }
  try {
    r.value = def->fn(TemplateArgs(std::move(values)), field);
  } catch (const InputError& e) {
    fail(file, line, call, e.what());
  }
  if (!std::isfinite(r.value.number)) fail(file, line, call, "the value is not a finite number");
  return r;
}

TemplateResult template_eval_expr(std::string_view expr, std::string_view file, int line) {
  // Trailing as=/digits= options, outside any {{...}}.
  TemplateResult r;
  std::string_view body = trim(expr);
  while (true) {
    size_t sp = body.find_last_of(" \t");
    std::string_view last = sp == std::string_view::npos ? body : body.substr(sp + 1);
    bool is_opt = last.substr(0, 3) == "as=" || last.substr(0, 7) == "digits=";
    if (!is_opt || last.find("}}") != std::string_view::npos) break;
    size_t eq = last.find('=');
    read_format_keys(std::string(last.substr(0, eq)), std::string(last.substr(eq + 1)), r, "= " + std::string(expr),
                     file, line);
    if (sp == std::string_view::npos) {
      body = {};
      break;
    }
    body = trim(body.substr(0, sp));
  }
  if (body.empty()) fail(file, line, "= " + std::string(expr), "empty expression");
  // A lone template keeps its own format unless the expression says otherwise.
  if (body.substr(0, 2) == "{{" && find_close(body, 0) == body.size() - 2) {
    std::string_view inner = trim(body.substr(2, body.size() - 4));
    TemplateResult single = !inner.empty() && inner.front() == '=' ? template_eval_expr(inner.substr(1), file, line)
                                                                    : template_eval(inner, file, line);
    if (r.as == "auto") r.as = single.as;
    if (r.digits < 0) r.digits = single.digits;
    r.value = single.value;
    return r;
  }
  TemplateValue v = ExprParser(body, file, line).parse();
  if (!std::isfinite(v.number)) fail(file, line, "= " + std::string(expr), "the value is not a finite number");
  r.value = v;
  return r;
}

std::string template_fill(std::string_view text, std::string_view file, int line, std::vector<TemplateUse>* uses) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    if (open > 0 && text[open - 1] == '\\') {
      out += text.substr(i, open - 1 - i);
      out += "{{";
      i = open + 2;
      continue;
    }
    out += text.substr(i, open - i);
    int at = line + newlines(text.substr(0, open));
    size_t close = find_close(text, open);
    if (close == std::string_view::npos) {
      std::string_view rest = text.substr(open, std::min<size_t>(40, text.size() - open));
      size_t nl = rest.find('\n');
      throw InputError(fmt::format("{}:{}: '{{{{' is never closed with '}}}}' (at '{}')", file, at, rest.substr(0, nl)));
    }
    std::string_view inner = text.substr(open + 2, close - open - 2);
    std::string_view t = trim(inner);
    TemplateResult r = !t.empty() && t.front() == '=' ? template_eval_expr(t.substr(1), file, at)
                                                       : template_eval(inner, file, at);
    out += r.text();
    if (uses) uses->push_back({at, std::string(t), r});
    i = close + 2;
  }
  return out;
}

}  // namespace attnlab
