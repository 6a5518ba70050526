// edgefl-palsgd-claim: PALSGD's claim on a small faithful setting — synchronous data-parallel
// training (DDP: gradients averaged every step through the star), DiLoCo and PALSGD at H and at
// a multiple of H — with M workers on i.i.d. Fashion-MNIST shards in one process, timed by the
// cost model (server/sim/cost_model.hpp) at t_comm/t_grad = 1, 10 and 100.
//
//   edgefl-palsgd-claim --seeds 1,2,3 > docs/palsgd_claim.jsonl      (table on stderr)
//   scripts/plot-palsgd-claim docs/palsgd_claim.jsonl --out docs/async.png
//
// The pieces are the system's: devices run LocalTrainer (gradient() for a DDP step, train()
// with PALSGD settings for a round), the server averages with ExactMean (uniform), applies a
// DDP step with the server's GradientStep (inner AdamW on the mean gradient) and a round with
// the nesterov strategy. PALSGD (and diloco-warm, = PALSGD with p = 0) first runs `--warmup`
// DDP steps and hands their optimizer state to the workers (docs/algorithms.md §2.3, §3).
// Simulated time: a gradient step of batch b costs b/32 units, a pull step 1/32, and one model
// up plus one down (2 x 4P bytes) costs t_comm/t_grad units; a step or round lasts as long as
// its slowest worker (all equal here). Every method gets the same number of optimizer steps per
// worker (pull steps included). stdout: JSON lines, one per evaluation ("kind":"point") and per
// run ("kind":"summary").
#include <CLI/CLI.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cost_model.hpp"
#include "edgefl/aggregate/exact_mean.hpp"
#include "edgefl/aggregate/server_strategy.hpp"
#include "edgefl/base/json_line.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/data/idx_reader.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/train/trainer.hpp"
#include "gradient_step.hpp"

using namespace edgefl;

namespace {

constexpr std::array<double, 3> kRatios = {1, 10, 100};  // t_comm / t_grad

struct Settings {
  std::string spec = "mlp:784-128-10:relu";
  std::string data_dir = kFashionMnistDir;
  std::size_t workers = 4, steps = 1024, h = 32, multiple = 4, warmup = 32, batch = 32;
  std::size_t eval_samples = 5000;
  float lr = 1e-3f, p = 0.2f, rho = 1.0f, outer_lr = 0.7f, outer_momentum = 0.9f;
  double target = 0.84;
  std::string seeds = "1,2,3";
  // -x: H times --multiple; diloco-warm: DiLoCo after PALSGD's DDP warm-up (PALSGD with p = 0)
  std::string methods = "ddp,diloco,diloco-warm,palsgd,diloco-x,diloco-warm-x,palsgd-x";
};

enum class Kind { ddp, diloco, palsgd };

struct Method {
  std::string name;
  Kind kind;
  std::size_t h;
  bool warmup = false;  // starts with --warmup DDP steps (always for PALSGD)
};

// One simulated clock per t_comm/t_grad ratio, fed the same events.
class Clocks {
 public:
  Clocks(std::size_t workers, std::size_t batch, uint64_t sync_bytes) : batch_(batch) {
    for (double ratio : kRatios) {
      sim::CostModel model = sim::CostModel::from_ratio(ratio, batch, sync_bytes);
      model.compute.pull_s = 1.0 / double(batch);  // one pass over the parameters, about a sample's worth
      clocks_.emplace_back(model, workers);
    }
  }
  void gradient_steps(std::size_t worker, std::size_t count) {
    for (auto& c : clocks_) {
      for (std::size_t i = 0; i < count; ++i) c.gradient_step(worker, batch_);
    }
  }
  void pull_steps(std::size_t worker, std::size_t count) {
    for (auto& c : clocks_) {
      for (std::size_t i = 0; i < count; ++i) c.pull_step(worker);
    }
  }
  void message(std::size_t worker, uint64_t bytes) {
    for (auto& c : clocks_) c.message(worker, bytes);
  }
  void end_round() {
    for (auto& c : clocks_) (void)c.end_round();
  }
  double seconds(std::size_t i) const { return clocks_[i].seconds(); }

