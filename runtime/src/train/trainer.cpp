#include "edgefl/train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "edgefl/base/rng.hpp"
#include "per_sample_statistics.hpp"

namespace edgefl {

namespace {

// Fork id of the PALSGD coin-flip stream: separate from the shuffle stream of the same seed.
constexpr uint64_t kPalsgdFlagStream = 0x70616c736764ULL;  // "palsgd"

// Detaches the observer on every exit path of a pass.
class ObserverScope {
 public:
  ObserverScope(Network& network, BackwardObserver* observer) : network_(network) {
    network_.set_backward_observer(observer);
  }
  ~ObserverScope() { network_.set_backward_observer(nullptr); }
  ObserverScope(const ObserverScope&) = delete;
  ObserverScope& operator=(const ObserverScope&) = delete;

 private:
  Network& network_;
};

// PALSGD pull step: x <- x - c (x - z).
void pull_toward(std::span<float> x, std::span<const float> z, float c) {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] -= c * (x[i] - z[i]);
}

Status validate_palsgd(const PalsgdConfig& pc, float lr, std::size_t params, std::size_t global) {
  EDGEFL_RETURN_IF_ERROR(validate(pc, lr));
  if (pc.p > 0.0f && global != params) {
    return make_status(StatusCode::shape_mismatch, "palsgd: the global model has " + std::to_string(global) +
                                                       " floats, the parameters " + std::to_string(params));
  }
  return Status();
}

}  // namespace

Status validate(const PalsgdConfig& pc, float lr) {
  if (!(pc.p >= 0.0f && pc.p < 1.0f)) {
    return make_status(StatusCode::invalid_argument, "palsgd: p must be in [0, 1), got " + std::to_string(pc.p));
  }
  if (!std::isfinite(pc.rho) || pc.rho < 0.0f) {
    return make_status(StatusCode::invalid_argument, "palsgd: rho must be finite and >= 0");
  }
  if (pc.p == 0.0f) return Status();
  const double c = double(lr) * pc.rho / pc.p;
  if (c > 1.0) {
    return make_status(StatusCode::invalid_argument,
                       "palsgd: pull coefficient lr*rho/p = " + std::to_string(c) +
                           " exceeds 1 (a pull step would overshoot the global model)");
  }
  return Status();
}

std::size_t logical_batch(const TrainConfig& config, std::size_t samples) {
  return config.batch_size == 0 ? samples : std::min(config.batch_size, samples);
}

Rng palsgd_flag_rng(uint64_t seed) { return Rng(seed).fork(kPalsgdFlagStream); }

LocalTrainer::LocalTrainer(std::unique_ptr<Network> network, TrainerOptions options)
    : network_(std::move(network)),
      options_(options),
      grads_(network_->spec().parameter_count()),
      statistics_(std::make_unique<PerSampleStatistics>()),
      trainable_(network_->spec(), {}),
      scratch_(options.max_micro_batch) {}

LocalTrainer::~LocalTrainer() = default;

Result<std::unique_ptr<LocalTrainer>> LocalTrainer::create(const ModelSpec& spec, const ComputeContext& ctx,
                                                           TrainerOptions options) {
  auto network = Network::create(spec, ctx, {options.max_micro_batch, options.accumulation});
  if (!network) return network.status();
  return std::unique_ptr<LocalTrainer>(new LocalTrainer(std::move(*network), options));
}

void LocalTrainer::reset_optimizer() {
  if (optimizer_) optimizer_->reset();
}

Status LocalTrainer::set_trainable(const std::vector<uint32_t>& layers) {
  if (layers == trainable_layers_) return Status();
  EDGEFL_RETURN_IF_ERROR(network_->set_trainable(layers));
  trainable_layers_ = layers;
  trainable_ = TrainableSlices(network_->spec(), layers);
  optimizer_.reset();  // its state covered other parameters
  grads_.fill(0.0f);   // frozen entries are never written again
  second_pass_grads_.fill(0.0f);
  return Status();
}

