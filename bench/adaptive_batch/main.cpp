// edgefl-adaptive-batch: Local SGD on Fashion-MNIST with fixed and adaptive local batches, every
// run driven through the device's task path (device_path_run.hpp), on several seeds
// (docs/adaptive_batch.md).
//
//   edgefl-adaptive-batch --seeds 1,2,3 > results.jsonl     (tables on stderr)
//   scripts/plot-adaptive-batch results.jsonl --seed 1 --out docs/adaptive_batch.png
//
// Per seed: the fixed small batch at every lr of --grid-small and the fixed large batch at every
// lr of --grid-large (the best final accuracy of each is "tuned"), then the norm test at each
// --etas value and, with --augmented, the augmented inner-product test; the adaptive runs start
// at the small batch with --lr, scaled on the device by adaptive_batch.lr_scaling. Same sample
// budget for all. Simulated wall time: sim::SimulatedClock with t_grad(b) fitted to step times
// measured here at startup, and a link of --latency-ms and --mbit-per-s.
// stdout: one JSON object per calibration point, evaluation point and run.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "device_path_run.hpp"
#include "edgefl/base/json_line.hpp"
#include "edgefl/data/data_source.hpp"
#include "step_calibration.hpp"

using namespace edgefl;
using namespace edgefl::bench;

