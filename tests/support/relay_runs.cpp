#include "relay_runs.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <thread>

#include "child_process.hpp"
#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "edgefl/base/rng.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

namespace edgefl::testing {

using namespace std::chrono_literals;

std::vector<std::string> upstream_server_args(uint32_t rounds, uint32_t min_devices,
                                              const std::string& endpoint,
                                              const std::string& state_dir, bool resume) {
  std::vector<std::string> args = {"--model",
                                   "mlp:16-32-4:relu",
                                   "--data",
                                   "blobs:16:4",
                                   "--eval-samples",
                                   "500",
                                   "--rounds",
                                   std::to_string(rounds),
                                   "--round-min-devices",
                                   std::to_string(min_devices),
                                   "--round-deadline-s",
                                   "30",
                                   "--round-grace-s",
                                   "0",
                                   "--heartbeat-s",
                                   "0.2",
                                   "--train-optimizer",
                                   "sgd",
                                   "--train-learning-rate",
                                   "0.05",
                                   "--quiet",
                                   "--endpoint",
                                   endpoint,
                                   "--state-dir",
                                   state_dir};
  if (resume) args.push_back("--resume");
  return args;
}

std::vector<std::string> relay_server_args(const std::string& upstream, const std::string& id,
                                           uint32_t devices, const std::string& endpoint,
                                           const std::string& state_dir, bool resume) {
  std::vector<std::string> args = {"--upstream",
                                   upstream,
                                   "--upstream-id",
                                   id,
                                   "--model",
                                   "mlp:16-32-4:relu",
                                   "--round-min-devices",
                                   std::to_string(devices),
                                   "--round-deadline-s",
                                   "30",
                                   "--round-grace-s",
                                   "0",
                                   "--heartbeat-s",
                                   "0.2",
                                   "--upstream-give-up-s",
                                   "3",
                                   "--quiet",
                                   "--endpoint",
                                   endpoint,
                                   "--state-dir",
                                   state_dir};
  if (resume) args.push_back("--resume");
  return args;
}

namespace {

// In-process devices [first, end) of `total` (the same ids, data and seeds in every layout),
// linked to `endpoint`; their acknowledgements are counted.
struct DeviceSlice {
  std::vector<std::unique_ptr<LinkTap>> taps;
  std::unique_ptr<sim::Simulation> simulation;