void LocalTrainer::reserve_statistics(BatchTest test) {
  if (test == BatchTest::none) return;
  const bool inner = test == BatchTest::augmented_inner_product;
  statistics_->reserve(network_->spec(), network_->max_micro_batch(), inner);
  if (inner && second_pass_grads_.size() == 0) second_pass_grads_ = FloatBuffer(grads_.size());
}

Status LocalTrainer::prepare(const OptimizerConfig& config, std::size_t samples, BatchTest test) {
  if (optimizer_ && optimizer_->config().kind == config.kind) {
    EDGEFL_RETURN_IF_ERROR(optimizer_->set_config(config));
  } else {
    auto created = Optimizer::create(config, trainable_);
    if (!created) return created.status();
    optimizer_.emplace(std::move(*created));
  }
  if (order_.size() < samples) order_.resize(samples);
  reserve_statistics(test);
  return Status();
}

Result<BatchStats> LocalTrainer::accumulate(std::span<const float> params, const DatasetView& data,
                                            std::span<const uint32_t> positions, std::span<float> grads,
                                            PerSampleStatistics* observer) {
  if (positions.empty()) return make_status(StatusCode::invalid_argument, "trainer: empty batch");
  const std::size_t micro = network_->max_micro_batch();
  if (positions.size() > micro && !options_.accumulation) {
    return make_status(StatusCode::failed_precondition,
                       "trainer: batch " + std::to_string(positions.size()) + " exceeds micro-batch " +
                           std::to_string(micro) + " and accumulation is off");
  }
  ObserverScope scope(*network_, observer);
  const float scale = 1.0f / static_cast<float>(positions.size());
  BatchStats total;
  for (std::size_t begin = 0; begin < positions.size(); begin += micro) {
    std::span<const uint32_t> chunk = positions.subspan(begin, std::min(micro, positions.size() - begin));
    data.gather_transposed(chunk, scratch_, network_->input(), network_->targets());
    if (observer != nullptr) observer->begin_micro_batch(scale);
    auto stats = network_->forward_backward(params, grads, chunk.size(), scale, begin > 0);
    if (!stats) return stats.status();
    total.loss_sum += stats->loss_sum;
    total.correct += stats->correct;
  }
  return total;
}

Result<BatchStats> LocalTrainer::measured_gradient(std::span<const float> params, const DatasetView& data,
                                                   std::span<const uint32_t> positions, BatchTest test,
                                                   GradientStatistics* stats) {
  if (test == BatchTest::none || stats == nullptr) {
    return accumulate(params, data, positions, grads_.span(), nullptr);
  }
  statistics_->begin(PerSampleStatistics::Mode::sq_norms, {});
  const uint64_t dropout_pass = network_->dropout_pass();
  auto total = accumulate(params, data, positions, grads_.span(), statistics_.get());
  if (!total) return total;
  stats->batch = positions.size();
  stats->has_inner = test == BatchTest::augmented_inner_product;
  if (stats->has_inner) {
    // ⟨g_i^p, ḡ^p⟩ needs the finished mean gradient: a second pass over the same samples.
    statistics_->begin(PerSampleStatistics::Mode::inner, grads_.span());
    network_->set_dropout_pass(dropout_pass);  // the same dropout masks as the first pass
    auto again = accumulate(params, data, positions, second_pass_grads_.span(), statistics_.get());
    if (!again) return again.status();
  }
  EDGEFL_RETURN_IF_ERROR(statistics_->finish(grads_.span(), *stats));
  return total;
}

