#include <doctest/doctest.h>

#include <atomic>

#include "child_process.hpp"
#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"
#include "tcp_proxy.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

// The transport has no ZMTP heartbeats (docs/transport.md): a link that goes silent with both
// TCP connections open is the application's to notice. The device's peer timeout
// (Welcome.peer_timeout_ms = 3 heartbeat intervals) must still catch it and reconnect.
TEST_CASE("e2e fault: a device notices a blackholed link to the server within its peer timeout") {
  TempDir server_dir;
  TempDir device_dir;
  sim::SimulationOptions server_only = blobs_cluster(server_dir.path(), 1, 1000);
  server_only.devices = 0;  // the one device lives in the second simulation, behind the proxy
  auto server = sim::Simulation::start(server_only);
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  TcpProxy proxy(endpoint_port((*server)->endpoint()));
  REQUIRE(proxy.ok());

  std::atomic<uint32_t> links{0};
  LinkTap tap;
  sim::SimulationOptions device_only = blobs_cluster(device_dir.path(), 1, 1000);
  device_only.external_endpoint = proxy.endpoint();
  device_only.wrap = [&](uint32_t, std::unique_ptr<DeviceChannel> link) {
    ++links;
    return tap.wrap(std::move(link));
  };
  auto device = sim::Simulation::start(device_only);
  REQUIRE_MESSAGE(device.ok(), device.status().to_string());
  REQUIRE(wait_until([&] { return tap.received(MessageType::ack) > 0; }, 20s));
  REQUIRE(links.load() == 1);

  proxy.freeze();
  const auto frozen_at = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] { return links.load() >= 2; }, 10s));
  const auto noticed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - frozen_at);
  const auto peer_timeout =
      std::chrono::milliseconds(static_cast<int>(3 * server_only.server.heartbeat_s * 1000));
  MESSAGE("peer timeout " << peer_timeout.count() << " ms: the device reconnected "
                          << noticed.count() << " ms after the link froze");
  // The last word may have come just before the freeze; a reconnect also waits a backoff step
  // (0.1 s at this socket time scale, jittered) before the new link opens.
  CHECK(noticed <= peer_timeout + 600ms);
}
