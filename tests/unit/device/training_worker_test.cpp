// TrainingWorker refuses what it cannot train with a Status, on its own thread, instead of
// ending the process.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>

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