Result<BatchStats> LocalTrainer::step(std::span<float> params, const DatasetView& data,
                                      std::span<const uint32_t> positions, BatchTest test,
                                      GradientStatistics* stats, float clip_norm) {
  if (!optimizer_) return make_status(StatusCode::failed_precondition, "trainer: prepare() not called");
  reserve_statistics(stats != nullptr ? test : BatchTest::none);
  const bool measured = test != BatchTest::none && stats != nullptr;
  const bool clipped = clip_norm > 0.0f;  // needs the whole gradient before the update
  if (!measured && !clipped && !positions.empty() && positions.size() <= network_->max_micro_batch()) {
    // One micro-batch and no statistics: the optimizer update fused into the backward pass.
    data.gather_transposed(positions, scratch_, network_->input(), network_->targets());
    return network_->train_step(params, grads_.span(), positions.size(),
                                1.0f / static_cast<float>(positions.size()), *optimizer_);
  }
  auto total = measured_gradient(params, data, positions, test, stats);
  if (!total) return total;
  if (clipped) (void)clip_global_norm(grads_.span(), clip_norm);
  EDGEFL_RETURN_IF_ERROR(optimizer_->step(params, grads_.span()));
  return total;
}

Result<GradientStatistics> LocalTrainer::gradient_statistics(std::span<const float> params, const DatasetView& data,
                                                             std::span<const uint32_t> positions, BatchTest test) {
  if (test == BatchTest::none) return make_status(StatusCode::invalid_argument, "trainer: no batch test named");
  reserve_statistics(test);
  GradientStatistics stats;
  auto total = measured_gradient(params, data, positions, test, &stats);
  if (!total) return total.status();
  return stats;
}

Status LocalTrainer::check_data(const DatasetView& data, const TrainConfig& config) const {
  if (data.size() == 0) return make_status(StatusCode::invalid_argument, "trainer: empty dataset view");
  if (config.batch_size == 0 && config.adaptive.test != BatchTest::none) {
    return make_status(StatusCode::invalid_argument,
                       "trainer: an adaptive batch test needs a batch size (0 is the whole data set)");
  }
  if (data.dataset().dim() != network_->spec().input_size()) {
    return make_status(StatusCode::shape_mismatch,
                       "trainer: data has " + std::to_string(data.dataset().dim()) + " features, model expects " +
                           std::to_string(network_->spec().input_size()));
  }
  if (!(std::isfinite(config.clip_norm) && config.clip_norm >= 0.0f)) {
    return make_status(StatusCode::invalid_argument, "trainer: clip_norm must be finite and >= 0");
  }
  EDGEFL_RETURN_IF_ERROR(validate(config.lr_schedule, config.optimizer.lr));
  return data.validate();
}

std::span<uint32_t> LocalTrainer::in_order(std::size_t n) {
  if (order_.size() < n) order_.resize(n);
  std::span<uint32_t> order(order_.data(), n);
  std::iota(order.begin(), order.end(), 0u);
  return order;
}

std::span<uint32_t> LocalTrainer::shuffled(Rng& rng, std::size_t n) {
  std::span<uint32_t> order = in_order(n);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(static_cast<uint32_t>(i))]);
  return order;
}

Result<TrainMetrics> LocalTrainer::gradient(std::span<const float> params, const DatasetView& data,
                                            const TrainConfig& config) {
  EDGEFL_RETURN_IF_ERROR(check_data(data, config));
  if (params.size() != grads_.size()) {
    return make_status(StatusCode::shape_mismatch, "trainer: " + std::to_string(params.size()) +
                                                       " parameters, the model has " + std::to_string(grads_.size()));
  }
  Rng rng(config.seed);
  const std::size_t batch = logical_batch(config, data.size());
  std::span<uint32_t> order = config.batch_size == 0 ? in_order(data.size()) : shuffled(rng, data.size());
  auto total = accumulate(params, data, order.first(batch), grads_.span(), nullptr);
  if (!total) return total.status();
  TrainMetrics metrics;
  metrics.samples = batch;
  metrics.steps = metrics.gradient_steps = 1;
  metrics.next_batch_size = batch;
  metrics.mean_loss = total->loss_sum / double(batch);
  return metrics;
}

