// Frozen layers on the server: Tasks name the trainable layers, updates carry the trainable
// parameters only, and the merge changes those alone. Driven over in-memory channels
// (memory_device.hpp) on mlp:3-2-2 (body dense 3->2, 8 parameters; head dense 2->2, 6).
#include <doctest/doctest.h>

#include <cstring>

#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

constexpr std::size_t kBody = 8;
const std::vector<float> kHeadA{0.5f, -1.0f, 0.25f, 2.0f, -0.125f, 1.0f};
const std::vector<float> kHeadB{-0.5f, 3.0f, 1.25f, 0.0f, 0.375f, -2.0f};

server::ServerConfig config(const std::string& trainable) {
  server::ServerConfig c = MemoryServer::config("fedavg");
  c.model = "mlp:3-2-2:relu";
  c.min_devices = 2;
  c.train.trainable_layers = trainable;
  return c;
}

struct Run {
  MemoryServer server;
  std::unique_ptr<MemoryDevice> a, b;

  explicit Run(const server::ServerConfig& c) {
    REQUIRE(server.start(c).ok());
    a = std::make_unique<MemoryDevice>(server.net, "dev-a");
    b = std::make_unique<MemoryDevice>(server.net, "dev-b");
    a->join();
    b->join();
    server.deliver();
  }
  std::vector<float> global() const {
    std::span<const float> g = server.coordinator->global();
    return {g.begin(), g.end()};
  }
};

std::vector<float> with_zero_body(const std::vector<float>& head) {
  std::vector<float> full(kBody, 0.0f);
  full.insert(full.end(), head.begin(), head.end());
  return full;
}

bool same_bits(std::span<const float> x, std::span<const float> y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE(
    "frozen layers: head-only updates merge into the head alone, as full updates with a zero body "
    "would") {
  Run frozen(config("last:1")), full(config("all"));
  const std::vector<float> x0 = frozen.global();
  REQUIRE(same_bits(x0, full.global()));  // same model and seed
  const Task task_a = frozen.a->tasks().at(0), task_b = frozen.b->tasks().at(0);
  CHECK(task_a.trainable_layers == std::vector<uint32_t>{2});
  const Task full_a = full.a->tasks().at(0), full_b = full.b->tasks().at(0);
  CHECK(full_a.trainable_layers.empty());

  frozen.a->answer(task_a, kHeadA, 100);
  frozen.b->answer(task_b, kHeadB, 50);
  frozen.server.deliver();
  REQUIRE(frozen.server.coordinator->rounds_closed() == 1);
  full.a->answer(full_a, with_zero_body(kHeadA), 100);
  full.b->answer(full_b, with_zero_body(kHeadB), 50);
  full.server.deliver();
  REQUIRE(full.server.coordinator->rounds_closed() == 1);

  const std::vector<float> merged = frozen.global();
  CHECK(same_bits(std::span(merged).first(kBody), std::span(x0).first(kBody)));  // the body stays
  CHECK(same_bits(merged, full.global()));
  for (std::size_t i = 0; i < kHeadA.size(); ++i) {  // sample-weighted mean of the heads
    CHECK(merged[kBody + i] ==
          doctest::Approx(x0[kBody + i] + (100 * kHeadA[i] + 50 * kHeadB[i]) / 150).epsilon(1e-6));
  }
}

TEST_CASE(
    "frozen layers: an update of the whole model when only the head trains is refused as "
    "shape_mismatch") {
  Run frozen(config("last:1"));
  const Task task = frozen.a->tasks().at(0);
  frozen.a->answer(task, with_zero_body(kHeadA), 100);
  frozen.server.deliver();
  const std::vector<Reject> rejects = frozen.a->take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::shape_mismatch);
  CHECK(rejects[0].message.find("6 trainable parameters") != std::string::npos);
}

TEST_CASE(
    "frozen layers: a setting the model cannot take, or gradient rounds, are refused at start") {
  MemoryServer server;
  CHECK(server.start(config("1")).code() == StatusCode::invalid_argument);  // relu: no parameters
  CHECK(server.start(config("last:3")).code() == StatusCode::invalid_argument);
  server::ServerConfig ddp = config("last:1");
  ddp.strategy.name = "ddp";
  CHECK(server.start(ddp).code() == StatusCode::invalid_argument);
}

TEST_CASE("a fresh run starts from the initial model it is given, and refuses one of another size") {
  // A pretrained body with a zero head, as a fine-tuning run starts.
  std::vector<float> pretrained = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0};
  MemoryServer server;
  REQUIRE(server.start(config("last:1"), pretrained).ok());
  std::span<const float> global = server.coordinator->global();
  CHECK(std::vector<float>(global.begin(), global.end()) == pretrained);

  MemoryServer wrong;
  pretrained.pop_back();
  Status refused = wrong.start(config("last:1"), pretrained);
  CHECK(refused.code() == StatusCode::shape_mismatch);
  CHECK(refused.to_string().find("13 initial weights for a model of 14 parameters") != std::string::npos);
}

}  // namespace edgefl::testing
