#include "task_trainer.hpp"

#include "step_pacer.hpp"

#include <chrono>
#include <cmath>

#include "edgefl/base/rng.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/data/data_source.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/train/feature_cache.hpp"
#include "edgefl/train/memory_plan.hpp"
#include "edgefl/train/trainer.hpp"

namespace edgefl::device {

Result<MemoryPlan> plan_device_memory(const ModelSpec& spec, Backend backend,
                                      const TaskConfig& task, std::size_t receive_bytes,
                                      uint64_t data_bytes, uint64_t budget, uint64_t process_bytes,
                                      std::size_t trainable_parameters, std::size_t cache_bytes) {
  const BatchTest test =
      task.adaptive_batch ? static_cast<BatchTest>(task.adaptive_batch->test) : BatchTest::none;
  MemoryPlanRequest request = task_memory_request(
      spec, backend, task.optimizer, test, task.adaptive_batch ? task.adaptive_batch->batch_cap : 0,
      task.upload.kind != CodecKind::f32, receive_bytes, data_bytes + cache_bytes, process_bytes,
      trainable_parameters);
  if (budget == 0) {
    Result<uint64_t> available = available_memory_bytes();
    if (!available) return available.status().with_context("measuring available memory");
    budget = *available;
  }
  return plan_memory(request, budget);
}

void StopSignal::request() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requested_ = true;
  }
  wake_.notify_all();
}

bool StopSignal::requested() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requested_;
}

bool StopSignal::wait_for(std::chrono::duration<double> duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, duration, [this] { return requested_; });
}

struct LocalTaskTrainer::State {
  std::string spec_text;
  std::vector<uint32_t> trainable_layers;  // the Task's (empty: all)
  ModelSpec spec;
  std::unique_ptr<ComputeContext> compute;  // for the plan and the frozen prefix's network
  // The trainer and the parameter buffers: the whole model's, or with a frozen prefix the
  // head's (`prefix_network` then computes the prefix's features once and the trainer trains
  // the layers after it on them). Kept between tasks, or borrowed for each from
  // options_.workspaces (null between tasks).
  std::unique_ptr<TrainingWorkspace> work;
  std::optional<FrozenPrefix> prefix;
  std::unique_ptr<Network> prefix_network;
  FeatureCache features;
  std::optional<UpdateEncoder> encoder;
  AlignedBytes scratch;
  std::size_t planned_micro_batch = 0;
  std::size_t next_batch_size = 0;  // adaptive batches carry their size from task to task
  uint64_t completed_steps = 0;     // local steps since the process started (the test interval's clock)
  std::string plan_text;
  StandardScaling standardization;  // the run's, from its Tasks; applied to this device's view
};

namespace {

// A trainer (of the head, with a frozen prefix) and the parameter buffers for `key`.
Result<std::unique_ptr<TrainingWorkspace>> build_workspace(const WorkspaceKey& key, const ModelSpec& spec,
                                                           const std::optional<FrozenPrefix>& prefix,
                                                           const TrainableSlices& trainable) {
  auto work = std::make_unique<TrainingWorkspace>();
  work->key = key;
  auto compute = ComputeContext::create(key.backend, key.threads, key.direct_isa);
  if (!compute) return compute.status();
  work->compute = std::move(*compute);
  const ModelSpec& trained = prefix ? prefix->head : spec;
  auto trainer = LocalTrainer::create(trained, *work->compute,
                                      {.max_micro_batch = key.micro_batch, .accumulation = true});
  if (!trainer) return trainer.status();
  EDGEFL_RETURN_IF_ERROR((*trainer)->set_trainable(prefix ? prefix->head_trainable : key.trainable_layers));
  work->trainer = std::move(*trainer);
  work->global = FloatBuffer(spec.parameter_count());
  work->local = FloatBuffer(spec.parameter_count());
  work->trained_part = FloatBuffer(trainable.all() ? 0 : trainable.count());
  return work;
}

}  // namespace

LocalTaskTrainer::LocalTaskTrainer(const LocalTrainingOptions& options)
    : options_(options), state_(std::make_unique<State>()) {}

LocalTaskTrainer::~LocalTaskTrainer() = default;

