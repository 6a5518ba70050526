// edgefl-adaptive-batch: Local SGD on Fashion-MNIST with simulated workers in one process
// (docs/algorithms.md §5): a fixed small batch, a fixed large batch and the norm-test schedule
// (optionally the augmented inner-product test) on the same sample budget.
//
//   edgefl-adaptive-batch --epochs 5 --eta 1 --lr-scaling linear --max-lr 0.8 > results.jsonl
//   (table on stderr)
//   scripts/plot-adaptive-batch results.jsonl --out docs/adaptive_batch.png   (docs/adaptive_batch.md)
//
// Each round every worker starts from the global model, runs H local SGD steps with its own
// batch size (the adaptive runs test on the last local step and carry the grown batch into the
// next round), and the server averages the models. Bytes count one dense float32 model per
// worker per direction per round. stdout: one JSON object per evaluation point ("kind":"eval")
// and per run ("kind":"summary").
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "edgefl/data/idx_reader.hpp"
#include "edgefl/base/json_line.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/train/trainer.hpp"

using namespace edgefl;

namespace {

struct Settings {
  std::string spec = "mlp:784-256-10:relu";
  std::size_t workers = 4, local_steps = 8, epochs = 5, small = 16, large = 1024, cap = 1024, evals = 30;
  std::size_t micro = 256;
  float lr = 0.05f, momentum = 0.0f;
  double eta = 0.5, theta = 0.5, nu = 1.0;
  std::size_t interval = 0;
  bool augmented = false;
  std::string lr_scaling = "none";  // none | sqrt | linear in b / small, capped at max_lr
  float max_lr = 1.0f;
  uint64_t seed = 1;
};

struct Run {
  std::string name;
  std::size_t batch;
  AdaptiveBatchConfig adaptive;
};

struct Summary {
  std::string name;
  std::size_t rounds = 0, samples = 0, final_batch = 0;
  uint64_t bytes_up = 0;
  double accuracy = 0.0, seconds = 0.0;
  std::vector<std::pair<std::size_t, double>> curve;  // (round, accuracy)
};

// The learning rate for a worker's current batch under the chosen scaling rule.
float scaled_lr(const Settings& s, std::size_t batch) {
  const double ratio = double(batch) / double(s.small);
  double lr = s.lr;
  if (s.lr_scaling == "sqrt") lr *= std::sqrt(ratio);
  if (s.lr_scaling == "linear") lr *= ratio;
  return static_cast<float>(std::min<double>(lr, s.max_lr));
}

int fail(const Status& status) {
  std::fprintf(stderr, "edgefl-adaptive-batch: %s\n", status.to_string().c_str());
  return 1;
}

Result<Summary> run_local_sgd(const Settings& s, const Run& run, const ModelSpec& spec, const ComputeContext& ctx,
                              const Dataset& train, const Dataset& test, const Partition& part) {
  const std::size_t P = spec.parameter_count();
  auto model = Model::create(spec, s.seed);
  if (!model) return model.status();
  FloatBuffer global = model->params().clone(), local(P);
  std::vector<double> sum(P);
  std::vector<std::unique_ptr<LocalTrainer>> trainers;
  std::vector<std::size_t> batch(s.workers, run.batch);
  for (std::size_t m = 0; m < s.workers; ++m) {
    auto t = LocalTrainer::create(spec, ctx, {s.micro, true});
    if (!t) return t.status();
    trainers.push_back(std::move(*t));
  }
  auto eval_net = Network::create(spec, ctx, {1000, false});
  if (!eval_net) return eval_net.status();

  Summary out;
  out.name = run.name;
  const std::size_t budget = s.epochs * train.size();
  std::size_t next_eval = 0;
  const auto start = std::chrono::steady_clock::now();
  auto evaluate_now = [&]() -> Status {
    auto e = evaluate(**eval_net, global.span(), DatasetView(test));
    if (!e) return e.status();
    out.accuracy = e->accuracy;
    out.curve.emplace_back(out.rounds, e->accuracy);
    const double mean_batch = double(std::accumulate(batch.begin(), batch.end(), std::size_t{0})) / s.workers;
    JsonLine line;
    line.add("kind", "eval").add("run", run.name).add("round", uint64_t(out.rounds)).add("samples", uint64_t(out.samples))
        .add("bytes_up", out.bytes_up).add("mean_batch", mean_batch).add("test_loss", e->loss)
        .add("accuracy", e->accuracy);
    std::printf("%s\n", line.str().c_str());
    std::fflush(stdout);
    return Status();
  };
  EDGEFL_RETURN_IF_ERROR(evaluate_now());
  next_eval = budget / s.evals;
  while (out.samples < budget) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t m = 0; m < s.workers; ++m) {
      local.assign(global.span());
      TrainConfig cfg;
      cfg.optimizer = {s.momentum > 0 ? OptimizerKind::momentum : OptimizerKind::sgd, scaled_lr(s, batch[m]),
                       s.momentum};
      cfg.batch_size = batch[m];
      cfg.local_steps = s.local_steps;
      cfg.seed = s.seed * 1000003u + out.rounds * s.workers + m;
      cfg.adaptive = run.adaptive;
      auto r = trainers[m]->train(local.span(), DatasetView(train, part.clients[m]), cfg);
      if (!r) return r.status();
      out.samples += r->samples;
      batch[m] = r->next_batch_size;
      for (std::size_t i = 0; i < P; ++i) sum[i] += local[i];
    }
    for (std::size_t i = 0; i < P; ++i) global[i] = static_cast<float>(sum[i] / double(s.workers));
    ++out.rounds;
    out.bytes_up += uint64_t(s.workers) * P * sizeof(float);
    if (out.samples >= next_eval || out.samples >= budget) {
      EDGEFL_RETURN_IF_ERROR(evaluate_now());
      while (next_eval <= out.samples) next_eval += budget / s.evals;
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.final_batch = *std::max_element(batch.begin(), batch.end());
  return out;
}

// First evaluated round whose accuracy is at least `target` (0 when never).
std::size_t rounds_to(const Summary& s, double target) {
  for (auto [round, acc] : s.curve) {
    if (acc >= target) return round;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgefl-adaptive-batch: Local SGD with fixed vs norm-test adaptive local batches"};
  Settings s;
  std::string data_dir = kFashionMnistDir;
  app.add_option("--data-dir", data_dir)->capture_default_str();
  app.add_option("--spec", s.spec)->capture_default_str();
  app.add_option("--workers", s.workers)->capture_default_str();
  app.add_option("--local-steps", s.local_steps, "H")->capture_default_str();
  app.add_option("--epochs", s.epochs, "sample budget in epochs of the training set")->capture_default_str();
  app.add_option("--small", s.small, "fixed small batch, also the adaptive runs' start")->capture_default_str();
  app.add_option("--large", s.large, "fixed large batch")->capture_default_str();
  app.add_option("--cap", s.cap, "adaptive batch cap")->capture_default_str();
  app.add_option("--eta", s.eta, "norm test eta")->capture_default_str();
  app.add_option("--theta", s.theta, "inner-product test theta")->capture_default_str();
  app.add_option("--nu", s.nu, "orthogonality test nu")->capture_default_str();
  app.add_option("--interval", s.interval, "test every N local steps (0: last step of a round)")->capture_default_str();
  app.add_flag("--augmented", s.augmented, "also run the augmented inner-product test");
  app.add_option("--lr", s.lr, "learning rate at the small batch")->capture_default_str();
  app.add_option("--lr-scaling", s.lr_scaling, "lr for batch b: none, sqrt or linear in b / small")
      ->check(CLI::IsMember({"none", "sqrt", "linear"}))->capture_default_str();
  app.add_option("--max-lr", s.max_lr, "cap of the scaled lr")->capture_default_str();
  app.add_option("--momentum", s.momentum, "0: plain SGD")->capture_default_str();
  app.add_option("--micro-batch", s.micro)->capture_default_str();
  app.add_option("--evals", s.evals, "evaluation points over the budget")->capture_default_str();
  app.add_option("--seed", s.seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto spec = ModelSpec::parse(s.spec);
  if (!spec) return fail(spec.status());
  auto fm = load_fashion_mnist(data_dir);
  if (!fm) return fail(fm.status());
  auto part = partition_iid(fm->train, s.workers, s.seed);
  if (!part) return fail(part.status());
  auto ctx = ComputeContext::create(Backend::xnnpack, 1);
  if (!ctx) return fail(ctx.status());

  std::vector<Run> runs = {
      {"fixed-" + std::to_string(s.small), s.small, {}},
      {"fixed-" + std::to_string(s.large), s.large, {}},
      {"norm-eta" + std::to_string(s.eta).substr(0, 4), s.small,
       {BatchTest::norm, s.eta, s.theta, s.nu, s.cap, s.interval}},
  };
  if (s.augmented) {
    runs.push_back({"aug-ip", s.small, {BatchTest::augmented_inner_product, s.eta, s.theta, s.nu, s.cap, s.interval}});
  }
  std::vector<Summary> results;
  for (const Run& run : runs) {
    auto r = run_local_sgd(s, run, *spec, **ctx, fm->train, fm->test, *part);
    if (!r) return fail(r.status());
    results.push_back(std::move(*r));
  }
  const double target = results[0].accuracy - 0.005;  // the small-batch run's accuracy - 0.5 pt
  std::fprintf(stderr, "%-14s %7s %12s %9s %10s %11s %8s\n", "run", "rounds", "MB up", "accuracy", "final b",
               "rounds@tgt", "seconds");
  for (const Summary& r : results) {
    const std::size_t reach = rounds_to(r, target);
    JsonLine line;
    line.add("kind", "summary").add("run", r.name).add("rounds", uint64_t(r.rounds)).add("samples", uint64_t(r.samples))
        .add("bytes_up", r.bytes_up).add("bytes_total", 2 * r.bytes_up).add("accuracy", r.accuracy)
        .add("final_batch", uint64_t(r.final_batch)).add("target", target)
        .add("rounds_to_target", uint64_t(reach)).add("seconds", r.seconds);
    std::printf("%s\n", line.str().c_str());
    std::fprintf(stderr, "%-14s %7zu %12.1f %8.2f%% %10zu %11s %8.1f\n", r.name.c_str(), r.rounds,
                 double(r.bytes_up) / 1e6, 100 * r.accuracy, r.final_batch,
                 reach ? std::to_string(reach).c_str() : "never", r.seconds);
  }
  return 0;
}
