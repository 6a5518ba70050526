// The synchronous schedule, driven message by message over in-memory channels with a manual
// clock: each case runs in milliseconds, without sockets, threads or sleeps.
#include <doctest/doctest.h>

#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1 has 4 parameters

struct Fleet {
  MemoryServer server;
  std::vector<std::unique_ptr<MemoryDevice>> devices;

  explicit Fleet(std::size_t n, server::ServerConfig config = MemoryServer::config()) {
    config.min_devices = static_cast<uint32_t>(n);
    REQUIRE(server.start(config).ok());
    for (std::size_t i = 0; i < n; ++i) {
      devices.push_back(std::make_unique<MemoryDevice>(server.net, "dev-" + std::to_string(i)));
      devices.back()->join();
    }
    server.deliver();  // joins handled, round 1 opened, tasks sent
  }
  MemoryDevice& operator[](std::size_t i) { return *devices[i]; }
  const std::vector<server::RoundMetrics>& history() { return server.coordinator->history(); }
};

TEST_CASE("round: every joined device is asked once and the round closes when all answered") {
  Fleet fleet(4);
  for (std::size_t i = 0; i < 4; ++i) {
    std::vector<Task> tasks = fleet[i].tasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].round == 1);
    fleet[i].answer(tasks[0], kDelta);
  }
  fleet.server.deliver();
  REQUIRE(fleet.history().size() == 1);
  const server::RoundMetrics& m = fleet.history()[0];
  CHECK(m.asked == 4);
  CHECK(m.answered == 4);
  CHECK(m.tasks_sent == 4);
  CHECK(m.tasks_resent == 0);
  CHECK(fleet.server.coordinator->version() == 1);
  CHECK(server::metrics_progress_line(m, 20).find("devices 4/4") != std::string::npos);
}

TEST_CASE("round: the poll that closes a round opens the next, without waiting for another message") {
  Fleet fleet(2);
  for (std::size_t i = 0; i < 2; ++i) fleet[i].answer(fleet[i].tasks().at(0), kDelta);
  const SteadyTime before = fleet.server.clock.now();
  REQUIRE(fleet.server.coordinator->poll(fleet.server.net.server(), 10ms).ok());
  REQUIRE(fleet.history().size() == 1);
  for (std::size_t i = 0; i < 2; ++i) {
    std::vector<Task> tasks = fleet[i].tasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].round == 2);
  }
  CHECK(fleet.server.clock.now() == before);  // no wait on an empty channel in between
}

TEST_CASE("round: closes at min_updates plus grace, not before") {
  server::ServerConfig config = MemoryServer::config();
  config.min_updates = 2;
  config.grace_s = 2;
  Fleet fleet(3, config);
  for (std::size_t i = 0; i < 2; ++i) fleet[i].answer(fleet[i].tasks().at(0), kDelta);
  fleet.server.run_for(1900ms);
  CHECK(fleet.history().empty());
  fleet.server.run_for(200ms);
  REQUIRE(fleet.history().size() == 1);
  CHECK(fleet.history()[0].answered == 2);
  CHECK(fleet.history()[0].asked == 3);
}

TEST_CASE("round: the deadline closes a round nobody answered, and the model stays") {
  server::ServerConfig config = MemoryServer::config();
  config.round_deadline_s = 5;
  Fleet fleet(2, config);
  fleet.server.run_for(4900ms);
  CHECK(fleet.history().empty());
  fleet.server.run_for(200ms);
  REQUIRE(fleet.history().size() == 1);
  CHECK(fleet.history()[0].answered == 0);
  CHECK(fleet.server.coordinator->version() == 0);
}

TEST_CASE("round: an update for a closed round is refused as stale and counted late") {
  server::ServerConfig config = MemoryServer::config();
  config.min_updates = 1;
  config.grace_s = 0;
  Fleet fleet(2, config);
  std::vector<Task> late = fleet[1].tasks();
  fleet[0].answer(fleet[0].tasks().at(0), kDelta);
  fleet.server.deliver();
  REQUIRE(fleet.history().size() == 1);
  fleet[1].answer(late.at(0), kDelta);
  fleet.server.deliver();
  std::vector<Reject> rejects = fleet[1].take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::stale);
  CHECK(rejects[0].update_id == late[0].task_id);
}