Result<TrainMetrics> LocalTrainer::train(std::span<float> params, const DatasetView& data,
                                         const TrainConfig& config, std::span<const float> global_params) {
  EDGEFL_RETURN_IF_ERROR(check_data(data, config));
  const std::size_t n = data.size();
  EDGEFL_RETURN_IF_ERROR(validate(config.adaptive));
  if (config.adaptive.max_lr > 0.0 && config.adaptive.max_lr < config.optimizer.lr) {
    return make_status(StatusCode::invalid_argument, "adaptive batch: max_lr " + std::to_string(config.adaptive.max_lr) +
                                                         " is below the learning rate " +
                                                         std::to_string(config.optimizer.lr));
  }
  const PalsgdConfig& pc = config.palsgd;
  EDGEFL_RETURN_IF_ERROR(validate_palsgd(pc, config.optimizer.lr, params.size(), global_params.size()));
  EDGEFL_RETURN_IF_ERROR(prepare(config.optimizer, n, config.adaptive.test));
  network_->set_dropout_seed(config.seed);  // dropout masks: a function of the seed and the step

  Rng rng(config.seed);
  std::span<uint32_t> order(order_.data(), n);
  // Full batch: every step sees every sample; a shuffle would only change the summation order.
  auto reshuffle = [&] { (void)(config.batch_size == 0 ? in_order(n) : shuffled(rng, n)); };
  std::size_t batch = logical_batch(config, n);
  const BatchTest test = config.adaptive.test;
  AdaptiveBatchConfig adaptive = config.adaptive;
  adaptive.cap = std::min(adaptive.cap, n);

  TrainMetrics metrics;
  if (test != BatchTest::none) {
    // Batches only grow, so the starting batch bounds the step count of the epoch mode.
    metrics.batch_sizes.reserve(config.local_steps > 0 ? config.local_steps
                                                       : config.epochs * ((n + batch - 1) / batch));
  }
  Rng flags = palsgd_flag_rng(config.seed);
  const std::size_t base_batch = config.lr_base_batch > 0 ? config.lr_base_batch : config.batch_size;
  // The test interval's clock: the device's local steps, or this call's.
  const uint64_t clock_start = adaptive.interval_clock == IntervalClock::device ? config.device_steps : 0;
  OptimizerConfig current = config.optimizer;  // what the optimizer holds now
  bool test_due = false;  // a test is owed and runs on the next full gradient batch
  double loss_sum = 0.0;

  // `last`: the last full batch of this call (where interval 0 tests).
  auto run = [&](std::span<const uint32_t> positions, bool last) -> Status {
    const uint64_t global_step = config.start_step + metrics.steps;
    const float lr = scheduled_lr(config.lr_schedule, config.optimizer.lr, global_step);
    const bool palsgd = pc.p > 0.0f && global_step >= pc.warmup_steps;
    if (test != BatchTest::none) metrics.batch_sizes.push_back(static_cast<uint32_t>(positions.size()));
    ++metrics.steps;
    if (test != BatchTest::none) {
      test_due = test_due || (adaptive.interval > 0 ? (clock_start + metrics.steps) % adaptive.interval == 0 : last);
    }
    // The first step after the warm-up is a gradient step (the reference draws each flag after
    // a step, and none before it).
    if (palsgd && global_step > pc.warmup_steps && flags.uniform() < pc.p) {
      pull_toward(params, global_params, lr * pc.rho / pc.p);  // the batch is skipped, as in the reference code
      ++metrics.pull_steps;
      return Status();
    }
    // The scheduled lr, scaled with the batch (adaptive batches), then by 1 / (1 - p) (PALSGD).
    float step_lr = static_cast<float>(scaled_learning_rate(adaptive, lr, batch, base_batch));
    if (palsgd) step_lr /= 1.0f - pc.p;
    if (step_lr != current.lr) {
      current.lr = step_lr;
      EDGEFL_RETURN_IF_ERROR(optimizer_->set_config(current));
    }
    // A short final batch of an epoch is no sample of the batch size under test.
    const bool test_now = test_due && positions.size() == batch;
    GradientStatistics* stats = test_now ? &test_statistics_ : nullptr;
    auto result = step(params, data, positions, test, stats, config.clip_norm);
    if (!result) return result.status();
    loss_sum += result->loss_sum;
    metrics.samples += positions.size();
    ++metrics.gradient_steps;
    if (test_now) {
      auto proposal = propose_batch_size(test_statistics_, adaptive);
      if (!proposal) return proposal.status();
      batch = proposal->batch;
      ++metrics.batch_tests;
      test_due = false;
    }
    return Status();
  };
  // Between steps only: a call always does at least one step, so a device out of time still
  // sends some work.
  auto stop_now = [&] {
    if (metrics.steps == 0 || !config.keep_going || config.keep_going()) return false;
    metrics.stopped_early = true;
    return true;
  };
  if (config.local_steps > 0) {
    std::size_t cursor = n;  // forces a shuffle first
    for (std::size_t s = 0; s < config.local_steps && !stop_now(); ++s) {
      if (cursor + batch > n) {
        reshuffle();
        cursor = 0;
      }
      const std::size_t size = batch;  // run() may grow `batch` for the next step
      EDGEFL_RETURN_IF_ERROR(run(order.subspan(cursor, size), s + 1 == config.local_steps));
      cursor += size;
    }
  } else {
    for (std::size_t e = 0; e < config.epochs && !metrics.stopped_early; ++e) {
      reshuffle();
      for (std::size_t begin = 0; begin < n && !stop_now();) {
        const std::size_t size = std::min(batch, n - begin);
        const bool last_full = e + 1 == config.epochs && size == batch && n - (begin + size) < batch;
        EDGEFL_RETURN_IF_ERROR(run(order.subspan(begin, size), last_full));
        begin += size;
      }
    }
  }
  if (current.lr != config.optimizer.lr) EDGEFL_RETURN_IF_ERROR(optimizer_->set_config(config.optimizer));
  metrics.next_batch_size = batch;
  metrics.mean_loss = metrics.samples > 0 ? loss_sum / double(metrics.samples) : 0.0;
  return metrics;
}

