// edgefl-local-gd: Local-GD with many local steps through the real server and device code
// (server/sim/local_gd_run.hpp), one JSON line per round and one summary per run.
//
//   edgefl-local-gd --case r1 --local-steps 1,10,100,1000 --rounds 1000 > r1.jsonl
//   edgefl-local-gd --case r1-control --rounds 1000 > control.jsonl
//   edgefl-local-gd --case r2 --rounds 1000 > r2.jsonl
//   scripts/plot-local-gd r1.jsonl control.jsonl r2.jsonl --out docs/local_gd.png
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "edgefl/base/json_line.hpp"
#include "local_gd_run.hpp"

namespace {

using namespace edgefl;

void print_round(const std::string& kase, const sim::LocalGdRound& r) {
  JsonLine line;
  line.add("kind", std::string("round"))
      .add("case", kase)
      .add("L", uint64_t{r.local_steps})
      .add("round", r.round)
      .add("elapsed_s", r.elapsed_s);
  if (kase == "r2") {
    line.add("loss", r.loss)
        .add("cos_central", r.cos_central)
        .add("cos_svm", r.cos_svm)
        .add("margin", r.margin)
        .add("central_cos_svm", r.central_cos_svm)
        .add("central_loss", r.central_loss);
  } else {
    line.add("rel_error", r.rel_error).add("train_mse", r.train_mse);
  }
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

void print_summary(const sim::LocalGdOptions& o, const sim::LocalGdProblem& p,
                   const sim::LocalGdSummary& s) {
  JsonLine line;
  line.add("kind", std::string("summary"))
      .add("case", o.kase)
      .add("L", uint64_t{s.local_steps})
      .add("data", p.data)
      .add("step", p.step)
      .add("lr", double(s.lr))
      .add("rounds", s.rounds)
      .add("seconds", s.seconds)
      .add("seconds_per_round", s.rounds > 0 ? s.seconds / double(s.rounds) : 0.0)
      .add("status", s.status.ok() ? std::string("ok") : s.status.to_string());
  if (o.kase != "r2") {
    line.add("target", o.target)
        .add("rounds_to_target", s.rounds_to_target)
        .add("final_rel_error", s.final_rel_error);
  }
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  sim::LocalGdOptions o;
  std::string local_steps = "1,10,100,1000";
  CLI::App app{"edgefl-local-gd: Local-GD with many local steps against centralised references"};
  app.add_option("--case", o.kase, "r1 | r1-control | r2")
      ->check(CLI::IsMember({"r1", "r1-control", "r2"}));
  app.add_option("--local-steps", local_steps, "comma-separated local step counts L");
  app.add_option("--rounds", o.rounds, "rounds per run");
  app.add_option("--target", o.target, "r1: the relative error whose round is reported");
  app.add_flag("--stop-at-target", o.stop_at_target, "r1: end a run once it reaches --target");
  app.add_option("--c", o.c, "r2: centralised step c (0: 4 n / lambda_max); Local-GD uses c / L");
  app.add_option("--seed", o.seed, "data seed");
  app.add_option("--time-limit", o.time_limit_s, "seconds per run");
  app.add_option("--work-dir", o.work_dir, "state directories (wiped per run)");
  CLI11_PARSE(app, argc, argv);

  Result<sim::LocalGdProblem> problem = sim::make_local_gd_problem(o);
  if (!problem) {
    std::fprintf(stderr, "edgefl-local-gd: %s\n", problem.status().to_string().c_str());
    return 2;
  }
  for (std::string rest = local_steps; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string item = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    const unsigned long steps = std::strtoul(item.c_str(), nullptr, 10);
    if (steps == 0 || steps > 1000000) {
      std::fprintf(stderr, "edgefl-local-gd: --local-steps '%s' is not a count in 1..10^6\n",
                   item.c_str());
      return 2;
    }
    auto summary = sim::run_local_gd(o, *problem, static_cast<uint32_t>(steps),
                                     [&o](const sim::LocalGdRound& r) { print_round(o.kase, r); });
    if (!summary) {
      std::fprintf(stderr, "edgefl-local-gd: L = %lu: %s\n", steps,
                   summary.status().to_string().c_str());
      return 1;
    }
    print_summary(o, *problem, *summary);
  }
  return 0;
}
