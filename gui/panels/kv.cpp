// kv: the KV cache of a real model and of the same model with MHA / GQA / MQA / MLA, as bars, with
// sequence length and batch sliders, and whether weights plus cache fit on the chosen GPU. Every
// byte is the KV-cache model's (src/models/kv_cache).
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "models/hf_config.hpp"
#include "models/kv_cache.hpp"
#include "open_file.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "plot/plot.hpp"
#include "style.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

struct KvCache : PanelCache {
  std::string key, error;
  const ModelSpec* model = nullptr;
  std::vector<KvVariant> variants;
  std::vector<KvFit> fits;  // per variant, on one GPU of the chosen preset
  // The same variants over sequence lengths 128 .. 1M (same batch): the plot under the bars.
  std::vector<u64> curve_seq;
  std::vector<std::vector<double>> curve_bytes;  // [variant][length]; NaN where impossible
};

void refresh_kv(View& v, KvCache& c) {
  const Settings& s = v.settings;
  const std::string key = fmt::format("{}|{}|{}|{}|{}", s.kv_model, s.kv_seq, s.kv_batch, v.gpu.name, dtype_name(s.dtype));
  if (key == c.key) return;
  c.key = key;
  c.error.clear();
  c.variants.clear();
  c.fits.clear();
  try {
    c.model = &model_find(s.kv_model);
    c.variants = kv_what_if(*c.model, s.dtype, s.kv_seq, s.kv_batch);
    for (const auto& var : c.variants)
      c.fits.push_back(kv_fit(var.spec, var.kv, u128{v.gpu.hbm_bytes}, 1, c.model->weight_dtype));
    c.curve_seq.clear();
    c.curve_bytes.assign(c.variants.size(), {});
    for (u64 n = 128; n <= (u64{1} << 20); n *= 2) {
      const auto vars = kv_what_if(*c.model, s.dtype, n, s.kv_batch);
      if (vars.size() != c.variants.size()) continue;
      c.curve_seq.push_back(n);
      for (size_t i = 0; i < vars.size(); ++i)
        c.curve_bytes[i].push_back(vars[i].possible ? to_double(vars[i].kv.bytes_total) : std::nan(""));
    }
  } catch (const std::exception& e) {
    c.error = e.what();
  }
}

}  // namespace

