// edgefl-dpsgd-bench: the claim of arXiv 2112.01433 on a small setting — synchronous SGD (SSGD)
// against decentralised parallel SGD (DPSGD) on a ring, across learning rates, with the same
// model initialisation, data split and minibatch order for both (docs/dpsgd.md has the results).
//
//   edgefl-dpsgd-bench --epochs 30 --seeds 1,2,3 > docs/dpsgd_compare.jsonl   (a line per run on
//   stderr) scripts/plot-dpsgd docs/dpsgd_compare.jsonl --out docs/dpsgd.png --table
//
// n learners each hold an i.i.d. shard of Fashion-MNIST and draw b samples per step from a
// seeded shuffle of their shard, one pass after another (learner j's t-th batch is the same in
// both methods). The pieces are the system's, in one process without sockets:
//   SSGD:  every learner takes one plain SGD step of lr alpha_t from the global model x (a
//          device's Task); the server applies the mean delta with FedAvgM, server lr 1 and
//          momentum beta (heavy-ball synchronous SGD).
//   DPSGD: every learner takes one step of SGD with momentum beta on its own x_j and mixes its
//          neighbours' models of the step with Metropolis-Hastings weights (1/3 on a ring), the
//          device's update x_j <- (x_j - alpha_t d_j) + sum_k W_jk (x_k - x_j) (mix_into).
// alpha_t follows a linear warm-up of --warmup-epochs (0: constant alpha).
//
// Measured every --probe-interval steps, on the step's own minibatches before the update: the
// consensus distance (1/n) sum_j ||x_j - x̄||² and the effective-learning-rate proxy
//   r = <mean_j g_j(x_j), g_B(x̄)> / ||g_B(x̄)||²,
// g_j the gradient of learner j's batch, g_B the gradient of the union of the batches (r = 1 for
// SSGD, where every x_j = x̄). Bytes are the encoded messages' sizes: per learner and step a
// PeerModel to each neighbour (DPSGD), or one Task down and one Update up (SSGD).
// stdout: JSON lines, one per epoch ("kind":"point") and per run ("kind":"summary"), flushed as
// they are written so a stopped sweep keeps what finished.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "edgefl/aggregate/server_strategy.hpp"
#include "edgefl/base/json_line.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/data/idx_reader.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/decentral/mixing.hpp"
#include "edgefl/decentral/topology.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/train/trainer.hpp"

using namespace edgefl;

namespace {

struct Settings {
  std::string spec = "mlp:784-64-10";
  std::string data_dir = kFashionMnistDir;
  std::size_t learners = 8, batch = 256, epochs = 10, probe_interval = 6;
  float momentum = 0.9f;
  std::string alphas = "0.2,0.3,0.4,0.5,0.6,0.8,1.0";
  std::string warmups = "0,1";  // epochs of linear warm-up
  std::string seeds = "1,2,3";
  std::string methods = "ssgd,dpsgd";
  std::string topology = "ring";
};

template <typename T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> out;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    std::stringstream value(item);
    T v{};
    value >> v;
    out.push_back(v);
  }
  return out;
}

// Learner j's minibatches: one seeded shuffle of its shard per pass, b positions at a time (a
// short tail is skipped), the same sequence for both methods.
class BatchOrder {
 public:
  BatchOrder(std::size_t samples, std::size_t batch, uint64_t seed)
      : samples_(samples), batch_(batch), seed_(seed) {}
  std::span<const uint32_t> next() {
    if (order_.empty() || cursor_ + batch_ > samples_) {
      order_.resize(samples_);
      for (std::size_t i = 0; i < samples_; ++i) order_[i] = static_cast<uint32_t>(i);
      Rng rng(seed_, passes_++);
      for (std::size_t i = samples_; i > 1; --i)
        std::swap(order_[i - 1], order_[rng.below(static_cast<uint32_t>(i))]);
      cursor_ = 0;
    }
    std::span<const uint32_t> out(order_.data() + cursor_, batch_);
    cursor_ += batch_;
    return out;
  }

