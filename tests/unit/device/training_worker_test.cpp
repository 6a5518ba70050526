// TrainingWorker refuses what it cannot train with a Status, on its own thread, instead of
// ending the process; on a shared TrainingPool it trains in turn and cancels cleanly.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
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

namespace {

// Echoes the task bytes after waiting for `gate` (or a stop); counts the tasks it trained.
class GatedTrainer final : public device::TaskTrainer {
 public:
  GatedTrainer(std::atomic<bool>& gate, std::atomic<int>& trained)
      : gate_(&gate), trained_(&trained) {}
  inline static std::atomic<int> started{0};
  device::TrainingResult train(uint64_t task_id, std::vector<uint8_t> message,
                               device::StopSignal& stop) override {
    ++started;
    while (!gate_->load() && !stop.requested())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++*trained_;
    device::TrainingResult result;
    result.task_id = task_id;
    result.update_message = std::move(message);
    return result;
  }

 private:
  std::atomic<bool>* gate_;
  std::atomic<int>* trained_;
};

}  // namespace

TEST_CASE("training worker: many workers share a pool of one thread, in turn") {
  std::atomic<bool> gate{true};
  std::atomic<int> trained{0};
  device::TrainingPool pool(1);
  std::vector<std::unique_ptr<device::TrainingWorker>> workers;
  for (int i = 0; i < 5; ++i) {
    auto worker =
        device::TrainingWorker::create(std::make_unique<GatedTrainer>(gate, trained), &pool);
    REQUIRE(worker.ok());
    workers.push_back(std::move(*worker));
  }
  for (uint64_t i = 0; i < workers.size(); ++i) {
    REQUIRE(workers[i]->submit(i + 1, std::vector<uint8_t>{static_cast<uint8_t>(i)}).ok());
    CHECK(workers[i]->working_on() == i + 1);
    CHECK(workers[i]->submit(99, {}).code() == StatusCode::failed_precondition);  // busy
  }
  for (uint64_t i = 0; i < workers.size(); ++i) {
    std::optional<device::TrainingResult> result;
    REQUIRE(testing::wait_until([&] { return (result = workers[i]->take_result()).has_value(); },
                                std::chrono::seconds(10)));
    CHECK(result->task_id == i + 1);
    CHECK(result->update_message == std::vector<uint8_t>{static_cast<uint8_t>(i)});
    CHECK(workers[i]->working_on() == 0);
  }
  CHECK(trained.load() == 5);
}

TEST_CASE("training worker: a worker destroyed while its task waits in the pool never trains it") {
  std::atomic<bool> gate{false};
  std::atomic<int> trained{0};
  device::TrainingPool pool(1);
  auto busy = device::TrainingWorker::create(std::make_unique<GatedTrainer>(gate, trained), &pool);
  auto queued =
      device::TrainingWorker::create(std::make_unique<GatedTrainer>(gate, trained), &pool);
  REQUIRE(busy.ok());
  REQUIRE(queued.ok());
  REQUIRE((*busy)->submit(1, {}).ok());    // holds the pool's one thread until the gate opens
  REQUIRE((*queued)->submit(2, {}).ok());  // waits behind it
  queued->reset();                         // gone before its turn: the pool job finds nothing
  gate = true;
  std::optional<device::TrainingResult> result;
  REQUIRE(testing::wait_until([&] { return (result = (*busy)->take_result()).has_value(); },
                              std::chrono::seconds(10)));
  CHECK(result->task_id == 1);
  // Another job through the pool runs after the cancelled one: it was skipped, not stuck.
  REQUIRE((*busy)->submit(3, {}).ok());
  REQUIRE(testing::wait_until([&] { return (result = (*busy)->take_result()).has_value(); },
                              std::chrono::seconds(10)));
  CHECK(result->task_id == 3);
  CHECK(trained.load() == 2);
}

TEST_CASE(
    "training worker: destroying a worker stops its running task on the pool and waits for it") {
  std::atomic<bool> gate{false};  // never opened: only the stop ends the task
  std::atomic<int> trained{0};
  device::TrainingPool pool(2);
  auto worker =
      device::TrainingWorker::create(std::make_unique<GatedTrainer>(gate, trained), &pool);
  REQUIRE(worker.ok());
  const int started_before = GatedTrainer::started.load();
  REQUIRE((*worker)->submit(1, {}).ok());
  REQUIRE(testing::wait_until([&] { return GatedTrainer::started.load() == started_before + 1; },
                              std::chrono::seconds(10)));
  worker->reset();  // returns only once the stop ended the running task
  CHECK(trained.load() == 1);
}
