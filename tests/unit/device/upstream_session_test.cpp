// The device's upstream session against a scripted server over in-memory channels with a
// manual clock: each case runs in milliseconds, without sockets, threads or sleeps.
#include <doctest/doctest.h>

#include "scripted_server.hpp"

namespace edgefl::testing {
namespace {

using device::LinkEnd;
using device::UpstreamSession;

TEST_CASE("session: a new link sends Join, and the Welcome's timers take over") {
  SessionRig rig;
  rig.connect();
  std::vector<Join> joins = rig.server.take<Join>();
  REQUIRE(joins.size() == 1);
  CHECK(joins[0].device_id == "dev");
  CHECK(joins[0].boot_counter == 3);
  // Unanswered, the Join is repeated once per (configured) heartbeat interval.
  rig.run_for(2000ms);
  CHECK(rig.server.take<Join>().size() == 2);
  CHECK_FALSE(rig.session->joined());
  rig.server.welcome(500);
  rig.turn();
  CHECK(rig.session->joined());
  rig.server.take<Heartbeat>();  // the first is due at once: the link is 2 s old
  rig.run_for(2000ms);
  CHECK(rig.server.take<Join>().empty());
  CHECK(rig.server.take<Heartbeat>().size() == 4);  // the Welcome's 500 ms interval
}

TEST_CASE("session: heartbeats at once after the Welcome, then at the interval, numbered, naming the task") {
  SessionRig rig;
  rig.client.busy_with = 42;
  rig.join();
  CHECK_FALSE(rig.run_for(5000ms).has_value());
  std::vector<Heartbeat> beats = rig.server.take<Heartbeat>();
  REQUIRE(beats.size() == 6);
  for (std::size_t i = 0; i < beats.size(); ++i) {
    CHECK(beats[i].sequence == i + 1);
    CHECK(beats[i].working_on == 42);
  }
}

TEST_CASE("session: the Welcome's eligibility rule reaches the client, and heartbeats carry its reasons") {
  SessionRig rig;
  rig.connect();
  REQUIRE(rig.server.take<Join>().size() == 1);
  rig.client.reasons = kIneligibleTemperature | kIneligibleBattery;
  const EligibilityRule rule{.max_temperature_c = 75, .temperature_hysteresis_c = 5};
  rig.server.welcome(1000, 60000, rule);
  rig.turn();
  CHECK(rig.client.rule == rule);
  std::vector<Heartbeat> beats = rig.server.take<Heartbeat>();
  REQUIRE(beats.size() == 1);  // at once: the server learns the reasons before it picks devices
  CHECK(beats[0].ineligible == (kIneligibleTemperature | kIneligibleBattery));
}

TEST_CASE("session: a Task lost on the link leaves heartbeats idle until the resent one arrives") {
  SessionRig rig;
  rig.join();
  REQUIRE(rig.server.take<Heartbeat>().size() == 1);  // at the Welcome
  rig.server.task(7);
  rig.cut();  // the Task dies with the connection
  CHECK(rig.run_for(1000ms) == std::nullopt);
  CHECK(rig.client.tasks.empty());
  rig.connect();  // the device's next link; the server hears it is idle
  REQUIRE(rig.server.take<Join>().size() == 1);
  rig.server.welcome();
  rig.run_for(1000ms);
  std::vector<Heartbeat> beats = rig.server.take<Heartbeat>();
  REQUIRE(beats.size() == 2);  // at the Welcome and one interval later
  CHECK(beats[0].working_on == 0);
  CHECK(beats[1].working_on == 0);
  rig.server.task(7);
  rig.turn();
  REQUIRE(rig.client.tasks == std::vector<uint64_t>{7});
  // The client gets the encoded Task itself, to hand to its worker.
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(rig.client.task_messages[0], scratch);
  REQUIRE(decoded.ok());
  const Task* task = std::get_if<Task>(&decoded->message);
  REQUIRE(task != nullptr);
  CHECK(task->task_id == 7);
  rig.run_for(1000ms);
  beats = rig.server.take<Heartbeat>();
  REQUIRE(beats.size() == 1);
  CHECK(beats[0].working_on == 7);
}

TEST_CASE("session: an update is stored before it leaves and resent after a reconnect until its Ack") {
  SessionRig rig;
  rig.join();
  rig.client.results.emplace_back(9, update_bytes(9));
  rig.turn();
  CHECK(rig.pending() == std::vector<std::string>{UpstreamSession::outbox_id(9)});
  REQUIRE(rig.server.take<Update>().size() == 1);

  // The link dies before the Ack: silence until the peer timeout (60 s) ends it.
  rig.cut();
  CHECK(rig.run_for(61000ms) == LinkEnd::reconnect);
  rig.server.take<Heartbeat>();
  rig.connect();
  REQUIRE(rig.server.take<Join>().size() == 1);
  rig.server.welcome();
  rig.turn();
  std::vector<Update> resent = rig.server.take<Update>();
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].update_id == 9);
  CHECK(rig.session->stats().updates_resent == 1);

  // Not acknowledged yet: sent again every three heartbeat intervals.
  rig.run_for(3000ms);
  CHECK(rig.server.take<Update>().size() == 1);
  rig.server.send(Ack{9, 1, AckStatus::accepted});
  rig.turn();
  CHECK(rig.pending().empty());
  CHECK(rig.session->stats().updates_acked == 1);
  rig.run_for(6000ms);
  CHECK(rig.server.take<Update>().empty());
}

