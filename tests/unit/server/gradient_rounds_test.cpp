// Gradient rounds (strategy ddp, the PALSGD warm-up) and the round mean's weighting, driven
// message by message over in-memory channels (memory_device.hpp). Values are hand-computed on
// the 4 parameters of linear:4-1.
#include <doctest/doctest.h>

#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

const std::vector<float> kFirst{1.0f, 2.0f, 3.0f, 4.0f};
const std::vector<float> kSecond{4.0f, -1.0f, 0.0f, 1.0f};
// uniform mean (kFirst + kSecond) / 2; sample-weighted (100 kFirst + 50 kSecond) / 150:
const std::vector<float> kUniform{2.5f, 0.5f, 1.5f, 2.5f};
const std::vector<float> kWeighted{2.0f, 1.0f, 2.0f, 3.0f};

struct Pair {
  MemoryServer server;
  std::unique_ptr<MemoryDevice> a, b;

  void start(server::ServerConfig config) {
    config.min_devices = 2;
    REQUIRE(server.start(config).ok());
    if (!a) {
      a = std::make_unique<MemoryDevice>(server.net, "dev-a");
      b = std::make_unique<MemoryDevice>(server.net, "dev-b");
    }
    a->join();
    b->join();
    server.deliver();
  }
  std::vector<float> global() const {
    std::span<const float> g = server.coordinator->global();
    return {g.begin(), g.end()};
  }
  // Both devices answer the open round (a with 100 samples, b with 50).
  void answer(const std::vector<float>& from_a, const std::vector<float>& from_b) {
    a->answer(a->tasks().at(0), from_a, 100);
    b->answer(b->tasks().at(0), from_b, 50);
    server.deliver();
  }
};

void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
}

std::vector<float> minus(const std::vector<float>& x, float scale, const std::vector<float>& step) {
  std::vector<float> out(x);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] -= scale * step[i];
  return out;
}

server::ServerConfig ddp_config() {
  server::ServerConfig config = MemoryServer::config("ddp");
  config.train.optimizer = OptimizerKind::sgd;
  config.train.learning_rate = 0.5f;
  config.rounds = 10;
  return config;
}

TEST_CASE("ddp: each round is one gradient step at its global index, and the uniform mean goes through the inner optimizer") {
  Pair pair;
  pair.start(ddp_config());
  const std::vector<float> x0 = pair.global();
  std::vector<Task> tasks = pair.a->tasks();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].config.gradient_only);
  CHECK(tasks[0].config.local_steps == 1);
  CHECK(tasks[0].config.start_step == 0);
  CHECK(tasks[0].config.keep_optimizer_state);
  pair.a->answer(tasks[0], kFirst, 100);
  pair.b->answer(pair.b->tasks().at(0), kSecond, 50);
  pair.server.deliver();
  REQUIRE(pair.server.coordinator->rounds_closed() == 1);
  check_close(pair.global(), minus(x0, 0.5f, kUniform));  // sample-weighted would step by kWeighted

  std::vector<Task> next = pair.a->tasks();
  REQUIRE(next.size() == 1);
  CHECK(next[0].config.gradient_only);
  CHECK(next[0].config.start_step == 1);
}

TEST_CASE("ddp: the gradient step follows the inner lr schedule of the round's global step") {
  server::ServerConfig config = ddp_config();
  config.train.lr_schedule = LrScheduleKind::linear_warmup;
  config.train.lr_warmup_steps = 4;
  Pair pair;
  pair.start(config);
  const std::vector<float> x0 = pair.global();
  pair.answer(kFirst, kSecond);
  check_close(pair.global(), minus(x0, 0.5f * 1 / 4, kUniform));  // step 0: lr * 1/4
}

TEST_CASE("ddp: a crash mid-step replays the logged gradient once, and the optimizer state survives a restart") {
  server::ServerConfig config = ddp_config();
  config.train.optimizer = OptimizerKind::momentum;
  config.train.momentum = 0.5f;
  Pair pair;
  pair.start(config);
  const std::vector<float> x0 = pair.global();
  pair.answer(kFirst, kSecond);  // v1 = g, x1 = x0 - lr g
  const std::vector<float> x1 = pair.global();
  check_close(x1, minus(x0, 0.5f, kUniform));

  // Round 2: only a's gradient is logged before the crash.
  pair.a->answer(pair.a->tasks().at(0), kFirst, 100);
  (void)pair.b->tasks();
  pair.server.deliver();
  pair.server.coordinator.reset();
  config.resume = true;
  pair.start(config);
  CHECK(pair.server.coordinator->rounds_closed() == 1);
  CHECK(pair.server.coordinator->recovery().records == 1);
  std::vector<Task> again = pair.b->tasks();
  REQUIRE_FALSE(again.empty());
  CHECK(again.back().config.start_step == 1);
  (void)pair.a->tasks();
  pair.b->answer(again.back(), kSecond, 50);
  pair.server.deliver();
  REQUIRE(pair.server.coordinator->rounds_closed() == 2);
  // v2 = 0.5 v1 + g = 1.5 g; x2 = x1 - 0.5 * 1.5 g (a lost momentum buffer would give 0.5 g).
  check_close(pair.global(), minus(x1, 0.75f, kUniform));
}