DatasetView LocalTaskTrainer::local_data() const {
  const StandardScaling* scaling = &state_->standardization;
  return options_.rows.empty() ? DatasetView(*options_.data, scaling)
                               : DatasetView(*options_.data, options_.rows, scaling);
}

Result<std::unique_ptr<LocalTaskTrainer>> LocalTaskTrainer::create(const LocalTrainingOptions& options) {
  if (options.data == nullptr || options.data->size() == 0) {
    return make_status(StatusCode::invalid_argument, "training worker: no local data");
  }
  return std::unique_ptr<LocalTaskTrainer>(new LocalTaskTrainer(options));
}

TrainingResult LocalTaskTrainer::train(uint64_t task_id, std::vector<uint8_t> message,
                                       StopSignal& stop) {
  const auto started = std::chrono::steady_clock::now();
  TrainingResult result;
  result.task_id = task_id;
  auto failed = [&result](Status status) {
    result.status = std::move(status);
    return std::move(result);
  };
  State& s = *state_;

  Result<DecodedMessage> decoded = decode_message(message, s.scratch);
  if (!decoded) return failed(decoded.status());
  const Task* task_in_message = std::get_if<Task>(&decoded->message);
  if (task_in_message == nullptr) {
    return failed(make_status(StatusCode::invalid_argument, "the worker was handed a message that is not a Task"));
  }
  const Task& task = *task_in_message;
  // The run's standardisation, fixed before round 1. It lives in this trainer, not in the
  // dataset, which devices of a simulation share read-only.
  if (!(task.standardization == s.standardization.standardization())) {
    Result<StandardScaling> scaling = StandardScaling::create(task.standardization, options_.data->dim());
    if (!scaling) return failed(scaling.status().with_context("the task's standardisation of the local data"));
    s.standardization = std::move(*scaling);
  }
  const DatasetView data = local_data();

  // Another model or another set of frozen layers plans memory and builds the trainer anew.
  if (task.model_spec != s.spec_text || task.trainable_layers != s.trainable_layers) {
    Result<ModelSpec> spec = ModelSpec::parse(task.model_spec);
    if (!spec) return failed(spec.status());
    // Also keeps a label beyond the classifier's outputs from indexing past them.
    Status fits = check_fit(*options_.data, *spec, "the local data");
    if (!fits.ok()) return failed(std::move(fits));
    if (!s.compute) {
      auto compute = ComputeContext::create(options_.backend, options_.threads, options_.direct_isa);
      if (!compute) return failed(compute.status());
      s.compute = std::move(*compute);
    }
    const TrainableSlices trainable(*spec, task.trainable_layers);
    // The cached features are planned like more local data; without room for them the device
    // trains through the frozen prefix at every step.
    std::optional<FrozenPrefix> prefix = frozen_prefix(*spec, task.trainable_layers);
    auto plan_with = [&](std::size_t cache_bytes) {
      return plan_device_memory(*spec, s.compute->backend(), task.config, message.size(),
                                data.memory_bytes(), options_.memory_budget, options_.process_bytes,
                                trainable.count(), cache_bytes);
    };
    Result<MemoryPlan> plan =
        plan_with(prefix ? data.size() * prefix->head.input_size() * sizeof(float) : 0);
    if (!plan && prefix) {
      prefix.reset();
      plan = plan_with(0);
    }
    if (!plan) return failed(plan.status());
    s.plan_text = plan->describe();
    std::size_t micro_batch = plan->max_micro_batch;
    // No micro-batch beyond the logical batch (batch 0: the whole local data set).
    if (!task.config.adaptive_batch) {
      micro_batch = std::min<std::size_t>(
          micro_batch, task.config.batch_size > 0 ? task.config.batch_size : data.size());
    }
    s.prefix_network.reset();
    if (prefix) {
      auto network = Network::create(*spec, *s.compute, {.max_micro_batch = micro_batch});
      if (!network) return failed(network.status());
      s.prefix_network = std::move(*network);
    }
    s.work.reset();  // built for the model before
    s.prefix = std::move(prefix);
    s.features = FeatureCache();
    s.encoder.reset();
    s.spec = *spec;
    s.spec_text = task.model_spec;
    s.trainable_layers = task.trainable_layers;
    s.planned_micro_batch = micro_batch;
  }
  const TrainableSlices trainable(s.spec, s.trainable_layers);
  // Borrowed only when nothing of an earlier task may shape this one: the optimizer starts
  // fresh, and no adaptive batch, PALSGD or frozen prefix carries state in the trainer.
  const bool borrow = options_.workspaces != nullptr && !task.config.keep_optimizer_state &&
                      !task.config.adaptive_batch && !task.config.palsgd && !s.prefix;
  struct GiveBack {
    TrainingWorkspaces* lender;
    std::unique_ptr<TrainingWorkspace>* work;
    ~GiveBack() {
      if (lender != nullptr) lender->give_back(std::move(*work));
    }
  } give_back{borrow ? options_.workspaces : nullptr, &s.work};
  const WorkspaceKey key{s.spec_text, s.trainable_layers, s.planned_micro_batch,
                         options_.backend, options_.threads, options_.direct_isa};
  if (!s.work && borrow) s.work = options_.workspaces->take(key);
  if (!s.work) {
    Result<std::unique_ptr<TrainingWorkspace>> built = build_workspace(key, s.spec, s.prefix, trainable);
    if (!built) return failed(built.status());
    s.work = std::move(*built);
  }
  TrainingWorkspace& w = *s.work;
  Status received = decoded->payload_into(w.global.span());
  if (!received.ok()) return failed(received);
  // A handed-over inner optimizer state (after a gradient warm-up) replaces the device's own.
  FloatBuffer handed_state;
  if (task.optimizer_state.parameter_count > 0) {
    handed_state = FloatBuffer(task.optimizer_state.parameter_count);
    Status state = decode_into(task.optimizer_state, handed_state.span());
    if (!state.ok()) return failed(state.with_context("task.optimizer_state"));
  }
  // The model is in the workspace now: give the message's memory back before training needs it
  // (the decoded Task keeps its own copies of everything but the params view).
  std::vector<uint8_t>().swap(message);
  s.scratch = AlignedBytes();
  if (!s.encoder || !(s.encoder->config() == task.config.upload)) {
    auto encoder = UpdateEncoder::create(task.config.upload, trainable.count());
    if (!encoder) return failed(encoder.status());
    s.encoder.emplace(std::move(*encoder));
  }

  // DiLoCo and PALSGD keep their inner optimizer state across tasks; FedAvg-style clients start
  // fresh. Kept state lives in memory only: a reboot starts it over.
  if (!task.config.keep_optimizer_state) w.trainer->reset_optimizer();
  TrainConfig config;
  config.optimizer = OptimizerConfig{task.config.optimizer, task.config.lr, task.config.momentum,
                                     task.config.weight_decay, task.config.beta1, task.config.beta2,
                                     task.config.eps};
  config.batch_size = task.config.batch_size;
  config.local_steps = task.config.local_steps;
  config.epochs = task.config.local_epochs;
  config.seed = splitmix64(task.config.seed ^ options_.device_seed);
  config.start_step = task.config.start_step;
  config.lr_schedule = task.config.lr_schedule;
  config.clip_norm = task.config.clip_norm;
  if (const auto& adaptive = task.config.adaptive_batch) {
    config.adaptive.test = static_cast<BatchTest>(adaptive->test);
    config.adaptive.eta = adaptive->eta;
    config.adaptive.theta = adaptive->theta;
    config.adaptive.nu = adaptive->nu;
    config.adaptive.cap = adaptive->batch_cap;
    config.adaptive.interval = adaptive->test_interval;
    config.adaptive.interval_clock = static_cast<IntervalClock>(adaptive->interval_clock);
    config.adaptive.lr_scaling = static_cast<LrScaling>(adaptive->lr_scaling);
    config.adaptive.max_lr = adaptive->max_lr;
    // The batch grows across tasks: start where the last test left it, with the lr scaled
    // from the Task's batch; the interval counts this device's steps since the process started.
    config.lr_base_batch = config.batch_size;
    config.batch_size = std::max<std::size_t>(config.batch_size, s.next_batch_size);
    config.device_steps = s.completed_steps;
  }
  std::span<const float> pull_target;
  if (const auto& palsgd = task.config.palsgd) {
    config.palsgd = PalsgdConfig{palsgd->p, palsgd->rho, palsgd->warmup_steps};
    if (palsgd->h > 0 && !task.config.gradient_only) config.local_steps = palsgd->h;
    pull_target = w.global.span();
  }

  if (s.prefix && task.config.gradient_only) {
    return failed(
        make_status(StatusCode::invalid_argument, "a gradient task cannot freeze layers"));
  }
  // With a frozen prefix the head trains on the prefix's features, its parameters in place.
  const std::size_t head_offset = s.prefix ? s.prefix->param_offset : 0;
  if (s.prefix) {
    Status cached = s.features.refresh(*s.prefix_network, *s.prefix, w.global.span(), data);
    if (!cached.ok()) return failed(cached);
    if (!pull_target.empty()) pull_target = pull_target.subspan(head_offset);
  }
  const DatasetView trained_data = s.prefix ? DatasetView(s.features.features()) : data;
  if (handed_state.size() > 0) {
    Status prepared = w.trainer->prepare(config.optimizer, data.size(), config.adaptive.test);
    if (prepared.ok()) prepared = w.trainer->optimizer()->restore(handed_state.span(), task.optimizer_steps);
    if (!prepared.ok()) return failed(prepared.with_context("restoring the handed optimizer state"));
  }
  // The Task's deadline counts from its receipt (the worker starts it at once); local steps end
  // early enough to leave deadline_reserve of it for encoding and sending.
  std::optional<StepPacer::Clock::time_point> stop_at;
  if (task.config.deadline_ms > 0) {
    stop_at = started + std::chrono::duration_cast<StepPacer::Clock::duration>(
                            std::chrono::duration<double, std::milli>(
                                task.config.deadline_ms * (1.0 - options_.deadline_reserve)));
  }
  StepPacer pacer(options_.slowdown, stop_at, stop);
  config.keep_going = [&pacer] { return pacer.keep_going(); };
  auto run = [&]() -> Result<TrainMetrics> {
    // A synchronous data-parallel step: only the batch's mean gradient at the Task's model.
    if (task.config.gradient_only) return w.trainer->gradient(w.global.span(), data, config);
    w.local.assign(w.global.span());
    return w.trainer->train(w.local.span().subspan(head_offset), trained_data, config, pull_target);
  };
  Result<TrainMetrics> metrics = run();
  if (!metrics) return failed(metrics.status());
  pacer.finish();
  // With frozen layers an Update carries the trainable slice only (their delta is 0).
  auto uploaded = [&](std::span<const float> full) -> std::span<const float> {
    if (trainable.all()) return full;
    trainable.gather(full, w.trained_part.span());
    return w.trained_part.span();
  };
  TensorView payload;
  if (task.config.gradient_only) {
    // Uncompressed: the codec's error feedback belongs to deltas. The server averages it.
    payload = f32_tensor(uploaded(w.trainer->gradients()));
  } else {
    s.next_batch_size = metrics->next_batch_size;
    s.completed_steps += metrics->steps;
    // The delta is formed in place: the trained copy is not needed once it is encoded.
    for (std::size_t i = 0; i < w.local.size(); ++i) w.local[i] -= w.global[i];
    Result<TensorView> encoded = s.encoder->encode(uploaded(w.local.span()));
    if (!encoded) return failed(encoded.status());
    payload = *encoded;
  }

  Update update;
  update.update_id = task_id;
  update.task_id = task_id;
  update.round = task.round;
  update.base_version = task.model_version;
  update.run_id = task.run_id;
  update.base_hash = task.base_hash;
  update.sample_count = data.size();
  update.metrics.train_loss = static_cast<float>(metrics->mean_loss);
  update.metrics.steps = static_cast<uint32_t>(metrics->steps);
  update.metrics.partial_updates = metrics->stopped_early ? 1 : 0;
  update.metrics.batch_sizes = metrics->batch_sizes.empty()
                                   ? std::vector<uint32_t>{static_cast<uint32_t>(logical_batch(config, data.size()))}
                                   : metrics->batch_sizes;
  update.payload = payload;
  Result<std::vector<uint8_t>> bytes = encode_message(update);
  if (!bytes) return failed(bytes.status());
  result.update_message = std::move(*bytes);
  result.train_loss = metrics->mean_loss;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started - pacer.waited())
          .count();
  return result;
}

}  // namespace edgefl::device