 private:
  std::size_t samples_, batch_;
  uint64_t seed_;
  uint64_t passes_ = 0;
  std::size_t cursor_ = 0;
  std::vector<uint32_t> order_;
};

// The gradient of a batch at given parameters: one plain SGD step of lr 1 on a copy.
class GradientProbe {
 public:
  static Result<GradientProbe> create(const ModelSpec& spec, const ComputeContext& ctx,
                                      std::size_t batch) {
    auto trainer = LocalTrainer::create(spec, ctx, {batch, true});
    if (!trainer) return trainer.status();
    GradientProbe probe(std::move(*trainer), spec.parameter_count());
    EDGEFL_RETURN_IF_ERROR(probe.trainer_->prepare({OptimizerKind::sgd, 1.0f, 0.0f}, 1));
    return probe;
  }
  // out += share * g(params; positions of view)
  Status add(std::span<const float> params, const DatasetView& view,
             std::span<const uint32_t> positions, float share, std::vector<double>& out) {
    copy_.assign(params);
    auto done = trainer_->step(copy_.span(), view, positions);
    if (!done) return done.status();
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] += double(share) * (double(params[i]) - copy_[i]);
    return Status();
  }

 private:
  GradientProbe(std::unique_ptr<LocalTrainer> trainer, std::size_t p)
      : trainer_(std::move(trainer)), copy_(p) {}
  std::unique_ptr<LocalTrainer> trainer_;
  FloatBuffer copy_;
};

struct Run {
  std::string method;
  float alpha = 0;
  std::size_t warmup_epochs = 0;
  uint64_t seed = 0;
};

struct Summary {
  double final_accuracy = 0, final_loss = 0, initial_loss = 0;
  bool diverged = false;
  double r_mean = 0, r_first = 0, r_last = 0, consensus_mean = 0, consensus_last = 0;
  uint64_t bytes_per_step = 0;
  double seconds = 0;
};

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / double(v.size());
}

