#include <doctest/doctest.h>

#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

struct RunResult {
  std::vector<float> global;
  std::vector<server::RoundMetrics> history;
};

RunResult run_blobs(uint32_t devices, uint32_t rounds) {
  TempDir dir;
  Result<std::unique_ptr<sim::Simulation>> simulation = sim::Simulation::start(blobs_cluster(dir.path(), devices, rounds));
  REQUIRE_MESSAGE(simulation.ok(), simulation.status().to_string());
  Status end = (*simulation)->wait_server(30s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  RunResult result;
  result.global = global_of(**simulation);
  (*simulation)->inspect([&](const server::Coordinator& c) { result.history = c.history(); });
  return result;
}

}  // namespace

TEST_CASE("e2e: 3 devices x 3 rounds on blobs: loss falls and two runs are bit-identical") {
  RunResult first = run_blobs(3, 3);
  REQUIRE(first.history.size() == 3);
  for (const server::RoundMetrics& round : first.history) {
    CHECK(round.answered == 3);
    CHECK(round.rejected == 0);
  }
  CHECK(first.history[2].test_loss < first.history[0].test_loss);
  CHECK(first.history[2].train_loss < first.history[0].train_loss);
  CHECK(first.history[2].test_accuracy > 0.5);

  RunResult second = run_blobs(3, 3);
  CHECK(same_bytes(first.global, second.global));
  for (std::size_t i = 0; i < 3; ++i) CHECK(first.history[i].test_loss == second.history[i].test_loss);
}
