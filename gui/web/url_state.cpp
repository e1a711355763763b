#include "url_state.hpp"

#include <charconv>
#include <fmt/format.h>
#include <map>
#include <vector>

#include "panels/registry.hpp"
#include "util/errors.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

// One setting that a link may carry: its short name, the panel it belongs to, and the range of
// that panel's slider (values outside it are refused, as the slider itself cannot reach them).
struct Key {
  const char* panel;
  const char* name;
  u64 Settings::*number = nullptr;
  bool Settings::*flag = nullptr;
  u64 lo = 0, hi = 0;
  bool pow2 = false;
};

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      {"growth", "N", &Settings::growth_n, nullptr, 16, u64{1} << 20, true},
      {"growth", "w", &Settings::growth_window, nullptr, 64, 65536, true},
      {"growth", "d", &Settings::growth_d, nullptr, 16, 256, true},
      {"hierarchy", "N", &Settings::roofline_n, nullptr, 256, 65536, true},
      {"hierarchy", "d", &Settings::traffic_d, nullptr, 32, 256, true},
      {"hierarchy", "causal", nullptr, &Settings::traffic_causal},
      {"tiling", "N", &Settings::tiling_n, nullptr, 128, 8192, true},
      {"tiling", "d", &Settings::tiling_d, nullptr, 16, 256, true},
      {"tiling", "causal", nullptr, &Settings::tiling_causal},
      {"tiling", "flash1", nullptr, &Settings::tiling_flash1},
      {"traffic", "d", &Settings::traffic_d, nullptr, 32, 256, true},
      {"traffic", "heads", &Settings::traffic_heads, nullptr, 1, 64},
      {"traffic", "batch", &Settings::traffic_batch, nullptr, 1, 32},
      {"traffic", "causal", nullptr, &Settings::traffic_causal},
      {"kernels", "d", &Settings::traffic_d, nullptr, 32, 256, true},
      {"kernels", "causal", nullptr, &Settings::traffic_causal},
      {"kv", "N", &Settings::kv_seq, nullptr, 128, 1048576, true},
      {"kv", "batch", &Settings::kv_batch, nullptr, 1, 256, true},
      {"paged", "budget", &Settings::paged_budget, nullptr, 4096, 32768, true},
      {"paged", "block", &Settings::paged_block, nullptr, 4, 128, true},
      {"masks", "N", &Settings::mask_n, nullptr, 4, 64},
      {"masks", "causal", nullptr, &Settings::mask_causal},
      {"ssm", "state", &Settings::ssm_state, nullptr, 4, 256, true},
      {"ssm", "d", &Settings::growth_d, nullptr, 16, 256, true},
      {"position", "d", &Settings::pos_head_dim, nullptr, 8, 256, true},
      {"position", "offset", &Settings::pos_offset, nullptr, 0, 16},
      {"ring", "P", &Settings::ring_devices, nullptr, 2, 16},
      {"ring", "N", &Settings::ring_seq, nullptr, 4096, u64{1} << 22, true},
      {"ring", "causal", nullptr, &Settings::ring_causal},
      {"specdec", "gamma", &Settings::spec_gamma, nullptr, 1, 12},
  };
  return k;
}

bool parse_u64(const std::string& s, u64& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

std::string decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// The panel in front: the chapter's tab, or its only panel.
std::string front_panel(const View& v) {
  const Lesson* l = v.current_lesson();
  if (!l || l->panels.empty()) return {};
  if (!v.first_panel.empty()) return v.first_panel;
  const int i = v.panel_tab >= 0 && v.panel_tab < static_cast<int>(l->panels.size()) ? v.panel_tab : 0;
  return l->panels[i];
}

}  // namespace