TEST_CASE("round: a device that rejoins under a new connection gets its task again, counted as a resend") {
  Fleet fleet(2);
  std::vector<Task> first = fleet[0].tasks();
  REQUIRE(first.size() == 1);
  fleet[0].cut();
  fleet[0].reconnect();
  fleet[0].join();
  fleet.server.deliver();
  std::vector<Task> again = fleet[0].tasks();
  REQUIRE(again.size() == 1);
  CHECK(again[0].task_id == first[0].task_id);
  fleet[0].answer(again[0], kDelta);
  fleet[1].answer(fleet[1].tasks().at(0), kDelta);
  fleet.server.deliver();
  REQUIRE(fleet.history().size() == 1);
  CHECK(fleet.history()[0].asked == 2);
  CHECK(fleet.history()[0].tasks_sent == 2);
  CHECK(fleet.history()[0].tasks_resent == 1);
}

TEST_CASE("round: a resent update is acknowledged as a duplicate of its own id and applied once") {
  server::ServerConfig config = MemoryServer::config();
  config.min_updates = 1;
  config.grace_s = 10;
  Fleet fleet(2, config);
  const std::span<const float> start = fleet.server.coordinator->global();
  const std::vector<float> before(start.begin(), start.end());
  Task task = fleet[0].tasks().at(0);
  fleet[0].answer(task, kDelta);
  fleet[0].answer(task, kDelta);
  fleet.server.deliver();
  std::vector<Ack> acks = fleet[0].take<Ack>();
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].status == AckStatus::accepted);
  CHECK(acks[1].status == AckStatus::duplicate);
  CHECK(acks[1].update_id == task.task_id);
  fleet.server.run_for(10s);
  REQUIRE(fleet.history().size() == 1);
  CHECK(fleet.history()[0].answered == 1);
  CHECK(fleet.history()[0].duplicates == 1);
  // FedAvg of one update of kDelta: the model moved by exactly kDelta, once.
  std::span<const float> global = fleet.server.coordinator->global();
  REQUIRE(global.size() == kDelta.size());
  for (std::size_t i = 0; i < kDelta.size(); ++i) CHECK(global[i] == doctest::Approx(before[i] + kDelta[i]));
}

TEST_CASE("round: a heartbeat naming the task it trains gets no resend, an idle asked device gets one") {
  Fleet fleet(2);
  Task task = fleet[0].tasks().at(0);
  for (int i = 0; i < 5; ++i) fleet[0].heartbeat(task.task_id);
  fleet.server.deliver();
  CHECK(fleet[0].tasks().empty());
  fleet.server.run_for(2s);  // resends are spaced by two heartbeat intervals
  fleet[0].heartbeat(0);     // idle: its Task was lost
  fleet.server.deliver();
  CHECK(fleet[0].tasks().size() == 1);
  fleet[0].answer(task, kDelta);
  fleet[1].answer(fleet[1].tasks().at(0), kDelta);
  fleet.server.deliver();
  REQUIRE(fleet.history().size() == 1);
  CHECK(fleet.history()[0].tasks_resent == 1);
}

TEST_CASE("round: a device heartbeating idle at full speed gets its task resent at most once per two intervals") {
  Fleet fleet(2);
  REQUIRE(fleet[0].tasks().size() == 1);
  // 200 idle heartbeats over 4 s: before the fix each one was answered with the whole Task.
  for (int i = 0; i < 200; ++i) {
    fleet[0].heartbeat(0);
    fleet.server.run_for(20ms);
  }
  const std::size_t resent = fleet[0].tasks().size();
  CHECK(resent >= 1);
  CHECK(resent <= 2);
}

