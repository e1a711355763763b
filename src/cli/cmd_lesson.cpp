// `attnlab lesson`: the course chapters (lessons/*.md) with their numbers filled in live from the
// simulator and the models. `--list` lists them, `attnlab lesson 3` (or a name) prints one for the
// terminal, `--format md` prints the filled-in Markdown, `--templates` lists what a lesson may ask
// for, and `--check` renders every lesson, confirms every quiz answer against the simulator and
// rejects a quiz whose answer is already printed in the text above it.
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <unistd.h>

#include "cli/common.hpp"
#include "lessons/giveaway.hpp"
#include "lessons/render.hpp"
#include "util/errors.hpp"
#include "util/text.hpp"

namespace attnlab::cli {

namespace {

struct LessonCli {
  std::string which;
  bool list = false, templates = false, check = false;
  std::string format = "table";
  std::string lessons_dir;
  std::string color = "auto";
  long long width = 0;
};

enum class LessonFormat { table, md, json, csv };

LessonFormat parse_lesson_format(const std::string& s) {
  if (s == "table" || s == "text") return LessonFormat::table;
  if (s == "md" || s == "markdown") return LessonFormat::md;
  if (s == "json") return LessonFormat::json;
  if (s == "csv") return LessonFormat::csv;
  throw InputError(fmt::format("--format must be table, md, json or csv (got '{}')", s));
}

void value_json(JsonWriter& w, const TemplateResult& r) {
  w.begin_object();
  w.key("value");
  if (r.value.exact) w.value(*r.value.exact);
  else w.value(r.value.number);
  w.field("text", r.text()).end_object();
}

// ---------------------------------------------------------------- --list

std::string render_list(const std::vector<Lesson>& lessons, LessonFormat f, const std::string& dir) {
  if (f == LessonFormat::json) {
    JsonWriter w;
    w.begin_object().field("folder", dir).key("lessons").begin_array();
    for (const auto& l : lessons) {
      w.begin_object().field("chapter", l.chapter).field("name", l.slug).field("title", l.title).key("panels").begin_array();
      for (const auto& p : l.panels) w.value(p);
      w.end_array().field("summary", l.summary).field("file", l.file).end_object();
    }
    w.end_array().end_object();
    return w.str() + "\n";
  }
  if (f == LessonFormat::md) {
    std::string out = "| # | lesson | title | panels |\n|--:|---|---|---|\n";
    for (const auto& l : lessons) out += fmt::format("| {} | {} | {} | {} |\n", l.chapter, l.slug, l.title, join(l.panels));
    return out;
  }
  Table t({{"#"}, {"lesson", false}, {"title", false}, {"panels", false}});
  for (const auto& l : lessons)
    t.add_row({cell_count(static_cast<u128>(l.chapter)), cell(l.slug), cell(l.title), cell(join(l.panels), join(l.panels, " "))});
  if (f == LessonFormat::csv) return t.to_csv();
  return t.to_text() + fmt::format("\n{} lessons in {}. Read one: attnlab lesson 3 (or by name: attnlab lesson {}).\n",
                                   lessons.size(), dir, lessons.empty() ? "flashattention" : lessons.back().slug);
}

// ---------------------------------------------------------------- --templates

std::string render_templates(LessonFormat f) {
  const auto& reg = template_registry();
  if (f == LessonFormat::json) {
    JsonWriter w;
    w.begin_object().key("templates").begin_array();
    for (const auto& d : reg) {
      w.begin_object().field("name", d.name).field("help", d.help).field("source", d.source).key("keys").begin_array();
      for (const auto& p : d.params)
        w.begin_object().field("key", p.key).field("default", p.default_value).field("help", p.help).end_object();
      w.end_array().key("fields").begin_array();
      for (const auto& fl : d.fields) w.begin_object().field("name", fl.name).field("help", fl.help).end_object();
      w.end_array().field("example", d.example).end_object();
    }
    w.end_array().key("formats").begin_array();
    for (const auto& n : template_format_names()) w.value(n);
    w.end_array().end_object();
    return w.str() + "\n";
  }
  if (f == LessonFormat::md) {
    std::string out;
    for (const auto& d : reg) {
      out += fmt::format("### `{}`\n\n{} Answered by `{}`.\n\n", d.name, d.help, d.source);
      out += "| key | default | meaning |\n|---|---|---|\n";
      for (const auto& p : d.params)
        out += fmt::format("| `{}` | {} | {} |\n", p.key, p.default_value.empty() ? "—" : "`" + p.default_value + "`", p.help);
      if (!d.fields.empty()) {
        out += "\n| field | meaning |\n|---|---|\n";
        for (const auto& fl : d.fields) out += fmt::format("| `{}` | {} |\n", fl.name, fl.help);
      }
      TemplateResult ex = template_eval(d.example, "example", 1);
      out += fmt::format("\nExample: `{{{{{}}}}}` → {}\n\n", d.example, ex.text());
    }
    return out;
  }
  if (f == LessonFormat::csv) {
    Table t({{"template", false}, {"keys", false}, {"fields", false}, {"example", false}, {"value", false}});
    for (const auto& d : reg) {
      std::vector<std::string> keys, fields;
      for (const auto& p : d.params) keys.push_back(p.default_value.empty() ? p.key : p.key + "=" + p.default_value);
      for (const auto& fl : d.fields) fields.push_back(fl.name);
      TemplateResult ex = template_eval(d.example, "example", 1);
      t.add_row({cell(d.name), cell(join(keys, " ")), cell(join(fields, " ")), cell("{{" + d.example + "}}"),
                 cell(template_format(ex.value, "raw"))});
    }
    return t.to_csv();
  }
  // For people: one paragraph per template, wrapped.
  std::string out;
  auto wrapped = [&](const std::string& label, const std::vector<std::string>& items) {
    std::string line = fmt::format("  {:<8}", label);
    const size_t indent = line.size();
    for (size_t i = 0; i < items.size(); ++i) {
      if (line.size() > indent && line.size() + 1 + items[i].size() > 96) {
        out += line + "\n";
        line = std::string(indent, ' ');
      }
      if (line.size() > indent) line += ' ';
      line += items[i];
    }
    out += line + "\n";
  };
  for (const auto& d : reg) {
    std::vector<std::string> keys, fields;
    for (const auto& p : d.params) keys.push_back(p.default_value.empty() ? p.key : p.key + "=" + p.default_value);
    for (const auto& fl : d.fields) fields.push_back(fl.name);
    TemplateResult ex = template_eval(d.example, "example", 1);
    out += fmt::format("{}: {} [{}]\n", d.name, d.help, d.source);
    wrapped("keys", keys);
    if (!fields.empty()) wrapped("fields", fields);
    out += fmt::format("  e.g.    {{{{{}}}}} -> {}\n\n", d.example, ex.text());
  }
  return out +
         "In a lesson: {{name key=value ... field=NAME}}; add as=raw|count|bytes|ratio|percent|... and digits=N\n"
         "to choose the format; {{= {{a}} / {{b}} as=ratio}} computes with templates. See lessons/README.md.\n";
}

// ---------------------------------------------------------------- --check

std::string render_check(const std::vector<Lesson>& lessons, LessonFormat f) {
  struct Row {
    const Lesson* l;
    size_t templates = 0, quizzes = 0, numeric = 0;
  };
  std::vector<Row> rows;
  for (const auto& l : lessons) {
    RenderedLesson r = lesson_render(l);
    Row row{&l, r.uses.size(), r.quizzes.size(), 0};
    for (const auto& q : r.quizzes) {
      if (q.numeric) ++row.numeric;
      if (!q.confirmed())
        throw InputError(fmt::format("{}:{}: quiz answer {} ({}) is not confirmed: the lesson expects {} ({}), tolerance {}",
                                     l.file, q.line, q.answer.text(), template_format(q.answer.value, "raw"),
                                     q.expect ? fmt::format("{}", *q.expect) : "nothing", q.expect_source, q.tolerance));
    }
    // A question answered by the text just above it tests reading, not thinking.
    const auto given = quiz_giveaways(r.doc);
    if (!given.empty())
      throw InputError(fmt::format("{}:{}: quiz gives its answer away: '{}' is already in the text at line {}{}", l.file,
                                   given.front().quiz_line, given.front().answer, given.front().found_line,
                                   given.size() > 1 ? fmt::format(" ({} more in this chapter)", given.size() - 1) : ""));
    rows.push_back(row);
  }
  if (f == LessonFormat::json) {
    JsonWriter w;
    w.begin_object().key("lessons").begin_array();
    for (const auto& r : rows)
      w.begin_object().field("chapter", r.l->chapter).field("file", r.l->file).field("templates", r.templates)
          .field("quizzes", r.quizzes).field("numeric_quizzes_confirmed", r.numeric).end_object();
    w.end_array().field("ok", true).end_object();
    return w.str() + "\n";
  }
  Table t({{"#"}, {"file", false}, {"templates"}, {"quizzes"}, {"numeric, confirmed"}});
  size_t nt = 0, nq = 0, nn = 0;
  for (const auto& r : rows) {
    t.add_row({cell_count(static_cast<u128>(r.l->chapter)), cell(r.l->file), cell_count(r.templates), cell_count(r.quizzes),
               cell_count(r.numeric)});
    nt += r.templates;
    nq += r.quizzes;
    nn += r.numeric;
  }
  if (f == LessonFormat::csv) return t.to_csv();
  return t.to_text() + fmt::format("\nAll {} lessons render: {} live numbers, {} quizzes, {} numeric answers confirmed "
                                   "by the simulator, no answer given away in the text above its quiz.\n",
                                   rows.size(), nt, nq, nn);
}

// ---------------------------------------------------------------- one lesson

std::string render_one(const Lesson& l, LessonFormat f, const TerminalStyle& style) {
  RenderedLesson r = lesson_render(l);
  if (f == LessonFormat::md) return render_markdown(r);
  if (f == LessonFormat::json) {
    JsonWriter w;
    w.begin_object().field("chapter", l.chapter).field("name", l.slug).field("title", l.title).key("panels").begin_array();
    for (const auto& p : l.panels) w.value(p);
    w.end_array().field("summary", l.summary).field("file", l.file).key("templates").begin_array();
    for (const auto& u : r.uses) {
      w.begin_object().field("line", u.line).field("call", u.call).key("result");
      value_json(w, u.result);
      w.end_object();
    }
    w.end_array().key("quizzes").begin_array();
    for (const auto& q : r.quizzes) {
      w.begin_object().field("line", q.line).field("question", q.question).field("numeric", q.numeric);
      if (q.numeric) {
        w.key("answer");
        value_json(w, q.answer);
        w.field("confirmed", q.confirmed());
      }
      w.end_object();
    }
    w.end_array().field("markdown", r.markdown).end_object();
    return w.str() + "\n";
  }
  if (f == LessonFormat::csv) {
    Table t({{"line"}, {"template", false}, {"text", false}, {"value", false}});
    for (const auto& u : r.uses)
      t.add_row({cell_count(static_cast<u128>(u.line)), cell("{{" + u.call + "}}"), cell(u.result.text()),
                 cell(template_format(u.result.value, "raw"))});
    return t.to_csv();
  }
  return render_terminal(r, style);
}

void run_lesson(const LessonCli& o) {
  const LessonFormat f = parse_lesson_format(o.format);
  if (o.color != "auto" && o.color != "always" && o.color != "never")
    throw InputError(fmt::format("--color must be auto, always or never (got '{}')", o.color));
  TerminalStyle style;
  if (o.width != 0) {
    style.width = static_cast<int>(require_range(o.width, "--width", 40, 400));
  } else if (const char* cols = std::getenv("COLUMNS")) {
    int c = std::atoi(cols);
    if (c >= 40 && c <= 400) style.width = std::min(c, 100);
  }
  style.color = o.color == "always" || (o.color == "auto" && isatty(fileno(stdout)) && std::getenv("NO_COLOR") == nullptr);
  const int modes = (o.list ? 1 : 0) + (o.templates ? 1 : 0) + (o.check ? 1 : 0) + (o.which.empty() ? 0 : 1);
  if (modes > 1) throw InputError("give one of: a lesson (number or name), --list, --templates, --check");

  if (o.templates) {
    print_out(render_templates(f));
    return;
  }
  std::optional<std::filesystem::path> override;
  if (!o.lessons_dir.empty()) override = std::filesystem::path(o.lessons_dir);
  const auto dir = lessons_dir_find(override);
  const auto lessons = lesson_list(dir);
  // A course folder emptied or moved away: a check of nothing must not pass, a list of nothing
  // must not look like success.
  if (lessons.empty())
    throw InputError(fmt::format("no lessons in {} (expected files like 01-why-attention-is-slow.md); pass --lessons DIR",
                                 dir.string()));
  if (o.check) {
    print_out(render_check(lessons, f));
    return;
  }
  if (o.list || o.which.empty()) {
    print_out(render_list(lessons, f, dir.string()));
    return;
  }
  print_out(render_one(lesson_find(lessons, o.which), f, style));
}

}  // namespace

void setup_lesson(CLI::App& app) {
  auto o = std::make_shared<LessonCli>();
  auto* cmd = app.add_subcommand("lesson", "Read a course chapter with live numbers (attnlab lesson --list)");
  cmd->add_option("lesson", o->which, "Chapter number (3) or name (flashattention, or a unique prefix: flash)");
  cmd->add_flag("--list", o->list, "List the chapters");
  cmd->add_flag("--templates", o->templates, "List the {{templates}} a lesson may use, with an example value each");
  cmd->add_flag("--check", o->check,
                "Render every lesson, confirm every quiz answer against the simulator and reject a quiz whose answer "
                "the text above it already prints (exit 2 on the first failure)");
  cmd->add_option("--format", o->format, "table (for the terminal), md (filled-in Markdown), json or csv")
      ->default_val("table");
  cmd->add_option("--lessons", o->lessons_dir, "Folder of lesson files (default: lessons/ of the source tree or next to the binary)");
  cmd->add_option("--width", o->width, "Terminal width to wrap at, 40..400 (default: $COLUMNS up to 100, else 88)");
  cmd->add_option("--color", o->color, "auto, always or never (auto: when stdout is a terminal and NO_COLOR is unset)")
      ->default_val("auto");
  cmd->callback([o] { run_lesson(*o); });
}

}  // namespace attnlab::cli