std::string url_state_apply(View& v, const std::string& hash) {
  std::vector<std::pair<std::string, std::string>> kv;
  size_t pos = 0;
  while (pos <= hash.size()) {
    size_t amp = hash.find('&', pos);
    if (amp == std::string::npos) amp = hash.size();
    const std::string item = hash.substr(pos, amp - pos);
    pos = amp + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    try {
      kv.emplace_back(decode(item.substr(0, eq)), eq == std::string::npos ? "" : decode(item.substr(eq + 1)));
    } catch (const std::exception&) {
      kv.emplace_back(item, "\x01");  // an undecodable %xx: reported below as a bad value
    }
  }
  std::vector<std::string> bad;
  auto refuse = [&](const std::string& k, const std::string& val, const std::string& why) {
    bad.push_back(fmt::format("{}={} ({})", k, val, why));
  };
  // The chapter and the panel first: the other keys belong to the panel in front. Keys the link
  // does not name keep their values (the defaults on a fresh page; the learner's on back/forward).
  int chapter_index = 0;
  std::string panel;
  for (const auto& [k, val] : kv) {
    if (k == "ch") {
      u64 n = 0;
      bool found = false;
      if (parse_u64(val, n))
        for (size_t i = 0; i < v.lessons.size(); ++i)
          if (static_cast<u64>(v.lessons[i].chapter) == n) {
            chapter_index = static_cast<int>(i);
            found = true;
          }
      if (!found) refuse(k, val, fmt::format("no such chapter; chapters are 1 to {}", v.lessons.empty() ? 0 : v.lessons.back().chapter));
    }
  }
  v.set_chapter(chapter_index);
  v.first_panel.clear();
  v.panel_tab = 0;
  const Lesson* l = v.current_lesson();
  for (const auto& [k, val] : kv) {
    if (k != "panel") continue;
    bool ok = false;
    if (l)
      for (size_t i = 0; i < l->panels.size(); ++i)
        if (l->panels[i] == val) {
          ok = true;
          v.panel_tab = static_cast<int>(i);
          v.first_panel = val;
        }
    if (!ok) refuse(k, val, "not a panel of this chapter");
  }
  panel = front_panel(v);
  for (const auto& [k, val] : kv) {
    if (k == "ch" || k == "panel") continue;
    if (k == "gpu") {
      try {
        v.set_gpu(val);
      } catch (const InputError&) {
        refuse(k, val, "unknown GPU preset");
      }
      continue;
    }
    if (k == "dtype") {
      try {
        v.settings.dtype = parse_dtype(val, "dtype", {DType::fp16, DType::bf16, DType::fp32, DType::fp8});
      } catch (const InputError&) {
        refuse(k, val, "one of fp16, bf16, fp32, fp8");
      }
      continue;
    }
    if (k == "play") {
      v.playing = val == "1";
      continue;
    }
    const Key* key = nullptr;
    for (const auto& c : keys())
      if (panel == c.panel && k == c.name) key = &c;
    if (!key) {
      refuse(k, val, panel.empty() ? "this chapter has no panel" : "not a setting of the " + panel + " panel");
      continue;
    }
    if (key->flag) {
      if (val == "0" || val == "1") v.settings.*key->flag = val == "1";
      else refuse(k, val, "0 or 1");
      continue;
    }
    u64 n = 0;
    if (!parse_u64(val, n) || n < key->lo || n > key->hi || (key->pow2 && (n & (n - 1)) != 0))
      refuse(k, val, fmt::format("{} from {} to {}", key->pow2 ? "a power of two" : "a whole number", key->lo, key->hi));
    else
      v.settings.*key->number = n;
  }
  if (bad.empty()) return {};
  std::string note = "Link: ignored ";
  for (size_t i = 0; i < bad.size(); ++i) note += (i ? ", " : "") + bad[i];
  return note + "; the defaults stand in";
}

std::string url_state_make(const View& v) {
  const Lesson* l = v.current_lesson();
  if (!l) return {};
  std::string s = fmt::format("ch={}", l->chapter);
  const std::string panel = front_panel(v);
  if (l->panels.size() > 1 && panel != l->panels[0]) s += "&panel=" + panel;
  const Settings d;
  if (v.settings.gpu != d.gpu) s += "&gpu=" + v.settings.gpu;
  if (v.settings.dtype != d.dtype) s += "&dtype=" + std::string(dtype_name(v.settings.dtype));
  for (const auto& k : keys()) {
    if (panel != k.panel) continue;
    if (k.flag && v.settings.*k.flag != d.*k.flag) s += fmt::format("&{}={}", k.name, v.settings.*k.flag ? 1 : 0);
    if (k.number && v.settings.*k.number != d.*k.number) s += fmt::format("&{}={}", k.name, static_cast<unsigned long long>(v.settings.*k.number));
  }
  return s;
}

}  // namespace attnlab::gui
