#include "fine_tune_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "driven_run.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/data/data_source.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/train/trainer.hpp"
#include "linear_references.hpp"

namespace edgefl::sim {

namespace {

constexpr const char* kSpec =
    "in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent";
constexpr std::size_t kOldClasses = 5;  // pretraining sees classes 0-4

// An npy file (version 1.0) of little-endian values: descr "<f4" or "|u1".
Status write_npy(const std::string& path, const std::string& descr, const std::string& shape,
                 const void* data, std::size_t bytes) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const char length[2] = {static_cast<char>(header.size() & 0xff),
                          static_cast<char>(header.size() >> 8)};
  out.write(magic, 8).write(length, 2).write(header.data(),
                                             static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  out.close();
  if (!out) return make_status(StatusCode::io_error, "fine-tuning: cannot write " + path);
  return Status();
}

// Writes node `rows` of `train` as npy files in `dir`; returns the data name a device loads.
Result<std::string> write_node(const Dataset& train, const std::vector<uint32_t>& rows,
                               const std::string& dir, uint32_t node) {
  std::vector<float> x(rows.size() * train.dim());
  std::vector<uint8_t> y(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < train.dim(); ++j)
      x[i * train.dim() + j] = train.feature(rows[i], j);
    y[i] = static_cast<uint8_t>(train.target(rows[i]));
  }
  const std::string base = dir + "/node-" + std::to_string(node);
  const std::string n = std::to_string(rows.size());
  EDGEFL_RETURN_IF_ERROR(write_npy(base + "-x.npy", "<f4",
                                   "(" + n + ", " + std::to_string(train.dim()) + ")", x.data(),
                                   x.size() * sizeof(float)));
  EDGEFL_RETURN_IF_ERROR(write_npy(base + "-y.npy", "|u1", "(" + n + ",)", y.data(), y.size()));
  return "npy:" + base + "-x.npy:" + base + "-y.npy:classes=10";
}

// Node m: round(majority * per_node) images of class m, the rest of uniformly drawn other
// classes, all distinct.
std::vector<std::vector<uint32_t>> label_skewed_nodes(const Dataset& train,
                                                      const FineTuneOptions& o) {
  Rng rng(o.seed, 7);
  std::vector<std::vector<uint32_t>> pools(10);
  for (uint32_t i = 0; i < train.size(); ++i)
    pools[static_cast<std::size_t>(train.target(i))].push_back(i);
  for (auto& pool : pools) {
    for (std::size_t i = pool.size(); i > 1; --i)
      std::swap(pool[i - 1], pool[rng.below(static_cast<uint32_t>(i))]);
  }
  std::vector<std::vector<uint32_t>> nodes(o.nodes);
  const auto majority = static_cast<uint32_t>(std::lround(o.majority * o.per_node));
  for (uint32_t m = 0; m < o.nodes; ++m) {
    for (uint32_t k = 0; k < o.per_node; ++k) {
      uint32_t label = m % 10;
      if (k >= majority) label = (label + 1 + rng.below(9)) % 10;
      nodes[m].push_back(pools[label].back());
      pools[label].pop_back();
    }
  }
  return nodes;
}

// 1 / (the smoothness bound of the mean softmax cross-entropy in a Dense head's weights and
// bias): 2 n / lambda_max([features, 1]^T [features, 1]).
double head_step(const Dataset& features) {
  LinearData rows{features.size(), features.dim() + 1, {}, std::vector<double>(features.size())};
  rows.x.reserve(rows.n * rows.d);
  for (std::size_t i = 0; i < rows.n; ++i) {
    for (std::size_t j = 0; j < features.dim(); ++j) rows.x.push_back(features.feature(i, j));
    rows.x.push_back(1.0);
  }
  return 2.0 * double(rows.n) / lambda_max(rows);
}

Dataset only_classes(const Dataset& data, std::size_t below) {
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < data.size(); ++i) {
    if (data.target(i) < float(below)) rows.push_back(i);
  }
  return *data.select(rows);
}

Dataset from_class(const Dataset& data, std::size_t first) {
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < data.size(); ++i) {
    if (data.target(i) >= float(first)) rows.push_back(i);
  }
  return *data.select(rows);
}

// The head's evaluation and centralised GD on the pooled features, both in float32 with the
// code the devices run.
class HeadMeter {
 public:
  static Result<HeadMeter> create(const FineTuneProblem& p) {
    auto compute = ComputeContext::create(Backend::direct, 1);
    if (!compute) return compute.status();
    auto network = Network::create(p.prefix.head, **compute, {.max_micro_batch = 256});
    if (!network) return network.status();
    auto trainer = LocalTrainer::create(p.prefix.head, **compute, {.max_micro_batch = 256});
    if (!trainer) return trainer.status();
    HeadMeter meter(std::move(*compute), std::move(*network), std::move(*trainer), p);
    return meter;
  }