namespace {

struct Settings {
  std::string spec = "mlp:784-256-10:relu";
  std::string data_dir;
  uint32_t workers = 4;
  std::size_t local_steps = 8, epochs = 5, small = 16, large = 1024, cap = 1024, evals = 20;
  std::vector<float> grid_small = {0.025f, 0.05f, 0.1f, 0.2f};
  std::vector<float> grid_large = {0.1f, 0.2f, 0.4f, 0.8f};
  float lr = 0.05f;
  std::string lr_scaling = "linear";
  double max_lr = 0.8;
  std::vector<double> etas = {1.0};
  double theta = 0.5, nu = 1.0;
  bool augmented = false;
  std::vector<uint64_t> seeds = {1, 2, 3};
  double latency_ms = 50, mbit_per_s = 16;
};

struct Run {
  std::string name;
  std::string family;  // fixed-small, fixed-large, adaptive
  std::size_t batch = 0;
  float lr = 0;
  AdaptiveBatchConfig adaptive;
};

struct Finished {
  Run run;
  RunResult result;
};

int fail(const Status& status) {
  std::fprintf(stderr, "edgefl-adaptive-batch: %s\n", status.to_string().c_str());
  return 1;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

server::ServerConfig server_config(const Settings& s, const Run& run, uint64_t seed) {
  server::ServerConfig c;
  c.model = s.spec;
  c.seed = seed;
  c.train.optimizer = OptimizerKind::sgd;
  c.train.learning_rate = run.lr;
  c.train.batch_size = static_cast<uint32_t>(run.batch);
  c.train.local_steps = static_cast<uint32_t>(s.local_steps);
  c.adaptive_batch = run.adaptive;
  return c;
}

std::vector<Run> runs_of(const Settings& s) {
  std::vector<Run> runs;
  for (float lr : s.grid_small) runs.push_back({"fixed-" + std::to_string(s.small), "fixed-small", s.small, lr, {}});
  for (float lr : s.grid_large) runs.push_back({"fixed-" + std::to_string(s.large), "fixed-large", s.large, lr, {}});
  AdaptiveBatchConfig adaptive;
  adaptive.cap = s.cap;
  adaptive.lr_scaling = parse_lr_scaling(s.lr_scaling).value();
  adaptive.max_lr = s.max_lr;
  adaptive.theta = s.theta;
  adaptive.nu = s.nu;
  for (double eta : s.etas) {
    adaptive.test = BatchTest::norm;
    adaptive.eta = eta;
    runs.push_back({"norm-eta" + number(eta), "adaptive", s.small, s.lr, adaptive});
  }
  if (s.augmented) {
    adaptive.test = BatchTest::augmented_inner_product;
    runs.push_back({"aug-ip-theta" + number(s.theta) + "-nu" + number(s.nu), "adaptive", s.small, s.lr, adaptive});
  }
  return runs;
}

// First evaluation at or above `target` (0: never).
std::size_t rounds_to(const RunResult& r, double target) {
  for (const EvalPoint& p : r.curve) {
    if (p.accuracy >= target) return p.round;
  }
  return 0;
}

const Finished* best_of(const std::vector<Finished>& runs, const std::string& family) {
  const Finished* best = nullptr;
  for (const Finished& f : runs) {
    if (f.run.family == family && (best == nullptr || f.result.accuracy() > best->result.accuracy())) best = &f;
  }
  return best;
}

void report_seed(uint64_t seed, const std::vector<Finished>& runs) {
  const Finished* small = best_of(runs, "fixed-small");
  const Finished* large = best_of(runs, "fixed-large");
  const double target = small != nullptr ? small->result.accuracy() - 0.005 : 0.0;
  std::fprintf(stderr, "\nseed %llu (target = tuned small batch - 0.5 pt = %.2f %%)\n", (unsigned long long)seed,
               100 * target);
  std::fprintf(stderr, "%-24s %6s %7s %9s %10s %9s %8s %11s %9s %7s\n", "run", "lr", "rounds", "samples", "MB up+down",
               "accuracy", "final b", "rounds@tgt", "sim s", "host s");
  for (const Finished& f : runs) {
    const RunResult& r = f.result;
    const bool tuned = &f == small || &f == large;
    const std::size_t reach = rounds_to(r, target);
    JsonLine line;
    line.add("kind", "summary").add("seed", seed).add("run", f.run.name).add("family", f.run.family)
        .add("lr", double(f.run.lr)).add("tuned", tuned).add("rounds", uint64_t(r.rounds))
        .add("samples", uint64_t(r.samples)).add("bytes_up", r.bytes_up).add("bytes_down", r.bytes_down)
        .add("accuracy", r.accuracy()).add("final_batch", uint64_t(r.final_batch)).add("target", target)
        .add("rounds_to_target", uint64_t(reach)).add("simulated_s", r.simulated_s).add("host_s", r.host_s);
    std::printf("%s\n", line.str().c_str());
    std::fprintf(stderr, "%-24s %6g %7zu %9zu %10.1f %8.2f%% %8zu %11s %9.1f %7.1f%s\n", f.run.name.c_str(), f.run.lr,
                 r.rounds, r.samples, double(r.bytes_up + r.bytes_down) / 1e6, 100 * r.accuracy(), r.final_batch,
                 reach ? std::to_string(reach).c_str() : "never", r.simulated_s, r.host_s, tuned ? "  (tuned)" : "");
  }
  if (small == nullptr) return;
  for (const Finished& f : runs) {
    if (f.run.family != "adaptive") continue;
    const double gap = 100 * (small->result.accuracy() - f.result.accuracy());
    const double fewer = double(small->result.rounds) / double(std::max<std::size_t>(1, f.result.rounds));
    const bool holds = gap <= 0.5 && fewer >= 3.0;
    std::fprintf(stderr, "  %s: %.2f pt below the tuned small batch, %.1fx fewer rounds: %s\n", f.run.name.c_str(),
                 gap, fewer, holds ? "holds" : "does not hold");
    JsonLine line;
    line.add("kind", "acceptance").add("seed", seed).add("run", f.run.name).add("points_below", gap)
        .add("fewer_rounds", fewer).add("holds", holds);
    std::printf("%s\n", line.str().c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgefl-adaptive-batch: Local SGD with fixed vs adaptive local batches, through the device path"};
  Settings s;
  app.add_option("--data-dir", s.data_dir, "Fashion-MNIST folder (default: Debian's)");
  app.add_option("--spec", s.spec)->capture_default_str();
  app.add_option("--workers", s.workers)->capture_default_str();
  app.add_option("--local-steps", s.local_steps, "H")->capture_default_str();
  app.add_option("--epochs", s.epochs, "sample budget in epochs of the training set")->capture_default_str();
  app.add_option("--small", s.small, "fixed small batch, also the adaptive runs' start")->capture_default_str();
  app.add_option("--large", s.large, "fixed large batch")->capture_default_str();
  app.add_option("--cap", s.cap, "adaptive batch cap")->capture_default_str();
  app.add_option("--grid-small", s.grid_small, "lr grid of the small batch")->delimiter(',')->capture_default_str();
  app.add_option("--grid-large", s.grid_large, "lr grid of the large batch")->delimiter(',')->capture_default_str();
  app.add_option("--lr", s.lr, "adaptive runs: lr at the small batch")->capture_default_str();
  app.add_option("--lr-scaling", s.lr_scaling, "adaptive runs: none, sqrt or linear in b / small")
      ->check(CLI::IsMember({"none", "sqrt", "linear"}))->capture_default_str();
  app.add_option("--max-lr", s.max_lr, "adaptive runs: cap of the scaled lr (0: none)")->capture_default_str();
  app.add_option("--etas", s.etas, "norm-test eta values")->delimiter(',')->capture_default_str();
  app.add_option("--theta", s.theta, "inner-product test theta")->capture_default_str();
  app.add_option("--nu", s.nu, "orthogonality test nu")->capture_default_str();
  app.add_flag("--augmented", s.augmented, "also run the augmented inner-product test");
  app.add_option("--seeds", s.seeds, "model init, data split and task seeds")->delimiter(',')->capture_default_str();
  app.add_option("--evals", s.evals, "evaluation points over the budget")->capture_default_str();
  app.add_option("--latency-ms", s.latency_ms, "simulated link: latency per message")->capture_default_str();
  app.add_option("--mbit-per-s", s.mbit_per_s, "simulated link: bandwidth")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto spec = ModelSpec::parse(s.spec);
  if (!spec) return fail(spec.status());
  auto source = DataSource::parse("fashion-mnist", s.data_dir);
  if (!source) return fail(source.status());
  auto test = source->load_test(*spec);
  if (!test) return fail(test.status());

  RunSetup setup;
  setup.spec = *spec;
  setup.test = &*test;
  setup.evals = s.evals;
  {
    auto shard = source->load_shard(*spec, ShardSpec{.scheme = "iid", .count = s.workers, .index = 0});
    if (!shard) return fail(shard.status());
    setup.sample_budget = s.epochs * shard->data.size() * s.workers;
    std::vector<std::size_t> batches;
    for (std::size_t b = s.small; b <= s.large; b *= 2) batches.push_back(b);
    auto timings = measure_step_times(*spec, shard->data, batches, 256);
    if (!timings) return fail(timings.status());
    setup.cost.compute = fit_compute_cost(*timings);
    std::fprintf(stderr, "t_grad(b) measured (s/step):");
    for (const StepTiming& t : *timings) {
      std::fprintf(stderr, " b=%zu %.3g", t.batch, t.seconds);
      JsonLine line;
      line.add("kind", "calibration").add("batch", uint64_t(t.batch)).add("step_s", t.seconds)
          .add("fitted_s", setup.cost.compute.gradient_step(t.batch));
      std::printf("%s\n", line.str().c_str());
    }
    std::fprintf(stderr, "\nfit: t_grad(b) = %.3g + %.3g * b s\n", setup.cost.compute.step_s, setup.cost.compute.sample_s);
  }
  setup.cost.link = {.latency_s = s.latency_ms / 1e3, .bytes_per_s = s.mbit_per_s * 1e6 / 8};

  const std::vector<Run> runs = runs_of(s);
  for (uint64_t seed : s.seeds) {
    std::vector<Dataset> shards;
    for (uint32_t m = 0; m < s.workers; ++m) {
      auto shard = source->load_shard(*spec, ShardSpec{.scheme = "iid", .count = s.workers, .index = m, .seed = seed});
      if (!shard) return fail(shard.status());
      shards.push_back(std::move(shard->data));
    }
    setup.shards = &shards;
    std::vector<Finished> finished;
    for (const Run& run : runs) {
      const server::ServerConfig config = server_config(s, run, seed);
      if (Status valid = server::validate_server_config(config); !valid.ok()) return fail(valid);
      auto result = run_through_device_path(setup, config, [&](const EvalPoint& p) {
        JsonLine line;
        line.add("kind", "eval").add("seed", seed).add("run", run.name).add("lr", double(run.lr))
            .add("round", uint64_t(p.round)).add("samples", uint64_t(p.samples)).add("mean_batch", p.mean_batch)
            .add("test_loss", p.test_loss).add("accuracy", p.accuracy).add("simulated_s", p.simulated_s);
        std::printf("%s\n", line.str().c_str());
      });
      if (!result) return fail(result.status().with_context(run.name + " lr " + number(run.lr)));
      std::fprintf(stderr, "seed %llu %s lr %g: %.2f %% after %zu rounds (%.0f s)\n", (unsigned long long)seed,
                   run.name.c_str(), run.lr, 100 * result->accuracy(), result->rounds, result->host_s);
      finished.push_back({run, std::move(*result)});
    }
    report_seed(seed, finished);
  }
  return 0;
}
