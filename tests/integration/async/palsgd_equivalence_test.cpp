// PALSGD through the real server: with p = 0 the devices run DiLoCo (inner AdamW, the task's
// sync interval H as local steps), and the outer Nesterov step with lr 1 and momentum 0 is
// exactly FedAvg's global += mean delta: v = 0·v + (−d) = −d and global −= 1·(−d + 0·v)
// round the same as global += 1·d in IEEE arithmetic. Devices are seeded per (run seed, round,
// device id) and ExactMean is order-independent, so both runs must agree bit for bit.
#include <doctest/doctest.h>

#include <cstring>

#include "cluster_fixture.hpp"
#include "serve_loop.hpp"
#include "temp_dir.hpp"

namespace edgefl::server {
namespace {

std::vector<float> run_sync(const ServerConfig& base, std::vector<RoundMetrics>* history = nullptr) {
  const testing::TempDir tmp;
  const std::string& dir = tmp.path();
  const uint32_t devices = 3;
  ServerConfig config = base;
  config.state_dir = dir + "/server";
  auto cluster = test::start_devices(dir, devices);
  auto coordinator = Coordinator::create(config, posix_file_system(), test::quiet_log);
  REQUIRE(coordinator.ok());
  REQUIRE_FALSE((*coordinator)->asynchronous());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  REQUIRE(serve(**coordinator, cluster->channel(), {.deadline = deadline}).ok());
  (void)cluster->finish(deadline, coordinator->get());
  for (const RoundMetrics& m : (*coordinator)->history()) REQUIRE(m.answered == devices);
  REQUIRE((*coordinator)->version() == config.rounds);
  if (history != nullptr) *history = (*coordinator)->history();
  std::span<const float> global = (*coordinator)->global();
  return std::vector<float>(global.begin(), global.end());
}

TEST_CASE("PALSGD with p = 0, outer lr 1 and momentum 0 equals FedAvg (Local SGD) bit for bit") {
  ServerConfig base = test::small_server("", 3);
  base.rounds = 4;
  base.train.optimizer = OptimizerKind::adamw;
  base.train.learning_rate = 0.01f;
  base.train.local_steps = 6;
  // Local SGD as the reference runs it: a uniform mean, inner AdamW state kept across rounds.
  base.strategy.weighting = "uniform";
  base.train.keep_optimizer_state = "true";

  ServerConfig fedavg = base;
  fedavg.strategy.name = "fedavg";
  fedavg.strategy.server_lr = 1.0f;

  ServerConfig palsgd = base;
  palsgd.strategy.name = "nesterov";
  palsgd.strategy.server_lr = 1.0f;
  palsgd.strategy.momentum = 0.0f;
  palsgd.palsgd.p = 0.0f;
  palsgd.palsgd.rho = 1.0f;
  palsgd.palsgd.h = 6;
  palsgd.train.local_steps = 0;  // H comes from palsgd.h in the Task

  std::vector<float> a = run_sync(fedavg);
  std::vector<float> b = run_sync(palsgd);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);

  // The check can fail: a real outer momentum moves the model elsewhere.
  ServerConfig diloco = palsgd;
  diloco.strategy.momentum = 0.9f;
  std::vector<float> c = run_sync(diloco);
  CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) != 0);
}

TEST_CASE("synchronous data-parallel steps through the star: ddp, and PALSGD's warm-up before its rounds") {
  ServerConfig ddp = test::small_server("", 3);
  ddp.rounds = 12;
  ddp.strategy.name = "ddp";
  ddp.train.optimizer = OptimizerKind::adamw;
  ddp.train.learning_rate = 0.01f;
  ddp.train.local_steps = 0;
  ddp.train.clip_norm = 1.0f;
  std::vector<RoundMetrics> history;
  run_sync(ddp, &history);  // every round answered by every device and applied (checked inside)
  INFO("accuracy after round 1: " << history.front().test_accuracy << ", after 12: " << history.back().test_accuracy);
  CHECK(history.back().test_accuracy > history.front().test_accuracy);

  ServerConfig palsgd = ddp;
  palsgd.rounds = 5;
  palsgd.strategy.name = "nesterov";
  palsgd.strategy.server_lr = 0.7f;
  palsgd.strategy.momentum = 0.9f;
  palsgd.palsgd.p = 0.2f;
  palsgd.palsgd.rho = 1.0f;
  palsgd.palsgd.h = 6;
  palsgd.palsgd.warmup_steps = 3;  // rounds 1-3: gradient rounds; 4-5: PALSGD rounds
  std::vector<float> after = run_sync(palsgd);
  CHECK(after.size() > 0);
}

}  // namespace
}  // namespace edgefl::server
