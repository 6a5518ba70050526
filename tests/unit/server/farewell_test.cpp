// The end of a run over in-memory channels with a manual clock: after the last round the
// server stays for its farewell, answering a device whose final Ack was lost, and leaves as
// soon as every device has confirmed the end.
#include <doctest/doctest.h>

#include "memory_device.hpp"
#include "serve_loop.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1

// A one-round run of two devices, played up to its end; each device's Task is kept.
struct EndedRun {
  MemoryServer server;
  MemoryDevice a{server.net, "dev-a"};
  MemoryDevice b{server.net, "dev-b"};
  Task task_a, task_b;

  explicit EndedRun(double farewell_s) {
    server::ServerConfig config = MemoryServer::config();
    config.min_devices = 2;
    config.rounds = 1;
    config.farewell_s = farewell_s;
    REQUIRE(server.start(config).ok());
    a.join();
    b.join();
    server.deliver();
    task_a = a.tasks().at(0);
    task_b = b.tasks().at(0);
    a.answer(task_a, kDelta);
    b.answer(task_b, kDelta);
    server.deliver();
    REQUIRE(server.coordinator->finished());
  }
  // Runs the serve loop to its return; the manual clock moves only while it waits.
  std::chrono::milliseconds serve() {
    const SteadyTime from = server.clock.now();
    REQUIRE(server::serve(*server.coordinator, server.net.server(), {.poll_wait = 20ms}).ok());
    return std::chrono::duration_cast<std::chrono::milliseconds>(server.clock.now() - from);
  }
};

TEST_CASE("farewell: a resend of the final update whose Ack was lost is acknowledged before the server leaves") {
  EndedRun run(2.0);
  REQUIRE(run.a.take<Ack>().size() == 1);
  (void)run.b.take<Ack>();  // b's Ack is lost on its way: b still holds the update
  run.b.answer(run.task_b, kDelta);
  const std::chrono::milliseconds served = run.serve();
  const std::vector<Ack> acks = run.b.take<Ack>();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].update_id == run.task_b.task_id);
  CHECK(acks[0].status == AckStatus::duplicate);
  CHECK(!run.b.take<Bye>().empty());
  // Nobody confirmed the end: the farewell ran its whole length.
  CHECK(served >= 2000ms);
  CHECK(served < 2100ms);
  CHECK(run.server.coordinator->history().at(0).answered == 2);  // the resend counted once
}

TEST_CASE("farewell: ends as soon as every device has confirmed the end with its Bye") {
  EndedRun run(60.0);
  run.a.send(Bye{ByeReason::finished, "device heard the end of the run"});
  run.b.send(Bye{ByeReason::finished, "device heard the end of the run"});
  CHECK(run.serve() < 100ms);
  CHECK(run.server.coordinator->farewell_over());
}

TEST_CASE("farewell: with farewell_s 0 the server leaves at once and bad values are refused") {
  EndedRun run(0.0);
  CHECK(run.serve() < 50ms);
  for (const char* bad : {"-1", "nan", "4000"}) {
    INFO(bad);
    const char* argv[] = {"edgefl-server", "--farewell-s", bad};
    std::string help;
    Result<server::ServerConfig> config = server::load_server_config(3, argv, &help);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message().find("farewell_s") != std::string::npos);
  }
}

}  // namespace
}  // namespace edgefl::testing