TEST_CASE("palsgd warm-up: gradient rounds up to T_w, then H-step rounds from global step T_w with the outer step") {
  server::ServerConfig config = MemoryServer::config("nesterov");
  config.train.optimizer = OptimizerKind::momentum;
  config.train.momentum = 0.5f;
  config.train.learning_rate = 0.1f;
  config.strategy.server_lr = 1.0f;
  config.strategy.momentum = 0.5f;
  config.palsgd.p = 0.2f;
  config.palsgd.rho = 1.0f;
  config.palsgd.h = 5;
  config.palsgd.warmup_steps = 2;
  config.rounds = 10;
  Pair pair;
  pair.start(config);
  const std::vector<float> x0 = pair.global();
  for (uint64_t step = 0; step < 2; ++step) {
    std::vector<Task> tasks = pair.a->tasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].config.gradient_only);
    CHECK(tasks[0].config.start_step == step);
    pair.a->answer(tasks[0], kFirst, 100);
    pair.b->answer(pair.b->tasks().at(0), kSecond, 50);
    pair.server.deliver();
  }
  // Two momentum steps (lr 0.1, mu 0.5) on the same mean g: v1 = g, v2 = 1.5 g; x2 = x0 - 0.25 g.
  const std::vector<float> x2 = minus(x0, 0.25f, kUniform);
  check_close(pair.global(), x2);

  std::vector<Task> palsgd = pair.a->tasks();
  REQUIRE(palsgd.size() == 1);
  CHECK_FALSE(palsgd[0].config.gradient_only);
  CHECK(palsgd[0].config.start_step == 2);
  REQUIRE(palsgd[0].config.palsgd.has_value());
  CHECK(palsgd[0].config.palsgd->h == 5);
  CHECK(palsgd[0].config.palsgd->warmup_steps == 2);
  // The first PALSGD task hands over the warm-up's optimizer state: the momentum buffer 1.5 g.
  CHECK(palsgd[0].optimizer_steps == 2);
  REQUIRE(palsgd[0].optimizer_state.parameter_count == 4);
  check_close(pair.a->optimizer_state(), minus(std::vector<float>(4, 0.0f), -1.5f, kUniform));
  pair.a->answer(palsgd[0], kFirst, 100);
  pair.b->answer(pair.b->tasks().at(0), kSecond, 50);
  pair.server.deliver();
  // Nesterov on the uniform mean delta d: v = -d, x -= 1 * (-d + 0.5 (-d)) = x + 1.5 d.
  check_close(pair.global(), minus(x2, -1.5f, kUniform));
  std::vector<Task> later = pair.a->tasks();
  REQUIRE(later.size() == 1);
  CHECK(later[0].config.start_step == 7);
  CHECK(later[0].optimizer_state.parameter_count == 0);  // devices keep their own state from here
}

TEST_CASE("weighting: fedavg weighs by samples unless told uniform, nesterov is uniform by default") {
  for (const char* weighting : {"auto", "uniform"}) {
    server::ServerConfig config = MemoryServer::config("fedavg");
    config.strategy.weighting = weighting;
    Pair pair;
    pair.start(config);
    const std::vector<float> x0 = pair.global();
    pair.answer(kFirst, kSecond);
    const bool uniform = std::string(weighting) == "uniform";
    check_close(pair.global(), minus(x0, -1.0f, uniform ? kUniform : kWeighted));
    CHECK_FALSE(pair.a->tasks().at(0).config.keep_optimizer_state);
  }
  server::ServerConfig config = MemoryServer::config("nesterov");
  config.strategy.momentum = 0.0f;
  Pair pair;
  pair.start(config);
  const std::vector<float> x0 = pair.global();
  pair.answer(kFirst, kSecond);
  check_close(pair.global(), minus(x0, -1.0f, kUniform));
  CHECK(pair.a->tasks().at(0).config.keep_optimizer_state);

  config.strategy.weighting = "mean";
  MemoryServer refused;
  Status bad = refused.start(config);
  CHECK(bad.code() == StatusCode::invalid_argument);
  CHECK(bad.to_string().find("strategy.weighting") != std::string::npos);
}

TEST_CASE("full batch: train.full_batch sends batch_size 0 (the whole shard), and refuses an adaptive batch") {
  server::ServerConfig config = MemoryServer::config("fedavg");
  config.train.batch_size = 16;
  config.train.full_batch = true;
  Pair pair;
  pair.start(config);
  CHECK(pair.a->tasks().at(0).config.batch_size == 0);

  server::ServerConfig sampled = MemoryServer::config("fedavg");
  sampled.train.batch_size = 16;
  Pair other;
  other.start(sampled);
  CHECK(other.a->tasks().at(0).config.batch_size == 16);

  config.adaptive_batch.test = BatchTest::norm;
  config.adaptive_batch.cap = 64;
  MemoryServer refused;
  Status bad = refused.start(config);
  CHECK(bad.code() == StatusCode::invalid_argument);
  CHECK(bad.to_string().find("train.full_batch") != std::string::npos);
}

}  // namespace
}  // namespace edgefl::testing
