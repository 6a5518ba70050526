// TrainingWorker refuses what it cannot train with a Status, on its own thread, instead of
// ending the process.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "edgefl/proto/proto.hpp"
#include "edgefl/data/synthetic.hpp"
#include "training_worker.hpp"
#include "wait_until.hpp"

using namespace edgefl;

TEST_CASE("training worker: a message that is not a Task gives invalid_argument, not a crash") {
  Result<Dataset> data = make_blobs({.classes = 4, .dim = 16, .samples = 100, .seed = 1});
  REQUIRE(data.ok());
  device::LocalTrainingOptions options;
  options.data = &*data;
  auto trainer = device::LocalTaskTrainer::create(options);
  REQUIRE(trainer.ok());
  auto worker = device::TrainingWorker::create(std::move(*trainer));
  REQUIRE(worker.ok());
  Result<std::vector<uint8_t>> heartbeat = encode_message(Heartbeat{.sequence = 1});
  REQUIRE(heartbeat.ok());
  REQUIRE((*worker)->submit(7, std::move(*heartbeat)).ok());

  std::optional<device::TrainingResult> result;
  REQUIRE(testing::wait_until([&] { return (result = (*worker)->take_result()).has_value(); },
                              std::chrono::seconds(10)));
  CHECK(result->task_id == 7);
  CHECK(result->status.code() == StatusCode::invalid_argument);
  CHECK(result->status.message().find("not a Task") != std::string::npos);
}

TEST_CASE("training worker: labels beyond the classifier's outputs are refused, not read past") {
  // Five classes of labels; the task's model has three outputs (softmax over three logits).
  Result<Dataset> data = make_blobs({.classes = 5, .dim = 16, .samples = 100, .seed = 1});
  REQUIRE(data.ok());
  device::LocalTrainingOptions options;
  options.data = &*data;
  auto trainer = device::LocalTaskTrainer::create(options);
  REQUIRE(trainer.ok());
  auto worker = device::TrainingWorker::create(std::move(*trainer));
  REQUIRE(worker.ok());
  Result<ModelSpec> spec = ModelSpec::parse("mlp:16-3");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count(), 0.0f);
  Task task;
  task.task_id = 8;
  task.model_spec = "mlp:16-3";
  task.params = TensorView{.parameter_count = static_cast<uint32_t>(params.size()), .f32 = params};
  Result<std::vector<uint8_t>> encoded = encode_message(task);
  REQUIRE(encoded.ok());
  REQUIRE((*worker)->submit(8, std::move(*encoded)).ok());

  std::optional<device::TrainingResult> result;
  REQUIRE(testing::wait_until([&] { return (result = (*worker)->take_result()).has_value(); },
                              std::chrono::seconds(10)));
  CHECK(result->status.code() == StatusCode::shape_mismatch);
  CHECK(result->status.message().find("5 classes") != std::string::npos);
  CHECK(result->status.message().find("the model has 3 outputs") != std::string::npos);
}
