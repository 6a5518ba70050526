#include "training_worker.hpp"

#include <chrono>
#include <cmath>

#include "edgefl/codec.hpp"
#include "edgefl/compute.hpp"
#include "edgefl/memory_plan.hpp"
#include "edgefl/proto.hpp"
#include "edgefl/rng.hpp"
#include "edgefl/trainer.hpp"

namespace edgefl::device {

struct TrainingWorker::State {
  std::string spec_text;
  ModelSpec spec;
  std::unique_ptr<ComputeContext> compute;
  std::unique_ptr<LocalTrainer> trainer;
  FloatBuffer global;
  FloatBuffer local;
  FloatBuffer delta;
  std::optional<UpdateEncoder> encoder;
  AlignedBytes scratch;
};

TrainingWorker::TrainingWorker(const WorkerOptions& options)
    : options_(options), state_(std::make_unique<State>()) {}

Result<std::unique_ptr<TrainingWorker>> TrainingWorker::create(const WorkerOptions& options) {
  if (options.data == nullptr || options.data->size() == 0) {
    return make_status(StatusCode::invalid_argument, "training worker: no local data");
  }
  std::unique_ptr<TrainingWorker> worker(new TrainingWorker(options));
  worker->thread_ = std::thread([w = worker.get()] { w->run(); });
  return worker;
}

TrainingWorker::~TrainingWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status TrainingWorker::submit(uint64_t task_id, std::vector<uint8_t> task_message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (job_ || working_on_.load() != 0) {
    return make_status(StatusCode::failed_precondition, "training worker is busy");
  }
  working_on_.store(task_id);
  job_.emplace(task_id, std::move(task_message));
  wake_.notify_all();
  return Status();
}

std::optional<TrainingResult> TrainingWorker::take_result() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<TrainingResult> result = std::move(result_);
  result_.reset();
  return result;
}

void TrainingWorker::run() {
  while (true) {
    std::pair<uint64_t, std::vector<uint8_t>> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || job_.has_value(); });
      if (stopping_) return;
      job = std::move(*job_);
      job_.reset();
    }
    TrainingResult result = train(job.first, job.second);
    if (result.status.ok() && options_.slowdown > 1.0) {
      // A simulated slow board takes `slowdown` times as long; a stop request cuts it short.
      auto extra = std::chrono::duration<double>(result.seconds * (options_.slowdown - 1.0));
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, extra, [this] { return stopping_; });
      if (stopping_) return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    result_ = std::move(result);
    working_on_.store(0);
  }
}

TrainingResult TrainingWorker::train(uint64_t task_id, const std::vector<uint8_t>& message) {
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
  const Task& task = std::get<Task>(decoded->message);

  if (task.model_spec != s.spec_text) {
    Result<ModelSpec> spec = ModelSpec::parse(task.model_spec);
    if (!spec) return failed(spec.status());
    if (spec->input_size() != options_.data->dim()) {
      return failed(make_status(StatusCode::shape_mismatch,
                                "model '" + task.model_spec + "' takes " + std::to_string(spec->input_size()) +
                                    " inputs, the local data has " + std::to_string(options_.data->dim())));
    }
    if (!s.compute) {
      auto compute = ComputeContext::create(Backend::xnnpack, options_.threads);
      if (!compute) return failed(compute.status());
      s.compute = std::move(*compute);
    }
    std::size_t micro_batch = task.config.batch_size;
    if (options_.memory_budget != 0) {
      micro_batch = max_micro_batch(options_.memory_budget, *spec, s.compute->backend(), task.config.optimizer);
      if (micro_batch == 0) {
        return failed(make_status(StatusCode::resource_exhausted,
                                  "memory budget of " + std::to_string(options_.memory_budget >> 20) +
                                      " MiB cannot hold model '" + task.model_spec + "' and one sample"));
      }
      micro_batch = std::min<std::size_t>(micro_batch, task.config.batch_size);
    }
    auto trainer = LocalTrainer::create(*spec, *s.compute, {.max_micro_batch = micro_batch, .accumulation = true});
    if (!trainer) return failed(trainer.status());
    s.trainer = std::move(*trainer);
    s.global = FloatBuffer(spec->parameter_count());
    s.local = FloatBuffer(spec->parameter_count());
    s.delta = FloatBuffer(spec->parameter_count());
    s.encoder.reset();
    s.spec = *spec;
    s.spec_text = task.model_spec;
  }
  Status payload = decoded->payload_into(s.global.span());
  if (!payload.ok()) return failed(payload);
  if (!s.encoder || !(s.encoder->config() == task.config.upload)) {
    auto encoder = UpdateEncoder::create(task.config.upload, s.spec.parameter_count());
    if (!encoder) return failed(encoder.status());
    s.encoder.emplace(std::move(*encoder));
  }

  // DiLoCo keeps its inner AdamW state across rounds; FedAvg-style clients start fresh.
  if (task.config.optimizer != OptimizerKind::adamw) s.trainer->reset_optimizer();
  TrainConfig config;
  config.optimizer = OptimizerConfig{task.config.optimizer, task.config.lr, task.config.momentum,
                                     task.config.weight_decay, task.config.beta1, task.config.beta2,
                                     task.config.eps};
  config.batch_size = task.config.batch_size;
  config.local_steps = task.config.local_steps;
  config.epochs = task.config.local_epochs;
  config.seed = splitmix64(task.config.seed ^ options_.device_seed);

  s.local.assign(s.global.span());
  Result<TrainMetrics> metrics = s.trainer->train(s.local.span(), DatasetView(*options_.data), config);
  if (!metrics) return failed(metrics.status());
  for (std::size_t i = 0; i < s.delta.size(); ++i) s.delta[i] = s.local[i] - s.global[i];
  Result<TensorView> encoded = s.encoder->encode(s.delta.span());
  if (!encoded) return failed(encoded.status());

  Update update;
  update.update_id = task_id;
  update.task_id = task_id;
  update.round = task.round;
  update.base_version = task.model_version;
  update.sample_count = options_.data->size();
  update.metrics.train_loss = static_cast<float>(metrics->mean_loss);
  update.metrics.steps = static_cast<uint32_t>(metrics->steps);
  update.metrics.batch_sizes = {task.config.batch_size};
  update.payload = *encoded;
  Result<std::vector<uint8_t>> bytes = encode_message(update);
  if (!bytes) return failed(bytes.status());
  result.update_message = std::move(*bytes);
  result.train_loss = metrics->mean_loss;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace edgefl::device
