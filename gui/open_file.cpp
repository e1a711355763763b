// Opening a user's config.json or GPU file in the dashboard. The readers are src/'s (hf_config,
// gpu_file); this file only routes the text and shows the answer.
#include "open_file.hpp"

#include <GLFW/glfw3.h>
#include <fmt/format.h>
#include <fstream>
#include <imgui.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hw/gpu_file.hpp"
#include "models/hf_config.hpp"
#include "platform.hpp"
#include "view.hpp"

namespace attnlab::gui {

namespace {
std::string g_status;
bool g_open_requested = false;
View* g_drop_view = nullptr;  // GLFW's drop callback has no user data of ours

bool is_gpu_file(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  return doc.is_object() && doc.contains("schema") && doc.at("schema") == "attnlab-gpu-1";
}

void on_drop(GLFWwindow*, int count, const char** paths) {
  if (!g_drop_view) return;
  for (int i = 0; i < count; ++i) g_status = gui_open_path(*g_drop_view, paths[i]);
}
}  // namespace

std::string gui_open_text(View& v, std::string_view text, const std::string& label) {
  try {
    if (is_gpu_file(text)) {
      const GpuSpec& g = gpu_session_add(text, label);
      v.set_gpu(g.name);
      g_status = fmt::format("opened GPU {} ({}, {} SMs, L2 {} MiB) from {}", g.name, g.full_name, g.sm_count,
                             g.l2_bytes >> 20, label);
    } else {
      const ModelSpec& m = model_session_add(text, label);
      v.settings.kv_model = m.name;
      g_status = fmt::format("opened model {} ({} layers, {} heads, {} K/V heads, d {}; {}) from {}", m.name, m.layers,
                             m.heads, m.kv_heads, m.head_dim, m.pattern_summary(), label);
    }
  } catch (const std::exception& e) {
    g_status = e.what();
  }
  return g_status;
}

std::string gui_open_path(View& v, const std::string& path) {
  std::ifstream in(path);
  if (!in) return g_status = fmt::format("{}: cannot open the file", path);
  std::stringstream buf;
  buf << in.rdbuf();
  return gui_open_text(v, buf.str(), path);
}

void gui_open_install_drop(GLFWwindow* window, View& v) {
  g_drop_view = &v;
  glfwSetDropCallback(window, on_drop);
}

// The browser has no paths: its own file picker hands over the file's text instead of a path field.
void gui_open_request() {
  if (platform::can_pick_files())
    platform::pick_file(".json", "model-or-gpu");
  else
    g_open_requested = true;
}
const std::string& gui_open_status() { return g_status; }

void gui_open_draw(View& v) {
  static char path[1024] = "";
  if (auto f = platform::take_picked_file("model-or-gpu")) {
    g_status = gui_open_text(v, f->bytes, f->name);
    // Only the browser picks files: its page note says what happened, success or error (the popup's
    // path field would have nothing to open there).
    platform::show_note(g_status);
  }
  if (g_open_requested) {
    ImGui::OpenPopup("Open a model config or GPU file");
    g_open_requested = false;
  }
  if (ImGui::BeginPopup("Open a model config or GPU file")) {
    ImGui::TextUnformatted("A Hugging Face config.json, or a GPU file from attnlab-bench --describe-gpu");
    ImGui::TextUnformatted("(or drop the file onto the window)");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 28);
    bool enter = ImGui::InputText("##path", path, sizeof path, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if (ImGui::Button("Open") || enter) {
      gui_open_path(v, path);
      if (g_status.rfind("opened", 0) == 0) ImGui::CloseCurrentPopup();
    }
    if (!g_status.empty()) {
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 34);
      ImGui::TextUnformatted(g_status.c_str());
      ImGui::PopTextWrapPos();
    }
    ImGui::EndPopup();
  }
}

}  // namespace attnlab::gui