bool finite(std::span<const float> v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// Encoded bytes one learner sends per step: two PeerModels on a ring (DPSGD), or its Update,
// plus the Task it received (SSGD).
Result<uint64_t> bytes_per_learner_step(const Run& run, const ModelSpec& spec,
                                        std::span<const float> params, std::size_t degree) {
  if (run.method == "dpsgd") {
    PeerModel model{
        .sender = "device-0", .epoch = 1, .step = 1, .params = f32_tensor(params), .run_id = 1};
    auto bytes = encode_message(model);
    if (!bytes) return bytes.status();
    return uint64_t(bytes->size()) * degree;
  }
  Task task;
  task.task_id = task.round = 1;
  task.model_spec = spec.to_string();
  task.config.local_steps = 1;
  task.params = f32_tensor(params);
  auto down = encode_message(task);
  if (!down) return down.status();
  Update update;
  update.update_id = update.task_id = update.round = update.sample_count = 1;
  update.payload = f32_tensor(params);
  auto up = encode_message(update);
  if (!up) return up.status();
  return uint64_t(down->size() + up->size());
}

Result<Summary> run_one(const Settings& s, const Run& run, const ModelSpec& spec,
                        const ComputeContext& ctx, const Dataset& train, const DatasetView& test,
                        const Partition& part) {
  const auto started = std::chrono::steady_clock::now();
  const std::size_t P = spec.parameter_count(), n = s.learners;
  const bool dpsgd = run.method == "dpsgd";
  auto model = Model::create(spec, run.seed);
  if (!model) return model.status();
  FloatBuffer global = model->params().clone();
  std::vector<FloatBuffer> x, sent;
  std::vector<std::unique_ptr<LocalTrainer>> trainers;
  std::vector<BatchOrder> orders;
  std::vector<DatasetView> views;
  for (std::size_t j = 0; j < n; ++j) {
    auto t = LocalTrainer::create(spec, ctx, {s.batch, true});
    if (!t) return t.status();
    // DPSGD: each learner's optimizer is SGD with momentum; SSGD: plain SGD, momentum at the
    // server.
    EDGEFL_RETURN_IF_ERROR((*t)->prepare({dpsgd ? OptimizerKind::momentum : OptimizerKind::sgd,
                                          run.alpha, dpsgd ? s.momentum : 0.0f},
                                         part.clients[j].size()));
    trainers.push_back(std::move(*t));
    x.push_back(global.clone());
    sent.emplace_back(P);
    views.emplace_back(train, part.clients[j]);
    orders.emplace_back(part.clients[j].size(), s.batch,
                        splitmix64(run.seed * 0x9E3779B97F4A7C15ull ^ j));
  }
  auto topology_kind = parse_topology(s.topology);
  if (!topology_kind) return topology_kind.status();
  auto topology = Topology::build(*topology_kind, n, run.seed);
  if (!topology) return topology.status();
  const std::vector<MixingRow> w = metropolis_hastings(*topology);
  StrategySettings server_settings;
  server_settings.server_lr = 1.0;
  server_settings.momentum = s.momentum;
  auto server = make_server_strategy("fedavgm", server_settings, P);
  if (!server) return server.status();
  auto probe = GradientProbe::create(spec, ctx, s.batch);
  if (!probe) return probe.status();
  auto eval_net = Network::create(spec, ctx, {1000, false});
  if (!eval_net) return eval_net.status();

  std::size_t shard = part.clients[0].size();
  for (const auto& c : part.clients) shard = std::min(shard, c.size());
  const std::size_t steps_per_epoch = shard / s.batch;
  const std::size_t steps = s.epochs * steps_per_epoch;
  LrSchedule schedule;
  if (run.warmup_epochs > 0) {
    schedule.kind = LrScheduleKind::linear_warmup;
    schedule.warmup_steps = run.warmup_epochs * steps_per_epoch;
  }
  auto per_learner = bytes_per_learner_step(run, spec, global.span(), topology->degree(0));
  if (!per_learner) return per_learner.status();

  Summary out;
  out.bytes_per_step = *per_learner * n;
  FloatBuffer mean(P), delta(P);
  std::vector<std::span<const uint32_t>> batch(n);
  std::vector<double> r_all, r_epoch, consensus_all, consensus_epoch;
  double loss_epoch = 0;
  std::size_t loss_count = 0;

  auto average = [&](std::span<float> into) {
    std::fill(into.begin(), into.end(), 0.0f);
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = 0; i < P; ++i) into[i] += x[j][i] / float(n);
    }
  };
  // r and the consensus distance at the current models on this step's batches.
  auto measure = [&]() -> Status {
    average(mean.span());
    double consensus = 0;
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = 0; i < P; ++i)
        consensus += std::pow(double(x[j][i]) - mean[i], 2) / double(n);
    }
    std::vector<double> g_local(P, 0.0), g_mean(P, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      EDGEFL_RETURN_IF_ERROR(probe->add(x[j].span(), views[j], batch[j], 1.0f / float(n), g_local));
      EDGEFL_RETURN_IF_ERROR(probe->add(mean.span(), views[j], batch[j], 1.0f / float(n), g_mean));
    }
    double dot = 0, norm = 0;
    for (std::size_t i = 0; i < P; ++i) {
      dot += g_local[i] * g_mean[i];
      norm += g_mean[i] * g_mean[i];
    }
    if (norm > 0 && std::isfinite(dot)) {
      r_epoch.push_back(dot / norm);
      r_all.push_back(dot / norm);
    }
    consensus_epoch.push_back(consensus);
    consensus_all.push_back(consensus);
    return Status();
  };
  auto evaluate_now = [&](std::size_t step) -> Status {
    if (dpsgd) average(mean.span());
    std::span<const float> evaluated = dpsgd ? mean.span() : global.span();
    Evaluation e{};
    if (!out.diverged) {
      auto scored = evaluate(**eval_net, evaluated, test);
      if (!scored) return scored.status();
      e = *scored;
    }
    if (out.diverged || !std::isfinite(e.loss)) {
      out.diverged = true;
      e.accuracy = 0.1;  // chance on ten balanced classes
      e.loss = std::nan("");
    }
    if (step == 0) out.initial_loss = e.loss;
    out.final_accuracy = e.accuracy;
    out.final_loss = e.loss;
    JsonLine line;
    line.add("kind", "point").add("method", run.method).add("alpha", double(run.alpha));
    line.add("warmup_epochs", uint64_t(run.warmup_epochs)).add("seed", run.seed);
    line.add("epoch", uint64_t(step / steps_per_epoch)).add("step", uint64_t(step));
    line.add("test_accuracy", e.accuracy).add("test_loss", e.loss);
    line.add("train_loss", loss_count > 0 ? loss_epoch / double(loss_count) : std::nan(""));
    line.add("r", r_epoch.empty() ? std::nan("") : mean_of(r_epoch));
    line.add("consensus_distance",
             consensus_epoch.empty() ? std::nan("") : mean_of(consensus_epoch));
    line.add("bytes", uint64_t(out.bytes_per_step * step));
    std::printf("%s\n", line.str().c_str());
    std::fflush(stdout);
    if (step > 0 && step <= steps_per_epoch && !r_epoch.empty()) out.r_first = mean_of(r_epoch);
    if (!r_epoch.empty()) out.r_last = mean_of(r_epoch);
    if (!consensus_epoch.empty()) out.consensus_last = mean_of(consensus_epoch);
    r_epoch.clear();
    consensus_epoch.clear();
    loss_epoch = 0;
    loss_count = 0;
    return Status();
  };

  EDGEFL_RETURN_IF_ERROR(evaluate_now(0));
  for (std::size_t t = 0; t < steps && !out.diverged; ++t) {
    const float lr = scheduled_lr(schedule, run.alpha, t);
    for (std::size_t j = 0; j < n; ++j) batch[j] = orders[j].next();
    if (dpsgd && t % s.probe_interval == 0) EDGEFL_RETURN_IF_ERROR(measure());
    for (std::size_t j = 0; j < n; ++j) {
      OptimizerConfig config = trainers[j]->optimizer()->config();
      config.lr = lr;
      EDGEFL_RETURN_IF_ERROR(trainers[j]->optimizer()->set_config(config));
      if (dpsgd) {
        sent[j].assign(x[j].span());
      } else {
        x[j].assign(global.span());
      }
      auto stats = trainers[j]->step(x[j].span(), views[j], batch[j]);
      if (!stats) return stats.status();
      loss_epoch += stats->loss_sum / double(batch[j].size());
      ++loss_count;
    }
    if (dpsgd) {
      for (std::size_t j = 0; j < n; ++j) {
        std::vector<std::span<const float>> models;
        for (const NeighbourWeight& k : w[j].neighbours) models.push_back(sent[k.node].span());
        EDGEFL_RETURN_IF_ERROR(mix_into(x[j].span(), sent[j].span(), w[j], models));
      }
    } else {
      std::fill(delta.span().begin(), delta.span().end(), 0.0f);
      for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t i = 0; i < P; ++i) delta[i] += (x[j][i] - global[i]) / float(n);
      }
      EDGEFL_RETURN_IF_ERROR((*server)->apply(global.span(), delta.span()));
    }
    const bool blew_up = dpsgd ? !finite(x[0].span()) : !finite(global.span());
    if (blew_up || !std::isfinite(loss_epoch)) out.diverged = true;
    if ((t + 1) % steps_per_epoch == 0 || out.diverged) EDGEFL_RETURN_IF_ERROR(evaluate_now(t + 1));
  }
  out.r_mean = mean_of(r_all);
  out.consensus_mean = mean_of(consensus_all);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  JsonLine line;
  line.add("kind", "summary").add("method", run.method).add("alpha", double(run.alpha));
  line.add("warmup_epochs", uint64_t(run.warmup_epochs)).add("seed", run.seed);
  line.add("epochs", uint64_t(s.epochs))
      .add("learners", uint64_t(n))
      .add("batch", uint64_t(s.batch));
  line.add("momentum", double(s.momentum))
      .add("spec", spec.to_string())
      .add("topology", s.topology);
  line.add("final_accuracy", out.final_accuracy).add("final_loss", out.final_loss);
  line.add("initial_loss", out.initial_loss).add("diverged", out.diverged);
  if (dpsgd) {
    line.add("r_mean", out.r_mean)
        .add("r_first_epoch", out.r_first)
        .add("r_last_epoch", out.r_last);
    line.add("consensus_mean", out.consensus_mean).add("consensus_last_epoch", out.consensus_last);
  } else {
    line.add("r_mean", 1.0).add("consensus_mean", 0.0);
  }
  line.add("bytes_per_step", out.bytes_per_step).add("seconds", out.seconds);
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
  return out;
}

