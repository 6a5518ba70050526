#include <doctest/doctest.h>

#include <map>
#include <set>
#include <thread>

#include "child_process.hpp"
#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "hand_client.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"
#include "edgefl/base/rng.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kRounds = 6;
constexpr uint32_t kDevices = 3;

std::vector<std::string> server_args(const std::string& endpoint, const std::string& state_dir, bool resume) {
  std::vector<std::string> args = {
      "--model", "mlp:16-32-4:relu", "--data", "blobs:16:4", "--eval-samples", "500",
      "--rounds", std::to_string(kRounds), "--round-min-devices", std::to_string(kDevices),
      "--round-deadline-s", "30", "--round-grace-s", "0", "--heartbeat-s", "0.2",
      "--train-optimizer", "sgd", "--train-learning-rate", "0.05", "--quiet",
      "--endpoint", endpoint, "--state-dir", state_dir};
  if (resume) args.push_back("--resume");
  return args;
}

struct KillRun {
  std::vector<float> params;
  uint32_t kills = 0;
  std::vector<JsonFields> metrics;
  std::map<uint64_t, std::set<uint64_t>> acked;  // round -> update ids the devices saw acknowledged
};

// Runs an edgefl-server process with kDevices in-process devices; kills it with SIGKILL
// `kills` times, each after a seeded number of acknowledgements plus a seeded delay, and
// restarts it with --resume on the same port.
KillRun run(uint32_t kills, uint64_t seed) {
  TempDir dir;
  const std::string state = dir.file("server");
  const std::string log = dir.file("server.log");
  auto server = std::make_unique<ChildProcess>(EDGEFL_SERVER_BINARY, server_args("tcp://127.0.0.1:*", state, false), log);
  const std::string endpoint = server->wait_endpoint(20s);
  REQUIRE_MESSAGE(!endpoint.empty(), "edgefl-server did not start; see ", log);

  std::vector<std::unique_ptr<LinkTap>> taps;
  for (uint32_t i = 0; i < kDevices; ++i) taps.push_back(std::make_unique<LinkTap>());
  sim::SimulationOptions options = blobs_cluster(dir.path(), kDevices, kRounds);
  options.external_endpoint = endpoint;
  options.wrap = [&taps](uint32_t index, std::unique_ptr<DeviceChannel> link) { return taps[index]->wrap(std::move(link)); };
  auto devices = sim::Simulation::start(options);
  REQUIRE(devices.ok());
  auto acks = [&] {
    uint64_t total = 0;
    for (const auto& tap : taps) total += tap->received(MessageType::ack);
    return total;
  };

  KillRun result;
  Rng rng(seed, 3);
  for (uint32_t k = 0; k < kills; ++k) {
    // A point in a round: after 1..4 more acknowledgements (the 3rd closes a round), then 0-29 ms.
    const uint64_t target = acks() + 1 + rng.below(4);
    if (!wait_until([&] { return acks() >= target || !server->running(); }, 30s) || !server->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng.below(30)));
    if (!server->running()) break;
    server->kill();
    ++result.kills;
    server = std::make_unique<ChildProcess>(EDGEFL_SERVER_BINARY, server_args(endpoint, state, true), log);
  }
  const int exit_code = server->wait(60s);
  REQUIRE_MESSAGE(exit_code == 0, "edgefl-server exit ", exit_code, "; see ", log);
  result.params = read_checkpoint_params(state + "/checkpoint.bin");
  result.metrics = read_json_lines(state + "/metrics.jsonl");
  for (const auto& tap : taps) {
    for (const Bytes& bytes : tap->received_messages(MessageType::ack)) {
      std::optional<Ack> ack = decode_as<Ack>(bytes);
      REQUIRE(ack.has_value());
      result.acked[ack->round].insert(ack->update_id);
    }
  }
  return result;
}

}  // namespace

TEST_CASE("e2e fault: edgefl-server SIGKILLed at seeded points and resumed: every update applied once") {
  KillRun clean = run(0, 1);
  REQUIRE(clean.params.size() > 0);
  REQUIRE(clean.metrics.size() == kRounds);
  for (uint64_t seed : {11u, 12u}) {
    CAPTURE(seed);
    KillRun killed = run(4, seed);
    CHECK(killed.kills >= 2);
    // Every round closed once, with all three updates, and one metrics line each (written
    // before the checkpoint; a line of a round the crash undid is dropped on resume).
    std::set<int64_t> rounds;
    for (const JsonFields& line : killed.metrics) {
      auto round = json_int(line, "round");
      auto answered = json_int(line, "answered");
      REQUIRE((round && answered));
      CHECK(rounds.insert(*round).second);
      CHECK(*answered == kDevices);
    }
    CHECK(rounds.size() == kRounds);
    // Each round's acknowledged updates are the devices' (update id = round), and the final
    // model is bit-identical to the uninterrupted run's: nothing lost, nothing twice.
    CHECK(killed.acked.size() == kRounds);
    for (const auto& [round, ids] : killed.acked) CHECK(ids == std::set<uint64_t>{round});
    CHECK(same_bytes(killed.params, clean.params));
  }
}