 private:
  std::size_t batch_;
  std::vector<sim::SimulatedClock> clocks_;
};

struct Summary {
  std::string method;
  uint64_t seed = 0;
  std::array<double, 3> time_to_target{-1, -1, -1};
  double final_accuracy = 0;
  uint64_t bytes = 0, gradient_steps = 0, pull_steps = 0;
};

int fail(const Status& status) {
  std::fprintf(stderr, "edgefl-palsgd-claim: %s\n", status.to_string().c_str());
  return 1;
}

server::ServerConfig inner_config(const Settings& s) {
  server::ServerConfig c;
  c.train.optimizer = OptimizerKind::adamw;
  c.train.learning_rate = s.lr;
  c.train.weight_decay = 0.0f;
  return c;
}

uint64_t step_seed(uint64_t seed, std::size_t step, std::size_t worker) {
  return splitmix64(seed * 0x9E3779B97F4A7C15ull ^ (uint64_t(step) << 8) ^ worker);
}

Result<Summary> run(const Settings& s, const Method& method, uint64_t seed, const ModelSpec& spec,
                    const ComputeContext& ctx, const Dataset& train, const DatasetView& test, const Partition& part) {
  const std::size_t P = spec.parameter_count(), M = s.workers;
  auto model = Model::create(spec, seed);
  if (!model) return model.status();
  FloatBuffer global = model->params().clone(), mean_buffer(P);
  std::vector<FloatBuffer> local;
  std::vector<std::unique_ptr<LocalTrainer>> trainers;
  for (std::size_t m = 0; m < M; ++m) {
    auto t = LocalTrainer::create(spec, ctx, {s.batch, true});
    if (!t) return t.status();
    trainers.push_back(std::move(*t));
    local.emplace_back(P);
  }
  auto ddp = server::GradientStep::create(inner_config(s), P);
  if (!ddp) return ddp.status();
  StrategySettings outer_settings;
  outer_settings.server_lr = s.outer_lr;
  outer_settings.momentum = s.outer_momentum;
  auto outer = make_server_strategy("nesterov", outer_settings, P);
  if (!outer) return outer.status();
  ExactMean mean(P, {}, MeanWeighting::uniform);
  auto eval_net = Network::create(spec, ctx, {1000, false});
  if (!eval_net) return eval_net.status();

  const uint64_t model_bytes = uint64_t(P) * sizeof(float);
  Clocks clocks(M, s.batch, 2 * model_bytes);
  Summary out{method.name, seed};
  std::size_t step = 0, next_eval = 0;
  double dispersion = 0;  // (1/M) Σ ‖x_m − x̄‖² before the last sync (local methods)
  auto evaluate_now = [&]() -> Status {
    auto e = evaluate(**eval_net, global.span(), test);
    if (!e) return e.status();
    out.final_accuracy = e->accuracy;
    JsonLine line;
    line.add("kind", "point").add("method", method.name).add("seed", seed).add("step", uint64_t(step))
        .add("accuracy", e->accuracy).add("test_loss", e->loss).add("bytes", out.bytes)
        .add("gradient_steps", out.gradient_steps).add("pull_steps", out.pull_steps).add("dispersion", dispersion);
    for (std::size_t i = 0; i < kRatios.size(); ++i) {
      line.add("time_r" + std::to_string(int(kRatios[i])), clocks.seconds(i));
      if (out.time_to_target[i] < 0 && e->accuracy >= s.target) out.time_to_target[i] = clocks.seconds(i);
    }
    std::printf("%s\n", line.str().c_str());
    std::fflush(stdout);
    return Status();
  };
  EDGEFL_RETURN_IF_ERROR(evaluate_now());
  next_eval = s.h;
  TrainConfig base;
  base.optimizer = {OptimizerKind::adamw, s.lr};
  base.batch_size = s.batch;
  const std::size_t warmup = method.warmup ? s.warmup : 0;
  while (step < s.steps) {
    if (method.kind == Kind::ddp || step < warmup) {
      // One synchronous data-parallel step: every worker's batch gradient, averaged, stepped.
      for (std::size_t m = 0; m < M; ++m) {
        TrainConfig cfg = base;
        cfg.seed = step_seed(seed, step, m);
        auto g = trainers[m]->gradient(global.span(), DatasetView(train, part.clients[m]), cfg);
        if (!g) return g.status();
        EDGEFL_RETURN_IF_ERROR(mean.add(trainers[m]->gradients(), 1));
        clocks.gradient_steps(m, 1);
        clocks.message(m, model_bytes);  // gradient up
        clocks.message(m, model_bytes);  // model down
        ++out.gradient_steps;
      }
      EDGEFL_RETURN_IF_ERROR(mean.mean_into(mean_buffer.span()));
      EDGEFL_RETURN_IF_ERROR((*ddp)->apply_step(global.span(), mean_buffer.span(), step));
      step += 1;
    } else {
      if (step == warmup && warmup > 0) {
        // After the warm-up every worker holds the data-parallel optimizer state (handed over
        // in the first task, docs/protocol.md §11.7).
        for (std::size_t m = 0; m < M; ++m) {
          EDGEFL_RETURN_IF_ERROR(trainers[m]->prepare(base.optimizer, part.clients[m].size()));
          EDGEFL_RETURN_IF_ERROR(trainers[m]->optimizer()->restore((*ddp)->optimizer_state(), (*ddp)->steps()));
        }
      }
      // One round: H local steps per worker from the global model, then the outer step.
      const std::size_t h = std::min(method.h, s.steps - step);
      for (std::size_t m = 0; m < M; ++m) {
        TrainConfig cfg = base;
        cfg.local_steps = h;
        cfg.start_step = step;
        cfg.seed = step_seed(seed, step, m);
        cfg.palsgd = {method.kind == Kind::palsgd ? s.p : 0.0f, s.rho, warmup};
        local[m].assign(global.span());
        auto r = trainers[m]->train(local[m].span(), DatasetView(train, part.clients[m]), cfg, global.span());
        if (!r) return r.status();
        clocks.gradient_steps(m, r->gradient_steps);
        clocks.pull_steps(m, r->pull_steps);
        clocks.message(m, model_bytes);  // delta up
        clocks.message(m, model_bytes);  // model down
        out.gradient_steps += r->gradient_steps;
        out.pull_steps += r->pull_steps;
      }
      std::vector<double> centre(P, 0.0);
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t i = 0; i < P; ++i) centre[i] += local[m][i] / double(M);
      }
      dispersion = 0;
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t i = 0; i < P; ++i) dispersion += std::pow(local[m][i] - centre[i], 2) / double(M);
        for (std::size_t i = 0; i < P; ++i) local[m][i] -= global[i];  // the delta it sends
        EDGEFL_RETURN_IF_ERROR(mean.add(local[m].span(), 1));
      }
      EDGEFL_RETURN_IF_ERROR(mean.mean_into(mean_buffer.span()));
      EDGEFL_RETURN_IF_ERROR((*outer)->apply(global.span(), mean_buffer.span()));
      step += h;
    }
    mean.reset();
    clocks.end_round();
    out.bytes += 2 * M * model_bytes;
    if (step >= next_eval || step >= s.steps) {
      EDGEFL_RETURN_IF_ERROR(evaluate_now());
      while (next_eval <= step) next_eval += s.h;
    }
  }
  JsonLine line;
  line.add("kind", "summary").add("method", method.name).add("seed", seed).add("target", s.target)
      .add("final_accuracy", out.final_accuracy).add("bytes", out.bytes).add("gradient_steps", out.gradient_steps)
      .add("pull_steps", out.pull_steps).add("h", uint64_t(method.h));
  for (std::size_t i = 0; i < kRatios.size(); ++i) {
    line.add("time_to_target_r" + std::to_string(int(kRatios[i])), out.time_to_target[i]);
  }
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
  return out;
}