Result<Evaluation> evaluate(Network& network, std::span<const float> params, const DatasetView& data) {
  if (data.dataset().dim() != network.spec().input_size()) {
    return make_status(StatusCode::shape_mismatch, "evaluate: data and model input sizes differ");
  }
  EDGEFL_RETURN_IF_ERROR(data.validate());
  const std::size_t chunk = network.max_micro_batch();
  std::vector<uint32_t> positions(chunk), scratch(chunk);
  Evaluation result;
  double loss_sum = 0.0;
  std::size_t correct = 0;
  for (std::size_t begin = 0; begin < data.size(); begin += chunk) {
    const std::size_t count = std::min(chunk, data.size() - begin);
    std::iota(positions.begin(), positions.begin() + count, static_cast<uint32_t>(begin));
    data.gather_transposed(std::span(positions).first(count), scratch, network.input(), network.targets());
    auto stats = network.forward(params, count);
    if (!stats) return stats.status();
    loss_sum += stats->loss_sum;
    correct += stats->correct;
  }
  result.samples = data.size();
  if (result.samples > 0) {
    result.loss = loss_sum / double(result.samples);
    result.accuracy = network.spec().loss == LossKind::squared ? 0.0 : double(correct) / double(result.samples);
  }
  return result;
}

Result<Evaluation> evaluate(const ModelSpec& spec, const ComputeContext& ctx, std::span<const float> params,
                            const DatasetView& data, std::size_t chunk) {
  auto network = Network::create(spec, ctx, {chunk, false});
  if (!network) return network.status();
  return evaluate(**network, params, data);
}

}  // namespace edgefl
