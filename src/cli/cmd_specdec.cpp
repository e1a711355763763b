// `attnlab specdec`: speculative decoding's expected tokens per target pass and speed-up
// (Leviathan et al. 2023, arXiv 2211.17192, equation 1 and Theorem 3.8), the best draft length,
// and a seeded Monte-Carlo run of the accept/reject process that must land on the closed form.
#include <fmt/format.h>

#include "cli/common.hpp"
#include "models/specdec.hpp"
#include "util/units.hpp"

namespace attnlab::cli {

namespace {
struct SpecDecOptions {
  double alpha = 0.8;
  long long gamma = 5;
  double c = 0.05;
  long long passes = 100000;
  long long seed = 1;
  long long max_gamma = 12;
  long long steps = 8;
  std::string format = "table";
};

std::string drafts_text(const SpecDecStep& s) {
  std::string out;
  for (DraftOutcome d : s.drafts)
    out += d == DraftOutcome::accepted ? "A" : d == DraftOutcome::rejected ? "R" : ".";
  return out + (s.bonus ? " +bonus" : " +fix");
}

void run_specdec(const SpecDecOptions& o) {
  OutputFormat f = parse_output_format(o.format);
  SpecDecParams p{o.alpha, 0, o.c};
  p.gamma = require_range(o.gamma, "--gamma", 0, 1024);
  specdec_validate(p);
  u64 passes = require_range(o.passes, "--passes", 2, 100000000);
  u64 seed = require_range(o.seed, "--seed", 0, std::numeric_limits<long long>::max());
  u64 max_gamma = require_range(o.max_gamma, "--max-gamma", 1, 1024);
  u64 nsteps = require_range(o.steps, "--steps", 0, 1000);

  const double tokens = specdec_expected_tokens(p.alpha, p.gamma);
  const double speedup = specdec_speedup(p);
  const double cost = static_cast<double>(p.gamma) * p.c + 1.0;
  const SpecDecMonteCarlo mc = specdec_monte_carlo(p, passes, seed);
  const bool inside = mc.ci95_low <= tokens && tokens <= mc.ci95_high;
  const u64 best = specdec_best_gamma(p.alpha, p.c, max_gamma);
  const auto rows = specdec_gamma_table(p.alpha, p.c, max_gamma);
  std::vector<SpecDecStep> steps;
  SpecDecSim sim(p, seed);
  for (u64 i = 0; i < nsteps; ++i) steps.push_back(sim.step());

  if (f == OutputFormat::json) {
    JsonWriter w;
    w.begin_object().field("alpha", p.alpha).field("gamma", p.gamma).field("c", p.c)
        .field("cost_per_pass", cost).field("expected_tokens", tokens).field("expected_speedup", speedup)
        .field("best_gamma", best).field("best_speedup", specdec_speedup({p.alpha, best, p.c}));
    w.key("monte_carlo").begin_object().field("passes", mc.passes).field("seed", seed).field("tokens", mc.tokens)
        .field("mean_tokens", mc.mean_tokens).field("std_error", mc.std_error).field("ci95_low", mc.ci95_low)
        .field("ci95_high", mc.ci95_high).field("closed_form_inside_ci95", inside).field("speedup", mc.speedup);
    w.key("histogram").begin_array();
    for (u64 k = 1; k < mc.histogram.size(); ++k)
      w.begin_object().field("tokens", k).field("passes", mc.histogram[k])
          .field("probability", specdec_tokens_pmf(p.alpha, p.gamma, k)).end_object();
    w.end_array().end_object();
    w.key("by_gamma").begin_array();
    for (const auto& r : rows)
      w.begin_object().field("gamma", r.gamma).field("tokens", r.tokens).field("speedup", r.speedup).end_object();
    w.end_array();
    w.key("steps").begin_array();
    for (const auto& s : steps) {
      w.begin_object().field("index", s.index).field("drafts", drafts_text(s).substr(0, p.gamma))
          .field("accepted", s.accepted).field("bonus", s.bonus).field("emitted", s.emitted)
          .field("tokens_so_far", s.tokens_so_far).end_object();
    }
    w.end_array().end_object();
    print_out(w.str());
    return;
  }

  Table g({{"gamma"}, {"tokens/pass"}, {"cost/pass"}, {"speed-up"}, {"", false}});
  for (const auto& r : rows) {
    std::string mark = r.gamma == best ? "best" : "";
    if (r.gamma == p.gamma) mark += mark.empty() ? "chosen" : ", chosen";
    if (r.gamma == 0) mark = "plain decoding";
    g.add_row({cell_count(r.gamma), cell_num(r.tokens, 4), cell_num(static_cast<double>(r.gamma) * p.c + 1.0, 3),
               cell(fmt::format("{:.3f}x", r.speedup), fmt::format("{}", r.speedup)), cell(mark)});
  }
  if (f == OutputFormat::csv) {
    print_out(g.to_csv());
    return;
  }

  std::string out = fmt::format(
      "Speculative decoding: alpha {} (acceptance rate), gamma {} (draft tokens per pass), c {} (draft token "
      "cost / target pass)\nLeviathan, Kalman & Matias 2023 (arXiv 2211.17192): equation 1 and Theorem 3.8\n\n",
      p.alpha, p.gamma, p.c);
  Table t({{"quantity", false}, {"closed form"}, {fmt::format("Monte Carlo ({} passes, seed {})", format_count(passes), seed)},
           {"95% interval", false}});
  t.add_row({cell("tokens per target pass"), cell_num(tokens, 4), cell_num(mc.mean_tokens, 4),
             cell(fmt::format("[{:.4f}, {:.4f}]", mc.ci95_low, mc.ci95_high))});
  t.add_row({cell(fmt::format("speed-up (pass costs {:.3g})", cost)), cell(fmt::format("{:.3f}x", speedup), fmt::format("{}", speedup)),
             cell(fmt::format("{:.3f}x", mc.speedup), fmt::format("{}", mc.speedup)),
             cell(fmt::format("[{:.3f}, {:.3f}]", mc.speedup_ci95_low, mc.speedup_ci95_high))});
  t.add_row({cell("draft tokens thrown away per pass"), cell_num(static_cast<double>(p.gamma) + 1.0 - tokens, 4),
             cell_num(static_cast<double>(p.gamma) + 1.0 - mc.mean_tokens, 4), cell("")});
  std::string out_t = t.to_text();
  out += out_t;
  out += fmt::format("The closed form is {} the Monte-Carlo 95% interval.\n", inside ? "inside" : "OUTSIDE");
  out += fmt::format("(1 - {}^{}) / (1 - {}) = {:.4f} tokens per pass; / (gamma c + 1 = {:.3g}) = {:.3f}x.\n\n", p.alpha,
                     p.gamma + 1, p.alpha, tokens, cost, speedup);

  out += "Tokens per target pass (accepted drafts + 1):\n";
  Table h({{"tokens"}, {"probability"}, {"Monte Carlo"}});
  for (u64 k = 1; k < mc.histogram.size(); ++k)
    h.add_row({cell_count(k), cell_num(specdec_tokens_pmf(p.alpha, p.gamma, k), 4),
               cell_num(static_cast<double>(mc.histogram[k]) / static_cast<double>(passes), 4)});
  out += h.to_text();

  out += fmt::format("\nBy draft length (best gamma up to {}: {}, {:.3f}x):\n", max_gamma, best,
                     specdec_speedup({p.alpha, best, p.c}));
  out += g.to_text();
  if (p.alpha <= p.c)
    out += fmt::format("alpha <= c: no draft length gives a speed-up (each draft token costs more than it "
                       "saves on average).\n");
  else
    out += fmt::format("alpha > c: gamma = 1 alone gives at least (1 + alpha) / (1 + c) = {:.3f}x (paper, section 3).\n",
                       (1 + p.alpha) / (1 + p.c));

  if (!steps.empty()) {
    out += fmt::format("\nFirst {} target passes (A accepted, R rejected, . discarded; +fix = the target's token "
                       "at the rejection, +bonus = all accepted):\n", steps.size());
    Table s({{"pass"}, {"drafts", false}, {"emitted"}, {"tokens so far"}});
    for (const auto& st : steps)
      s.add_row({cell_count(st.index + 1), cell(drafts_text(st)), cell_count(st.emitted), cell_count(st.tokens_so_far)});
    out += s.to_text();
  }
  out += "\nAssumes each draft token is accepted independently with probability alpha (the paper's model);\n"
         "real acceptance falls along a sequence and varies by prompt.\n";
  print_out(out);
}
}  // namespace

void setup_specdec(CLI::App& app) {
  auto o = std::make_shared<SpecDecOptions>();
  auto* cmd = app.add_subcommand("specdec", "Speculative decoding: expected tokens per target pass, speed-up, best draft length, Monte Carlo");
  cmd->add_option("--alpha", o->alpha, "Acceptance rate of a draft token, in [0, 1)")->default_val(0.8);
  cmd->add_option("--gamma", o->gamma, "Draft tokens proposed per target pass")->default_val(5);
  cmd->add_option("--c", o->c, "Time of one draft token relative to one target pass")->default_val(0.05);
  cmd->add_option("--passes", o->passes, "Target passes in the Monte-Carlo run")->default_val(100000);
  cmd->add_option("--seed", o->seed, "Seed of the Monte-Carlo run (same seed, same run)")->default_val(1);
  cmd->add_option("--max-gamma", o->max_gamma, "Largest draft length in the table and the search for the best")->default_val(12);
  cmd->add_option("--steps", o->steps, "Target passes to show one by one")->default_val(8);
  add_format_option(cmd, o->format);
  cmd->callback([o] { run_specdec(*o); });
}

}  // namespace attnlab::cli
