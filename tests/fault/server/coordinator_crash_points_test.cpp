// Crash-point sweep of the real Coordinator: a three-round FedAvg run over in-memory channels
// and FaultFileSystem "dies" at every mutating file-system operation in turn (power lost:
// unsynced data dropped, or torn), a new coordinator resumes from what survived, and the
// devices rejoin and resend every update not yet acknowledged. Every run must end with the
// bit-identical model of an undisturbed run, every update applied once, every round's metrics
// line written once.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "edgefl/base/rng.hpp"
#include "json_lines.hpp"
#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 3;
constexpr uint32_t kRounds = 3;

// A device that answers each Task with a delta fixed by (device, round) and keeps every
// update until it is acknowledged, as the real outbox does.
struct ScriptedDevice {
  std::unique_ptr<MemoryDevice> link;
  int index = 0;
  std::map<uint64_t, std::pair<Task, std::vector<float>>> outbox;  // update id -> what was sent
  std::set<uint64_t> answered_tasks;

  std::vector<float> delta(uint64_t round) const {
    std::vector<float> d(4);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = 0.01f * static_cast<float>((index + 1) * (i + 1)) / (round + 1);
    return d;
  }
  void resend_all() {
    for (auto& [id, sent] : outbox) link->answer(sent.first, sent.second);
  }
  void react(std::map<uint64_t, int>& acks_per_update) {
    for (const Task& task : link->tasks()) {
      if (!answered_tasks.insert(task.task_id).second) continue;  // a resent Task: already answered
      std::vector<float> d = delta(task.round);
      link->answer(task, d);
      outbox[task.task_id] = {task, d};
    }
    for (const Ack& ack : link->take<Ack>()) {
      outbox.erase(ack.update_id);
      // Accepted acks counted per update; a duplicate ack (the update was logged before a
      // crash took its first ack) only makes sure the update is known.
      int& accepted = acks_per_update[(uint64_t{static_cast<uint32_t>(index)} << 32) | ack.update_id];
      if (ack.status == AckStatus::accepted) ++accepted;
    }
    for (const Reject& reject : link->take<Reject>()) {
      if (reject.update_id) outbox.erase(*reject.update_id);
    }
    (void)link->take<Welcome>();
    (void)link->take<Heartbeat>();
  }
};

struct Outcome {
  std::vector<float> global;
  std::map<uint64_t, int> acks_per_update;  // update -> accepted acks (present once acked at all)
  int crashes = 0;
  uint64_t operations = 0;  // mutating file-system operations of the whole run
  std::vector<JsonFields> metrics;
};

server::ServerConfig sweep_config() {
  server::ServerConfig config = MemoryServer::config();
  config.rounds = kRounds;
  config.min_devices = kDevices;
  config.heartbeat_s = 1000;  // liveness never expires within the run
  return config;
}

// Runs the whole federation; `fail_at` > 0 makes that file-system operation (and all later
// ones) fail, after which power is lost and the server restarts with --resume.
Outcome run(uint64_t fail_at, Rng* torn) {
  ManualTimeSource clock;
  MemoryNetwork net(&clock);
  FaultFileSystem fs;
  if (fail_at > 0) fs.fail_from(fail_at);
  server::ServerConfig config = sweep_config();
  std::unique_ptr<server::Coordinator> coordinator;
  Outcome outcome;
  std::vector<ScriptedDevice> devices(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    devices[i].index = i;
    devices[i].link = std::make_unique<MemoryDevice>(net, "dev-" + std::to_string(i));
  }
  auto restart = [&]() -> bool {
    coordinator.reset();
    config.resume = outcome.crashes > 0;
    auto created = server::Coordinator::create(config, fs, [](const std::string&) {}, clock);
    if (!created && config.resume && created.status().code() == StatusCode::not_found) {
      // It died before anything was durable: there is nothing to resume, so start afresh.
      config.resume = false;
      created = server::Coordinator::create(config, fs, [](const std::string&) {}, clock);
    }
    if (!created) return false;
    coordinator = std::move(*created);
    for (ScriptedDevice& d : devices) {  // they notice the new server and rejoin
      d.link->reconnect();
      d.link->join();
    }
    return true;
  };
  auto crash = [&] {
    coordinator.reset();
    fs.crash(torn);
    ++outcome.crashes;
  };
  if (!restart()) crash();
  for (int step = 0; step < 20000 && !(coordinator && coordinator->finished()); ++step) {
    if (!coordinator) {
      REQUIRE(restart());
      for (ScriptedDevice& d : devices) d.resend_all();
    }
    if (!coordinator->poll(net.server(), 10ms).ok()) {
      crash();
      continue;
    }
    for (ScriptedDevice& d : devices) d.react(outcome.acks_per_update);
  }
  REQUIRE(coordinator);
  REQUIRE(coordinator->finished());
  // Devices whose last Ack was lost with the crashed server resend once more: the finished
  // server still acknowledges what it took.
  for (ScriptedDevice& d : devices) d.resend_all();
  coordinator->poll(net.server(), 10ms).ok();
  for (int i = 0; i < 3 * kDevices; ++i) REQUIRE(coordinator->poll(net.server(), 10ms).ok());
  for (ScriptedDevice& d : devices) {
    d.react(outcome.acks_per_update);
    CHECK_MESSAGE(d.outbox.empty(), "device " << d.index << " holds " << d.outbox.size() << " unacknowledged");
  }
  outcome.global.assign(coordinator->global().begin(), coordinator->global().end());
  Result<std::vector<std::byte>> lines = fs.contents("/state/metrics.jsonl");
  REQUIRE(lines.ok());
  const std::string text(reinterpret_cast<const char*>(lines->data()), lines->size());
  for (std::size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    std::optional<JsonFields> fields = parse_json_line(text.substr(begin, end - begin));
    REQUIRE(fields.has_value());
    outcome.metrics.push_back(*fields);
  }
  outcome.operations = fs.operation_count();
  return outcome;
}

void check_against(const Outcome& clean, const Outcome& crashed, uint64_t fail_at) {
  INFO("failing from file-system operation " << fail_at);
  CHECK(crashed.global == clean.global);  // bit-identical: ExactMean, each update once
  for (const auto& [update, accepted] : crashed.acks_per_update) CHECK(accepted <= 1);
  CHECK(crashed.acks_per_update.size() == std::size_t{kDevices} * kRounds);  // every update acked
  REQUIRE(crashed.metrics.size() == kRounds);  // one line per round, none lost or doubled
  for (uint32_t r = 0; r < kRounds; ++r) CHECK(json_int(crashed.metrics[r], "round") == r + 1);
}

TEST_CASE("coordinator crash points: power loss after any file-system operation resumes to the same model") {
  const Outcome clean = run(0, nullptr);
  REQUIRE(clean.crashes == 0);
  REQUIRE(clean.global.size() == 4);
  // Every mutating operation of a clean run is a crash point.
  REQUIRE(clean.operations > 20);
  for (uint64_t fail_at = 1; fail_at <= clean.operations; ++fail_at) {
    const Outcome crashed = run(fail_at, nullptr);
    CHECK(crashed.crashes >= 1);
    check_against(clean, crashed, fail_at);
  }
}

TEST_CASE("coordinator crash points: torn writes at any operation resume to the same model") {
  const Outcome clean = run(0, nullptr);
  Rng rng(20261204, 7);
  for (uint64_t fail_at = 1; fail_at <= clean.operations; ++fail_at) {
    const Outcome crashed = run(fail_at, &rng);
    check_against(clean, crashed, fail_at);
  }
}

}  // namespace
}  // namespace edgefl::testing