  Result<FineTuneRound> measure(uint64_t round, std::span<const float> global) {
    TrainConfig config;
    config.optimizer = OptimizerConfig{OptimizerKind::sgd, static_cast<float>(p_->c), 0.0f};
    config.batch_size = 0;  // the whole pooled set: one step of centralised GD per round
    config.local_steps = 1;
    for (; central_steps_ < round; ++central_steps_) {
      Result<TrainMetrics> stepped =
          trainer_->train(central_.span(), DatasetView(p_->pooled), config);
      if (!stepped) return stepped.status();
    }
    head_.assign(global.subspan(p_->prefix.param_offset));
    FineTuneRound r;
    r.round = round;
    r.head_cos_central =
        cosine(std::vector<double>(head_.span().begin(), head_.span().end()),
               std::vector<double>(central_.span().begin(), central_.span().end()));
    auto train_made = evaluate(*network_, head_.span(), DatasetView(p_->pooled));
    if (!train_made) return train_made.status();
    Evaluation train = std::move(*train_made);
    auto test_made = evaluate(*network_, head_.span(), DatasetView(p_->test));
    if (!test_made) return test_made.status();
    Evaluation test = std::move(*test_made);
    auto fresh_made = evaluate(*network_, head_.span(), DatasetView(new_classes_));
    if (!fresh_made) return fresh_made.status();
    Evaluation fresh = std::move(*fresh_made);
    auto central_train_made = evaluate(*network_, central_.span(), DatasetView(p_->pooled));
    if (!central_train_made) return central_train_made.status();
    Evaluation central_train = std::move(*central_train_made);
    auto central_test_made = evaluate(*network_, central_.span(), DatasetView(p_->test));
    if (!central_test_made) return central_test_made.status();
    Evaluation central_test = std::move(*central_test_made);
    r.train_loss = train.loss;
    r.test_accuracy = test.accuracy;
    r.new_class_accuracy = fresh.accuracy;
    r.central_train_loss = central_train.loss;
    r.central_test_accuracy = central_test.accuracy;
    return r;
  }

 private:
  HeadMeter(std::unique_ptr<ComputeContext> compute, std::unique_ptr<Network> network,
            std::unique_ptr<LocalTrainer> trainer, const FineTuneProblem& p)
      : compute_(std::move(compute)),
        network_(std::move(network)),
        trainer_(std::move(trainer)),
        p_(&p),
        head_(p.prefix.head.parameter_count()),
        central_(p.prefix.head.parameter_count()),
        new_classes_(from_class(p.test, kOldClasses)) {
    central_.assign(p.start.span().subspan(p.prefix.param_offset));
  }

  std::unique_ptr<ComputeContext> compute_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<LocalTrainer> trainer_;
  const FineTuneProblem* p_;
  FloatBuffer head_;
  FloatBuffer central_;
  Dataset new_classes_;
  uint64_t central_steps_ = 0;
};

}  // namespace