TEST_CASE("round: an update claiming more samples than its device declared is refused and changes nothing") {
  server::ServerConfig config = MemoryServer::config();
  config.min_updates = 1;
  config.grace_s = 5;
  Fleet fleet(2, config);
  const std::vector<float> before(fleet.server.coordinator->global().begin(), fleet.server.coordinator->global().end());
  Task task = fleet[0].tasks().at(0);
  fleet[0].answer(task, kDelta, uint64_t{1} << 29);  // declared 100 at Join
  fleet.server.deliver();
  std::vector<Reject> rejects = fleet[0].take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::out_of_range);
  // The honest device's update alone makes the round: the model moves by its delta only.
  const std::vector<float> honest{0.01f, 0.02f, 0.03f, 0.04f};
  fleet[1].answer(fleet[1].tasks().at(0), honest);
  fleet.server.run_for(6s);
  REQUIRE(fleet.history().size() == 1);
  CHECK(fleet.history()[0].answered == 1);
  std::span<const float> global = fleet.server.coordinator->global();
  for (std::size_t i = 0; i < honest.size(); ++i) CHECK(global[i] == doctest::Approx(before[i] + honest[i]));
}

TEST_CASE("round: round.max_sample_weight caps what a device may declare") {
  server::ServerConfig config = MemoryServer::config();
  config.max_sample_weight = 50;
  Fleet fleet(2, config);
  fleet[0].answer(fleet[0].tasks().at(0), kDelta, 100);  // declared 100, cap 50
  fleet.server.deliver();
  std::vector<Reject> rejects = fleet[0].take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].message.find("max_sample_weight") != std::string::npos);
}

TEST_CASE("join: ids that are empty, too long or carry control characters are refused") {
  MemoryServer server;
  REQUIRE(server.start(MemoryServer::config()).ok());
  for (const std::string& id : {std::string(), std::string(65, 'a'), std::string("evil\nline"), std::string("a b")}) {
    MemoryDevice device(server.net, id.empty() ? "anonymous" : "x");
    Join join;
    join.device_id = id;
    device.send(join);
    server.deliver();
    std::vector<Reject> rejects = device.take<Reject>();
    REQUIRE(rejects.size() == 1);
    CHECK(rejects[0].reason == StatusCode::invalid_argument);
  }
}

TEST_CASE("join: the registry holds at most max_devices, evicting only devices gone silent") {
  server::ServerConfig config = MemoryServer::config();
  config.max_devices = 2;
  config.min_devices = 5;  // no round opens: only joins matter here
  MemoryServer server;
  REQUIRE(server.start(config).ok());
  MemoryDevice a(server.net, "a"), b(server.net, "b"), c(server.net, "c");
  a.join();
  b.join();
  server.deliver();
  c.join();
  server.deliver();
  std::vector<Reject> full = c.take<Reject>();
  REQUIRE(full.size() == 1);
  CHECK(full[0].reason == StatusCode::unavailable);  // retry later, unlike a device that cannot fit
  server.run_for(4s);  // a and b fall silent for more than three heartbeat intervals
  c.join();
  server.deliver();
  CHECK(c.take<Reject>().empty());
  CHECK(c.take<Welcome>().size() == 1);
}


TEST_CASE("round: an update trained in a previous run is refused in a fresh run with the same rounds") {
  Task old_task;
  {
    Fleet previous(2);
    old_task = previous[0].tasks().at(0);
  }
  Fleet fresh(2);  // a new state directory: round 1, version 0 again
  Task task = fresh[0].tasks().at(0);
  REQUIRE(task.round == old_task.round);
  REQUIRE(task.model_version == old_task.model_version);
  CHECK(task.run_id != old_task.run_id);
  fresh[0].answer(old_task, kDelta);  // the outbox of the previous run, resent
  fresh.server.deliver();
  std::vector<Reject> rejects = fresh[0].take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::stale);
  CHECK(rejects[0].message.find("another run") != std::string::npos);
  CHECK(fresh[0].take<Ack>().empty());
}

TEST_CASE("round: an update naming a base model other than the task's is refused") {
  Fleet fleet(2);
  Task task = fleet[0].tasks().at(0);
  task.base_hash ^= 1;
  fleet[0].answer(task, kDelta);
  fleet.server.deliver();
  std::vector<Reject> rejects = fleet[0].take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::stale);
}