void draw_kv(View& v) {
  const Theme& th = theme();
  Settings& s = v.settings;
  auto& cache = v.cache<KvCache>("kv");
  panel_header("KV cache: what each token leaves behind",
               fmt::format("KV-cache model (src/models/kv_cache), model presets ({}), GPU {}", "assets/models.json", v.gpu.name));

  ImGui::SetNextItemWidth(control_width(3));
  try {
    if (ImGui::BeginCombo("##model", model_find(s.kv_model).display.c_str())) {
      for (const auto& m : model_presets())
        if (ImGui::Selectable(m.display.c_str(), m.name == s.kv_model)) s.kv_model = m.name;
      // The session's own models (config.json files opened or dropped), then the way to add one.
      if (!model_session_models().empty()) ImGui::Separator();
      for (const auto& m : model_session_models())
        if (ImGui::Selectable(fmt::format("{} (config.json)", m.name).c_str(), m.name == s.kv_model)) s.kv_model = m.name;
      ImGui::Separator();
      if (ImGui::Selectable("Open a model config...")) gui_open_request();
      ImGui::EndCombo();
    }
  } catch (const std::exception& e) {
    panel_error(e.what());
    return;
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(2));
  slider_pow2("##seq", "seq", s.kv_seq, 128, 1048576, "tokens");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(control_width(1));
  slider_pow2("##batch", "batch", s.kv_batch, 1, 256);

  refresh_kv(v, cache);
  if (!cache.error.empty()) {
    panel_error(cache.error);
    return;
  }
  const ModelSpec& m = *cache.model;
  ImGui::PushTextWrapPos(0);
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.text_dim), "%s: %llu layers, %llu query heads, %llu K/V heads, d = %llu; %s",
                     m.display.c_str(), static_cast<unsigned long long>(m.layers), static_cast<unsigned long long>(m.heads),
                     static_cast<unsigned long long>(m.kv_heads), static_cast<unsigned long long>(m.head_dim),
                     m.pattern_summary().c_str());
  ImGui::PopTextWrapPos();

  // Bars: one per attention kind, length relative to the largest; the GPU's free memory after the
  // weights is the dashed line a bar must stay left of to fit.
  double largest = 0;
  for (const auto& var : cache.variants)
    if (var.possible) largest = std::max(largest, to_double(var.kv.bytes_total));
  const KvFit* own_fit = nullptr;
  for (size_t i = 0; i < cache.variants.size(); ++i)
    if (cache.variants[i].is_model) own_fit = &cache.fits[i];
  const double free_b = own_fit ? to_double(own_fit->free_bytes) : 0;
  const double scale = std::max(largest, free_b) * 1.05;

  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float em = ImGui::GetFontSize();
  // The label column as wide as its longest label ("MLA-512+64" ran into its bar at 30 px).
  float label_w = em * 4;
  for (const auto& var : cache.variants)
    label_w = std::max(label_w, fonts().bold->CalcTextSizeA(em, 1e9f, 0, var.label.c_str()).x + em * 0.6f);
  const float full = ImGui::GetContentRegionAvail().x;
  const float bar_h = em * 1.7f;
  const ImVec2 top = ImGui::GetCursorScreenPos();
  for (size_t i = 0; i < cache.variants.size(); ++i) {
    const KvVariant& var = cache.variants[i];
    const ImVec2 p = ImGui::GetCursorScreenPos();
    add_text(dl, var.is_model ? fonts().bold : fonts().body, em, ImVec2(p.x, p.y + (bar_h - em) / 2), th.text, var.label.c_str());
    if (!var.possible) {
      add_text(dl, fonts().small, fonts().small->FontSize, ImVec2(p.x + label_w, p.y + (bar_h - em) / 2), th.text_dim,
                  var.note.c_str());
    } else {
      const float w = static_cast<float>((full - label_w) * to_double(var.kv.bytes_total) / scale);
      const bool fits = cache.fits[i].weights_fit && var.kv.bytes_total <= cache.fits[i].free_bytes;
      const ImU32 col = fits ? th.good : th.bad;
      dl->AddRectFilled(ImVec2(p.x + label_w, p.y + 3), ImVec2(p.x + label_w + std::max(2.0f, w), p.y + bar_h - 3),
                        color_alpha(col, var.is_model ? 0.85f : 0.55f), 3);
      const std::string txt = format_bytes(var.kv.bytes_total) + (var.is_model ? "  (the model's own)" : "");
      const float tx = std::min(p.x + label_w + std::max(2.0f, w) + 6, p.x + full - ImGui::CalcTextSize(txt.c_str()).x);
      add_text(dl, nullptr, 0, ImVec2(tx, p.y + (bar_h - em) / 2), th.text, txt.c_str());
    }
    ImGui::Dummy(ImVec2(full, bar_h));
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s\n%s B for %llu sequences of %llu tokens\n%s B per token per layer\n%s",
                        var.label.c_str(), format_count(var.kv.bytes_total).c_str(), static_cast<unsigned long long>(s.kv_batch),
                        static_cast<unsigned long long>(s.kv_seq), format_count(var.kv.bytes_per_token_layer).c_str(),
                        var.note.c_str());
  }
  if (own_fit && own_fit->weights_fit) {
    const float x = top.x + label_w + static_cast<float>((full - label_w) * free_b / scale);
    const float y1 = ImGui::GetCursorScreenPos().y;
    for (float y = top.y; y < y1; y += 10) dl->AddLine(ImVec2(x, y), ImVec2(x, std::min(y + 6, y1)), th.text, 2);
    const std::string t = "free on one " + v.gpu.name + ": " + format_bytes(own_fit->free_bytes);
    const float tw = ImGui::CalcTextSize(t.c_str()).x;
    add_text(dl, fonts().small, fonts().small->FontSize, ImVec2(std::max(top.x, x - tw * 0.8f), y1 + 2), th.text_dim, t.c_str());
  }
  ImGui::Dummy(ImVec2(0, em * 1.2f));

  // The verdict for the model as built.
  if (own_fit) {
    ImGui::PushTextWrapPos(0);
    if (!own_fit->weights_fit) {
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(th.bad),
                         "The weights alone (%s) do not fit one %s (%s): at least %llu of them just for the weights.",
                         format_bytes(own_fit->weight_bytes).c_str(), v.gpu.name.c_str(), format_bytes(own_fit->memory_bytes).c_str(),
                         static_cast<unsigned long long>(own_fit->gpus_for_weights));
    } else {
      const bool fits = own_fit->seqs_fit >= s.kv_batch;
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(fits ? th.good : th.bad),
                         "%s on one %s: weights %s, %s left for the cache; %s sequences of %s tokens fit.",
                         fits ? "Fits" : "Does not fit", v.gpu.name.c_str(), format_bytes(own_fit->weight_bytes).c_str(),
                         format_bytes(own_fit->free_bytes).c_str(), format_count(own_fit->seqs_fit).c_str(),
                         tokens_text(s.kv_seq).c_str());
    }
    ImGui::PopTextWrapPos();
  }

  // The cache against sequence length: where each variant crosses the GPU's free memory.
  if (ImGui::GetContentRegionAvail().y > em * 8 && !cache.curve_seq.empty()) {
    PlotSpec ps;
    ps.x = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::tokens, "sequence length (tokens per sequence)"};
    ps.y = plot::Axis{0, 1, plot::Scale::log, 2, plot::Unit::bytes, fmt::format("KV cache, batch {}", s.kv_batch)};
    ps.legend = LegendPos::top_left;
    for (size_t i = 0; i < cache.variants.size(); ++i) {
      if (!cache.variants[i].possible) continue;
      Series ser;
      ser.name = cache.variants[i].label + (cache.variants[i].is_model ? " (the model's own)" : "");
      ser.color = th.series[i % 8];
      ser.width = cache.variants[i].is_model ? th.line_width + 1.5f : 0;
      for (size_t k = 0; k < cache.curve_seq.size(); ++k)
        if (!std::isnan(cache.curve_bytes[i][k])) {
          ser.x.push_back(double(cache.curve_seq[k]));
          ser.y.push_back(cache.curve_bytes[i][k]);
        }
      ps.series.push_back(std::move(ser));
    }
    if (own_fit && own_fit->weights_fit && free_b > 0) {
      ps.markers.push_back({free_b, format_bytes(own_fit->free_bytes) + " free on one " + v.gpu.name, th.bad, false});
      ps.y_include.push_back(free_b);
    }
    ps.markers.push_back({double(s.kv_seq), tokens_text(s.kv_seq), th.text_dim, true, true});
    plot_draw("kvcurve", ps, ImVec2(0, 0));
  }
}

}  // namespace attnlab::gui
