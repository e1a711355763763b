// One frame of the dashboard without a window or a GPU (ImGui builds draw lists on the CPU), for
// the GUI tests: what a frame drew (vertices) and what it printed (the text a learner reads).
#pragma once
#include <imgui.h>
#include <imgui_internal.h>  // ImGui::LogBegin, the log's file

#include <cstdio>
#include <cstdlib>
#include <string>

#include "style.hpp"

namespace attnlab::gui::test {

// One ImGui context per test binary, fonts built once (DejaVu when installed).
struct Headless {
  Headless() {
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;
    fonts() = fonts_load(18.0f);
    style_apply(false, 18.0f);
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    ImGui::GetIO().Fonts->GetTexDataAsRGBA32(&px, &w, &h);
  }
  ~Headless() { ImGui::DestroyContext(); }
};

// Not a static inside frame_run: each instantiation of the template would own one.
inline void headless_init() { static Headless once; }

struct Frame {
  int vertices = 0;
  std::string text;  // every Text, table cell, selectable and header; not labels painted into plots
};

// Runs `draw` inside one full frame of the given size. The text goes to ImGui's log, kept in a
// memory stream rather than ImGui's own buffer: the End() of a top-level window (the dashboard's
// whole frame opens its own) finishes the log and clears that buffer, but closes a file, and a
// closed memory stream keeps what was written.
template <typename F>
Frame frame_run(float w, float h, F draw) {
  headless_init();
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(w, h);
  io.DeltaTime = 1.0f / 30;
  ImGui::NewFrame();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoDecoration);
  char* data = nullptr;
  size_t size = 0;
  FILE* log = open_memstream(&data, &size);
  ImGui::LogBegin(ImGuiLogType_File, -1);
  GImGui->LogFile = log;
  draw();
  if (GImGui->LogEnabled) ImGui::LogFinish();  // closes `log` (unless a top-level window's End did)
  Frame f;
  f.text.assign(data ? data : "", size);
  std::free(data);
  ImGui::End();
  ImGui::Render();
  f.vertices = ImGui::GetDrawData()->TotalVtxCount;
  return f;
}

template <typename F>
int frame(float w, float h, F draw) {
  return frame_run(w, h, draw).vertices;
}

template <typename F>
std::string frame_text(float w, float h, F draw) {
  return frame_run(w, h, draw).text;
}

// The text with every space and line break removed: ImGui's log puts a space between items drawn on
// one line (and between table cells) and a line break where the layout wraps, so only the characters
// themselves are compared.
inline std::string squeeze(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') out += c;
  return out;
}

// Whether `what` appears in a frame's text, spacing aside.
inline bool prints(const std::string& text, const std::string& what) {
  return squeeze(text).find(squeeze(what)) != std::string::npos;
}

}  // namespace attnlab::gui::test