  uint64_t acks() const {
    uint64_t total = 0;
    for (const auto& tap : taps) total += tap->received(MessageType::ack);
    return total;
  }
};

// staggered: the devices of a slice answer some tens of milliseconds apart (slowed boards), so
// seeded kill points land inside rounds, not only between them. Timing only: the models match.
std::unique_ptr<DeviceSlice> start_devices(const std::string& root, uint32_t total, uint32_t first,
                                           uint32_t end, uint32_t rounds,
                                           const std::string& endpoint, bool staggered) {
  auto slice = std::make_unique<DeviceSlice>();
  for (uint32_t i = first; i < end; ++i) slice->taps.push_back(std::make_unique<LinkTap>());
  sim::SimulationOptions options = blobs_cluster(root, total, rounds);
  options.external_endpoint = endpoint;
  options.first_device = first;
  options.end_device = end;
  if (staggered) {
    options.configure_device = [](uint32_t index, device::DeviceConfig& config) {
      config.slowdown = 1 + 150 * (index % 3);
    };
  }
  options.wrap = [s = slice.get(), first](uint32_t index, std::unique_ptr<DeviceChannel> link) {
    return s->taps[index - first]->wrap(std::move(link));
  };
  Result<std::unique_ptr<sim::Simulation>> started = sim::Simulation::start(options);
  REQUIRE_MESSAGE(started.ok(), started.status().to_string());
  slice->simulation = std::move(*started);
  return slice;
}

std::unique_ptr<ChildProcess> start_server(const std::vector<std::string>& args,
                                           const std::string& log, std::string* endpoint) {
  auto process = std::make_unique<ChildProcess>(EDGEFL_SERVER_BINARY, args, log);
  if (endpoint != nullptr && endpoint->find('*') != std::string::npos) {
    *endpoint = process->wait_endpoint(20s);
    REQUIRE_MESSAGE(!endpoint->empty(), "edgefl-server did not start; see ", log);
  }
  return process;
}

}  // namespace

RelayRun run_flat(uint32_t devices, uint32_t rounds) {
  TempDir dir;
  const std::string state = dir.file("upstream");
  std::string endpoint = "tcp://127.0.0.1:*";
  auto server = start_server(upstream_server_args(rounds, devices, endpoint, state, false),
                             dir.file("upstream.log"), &endpoint);
  auto slice = start_devices(dir.path(), devices, 0, devices, rounds, endpoint, false);
  const int exit_code = server->wait(60s);
  REQUIRE_MESSAGE(exit_code == 0, "edgefl-server exit ", exit_code, "; see ", server->log_path());
  RelayRun run;
  run.params = read_checkpoint_params(state + "/checkpoint.bin");
  run.upstream_metrics = read_json_lines(state + "/metrics.jsonl");
  return run;
}

RelayRun run_tiered(const TierPlan& plan) {
  TempDir dir;
  const uint32_t devices = plan.relays * plan.devices_per_relay;
  const std::string upstream_state = dir.file("upstream");
  std::string upstream_endpoint = "tcp://127.0.0.1:*";
  auto upstream = start_server(
      upstream_server_args(plan.rounds, plan.relays, upstream_endpoint, upstream_state, false),
      dir.file("upstream.log"), &upstream_endpoint);
  std::vector<std::unique_ptr<ChildProcess>> relays;
  std::vector<std::string> relay_endpoints, relay_states;
  std::vector<std::unique_ptr<DeviceSlice>> slices;
  for (uint32_t r = 0; r < plan.relays; ++r) {
    std::string endpoint = "tcp://127.0.0.1:*";
    relay_states.push_back(dir.file("relay-" + std::to_string(r)));
    relays.push_back(start_server(
        relay_server_args(upstream_endpoint, "relay-" + std::to_string(r), plan.devices_per_relay,
                          endpoint, relay_states.back(), false),
        dir.file("relay-" + std::to_string(r) + ".log"), &endpoint));
    relay_endpoints.push_back(endpoint);
    slices.push_back(start_devices(dir.file("devices-" + std::to_string(r)), devices,
                                   r * plan.devices_per_relay, (r + 1) * plan.devices_per_relay,
                                   plan.rounds, endpoint,
                                   plan.victim != Victim::none || plan.staggered));
  }

  RelayRun run;
  Rng rng(plan.seed, 7);
  const DeviceSlice& watched = *slices[0];
  for (uint32_t k = 0; k < plan.kills && plan.victim != Victim::none; ++k) {
    ChildProcess& victim = plan.victim == Victim::relay ? *relays[0] : *upstream;
    // A point in a round: after 1..4 more acknowledgements to the first relay's devices (the
    // third closes its round), then 0-49 ms.
    const uint64_t target = watched.acks() + 1 + rng.below(4);
    if (!wait_until([&] { return watched.acks() >= target || !victim.running(); }, 30s) ||
        !victim.running())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng.below(50)));
    if (!victim.running()) break;
    victim.kill();
    ++run.kills;
    if (plan.victim == Victim::relay) {
      relays[0] =
          start_server(relay_server_args(upstream_endpoint, "relay-0", plan.devices_per_relay,
                                         relay_endpoints[0], relay_states[0], true),
                       dir.file("relay-0.log"), nullptr);
    } else {
      upstream = start_server(
          upstream_server_args(plan.rounds, plan.relays, upstream_endpoint, upstream_state, true),
          dir.file("upstream.log"), nullptr);
    }
  }
  const int exit_code = upstream->wait(60s);
  REQUIRE_MESSAGE(exit_code == 0, "upstream edgefl-server exit ", exit_code, "; see ",
                  upstream->log_path());
  for (auto& relay : relays) {
    // The upstream's last Bye can be lost as it exits; a relay then gives up on it (exit 1).
    const int relay_exit = relay->wait(30s);
    const bool gave_up =
        relay_exit == 1 && relay->log_text().find("giving up") != std::string::npos;
    CHECK_MESSAGE((relay_exit == 0 || gave_up), "relay exit ", relay_exit, "; see ",
                  relay->log_path());
  }
  run.params = read_checkpoint_params(upstream_state + "/checkpoint.bin");
  run.upstream_metrics = read_json_lines(upstream_state + "/metrics.jsonl");
  for (const std::string& state : relay_states)
    run.relay_metrics.push_back(read_json_lines(state + "/metrics.jsonl"));
  return run;
}

}  // namespace edgefl::testing