int fail(const Status& status) {
  std::fprintf(stderr, "edgefl-dpsgd-bench: %s\n", status.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgefl-dpsgd-bench: SSGD vs DPSGD on a ring across learning rates"};
  Settings s;
  app.add_option("--data-dir", s.data_dir)->capture_default_str();
  app.add_option("--spec", s.spec)->capture_default_str();
  app.add_option("--learners", s.learners)->capture_default_str();
  app.add_option("--batch", s.batch, "samples per learner and step")->capture_default_str();
  app.add_option("--epochs", s.epochs, "passes over each learner's shard")->capture_default_str();
  app.add_option("--momentum", s.momentum, "beta: the learners' (DPSGD) or the server's (SSGD)")
      ->capture_default_str();
  app.add_option("--alphas", s.alphas, "comma-separated learning rates")->capture_default_str();
  app.add_option("--warmups", s.warmups, "comma-separated linear warm-up lengths in epochs")
      ->capture_default_str();
  app.add_option("--seeds", s.seeds,
                 "comma-separated seeds (model init, split, batch order, topology)")
      ->capture_default_str();
  app.add_option("--methods", s.methods, "comma-separated: ssgd, dpsgd")->capture_default_str();
  app.add_option("--topology", s.topology, "ring, torus or exponential (DPSGD)")
      ->capture_default_str();
  app.add_option("--probe-interval", s.probe_interval,
                 "steps between measurements of r and consensus")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto spec = ModelSpec::parse(s.spec);
  if (!spec) return fail(spec.status());
  if (s.learners < 2 || s.batch == 0 || s.epochs == 0 || s.probe_interval == 0)
    return fail(
        make_status(StatusCode::invalid_argument,
                    "--learners must be >= 2, --batch, --epochs and --probe-interval >= 1"));
  for (const std::string& m : parse_list<std::string>(s.methods)) {
    if (m != "ssgd" && m != "dpsgd")
      return fail(make_status(StatusCode::invalid_argument,
                              "method '" + m + "' is neither ssgd nor dpsgd"));
  }
  auto fm = load_fashion_mnist(s.data_dir);
  if (!fm) return fail(fm.status());
  auto ctx = ComputeContext::create(Backend::xnnpack, 1);
  if (!ctx) return fail(ctx.status());
  const DatasetView test(fm->test);
  if (fm->train.size() / s.learners < s.batch)
    return fail(make_status(StatusCode::invalid_argument, "a shard is smaller than one batch"));

  for (uint64_t seed : parse_list<uint64_t>(s.seeds)) {
    auto part = partition_iid(fm->train, s.learners, seed);
    if (!part) return fail(part.status());
    for (std::size_t warmup : parse_list<std::size_t>(s.warmups)) {
      for (float alpha : parse_list<float>(s.alphas)) {
        for (const std::string& method : parse_list<std::string>(s.methods)) {
          const Run run{method, alpha, warmup, seed};
          auto r = run_one(s, run, *spec, **ctx, fm->train, test, *part);
          if (!r) return fail(r.status());
          std::fprintf(
              stderr,
              "seed %llu warm-up %zu alpha %.2f %-5s: %6.2f%%%s r %.3f consensus %.3g, %.0f s\n",
              static_cast<unsigned long long>(seed), warmup, double(alpha), method.c_str(),
              100 * r->final_accuracy, r->diverged ? " (diverged)" : "",
              method == "dpsgd" ? r->r_mean : 1.0, r->consensus_mean, r->seconds);
        }
      }
    }
  }
  return 0;
}
