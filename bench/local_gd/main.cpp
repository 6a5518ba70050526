// edgefl-local-gd: Local-GD with many local steps through the real server and device code
// (server/sim/local_gd_run.hpp), one JSON line per round and one summary per run.
//
//   edgefl-local-gd --case r1 --local-steps 1,10,100,1000 --rounds 1000 > r1.jsonl
//   edgefl-local-gd --case r1-control --rounds 1000 > control.jsonl
//   edgefl-local-gd --case r2 --rounds 1000 > r2.jsonl
//   edgefl-local-gd --case r3 --local-steps 1,10,100 --rounds 100 > r3.jsonl
//   scripts/plot-local-gd r1.jsonl control.jsonl r2.jsonl --out docs/local_gd.png
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgefl/base/json_line.hpp"
#include "fine_tune_run.hpp"
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
  if (o.kase == "r2") line.add("support_vectors", uint64_t{p.support_vectors});
  if (o.kase != "r2") {
    line.add("target", o.target)
        .add("rounds_to_target", s.rounds_to_target)
        .add("final_rel_error", s.final_rel_error);
  }
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

void print_fine_tune_round(const sim::FineTuneRound& r) {
  JsonLine line;
  line.add("kind", std::string("round"))
      .add("case", std::string("r3"))
      .add("L", uint64_t{r.local_steps})
      .add("round", r.round)
      .add("elapsed_s", r.elapsed_s)
      .add("loss", r.train_loss)
      .add("test_accuracy", r.test_accuracy)
      .add("new_class_accuracy", r.new_class_accuracy)
      .add("head_cos_central", r.head_cos_central)
      .add("central_loss", r.central_train_loss)
      .add("central_test_accuracy", r.central_test_accuracy);
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

void print_fine_tune_summary(const sim::FineTuneProblem& p, const sim::FineTuneSummary& s) {
  JsonLine line;
  line.add("kind", std::string("summary"))
      .add("case", std::string("r3"))
      .add("L", uint64_t{s.local_steps})
      .add("model", p.spec.to_string())
      .add("step", p.c)
      .add("lr", double(s.lr))
      .add("pretrain_accuracy", p.pretrain_accuracy)
      .add("pretrain_samples", uint64_t{p.pretrain_samples})
      .add("pretrain_seconds", p.pretrain_seconds)
      .add("samples", uint64_t{p.pooled.size()})
      .add("rounds", s.rounds)
      .add("seconds", s.seconds)
      .add("seconds_per_round", s.rounds > 0 ? s.seconds / double(s.rounds) : 0.0)
      .add("test_accuracy", s.last.test_accuracy)
      .add("head_cos_central", s.last.head_cos_central)
      .add("central_test_accuracy", s.last.central_test_accuracy)
      .add("status", s.status.ok() ? std::string("ok") : s.status.to_string());
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

// The comma-separated counts of --local-steps, each in 1..10^6 (empty: a bad item).
std::vector<uint32_t> parse_steps(const std::string& text) {
  std::vector<uint32_t> steps;
  for (std::string rest = text; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string item = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    const unsigned long count = std::strtoul(item.c_str(), nullptr, 10);
    if (count == 0 || count > 1000000) {
      std::fprintf(stderr, "edgefl-local-gd: --local-steps '%s' is not a count in 1..10^6\n",
                   item.c_str());
      return {};
    }
    steps.push_back(static_cast<uint32_t>(count));
  }
  return steps;
}

int run_fine_tune_case(const sim::LocalGdOptions& o, sim::FineTuneOptions f,
                       const std::vector<uint32_t>& steps) {
  f.rounds = o.rounds;
  f.c = o.c;
  f.seed = o.seed;
  f.time_limit_s = o.time_limit_s;
  f.work_dir = o.work_dir;
  Result<sim::FineTuneProblem> problem = sim::make_fine_tune_problem(f);
  if (!problem) {
    std::fprintf(stderr, "edgefl-local-gd: %s\n", problem.status().to_string().c_str());
    return 2;
  }
  for (uint32_t l : steps) {
    auto summary = sim::run_fine_tune(f, *problem, l, print_fine_tune_round);
    if (!summary) {
      std::fprintf(stderr, "edgefl-local-gd: L = %u: %s\n", l,
                   summary.status().to_string().c_str());
      return 1;
    }
    print_fine_tune_summary(*problem, *summary);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sim::LocalGdOptions o;
  std::string local_steps = "1,10,100,1000";
  CLI::App app{"edgefl-local-gd: Local-GD with many local steps against centralised references"};
  sim::FineTuneOptions fine_tune;
  app.add_option("--case", o.kase, "r1 | r1-control | r2 | r3")
      ->check(CLI::IsMember({"r1", "r1-control", "r2", "r3"}));
  app.add_option("--local-steps", local_steps, "comma-separated local step counts L");
  app.add_option("--rounds", o.rounds, "rounds per run");
  app.add_option("--target", o.target, "r1: the relative error whose round is reported");
  app.add_flag("--stop-at-target", o.stop_at_target, "r1: end a run once it reaches --target");
  app.add_option(
      "--c", o.c,
      "r2, r3: centralised step c (0: one over the loss's smoothness bound); Local-GD uses c / L");
  app.add_option("--class-mean-norm", o.class_mean_norm,
                 "r2: norm of the class means +-mu (0: labels set by node and position only)");
  app.add_option("--per-node", fine_tune.per_node, "r3: fine-tuning images per node");
  app.add_option("--pretrain-epochs", fine_tune.pretrain_epochs,
                 "r3: epochs of pretraining on classes 0-4");
  app.add_option("--pretrain-samples", fine_tune.pretrain_samples,
                 "r3: pretraining images (0: all of classes 0-4)");
  app.add_option("--data-dir", fine_tune.data_dir, "r3: Fashion-MNIST folder (default: Debian's)");
  app.add_option("--seed", o.seed, "data seed");
  app.add_option("--time-limit", o.time_limit_s, "seconds per run");
  app.add_option("--work-dir", o.work_dir, "state directories (wiped per run)");
  CLI11_PARSE(app, argc, argv);

  const std::vector<uint32_t> steps = parse_steps(local_steps);
  if (steps.empty()) return 2;
  if (o.kase == "r3") return run_fine_tune_case(o, fine_tune, steps);
  Result<sim::LocalGdProblem> problem = sim::make_local_gd_problem(o);
  if (!problem) {
    std::fprintf(stderr, "edgefl-local-gd: %s\n", problem.status().to_string().c_str());
    return 2;
  }
  for (uint32_t l : steps) {
    auto summary = sim::run_local_gd(o, *problem, l,
                                     [&o](const sim::LocalGdRound& r) { print_round(o.kase, r); });
    if (!summary) {
      std::fprintf(stderr, "edgefl-local-gd: L = %u: %s\n", l,
                   summary.status().to_string().c_str());
      return 1;
    }
    print_summary(o, *problem, *summary);
  }
  return 0;
}
