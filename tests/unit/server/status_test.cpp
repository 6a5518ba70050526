// The status endpoint's pieces without HTTP: where it may listen, the snapshot the coordinator
// publishes (refusals by reason, per device), and the Prometheus and JSON text rendered from it.
#include <doctest/doctest.h>

#include "memory_device.hpp"
#include "status_listen.hpp"
#include "status_render.hpp"

namespace edgefl::testing {
namespace {

using server::FleetSnapshot;
using server::FleetTotals;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST_CASE("status: listen addresses, and loopback told apart") {
  CHECK(server::parse_status_listen("127.0.0.1:9464")->loopback);
  CHECK(server::parse_status_listen("localhost:0")->loopback);
  CHECK(server::parse_status_listen("[::1]:9464")->loopback);
  CHECK_FALSE(server::parse_status_listen("0.0.0.0:9464")->loopback);
  CHECK_FALSE(server::parse_status_listen("127.evil.example:80")->loopback);
  CHECK(server::parse_status_listen("127.0.0.1:9464")->port == 9464);
  for (const char* bad : {"9464", ":9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:94x"}) {
    Result<server::StatusListen> parsed = server::parse_status_listen(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("status: beyond loopback the endpoint needs TLS and a token, or insecure") {
  server::StatusConfig status;
  CHECK(server::check_status_security(status, false).ok());  // off
  status.listen = "127.0.0.1:9464";
  CHECK(server::check_status_security(status, false).ok());
  status.listen = "0.0.0.0:9464";
  Status refused = server::check_status_security(status, false);
  CHECK(refused.code() == StatusCode::invalid_argument);
  CHECK(refused.message().find("beyond loopback") != std::string::npos);
  CHECK(server::check_status_security(status, true).ok());
  status.tls_cert = "cert.pem";
  status.tls_key = "key.pem";
  CHECK_FALSE(server::check_status_security(status, false).ok());  // still no token
  status.token_file = "token";
  CHECK(server::check_status_security(status, false).ok());
  status.tls_key.clear();
  CHECK(server::check_status_security(status, true).message().find("go together") !=
        std::string::npos);
  server::StatusConfig stray;
  stray.token_file = "token";
  CHECK(server::check_status_security(stray, false).message().find("need status.listen") !=
        std::string::npos);
}

TEST_CASE("status: round durations fill cumulative buckets, rejections add up by reason") {
  FleetSnapshot snapshot;
  server::RoundMetrics quick;
  quick.wall_s = 0.3;
  quick.rejected = 2;
  quick.rejected_by_reason = {{"shape_mismatch", 2}};
  server::RoundMetrics slow;
  slow.wall_s = 7;
  slow.rejected = 1;
  slow.rejected_by_reason = {{"shape_mismatch", 1}};
  snapshot.totals.add(quick);
  snapshot.totals.add(slow);
  const std::string text = server::prometheus_text(snapshot);
  CHECK(has_line(text, "edgefl_updates_rejected_total{reason=\"shape_mismatch\"} 3"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_bucket{le=\"0.25\"} 0"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_bucket{le=\"0.5\"} 1"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_bucket{le=\"5\"} 1"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_bucket{le=\"10\"} 2"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_bucket{le=\"+Inf\"} 2"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_sum 7.3"));
  CHECK(has_line(text, "edgefl_round_duration_seconds_count 2"));
  CHECK(has_line(text, "edgefl_rounds_closed_total 2"));
  CHECK(text.find("test_accuracy") == std::string::npos);  // never evaluated: no sample at all
}

TEST_CASE("status: the device table is paged, and a bad page is named") {
  FleetSnapshot snapshot;
  for (const char* id : {"a", "b", "c"}) {
    server::DeviceRow row;
    row.id = id;
    snapshot.devices.push_back(row);
  }
  const std::string second = server::status_json(snapshot, *server::parse_page_request("2", "2"));
  CHECK(second.find("\"total\":3,\"page\":2,\"per_page\":2,\"rows\":[{\"id\":\"c\"") !=
        std::string::npos);
  const std::string beyond = server::status_json(snapshot, *server::parse_page_request("9", "2"));
  CHECK(beyond.find("\"rows\":[]") != std::string::npos);
  CHECK(server::parse_page_request("", "")->per_page == 50);
  CHECK(server::parse_page_request("0", "").status().message().find("page='0'") !=
        std::string::npos);
  CHECK(server::parse_page_request("1", "1001").status().message().find("per_page='1001'") !=
        std::string::npos);
  CHECK_FALSE(server::parse_page_request("1x", "").ok());
}

TEST_CASE("status: a refused update is counted by reason, for the run and for its device") {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config();
  config.min_devices = 1;
  config.min_updates = 1;
  config.grace_s = 0;
  REQUIRE(server.start(config).ok());
  MemoryDevice device{server.net, "dev"};
  device.join();
  server.deliver();
  std::vector<Task> tasks = device.tasks();
  REQUIRE(tasks.size() == 1);
  const std::vector<float> too_long{0.1f, 0.2f, 0.3f, 0.4f, 0.5f};  // linear:4-1 has 4 parameters
  const std::vector<float> delta{0.1f, 0.2f, 0.3f, 0.4f};
  auto update = [&](uint64_t id, const std::vector<float>& values) {
    Update u;
    u.update_id = id;
    u.task_id = tasks[0].task_id;
    u.round = tasks[0].round;
    u.base_version = tasks[0].model_version;
    u.sample_count = 10;
    u.metrics.train_loss = 0.75f;
    u.metrics.batch_sizes = {16};
    u.payload = f32_tensor(values);
    u.run_id = tasks[0].run_id;
    u.base_hash = tasks[0].base_hash;
    return u;
  };
  device.send(update(1, too_long));
  server.deliver();
  device.send(update(2, delta));
  server.deliver();
  REQUIRE(server.coordinator->rounds_closed() == 1);

  std::shared_ptr<const FleetSnapshot> snapshot = server.coordinator->snapshot();
  REQUIRE(snapshot->devices.size() == 1);
  const server::DeviceActivity& activity = snapshot->devices[0].activity;
  CHECK(activity.refusals == std::map<std::string, uint64_t>{{"shape_mismatch", 1}});
  CHECK(activity.updates_accepted == 1);
  CHECK(activity.last_loss == doctest::Approx(0.75));
  CHECK(activity.last_batch == 16);
  CHECK(snapshot->totals.rejected_by_reason ==
        std::map<std::string, uint64_t>{{"shape_mismatch", 1}});
  CHECK(snapshot->totals.accepted == 1);
  CHECK(snapshot->devices_connected() == 1);
  CHECK(has_line(server::prometheus_text(*snapshot),
                 "edgefl_updates_rejected_total{reason=\"shape_mismatch\"} 1"));
}

}  // namespace
}  // namespace edgefl::testing
