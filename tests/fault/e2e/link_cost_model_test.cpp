// The cost model (server/sim/cost_model.hpp) against a measured run: devices train over links
// that add latency, a bandwidth limit and seeded jitter to every message (FaultPlan::link), and
// the rounds' measured wall time is compared with what SimulatedClock predicts from the same
// message sizes and a measured step time.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>

#include "cost_model.hpp"
#include "e2e_configs.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/train/trainer.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

// Records the largest message each way: the Update up and the Task down dwarf the rest.
class SizeRecorder final : public DeviceChannel {
 public:
  SizeRecorder(std::unique_ptr<DeviceChannel> inner, std::atomic<std::size_t>& up, std::atomic<std::size_t>& down)
      : inner_(std::move(inner)), up_(up), down_(down) {}
  Status send(ByteView message) override {
    raise(up_, message.size());
    return inner_->send(message);
  }
  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override {
    auto got = inner_->receive(timeout);
    if (got.ok() && got->has_value()) raise(down_, (*got)->size());
    return got;
  }
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override { return inner_->poll_events(wait); }

 private:
  static void raise(std::atomic<std::size_t>& at, std::size_t size) {
    std::size_t seen = at.load();
    while (size > seen && !at.compare_exchange_weak(seen, size)) {
    }
  }
  std::unique_ptr<DeviceChannel> inner_;
  std::atomic<std::size_t>& up_;
  std::atomic<std::size_t>& down_;
};

// Seconds per local step of `steps` steps at `batch` on the blobs problem, as devices run them.
double measured_step_s(const server::ServerConfig& server, std::size_t batch) {
  auto spec = ModelSpec::parse(server.model).value();
  auto ctx = ComputeContext::create(Backend::xnnpack, 1).value();
  auto data = make_blobs({4, 16, 2000, 1.0f, 1.0f, 3}).value();
  auto trainer = LocalTrainer::create(spec, *ctx, {batch, true}).value();
  FloatBuffer params = Model::create(spec, 1).value().params().clone();
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::sgd, 0.05f};
  cfg.batch_size = batch;
  cfg.local_steps = 400;
  REQUIRE(trainer->train(params.span(), DatasetView(data), cfg).ok());  // warm
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(trainer->train(params.span(), DatasetView(data), cfg).ok());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 400.0;
}

}  // namespace

TEST_CASE("cost model: a run over simulated links takes the predicted wall time within 25%") {
  constexpr uint32_t kDevices = 2, kRounds = 5;
  constexpr std::size_t kBatch = 16, kSteps = 8;
  TempDir dir;
  sim::SimulationOptions options = blobs_cluster(dir.path(), kDevices, kRounds);
  options.server.train.batch_size = kBatch;
  options.server.train.local_steps = kSteps;
  // 100 ms latency + up to 40 ms jitter, 20 kB/s: a 2.8 kB model message takes ~0.26 s each way,
  // far more than the 8 local steps (well under a millisecond): the link dominates the round.
  const LinkDelay link{.latency_s = 0.1, .bytes_per_s = 20e3, .jitter_s = 0.04};
  FaultPlan plan;
  plan.seed = 17;
  plan.on_send = false;
  plan.link = link;
  options.device_faults = plan;
  std::atomic<std::size_t> update_bytes{0}, task_bytes{0};
  options.wrap = [&](uint32_t, std::unique_ptr<DeviceChannel> channel) -> std::unique_ptr<DeviceChannel> {
    return std::make_unique<SizeRecorder>(std::move(channel), update_bytes, task_bytes);
  };
  auto simulation = sim::Simulation::start(options);
  REQUIRE_MESSAGE(simulation.ok(), simulation.status().to_string());
  Status end = (*simulation)->wait_server(60s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  double measured = 0;
  std::size_t rounds = 0;
  (*simulation)->inspect([&](const server::Coordinator& c) {
    for (const server::RoundMetrics& round : c.history()) measured += round.wall_s;
    rounds = c.history().size();
  });
  REQUIRE(rounds == kRounds);

  // Each round every device receives its Task, runs H steps and sends its Update; the mean
  // jitter (jitter_s / 2) counts as latency.
  sim::CostModel cost;
  cost.compute.step_s = measured_step_s(options.server, kBatch);
  cost.link = {.latency_s = link.latency_s + link.jitter_s / 2, .bytes_per_s = link.bytes_per_s};
  sim::SimulatedClock clock(cost, kDevices);
  for (uint32_t r = 0; r < kRounds; ++r) {
    for (uint32_t d = 0; d < kDevices; ++d) {
      clock.message(d, task_bytes.load());
      for (std::size_t s = 0; s < kSteps; ++s) clock.gradient_step(d, kBatch);
      clock.message(d, update_bytes.load());
    }
    clock.end_round();
  }
  const double predicted = clock.seconds();
  MESSAGE("task ", task_bytes.load(), " B, update ", update_bytes.load(), " B, step ", cost.compute.step_s * 1e6,
          " us; measured ", measured, " s, predicted ", predicted, " s, ratio ", measured / predicted);
  CHECK(task_bytes.load() > 2000);
  CHECK(update_bytes.load() > 2000);
  CHECK(std::fabs(measured / predicted - 1.0) <= 0.25);
}
