// How the session treats a Reject: which end the run, which delete the update, which keep it
// for a resend, and the re-join after the server forgot the device.
#include <doctest/doctest.h>

#include "scripted_server.hpp"

namespace edgefl::testing {
namespace {

using device::UpstreamSession;

Reject reject_update(StatusCode reason, uint64_t id) { return Reject{reason, "refused", id}; }

// A joined session whose update `id` is in the outbox and was sent.
void deliver(SessionRig& rig, uint64_t id) {
  rig.join();
  rig.client.results.emplace_back(id, update_bytes(id));
  rig.turn();
  REQUIRE(rig.server.take<Update>().size() == 1);
}

TEST_CASE("reject: a permanent refusal of an update deletes it from the outbox") {
  for (StatusCode reason : {StatusCode::stale, StatusCode::norm_exceeded, StatusCode::shape_mismatch,
                            StatusCode::non_finite, StatusCode::corrupt}) {
    CAPTURE(status_code_name(reason));
    SessionRig rig;
    deliver(rig, 4);
    rig.server.send(reject_update(reason, 4));
    CHECK(rig.turn() == std::nullopt);
    CHECK(rig.pending().empty());
    CHECK(rig.session->stats().updates_rejected == 1);
    rig.run_for(3000ms);
    CHECK(rig.server.take<Update>().empty());
  }
}

TEST_CASE("reject: a retryable refusal keeps the update and resends it") {
  for (StatusCode reason : {StatusCode::unavailable, StatusCode::resource_exhausted, StatusCode::timeout}) {
    CAPTURE(status_code_name(reason));
    SessionRig rig;
    deliver(rig, 4);
    rig.server.send(reject_update(reason, 4));
    CHECK(rig.turn() == std::nullopt);
    CHECK(rig.pending() == std::vector<std::string>{UpstreamSession::outbox_id(4)});
    CHECK(rig.session->stats().updates_rejected == 0);
    rig.run_for(3000ms);
    CHECK(rig.server.take<Update>().size() == 1);
  }
}

TEST_CASE("reject: unknown_device re-joins at once and keeps the update for after the Welcome") {
  SessionRig rig;
  deliver(rig, 4);
  rig.server.send(reject_update(StatusCode::unknown_device, 4));
  rig.turn();
  CHECK_FALSE(rig.session->joined());
  CHECK(rig.server.take<Join>().size() == 1);
  CHECK(rig.pending().size() == 1);
  // Not joined: no heartbeats, and the Join is repeated each interval.
  rig.server.take<Heartbeat>();
  rig.run_for(2000ms);
  CHECK(rig.server.take<Heartbeat>().empty());
  CHECK(rig.server.take<Join>().size() == 2);
  rig.server.welcome();
  rig.turn();
  CHECK(rig.session->joined());
  CHECK(rig.server.take<Update>().size() == 1);
}

TEST_CASE("reject: another protocol version, or a server that will assign no work, ends the run") {
  SUBCASE("version_mismatch") {
    SessionRig rig;
    rig.join();
    rig.server.send(Reject{StatusCode::version_mismatch, "v9 only", std::nullopt});
    Result<std::optional<device::LinkEnd>> end = rig.session->turn(rig.client, rig.stop);
    REQUIRE_FALSE(end.ok());
    CHECK(end.status().code() == StatusCode::version_mismatch);
  }
  SUBCASE("resource_exhausted without an update") {
    SessionRig rig;
    rig.join();
    rig.server.send(Reject{StatusCode::resource_exhausted, "fleet is full", std::nullopt});
    Result<std::optional<device::LinkEnd>> end = rig.session->turn(rig.client, rig.stop);
    REQUIRE_FALSE(end.ok());
    CHECK(end.status().code() == StatusCode::resource_exhausted);
    CHECK(end.status().message().find("fleet is full") != std::string::npos);
  }
}

TEST_CASE("reject: a Join refused for what the device is ends the run naming the reason") {
  for (StatusCode code : {StatusCode::invalid_argument, StatusCode::out_of_range, StatusCode::failed_precondition,
                          StatusCode::unauthenticated}) {
    SessionRig rig;
    rig.connect();
    REQUIRE(rig.server.take<Join>().size() == 1);
    rig.server.send(Reject{code, "the run uploads int8", std::nullopt});
    Result<std::optional<device::LinkEnd>> end = rig.session->turn(rig.client, rig.stop);
    REQUIRE_FALSE(end.ok());
    CHECK(end.status().code() == code);
    CHECK(end.status().message().find("refused this device's Join: the run uploads int8") != std::string::npos);
  }
}

TEST_CASE("reject: a full server (unavailable) is retried, not a reason to stop") {
  SessionRig rig;
  rig.connect();
  REQUIRE(rig.server.take<Join>().size() == 1);
  rig.server.send(Reject{StatusCode::unavailable, "full", std::nullopt});
  CHECK_FALSE(rig.run_for(1500ms).has_value());
  CHECK(rig.server.take<Join>().size() >= 1);  // it asks again
}

TEST_CASE("reject: an outbox that cannot delete the update ends the run with the outbox error") {
  SessionRig rig;
  deliver(rig, 4);
  rig.fs.fail_from(rig.fs.operation_count() + 1);
  rig.server.send(reject_update(StatusCode::stale, 4));
  Result<std::optional<device::LinkEnd>> end = rig.session->turn(rig.client, rig.stop);
  REQUIRE_FALSE(end.ok());
  CHECK(end.status().code() == StatusCode::io_error);
}

}  // namespace
}  // namespace edgefl::testing