TEST_CASE("session: an Ack(duplicate) for its own id clears the outbox and another id's Ack does not") {
  SessionRig rig;
  rig.join();
  rig.client.results.emplace_back(11, update_bytes(11));
  rig.turn();
  rig.server.send(Ack{12, 1, AckStatus::accepted});
  rig.turn();
  CHECK(rig.pending() == std::vector<std::string>{UpstreamSession::outbox_id(11)});
  rig.server.send(Ack{11, 1, AckStatus::duplicate});
  rig.turn();
  CHECK(rig.pending().empty());
}

TEST_CASE("session: a Task whose update is in the outbox is answered from there, not worked on again") {
  SessionRig rig;
  rig.join();
  rig.client.results.emplace_back(5, update_bytes(5));
  rig.turn();
  REQUIRE(rig.server.take<Update>().size() == 1);
  rig.server.task(5);
  rig.turn();
  CHECK(rig.client.tasks.empty());
  std::vector<Update> again = rig.server.take<Update>();
  REQUIRE(again.size() == 1);
  CHECK(again[0].update_id == 5);
}

TEST_CASE("session: the link ends on Bye, silence, stop, or a finished client with an empty outbox") {
  SUBCASE("Bye(finished) ends the run, any other Bye the link") {
    SessionRig rig;
    rig.join();
    rig.server.send(Bye{ByeReason::restarting, "restart"});
    CHECK(rig.turn() == LinkEnd::reconnect);
    rig.join();
    rig.server.send(Bye{ByeReason::finished, "done"});
    CHECK(rig.turn() == LinkEnd::finished);
  }
  SUBCASE("no word for the peer timeout") {
    SessionRig rig;
    rig.join();  // peer timeout 60 s; heartbeats alone do not keep the link
    CHECK(rig.run_for(59000ms) == std::nullopt);
    CHECK(rig.run_for(2000ms) == LinkEnd::reconnect);
  }
  SUBCASE("stop says goodbye") {
    SessionRig rig;
    rig.join();
    rig.stop = true;
    CHECK(rig.turn() == LinkEnd::stopped);
    std::vector<Bye> byes = rig.server.take<Bye>();
    REQUIRE(byes.size() == 1);
    CHECK(byes[0].reason == ByeReason::shutdown);
  }
  SUBCASE("finishing waits for the last Ack") {
    SessionRig rig;
    rig.join();
    rig.client.results.emplace_back(3, update_bytes(3));
    rig.client.leaving = true;
    CHECK(rig.turn() == std::nullopt);
    rig.server.send(Ack{3, 1, AckStatus::accepted});
    CHECK(rig.turn() == LinkEnd::finished);
  }
}

TEST_CASE("session: run() joins, reconnects after a Bye and returns ok when the server finishes") {
  SessionRig rig;
  int opened = 0;
  device::ChannelFactory connect = [&]() -> Result<std::unique_ptr<DeviceChannel>> {
    return rig.net.connect("dev#run" + std::to_string(++opened));
  };
  int turns = 0;
  rig.client.on_turn = [&] {
    // The server, played between the session's turns: restart once, then finish.
    if (!rig.server.take<Join>().empty()) rig.server.welcome();
    if (++turns == 3) rig.server.send(Bye{ByeReason::restarting, "restart"});
    if (turns == 6) rig.server.send(Bye{ByeReason::finished, "done"});
  };
  device::UpstreamOptions options;
  options.join.device_id = "dev";
  options.time_scale = 0.001;  // reconnect backoff of at most a millisecond
  UpstreamSession session(options, *rig.outbox, rig.clock, [](const std::string&) {});
  CHECK(session.run(connect, rig.client, rig.stop).ok());
  CHECK(opened == 2);
  CHECK(session.stats().connections == 2);
}


TEST_CASE("session: a refused key ends the run with a message saying so") {
  SessionRig rig;
  rig.connect();
  rig.net.report(rig.link_name, LinkEvent::Kind::handshake_failed_auth);
  Result<std::optional<device::LinkEnd>> end = rig.session->turn(rig.client, rig.stop);
  REQUIRE_FALSE(end.ok());
  CHECK(end.status().code() == StatusCode::unauthenticated);
  CHECK(end.status().message().find("refused this device's key") != std::string::npos);
}

TEST_CASE("session: without a word from the server for the give-up time, the run ends") {
  SessionRig rig;
  device::UpstreamOptions options;
  options.endpoint = "memory";
  options.join.device_id = "dev";
  options.heartbeat_interval = std::chrono::milliseconds(1000);
  options.give_up_after = std::chrono::milliseconds(10000);
  rig.session = std::make_unique<device::UpstreamSession>(options, *rig.outbox, rig.clock,
                                                          [](const std::string&) {});
  rig.join();  // the Welcome is a word: the clock starts again
  Result<std::optional<device::LinkEnd>> end = std::optional<device::LinkEnd>();
  const SteadyTime started = rig.clock.now();
  while (end.ok() && rig.clock.now() - started < std::chrono::seconds(60)) {
    end = rig.session->turn(rig.client, rig.stop);
    if (end.ok() && end->has_value()) rig.connect();  // the peer timeout drops links; the device re-links
  }
  REQUIRE_FALSE(end.ok());
  CHECK(end.status().code() == StatusCode::unavailable);
  CHECK(end.status().message().find("giving up") != std::string::npos);
  CHECK(rig.clock.now() - started >= std::chrono::seconds(10));
  CHECK(rig.clock.now() - started < std::chrono::seconds(11));
}

}  // namespace
}  // namespace edgefl::testing