TEST_CASE("config: heartbeat and time settings outside what the wire holds are refused at start") {
  for (double heartbeat : {0.0009, 1e7}) {
    server::ServerConfig config = MemoryServer::config();
    config.heartbeat_s = heartbeat;
    MemoryServer server;
    Status started = server.start(config);
    CHECK(started.code() == StatusCode::invalid_argument);
    CHECK(started.message().find("heartbeat_s") != std::string::npos);
  }
  server::ServerConfig config = MemoryServer::config();
  config.round_deadline_s = 1e8;
  MemoryServer server;
  CHECK(server.start(config).code() == StatusCode::invalid_argument);
}


TEST_CASE("resume: a deleted write-ahead log next to a checkpoint refuses to start, naming it") {
  server::ServerConfig config = MemoryServer::config();
  config.min_devices = 1;
  config.rounds = 5;
  MemoryServer server;
  REQUIRE(server.start(config).ok());
  MemoryDevice device(server.net, "dev-0");
  device.join();
  server.deliver();
  device.answer(device.tasks().at(0), {0.1f, 0.2f, 0.3f, 0.4f});
  server.deliver();
  REQUIRE(server.coordinator->rounds_closed() == 1);  // a checkpoint naming log generation 2
  server.coordinator.reset();
  Result<std::vector<std::string>> logs = server.fs.list_dir("/state/wal");
  REQUIRE(logs.ok());
  REQUIRE_FALSE(logs->empty());
  for (const std::string& name : *logs) REQUIRE(server.fs.remove("/state/wal/" + name).ok());
  config.resume = true;
  Status resumed = server.start(config);
  CHECK(resumed.code() == StatusCode::failed_precondition);
  CHECK(resumed.to_string().find("write-ahead log") != std::string::npos);
}


TEST_CASE("disk full: an update that cannot be logged gets Reject(resource_exhausted), no Ack, and the server stops") {
  server::ServerConfig config = MemoryServer::config();
  config.min_devices = 1;
  MemoryServer server;
  REQUIRE(server.start(config).ok());
  MemoryDevice device(server.net, "dev-0");
  device.join();
  server.deliver();
  Task task = device.tasks().at(0);
  server.fs.fail_from(server.fs.operation_count() + 1);  // the disk fills up now
  device.answer(task, {0.1f, 0.2f, 0.3f, 0.4f});
  Status polled;
  for (int i = 0; i < 10 && polled.ok(); ++i) polled = server.coordinator->poll(server.net.server(), std::chrono::milliseconds(10));
  CHECK(polled.code() == StatusCode::io_error);
  std::vector<Reject> rejects = device.take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::resource_exhausted);
  CHECK(rejects[0].update_id == task.task_id);
  CHECK(device.take<Ack>().empty());  // the device keeps its update for the resumed server
}


TEST_CASE("junk: a stream of undecodable messages is refused one by one but logged at most once a second") {
  MemoryServer server;
  REQUIRE(server.start(MemoryServer::config()).ok());
  std::unique_ptr<DeviceChannel> attacker = server.net.connect("attacker");
  const std::vector<uint8_t> junk{1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < 500; ++i) REQUIRE(attacker->send(junk).ok());
  server.run_for(std::chrono::milliseconds(1500));
  std::size_t lines = 0;
  for (const std::string& line : server.log) lines += line.find("undecodable") != std::string::npos;
  CHECK(lines == 1);  // all 500 arrive within the first second
  for (int i = 0; i < 10; ++i) REQUIRE(attacker->send(junk).ok());
  server.deliver();
  lines = 0;
  bool counted = false;
  for (const std::string& line : server.log) {
    lines += line.find("undecodable") != std::string::npos;
    counted = counted || line.find("499 more like it not logged") != std::string::npos;
  }
  CHECK(lines == 2);
  CHECK(counted);
  std::size_t rejects = 0;
  for (;;) {
    Result<std::optional<Bytes>> got = attacker->receive(std::chrono::milliseconds(0));
    REQUIRE(got.ok());
    if (!got->has_value()) break;
    ++rejects;
  }
  CHECK(rejects == 510);  // every one still answered
  // ...and charged against the attacker's rate budget, so a real transport cuts it soon.
  CHECK(server.net.charged("attacker") == doctest::Approx(510 * server::Coordinator::kJunkCost));
}

}  // namespace
}  // namespace edgefl::testing
