// The server starts from given weights (an ONNX graph's or a weights file's) and writes the
// global model every export.every_rounds rounds.
#include <doctest/doctest.h>

#include "memory_device.hpp"
#include "onnx_model.hpp"
#include "temp_dir.hpp"

namespace edgefl::testing {

TEST_CASE(
    "server export: initial weights are the first global model, and every round writes an ONNX "
    "file") {
  TempDir dir;
  server::ServerConfig c = MemoryServer::config("fedavg");
  c.model = "mlp:3-2-2:relu";
  c.min_devices = 1;
  c.initial_params = {0.5f, -0.5f, 0.25f, 1.0f,  2.0f,   -1.0f, 0.1f,
                      0.2f, 1.5f,  -2.5f, 0.75f, 0.125f, 0.3f,  -0.3f};
  c.tensor_names = {"body.weight", "body.bias", "head.weight", "head.bias"};
  c.export_model = {.every_rounds = 1, .format = "onnx", .dir = dir.path()};
  MemoryServer server;
  REQUIRE(server.start(c).ok());
  std::span<const float> start = server.coordinator->global();
  CHECK(std::vector<float>(start.begin(), start.end()) == c.initial_params);

  MemoryDevice device(server.net, "dev-a");
  device.join();
  server.deliver();
  const std::vector<float> delta(c.initial_params.size(), 0.5f);
  device.answer(device.tasks().at(0), delta, 10);
  server.deliver();
  REQUIRE(server.coordinator->rounds_closed() == 1);
  CHECK(server.log.empty());

  auto exported = onnx_io::read_onnx(dir.file("model-000001.onnx"));
  REQUIRE_MESSAGE(exported.ok(), exported.status().to_string());
  std::span<const float> global = server.coordinator->global();
  CHECK(exported->params == std::vector<float>(global.begin(), global.end()));
  CHECK(exported->params[0] == doctest::Approx(1.0f));  // 0.5 + the update's 0.5
  CHECK(exported->tensor_names == c.tensor_names);
}

}  // namespace edgefl::testing
