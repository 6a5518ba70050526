// LocalTaskTrainer carries a Task's adaptive-batch settings into local training: the test
// interval counts the device's steps across tasks, and the learning rate follows the batch.
#include <doctest/doctest.h>

#include <vector>

#include "edgefl/data/synthetic.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/proto/proto.hpp"
#include "task_trainer.hpp"

using namespace edgefl;

namespace {

constexpr const char* kSpec = "mlp:8-16-4:relu";

std::vector<uint8_t> adaptive_task(uint64_t id, const AdaptiveBatchSettings& adaptive, std::span<const float> params) {
  Task task;
  task.task_id = id;
  task.round = id;
  task.model_spec = kSpec;
  task.config.optimizer = OptimizerKind::sgd;
  task.config.lr = 0.05f;
  task.config.batch_size = 4;
  task.config.local_steps = 5;
  task.config.local_epochs = 0;
  task.config.seed = 11;
  task.config.adaptive_batch = adaptive;
  task.params = f32_tensor(params);
  return encode_message(task).value();
}

struct Trained {
  std::vector<uint32_t> batch_sizes;
  std::vector<float> delta;
};

// Trains the tasks in order on one device; what each update reports.
std::vector<Trained> train_tasks(Dataset& data, const AdaptiveBatchSettings& adaptive, int tasks) {
  device::LocalTrainingOptions options;
  options.data = &data;
  options.backend = Backend::reference;
  auto trainer = device::LocalTaskTrainer::create(options);
  REQUIRE(trainer.ok());
  const FloatBuffer params = Model::create(ModelSpec::parse(kSpec).value(), 1).value().params().clone();
  device::StopSignal stop;
  std::vector<Trained> out;
  for (int t = 1; t <= tasks; ++t) {
    device::TrainingResult r = (*trainer)->train(t, adaptive_task(t, adaptive, params.span()), stop);
    REQUIRE_MESSAGE(r.status.ok(), r.status.to_string());
    AlignedBytes scratch;
    auto decoded = decode_message(r.update_message, scratch);
    REQUIRE(decoded.ok());
    const Update& update = std::get<Update>(decoded->message);
    Trained trained{update.metrics.batch_sizes, std::vector<float>(params.size())};
    REQUIRE(decoded->payload_into(trained.delta).ok());
    out.push_back(std::move(trained));
  }
  return out;
}

}  // namespace

TEST_CASE("adaptive task: the test interval counts the device's steps across tasks (or restarts per task)") {
  auto data = make_blobs({4, 8, 600, 1.0f, 1.5f, 9});
  REQUIRE(data.ok());
  // eta 0.6 on noisy blobs: every test grows the batch (4, 11, 16, 25), so the trajectory shows
  // where tests ran.
  AdaptiveBatchSettings adaptive{.theta = 0.5f, .eta = 0.6f, .batch_cap = 512, .test_interval = 3, .test = 1};
  auto changes = [](const std::vector<uint32_t>& b) {
    std::vector<std::size_t> at;  // steps (from 1) after which the batch grew
    for (std::size_t s = 1; s < b.size(); ++s) {
      if (b[s] != b[s - 1]) at.push_back(s);
    }
    return at;
  };
  auto device_clock = train_tasks(*data, adaptive, 2);
  CHECK(changes(device_clock[0].batch_sizes) == std::vector<std::size_t>{3});     // device step 3
  CHECK(changes(device_clock[1].batch_sizes) == std::vector<std::size_t>{1, 4});  // device steps 6, 9
  adaptive.interval_clock = 1;  // task
  auto task_clock = train_tasks(*data, adaptive, 2);
  CHECK(changes(task_clock[1].batch_sizes) == std::vector<std::size_t>{3});
}

TEST_CASE("adaptive task: the learning rate follows the grown batch by the Task's scaling rule") {
  auto data = make_blobs({4, 8, 600, 1.0f, 1.5f, 9});
  REQUIRE(data.ok());
  AdaptiveBatchSettings adaptive{.theta = 0.5f, .eta = 0.6f, .batch_cap = 512, .test_interval = 2, .test = 1};
  const auto constant = train_tasks(*data, adaptive, 2);
  adaptive.lr_scaling = 2;  // linear
  adaptive.max_lr = 0.05f;  // capped at the Task's lr: the same steps as no scaling
  const auto capped = train_tasks(*data, adaptive, 2);
  adaptive.max_lr = 0.0f;
  const auto linear = train_tasks(*data, adaptive, 2);
  REQUIRE(constant[0].batch_sizes.back() > 4);
  CHECK(capped[1].delta == constant[1].delta);
  // Steps 1-2 run at batch 4 = b0 (lr unscaled), so the first test sees the same parameters.
  CHECK(linear[0].batch_sizes[2] == constant[0].batch_sizes[2]);
  CHECK(linear[1].delta != constant[1].delta);
}
