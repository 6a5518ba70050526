#include "task_factory.hpp"

#include "edgefl/proto/proto.hpp"
#include "edgefl/base/rng.hpp"

namespace edgefl::server {

Result<TaskFactory> TaskFactory::create(const ServerConfig& config, const ModelSpec& spec) {
  TaskConfig c;
  c.optimizer = config.train.optimizer;
  c.lr = config.train.learning_rate;
  c.momentum = config.train.momentum;
  c.weight_decay = config.train.weight_decay;
  c.beta1 = config.train.adam_beta1;
  c.beta2 = config.train.adam_beta2;
  c.eps = config.train.adam_epsilon;
  c.batch_size = config.train.full_batch ? 0 : config.train.batch_size;  // 0: the whole shard
  c.local_steps = config.train.local_steps;
  c.local_epochs = config.train.local_epochs;
  c.upload.kind = config.codec.kind;
  c.upload.int8_block_size = config.codec.int8_block_size;
  c.upload.topk_fraction = config.codec.kind == CodecKind::topk ? config.codec.topk_fraction : 0.0f;
  c.deadline_ms = static_cast<uint32_t>(config.round_deadline_s * config.time_scale * 1000);
  // Any PALSGD setting (a sync interval H alone included) sends the section: p = 0 is DiLoCo.
  if (config.palsgd.p > 0 || config.palsgd.warmup_steps > 0 || config.palsgd.h > 0) {
    c.palsgd = config.palsgd;
    if (c.palsgd->h == 0) c.palsgd->h = config.train.local_steps;  // validated: one of them is set
  }
  c.lr_schedule = LrSchedule{config.train.lr_schedule, config.train.lr_warmup_steps, config.train.lr_total_steps,
                             config.train.lr_min};
  c.keep_optimizer_state = keeps_optimizer_state(config);
  c.clip_norm = config.train.clip_norm;
  const AdaptiveBatchConfig& ab = config.adaptive_batch;
  if (ab.test != BatchTest::none) {
    // The wire carries the trainer's settings in 32-bit fields (validated: they fit).
    c.adaptive_batch = AdaptiveBatchSettings{.theta = static_cast<float>(ab.theta),
                                             .eta = static_cast<float>(ab.eta),
                                             .batch_cap = static_cast<uint32_t>(ab.cap),
                                             .test_interval = static_cast<uint32_t>(ab.interval),
                                             .test = static_cast<uint8_t>(ab.test),
                                             .nu = static_cast<float>(ab.nu),
                                             .lr_scaling = static_cast<uint8_t>(ab.lr_scaling),
                                             .max_lr = static_cast<float>(ab.max_lr),
                                             .interval_clock = static_cast<uint8_t>(ab.interval_clock)};
  }
  Result<std::vector<uint32_t>> trainable = server::trainable_layers(config, spec);
  if (!trainable) return trainable.status();
  return TaskFactory(std::move(c), spec.to_string(), std::move(*trainable), config);
}

Result<std::vector<uint8_t>> TaskFactory::encode(uint64_t task_id, uint64_t round, uint64_t model_version,
                                                 std::span<const float> params, uint32_t base_hash,
                                                 std::span<const float> optimizer_state,
                                                 uint64_t optimizer_steps) const {
  Task task;
  task.task_id = task_id;
  task.round = round;
  task.model_version = model_version;
  task.model_spec = model_spec_;
  task.params = f32_tensor(params);
  task.run_id = run_id_;
  task.base_hash = base_hash;
  task.trainable_layers = trainable_layers_;
  task.standardization = standardization_;
  if (!optimizer_state.empty()) {
    task.optimizer_state = f32_tensor(optimizer_state);
    task.optimizer_steps = optimizer_steps;
  }
  task.config = settings_;
  task.config.seed = splitmix64(seed_ ^ (task_id * 0x9E3779B97F4A7C15ull));
  task.config.start_step = round_start_step(config_, round);
  if (is_gradient_round(config_, round)) {
    task.config.gradient_only = true;
    task.config.local_steps = 1;
  }
  Result<std::vector<uint8_t>> bytes = encode_message(task);
  if (!bytes) return bytes.status().with_context("encoding a task");
  return bytes;
}

}  // namespace edgefl::server