Result<FineTuneProblem> make_fine_tune_problem(const FineTuneOptions& o) {
  if (o.nodes == 0 || o.per_node == 0 || !(o.majority > 0 && o.majority <= 1)) {
    return make_status(StatusCode::invalid_argument,
                       "fine-tuning: nodes, per_node > 0 and majority in (0, 1]");
  }
  FineTuneProblem p;
  auto p_spec_made = ModelSpec::parse(kSpec);
  if (!p_spec_made) return p_spec_made.status();
  p.spec = std::move(*p_spec_made);
  const std::vector<uint32_t> head_only = {static_cast<uint32_t>(p.spec.layers.size() - 1)};
  std::optional<FrozenPrefix> prefix = frozen_prefix(p.spec, head_only);
  if (!prefix)
    return make_status(StatusCode::internal, "fine-tuning: the model has no frozen prefix");
  p.prefix = std::move(*prefix);

  auto source_made = DataSource::parse("fashion-mnist", o.data_dir, o.seed);
  if (!source_made) return source_made.status();
  DataSource source = std::move(*source_made);
  ShardSpec everything;
  everything.count = 1;
  auto train_made = source.load_shard(p.spec, everything);
  if (!train_made) return train_made.status();
  Shard train = std::move(*train_made);
  auto test_images_made = source.load_test(p.spec);
  if (!test_images_made) return test_images_made.status();
  Dataset test_images = std::move(*test_images_made);
  // The fine-tuning nodes, written for the devices; pretraining uses the other old-class images.
  const std::vector<std::vector<uint32_t>> nodes = label_skewed_nodes(train.data, o);
  const std::string dir = o.work_dir + "/r3-data";
  std::filesystem::create_directories(dir);
  std::vector<bool> taken(train.data.size(), false);
  std::vector<uint32_t> pooled_rows;
  for (uint32_t m = 0; m < o.nodes; ++m) {
    auto name_made = write_node(train.data, nodes[m], dir, m);
    if (!name_made) return name_made.status();
    std::string name = std::move(*name_made);
    p.node_data.push_back(std::move(name));
    for (uint32_t row : nodes[m]) taken[row] = true;
    pooled_rows.insert(pooled_rows.end(), nodes[m].begin(), nodes[m].end());
  }
  std::vector<uint32_t> pretrain_rows;
  for (uint32_t i = 0; i < train.data.size(); ++i) {
    if (!taken[i] && train.data.target(i) < float(kOldClasses)) pretrain_rows.push_back(i);
  }
  if (o.pretrain_samples > 0 && pretrain_rows.size() > o.pretrain_samples)
    pretrain_rows.resize(o.pretrain_samples);
  p.pretrain_samples = pretrain_rows.size();

  auto compute_made = ComputeContext::create(Backend::direct, 1);
  if (!compute_made) return compute_made.status();
  std::unique_ptr<ComputeContext> compute = std::move(*compute_made);
  auto trainer_made = LocalTrainer::create(p.spec, *compute);
  if (!trainer_made) return trainer_made.status();
  std::unique_ptr<LocalTrainer> trainer = std::move(*trainer_made);
  p.start = FloatBuffer(p.spec.parameter_count());
  EDGEFL_RETURN_IF_ERROR(init_parameters(p.spec, p.start.span(), o.seed));
  TrainConfig pretrain;
  pretrain.optimizer = OptimizerConfig{OptimizerKind::momentum, 0.05f, 0.9f};
  pretrain.batch_size = 32;
  pretrain.epochs = o.pretrain_epochs;
  pretrain.seed = o.seed;
  const auto started = std::chrono::steady_clock::now();
  auto trained_made =
      trainer->train(p.start.span(), DatasetView(train.data, pretrain_rows), pretrain);
  if (!trained_made) return trained_made.status();
  p.pretrain_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const Dataset old_test = only_classes(test_images, kOldClasses);
  auto old_made = evaluate(p.spec, *compute, p.start.span(), DatasetView(old_test));
  if (!old_made) return old_made.status();
  Evaluation old = std::move(*old_made);
  p.pretrain_accuracy = old.accuracy;
  // The head starts at 0, as the theory's w0 = 0.
  std::fill(p.start.span().begin() + static_cast<std::ptrdiff_t>(p.prefix.param_offset),
            p.start.span().end(), 0.0f);

  // Features of the frozen prefix for the references (the devices compute their own).
  auto network_made = Network::create(p.spec, *compute, {.max_micro_batch = 256});
  if (!network_made) return network_made.status();
  std::unique_ptr<Network> network = std::move(*network_made);
  auto pooled_images_made = train.data.select(pooled_rows);
  if (!pooled_images_made) return pooled_images_made.status();
  Dataset pooled_images = std::move(*pooled_images_made);
  FeatureCache pooled, test;
  EDGEFL_RETURN_IF_ERROR(pooled.refresh(*network, p.prefix, p.start.span(), DatasetView(pooled_images)));
  EDGEFL_RETURN_IF_ERROR(test.refresh(*network, p.prefix, p.start.span(), DatasetView(test_images)));
  p.pooled = pooled.features();
  p.test = test.features();
  p.c = o.c > 0 ? o.c : head_step(p.pooled);
  return p;
}

Result<FineTuneSummary> run_fine_tune(const FineTuneOptions& o, const FineTuneProblem& p,
                                      uint32_t local_steps,
                                      const std::function<void(const FineTuneRound&)>& on_round) {
  const std::string dir = o.work_dir + "/r3-L" + std::to_string(local_steps);
  std::filesystem::remove_all(dir);
  SimulationOptions options;
  options.devices = o.nodes;
  options.own_data = true;  // device m loads node m's files
  options.state_root = dir;
  options.seed = o.seed;
  options.configure_device = [&p](uint32_t index, device::DeviceConfig& d) {
    d.data = p.node_data[index];
    d.backend = Backend::direct;
    d.quiet = true;
  };
  server::ServerConfig c = local_gd_server_config(p.spec.to_string(), o.seed, o.rounds, o.nodes, local_steps,
                                                  static_cast<float>(p.c / local_steps));
  c.train.trainable_layers = "last:1";

  auto meter_made = HeadMeter::create(p);
  if (!meter_made) return meter_made.status();
  HeadMeter meter = std::move(*meter_made);
  FineTuneSummary summary;
  summary.local_steps = local_steps;
  summary.lr = c.train.learning_rate;
  Status measured;
  auto after_round = [&](uint64_t round, std::span<const float> global, double elapsed_s) {
    Result<FineTuneRound> r = meter.measure(round, global);
    if (!r) {
      measured = r.status();
      return true;
    }
    r->local_steps = local_steps;
    r->elapsed_s = elapsed_s;
    summary.last = *r;
    if (on_round) on_round(*r);
    return false;
  };
  auto run_made = drive_rounds(std::move(options), c, p.start.span(), o.time_limit_s, after_round);
  if (!run_made) return run_made.status();
  DrivenRun run = std::move(*run_made);
  EDGEFL_RETURN_IF_ERROR(measured);
  summary.rounds = run.rounds;
  summary.seconds = run.seconds;
  summary.status = run.status;
  return summary;
}

}  // namespace edgefl::sim
