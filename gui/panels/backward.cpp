// backward: the backward pass and the training step as measured on a real GPU (the "backward"
// sections of the measurement files), one problem at a time: for every kernel the file holds (our
// backward rungs, the forward they started from, PyTorch's FA2 and cuDNN backends) the forward,
// backward and fwd+bwd median times, the backward's TFLOP/s and our speed-ups over PyTorch; bars
// put each kernel's forward beside its backward on one time axis. Then the whole backward under
// Nsight Compute beside the simulator. Every figure is src/measure's (backward_compare, sim_vs_ncu);
// this file lays them out.
#include <algorithm>
#include <fmt/format.h>

#include "measure/backward_compare.hpp"
#include "measure/sim_vs_ncu.hpp"
#include "panels/registry.hpp"
#include "panels/widgets.hpp"
#include "style.hpp"
#include "util/json_read.hpp"
#include "util/units.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {

struct BackwardSet {
  std::string name;  // file name (+ " (yours)")
  std::unique_ptr<BackwardMeasurements> m;  // stable address: the rows point into it
  std::vector<BackwardProblem> problems;
  std::vector<SimVsNcu> ncu;  // the file's whole-backward records, simulated again
};

struct BackwardCache : PanelCache {
  bool loaded = false;
  std::string error;  // a backward section the reader refused: shown instead
  std::vector<BackwardSet> sets;
  int chosen = 0;  // index over every (set, problem), in order
};

void load(const View& v, BackwardCache& c) {
  if (c.loaded) return;
  c.loaded = true;
  try {
    for (const auto& set : v.measurements) {
      if (!json_has_top_key(file_read_text(set.file, "measurement file"), "backward")) continue;
      BackwardSet b;
      b.name = set.file.filename().string() + (set.bundled ? "" : " (yours)");
      b.m = std::make_unique<BackwardMeasurements>(backward_measured_load(set.file));
      b.problems = backward_problems(*b.m);
      for (const NcuRecord& n : b.m->ncu)
        if (auto s = sim_vs_ncu(n, b.m->file.device)) b.ncu.push_back(std::move(*s));
      c.sets.push_back(std::move(b));
    }
  } catch (const std::exception& e) {
    c.error = e.what();
  }
}

std::string problem_text(const MeasuredConfig& c) {
  return fmt::format("B={} H={}{} N={} d={} {}{}", c.batch, c.heads,
                     c.kv_heads != c.heads ? fmt::format(" (KV {})", c.kv_heads) : std::string(), format_count(c.seq_q),
                     c.head_dim, c.dtype, c.causal ? " causal" : "");
}

std::string time_text(const BackwardPassCell& c) {
  return c.run ? format_seconds(c.run->time.median_ms * 1e-3) : std::string("-");
}
std::string ratio_text(const std::optional<double>& r) { return r ? fmt::format("{:.2f}x", *r) : std::string("-"); }

std::string kernel_text(const BackwardKernelRow& r) {
  if (r.forward_only) return r.kernel + " (forward)";
  return r.reference ? r.kernel + " (PyTorch)" : r.kernel + " (ours)";
}

// Forward and backward of each kernel as two bars on one time axis.
void draw_bars(const BackwardProblem& p) {
  const Theme& th = theme();
  double t_max = 0;
  for (const auto& r : p.rows)
    for (const BackwardPassCell* c : {&r.fwd, &r.bwd})
      if (c->run) t_max = std::max(t_max, c->run->time.median_ms);
  if (t_max <= 0) return;
  ImFont* font = fonts().small;
  const float fs = font->FontSize;
  const float label_w = ImGui::CalcTextSize("torch-cudnn (PyTorch)__").x;
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  const float bar_w = std::max(40.0f, w - label_w - fs * 6);
  const float row_h = fs * 1.25f;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  float y = p0.y;
  for (const auto& r : p.rows) {
    if (!r.fwd.run && !r.bwd.run) continue;
    add_text(dl, font, fs, ImVec2(p0.x, y + row_h * 0.5f), th.text, kernel_text(r).c_str());
    float yy = y;
    for (const auto& [c, color, what] : {std::tuple{&r.fwd, th.series[1], "fwd"}, std::tuple{&r.bwd, th.series[0], "bwd"}}) {
      if (c->run) {
        const float len = float(c->run->time.median_ms / t_max) * bar_w;
        dl->AddRectFilled(ImVec2(p0.x + label_w, yy + 2), ImVec2(p0.x + label_w + len, yy + row_h - 2), color);
        const std::string t = fmt::format("{} {}", what, time_text(*c));
        add_text(dl, font, fs, ImVec2(p0.x + label_w + len + 4, yy + (row_h - fs) * 0.5f), th.text_dim, t.c_str());
      }
      yy += row_h;
    }
    y += 2 * row_h + fs * 0.3f;
  }
  ImGui::Dummy(ImVec2(w, y - p0.y));
}