Result<std::vector<Method>> parse_methods(const Settings& s) {
  std::vector<Method> methods;
  std::stringstream list(s.methods);
  for (std::string name; std::getline(list, name, ',');) {
    const bool times = name.size() > 2 && name.substr(name.size() - 2) == "-x";
    const std::string kind = times ? name.substr(0, name.size() - 2) : name;
    const std::size_t h = times ? s.h * s.multiple : s.h;
    const std::string label = kind == "ddp" ? "ddp" : kind + "-H" + std::to_string(h);
    if (kind == "ddp" && !times) {
      methods.push_back({label, Kind::ddp, 1});
    } else if (kind == "diloco" || kind == "diloco-warm") {
      methods.push_back({label, Kind::diloco, h, kind == "diloco-warm"});
    } else if (kind == "palsgd") {
      methods.push_back({label, Kind::palsgd, h, true});
    } else {
      return make_status(StatusCode::invalid_argument, "method '" + name +
                                                           "' is not ddp, diloco, diloco-warm or palsgd (each but "
                                                           "ddp also with -x)");
    }
  }
  return methods;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgefl-palsgd-claim: DDP vs DiLoCo vs PALSGD on simulated time"};
  Settings s;
  app.add_option("--data-dir", s.data_dir)->capture_default_str();
  app.add_option("--spec", s.spec)->capture_default_str();
  app.add_option("--workers", s.workers)->capture_default_str();
  app.add_option("--steps", s.steps, "optimizer steps per worker (pull steps included)")->capture_default_str();
  app.add_option("--h", s.h, "sync interval H (also the evaluation interval)")->capture_default_str();
  app.add_option("--multiple", s.multiple, "the -x methods sync every multiple * H steps")->capture_default_str();
  app.add_option("--warmup", s.warmup, "PALSGD's DDP warm-up steps T_w")->capture_default_str();
  app.add_option("--batch", s.batch, "batch per worker and step")->capture_default_str();
  app.add_option("--lr", s.lr, "inner AdamW lr")->capture_default_str();
  app.add_option("--p", s.p, "PALSGD pull probability")->capture_default_str();
  app.add_option("--rho", s.rho, "PALSGD pull strength")->capture_default_str();
  app.add_option("--outer-lr", s.outer_lr, "Nesterov outer lr")->capture_default_str();
  app.add_option("--outer-momentum", s.outer_momentum, "Nesterov outer momentum")->capture_default_str();
  app.add_option("--target", s.target, "test accuracy for time-to-target")->capture_default_str();
  app.add_option("--eval-samples", s.eval_samples, "test samples per evaluation")->capture_default_str();
  app.add_option("--seeds", s.seeds, "comma-separated seeds (model init, split, batches, coin flips)")
      ->capture_default_str();
  app.add_option("--methods", s.methods, "comma-separated: ddp, diloco, diloco-warm, palsgd, and -x variants")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto spec = ModelSpec::parse(s.spec);
  if (!spec) return fail(spec.status());
  auto methods = parse_methods(s);
  if (!methods) return fail(methods.status());
  auto fm = load_fashion_mnist(s.data_dir);
  if (!fm) return fail(fm.status());
  auto ctx = ComputeContext::create(Backend::xnnpack, 1);
  if (!ctx) return fail(ctx.status());
  std::vector<uint32_t> test_rows(std::min(s.eval_samples, fm->test.size()));
  for (std::size_t i = 0; i < test_rows.size(); ++i) test_rows[i] = static_cast<uint32_t>(i);
  const DatasetView test(fm->test, test_rows);

  std::vector<Summary> results;
  std::stringstream seeds(s.seeds);
  for (std::string text; std::getline(seeds, text, ',');) {
    const uint64_t seed = std::stoull(text);
    auto part = partition_iid(fm->train, s.workers, seed);
    if (!part) return fail(part.status());
    for (const Method& method : *methods) {
      std::fprintf(stderr, "seed %llu: %s\n", static_cast<unsigned long long>(seed), method.name.c_str());
      auto r = run(s, method, seed, *spec, **ctx, fm->train, test, *part);
      if (!r) return fail(r.status());
      results.push_back(std::move(*r));
    }
  }
  std::fprintf(stderr, "\n%-16s %5s %10s %10s %10s %9s\n", "method", "seed", "t@r=1", "t@r=10", "t@r=100", "final");
  for (const Summary& r : results) {
    std::fprintf(stderr, "%-16s %5llu", r.method.c_str(), static_cast<unsigned long long>(r.seed));
    for (double t : r.time_to_target) {
      if (t < 0) {
        std::fprintf(stderr, " %10s", "never");
      } else {
        std::fprintf(stderr, " %10.0f", t);
      }
    }
    std::fprintf(stderr, " %8.2f%%\n", 100 * r.final_accuracy);
  }
  return 0;
}
