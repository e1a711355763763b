// Fuzz target (b): the lesson layer. The input is a whole lesson file: front matter
// (lesson_parse), then the body through the template engine and the Markdown parser
// (lesson_render), then the terminal renderer. It is also fed to md::parse and template_fill on
// its own, so that inputs without a valid front matter still reach the parser and the engine.
// Malformed text must end as attnlab::InputError.
//
// ATTNLAB_FUZZ_WRITE_DICT=PATH: write a libFuzzer dictionary (every template name, key, field
// and `as=` format, read off the registry so it never goes stale) to PATH and exit.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "lessons/lesson.hpp"
#include "lessons/markdown.hpp"
#include "lessons/render.hpp"
#include "lessons/templates.hpp"
#include "util/errors.hpp"

namespace {
void write_dict(const char* path) {
  std::set<std::string> words{"{{", "}}", "{{= ", "\\{{", "---\n", "```quiz\n", "```\n", "question: ", "answer: ",
                              "expect: ", "explain: ", "- [x] ", "- [ ] ", "title: ", "chapter: ", "panels: [",
                              "summary: ", "## ", "| a | b |\n|---|---|\n", "**", "`", "as=", "digits="};
  for (const auto& def : attnlab::template_registry()) {
    words.insert(def.name);
    words.insert("{{" + def.example + "}}");
    for (const auto& p : def.params) words.insert(p.key + "=");
    for (const auto& f : def.fields) words.insert("field=" + f.name);
  }
  for (const auto& f : attnlab::template_format_names()) words.insert("as=" + f);
  FILE* f = std::fopen(path, "w");
  if (!f) std::abort();
  for (const auto& w : words) {
    std::fputc('"', f);
    for (unsigned char c : w) {
      if (c == '"' || c == '\\') std::fprintf(f, "\\%c", c);
      else if (c < 0x20 || c > 0x7e) std::fprintf(f, "\\x%02X", c);
      else std::fputc(c, f);
    }
    std::fputs("\"\n", f);
  }
  std::fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dict = std::getenv("ATTNLAB_FUZZ_WRITE_DICT")) {
    write_dict(dict);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 12288) return 0;  // the course's longest chapter is 8.5 KB
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto doc = attnlab::md::parse(text, "fuzz.md", 1);
    (void)attnlab::render_terminal_doc(doc, {.width = 40, .color = true});
  } catch (const attnlab::InputError&) {
  }
  try {
    (void)attnlab::template_fill(text, "fuzz.md", 1);
  } catch (const attnlab::InputError&) {
  }
  try {
    auto lesson = attnlab::lesson_parse(text, "fuzz.md");
    auto r = attnlab::lesson_render(lesson);
    (void)attnlab::render_terminal(r, {.width = 60, .color = false});
    (void)attnlab::render_markdown(r);
  } catch (const attnlab::InputError&) {
  }
  return 0;
}