void draw_times(const BackwardProblem& p) {
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  static const char* columns[] = {"kernel", "fwd", "bwd", "fwd+bwd", "bwd TFLOP/s", "vs FA2", "vs cuDNN"};
  if (!ImGui::BeginTable("##bwdtimes", 7, tf)) return;
  for (const char* h : columns) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  for (const auto& r : p.rows) {
    ImGui::TableNextRow();
    const std::string cells[] = {kernel_text(r), time_text(r.fwd), time_text(r.bwd), time_text(r.step),
                                 r.bwd.run ? fmt::format("{:.1f}", r.bwd.run->tflops) : std::string("-"),
                                 ratio_text(r.bwd.vs_flash), ratio_text(r.bwd.vs_cudnn)};
    for (const auto& c : cells) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.c_str());
    }
  }
  ImGui::EndTable();
}

void draw_ncu(const BackwardSet& set) {
  if (set.ncu.empty()) return;
  const Theme& th = theme();
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
  // What every record shares goes into the header, so that the columns keep their room.
  const MeasuredConfig& first = set.ncu.front().record.config;
  bool same = true;
  for (const SimVsNcu& s : set.ncu)
    same = same && s.record.config.batch == first.batch && s.record.config.heads == first.heads &&
           s.record.config.kv_heads == first.kv_heads && s.record.config.dtype == first.dtype;
  const std::string head = same ? fmt::format("whole backward, B{} H{} {}", first.batch, first.heads, first.dtype)
                                : std::string("whole backward");
  const char* columns[] = {head.c_str(), "DRAM ncu", "DRAM sim", "L2 ncu", "L2 sim"};
  if (!ImGui::BeginTable("##bwdncu", 5, tf)) return;
  for (const char* h : columns) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  // The simulator's bytes with their difference to the counters, green inside the tolerance.
  auto sim = [&](const std::string& bytes, double rel, bool within) {
    ImGui::TableNextColumn();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(within ? th.good : th.bad), "%s %+.1f%%", bytes.c_str(), 100 * rel);
  };
  auto gb = [](double b) { return fmt::format("{:.2f} GB", b / 1e9); };
  auto text = [](const std::string& s) {
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(s.c_str());
  };
  for (const SimVsNcu& s : set.ncu) {
    ImGui::TableNextRow();
    const MeasuredConfig& c = s.record.config;
    text(same ? fmt::format("{} N{} d{}{}", s.record.kernel, c.seq_q, c.head_dim, c.causal ? " causal" : "") : s.label);
    text(gb(s.dram_meas));
    sim(gb(s.dram_sim), s.dram_rel(), s.dram_within());
    text(gb(s.l2_meas));
    sim(gb(s.l2_sim), s.l2_rel(), s.l2_within());
  }
  ImGui::EndTable();
}

}  // namespace

void draw_backward(View& v) {
  auto& c = v.cache<BackwardCache>("backward");
  panel_header("Backward pass, measured",
               "measurement files' backward sections (assets/measurements, --measurements): timed on a real GPU");
  load(v, c);
  if (!c.error.empty()) return panel_error(c.error);
  // Every (file, problem) pair, for the picker.
  std::vector<std::pair<const BackwardSet*, const BackwardProblem*>> items;
  for (const auto& s : c.sets)
    for (const auto& p : s.problems) items.push_back({&s, &p});
  if (items.empty()) {
    caption("No measurement file with a backward section is loaded. kernels/backward-device.sh writes one on a GPU; "
            "open its folder with --measurements DIR.");
    return;
  }
  c.chosen = std::clamp(c.chosen, 0, static_cast<int>(items.size()) - 1);
  auto item_text = [&](int i) { return problem_text(items[i].second->config) + "  ·  " + items[i].first->name; };
  ImGui::SetNextItemWidth(control_width(1));
  if (ImGui::BeginCombo("##bwdproblem", item_text(c.chosen).c_str())) {
    for (int i = 0; i < static_cast<int>(items.size()); ++i)
      if (ImGui::Selectable(item_text(i).c_str(), i == c.chosen)) c.chosen = i;
    ImGui::EndCombo();
  }
  const BackwardSet& set = *items[c.chosen].first;
  const BackwardProblem& p = *items[c.chosen].second;

  ImGui::PushFont(fonts().small);
  draw_times(p);
  ImGui::Spacing();
  draw_bars(p);
  caption("Median times. The backward recomputes S and P from the forward's log-sum-exp: its TFLOP/s count 2.5x the "
          "forward's FLOPs (five tile products to two), fwd+bwd 3.5x. vs: PyTorch's median for the same problem and "
          "pass / ours, for the backward (> 1: ours is faster).");
  ImGui::Spacing();
  draw_ncu(set);
  const auto& d = set.m->file.device;
  caption(fmt::format("{}: {}, driver {}, CUDA {}{}, {}. The ncu rows: every kernel of one backward pass, summed "
                      "(`attnlab measured --ncu`); green within ±{:.0f}% DRAM / ±{:.0f}% L2.",
                      set.name, d.name, d.driver_version.empty() ? "?" : d.driver_version, d.cuda_runtime,
                      set.m->file.torch_version.empty() ? "" : ", torch " + set.m->file.torch_version,
                      set.m->file.date.substr(0, 10), 100 * sim_vs_ncu_dram_tolerance, 100 * sim_vs_ncu_l2_tolerance));
  ImGui::PopFont();
}

}  // namespace attnlab::gui
