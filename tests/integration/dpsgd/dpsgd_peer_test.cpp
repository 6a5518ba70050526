#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dpsgd_peer.hpp"
#include "edgefl/decentral/mixing.hpp"
#include "edgefl/decentral/topology.hpp"
#include "edgefl/net/curve.hpp"

using namespace edgefl;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kParams = 3;
constexpr float kAlpha = 0.25f;

// Device j's own problem: g_j(x) = x - c_j, so one SGD step is x -= alpha (x - c_j).
float target(std::size_t j, std::size_t e) {
  return static_cast<float>(j) - 1.5f + 0.5f * static_cast<float>(e);
}

struct Device {
  std::string id;
  std::unique_ptr<PeerLinks> links;
  std::unique_ptr<DpsgdPeer> peer;
  std::vector<float> x = std::vector<float>(kParams);
  std::vector<std::string> log;
  std::mutex log_mutex;
};

std::unique_ptr<PeerLinks> open_links(std::optional<CurveKeyPair> keys = {}) {
  auto links = PeerLinks::open({.listen = "tcp://127.0.0.1:*", .keys = std::move(keys)});
  REQUIRE_MESSAGE(links.ok(), links.status().to_string());
  return std::move(*links);
}

// One assignment per device from a seeded ring with Metropolis-Hastings weights.
std::vector<PeerAssignment> ring_assignments(const std::vector<std::unique_ptr<Device>>& devices,
                                             const std::vector<std::string>& keys,
                                             uint32_t deadline_ms) {
  const Topology ring = Topology::build(TopologyKind::ring, devices.size(), 11).value();
  const std::vector<MixingRow> rows = metropolis_hastings(ring);
  std::vector<PeerAssignment> out(devices.size());
  for (std::size_t j = 0; j < devices.size(); ++j) {
    out[j].epoch = 1;
    out[j].self_weight = rows[j].self_weight;
    out[j].step_deadline_ms = deadline_ms;
    out[j].staleness_bound = 2;
    for (const NeighbourWeight& n : rows[j].neighbours) {
      out[j].neighbours.push_back({devices[n.node]->id, devices[n.node]->links->endpoint(),
                                   keys.empty() ? "" : keys[n.node], n.weight});
    }
  }
  return out;
}

// The same run as a dense matrix iteration in double: X <- W X - alpha (X - C).
std::vector<std::vector<double>> expected_run(const std::vector<PeerAssignment>& assignments,
                                              const std::vector<std::unique_ptr<Device>>& devices,
                                              std::vector<std::vector<double>> x, int steps) {
  const std::size_t n = devices.size();
  for (int t = 0; t < steps; ++t) {
    std::vector<std::vector<double>> next(n, std::vector<double>(kParams));
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t e = 0; e < kParams; ++e) {
        double mixed = assignments[j].self_weight * x[j][e];
        for (const PeerNeighbour& nb : assignments[j].neighbours) {
          for (std::size_t k = 0; k < n; ++k) {
            if (devices[k]->id == nb.device_id) mixed += nb.weight * x[k][e];
          }
        }
        next[j][e] = mixed - kAlpha * (x[j][e] - target(j, e));
      }
    }
    x = std::move(next);
  }
  return x;
}

std::vector<std::unique_ptr<Device>> make_devices(std::size_t n,
                                                  const std::vector<CurveKeyPair>& keys = {}) {
  std::vector<std::unique_ptr<Device>> devices;
  for (std::size_t j = 0; j < n; ++j) {
    auto d = std::make_unique<Device>();
    d->id = "dev-" + std::to_string(j);
    d->links = keys.empty() ? open_links() : open_links(keys[j]);
    Device* raw = d.get();
    d->peer = std::make_unique<DpsgdPeer>(*d->links, d->id, /*run_id=*/77, DecodeLimits{},
                                          steady_time_source(), [raw](std::string_view line) {
                                            std::lock_guard lock(raw->log_mutex);
                                            raw->log.emplace_back(line);
                                          });
    for (std::size_t e = 0; e < kParams; ++e) d->x[e] = static_cast<float>(3 * j + e);
    devices.push_back(std::move(d));
  }
  return devices;
}

void run_steps(std::vector<std::unique_ptr<Device>>& devices, int steps) {
  std::vector<std::thread> threads;
  std::vector<Status> results(devices.size());
  for (std::size_t j = 0; j < devices.size(); ++j) {
    threads.emplace_back([&, j] {
      Device& d = *devices[j];
      auto local = [j](std::span<float> x) {
        for (std::size_t e = 0; e < x.size(); ++e) x[e] -= kAlpha * (x[e] - target(j, e));
        return Status();
      };
      for (int t = 0; t < steps && results[j].ok(); ++t) {
        auto done = d.peer->step(static_cast<uint64_t>(t), d.x, local);
        if (!done) results[j] = done.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) CHECK_MESSAGE(s.ok(), s.to_string());
}

}  // namespace

TEST_CASE("four devices on a ring over loopback sockets mix exactly as W X - alpha G") {
  auto devices = make_devices(4);
  const auto assignments = ring_assignments(devices, {}, /*deadline_ms=*/10000);
  for (std::size_t j = 0; j < devices.size(); ++j)
    REQUIRE(devices[j]->peer->assign(assignments[j], kParams).ok());
  for (auto& d : devices) CHECK(d->links->wait_connected(10s).empty());
  std::vector<std::vector<double>> start;
  for (auto& d : devices) start.emplace_back(d->x.begin(), d->x.end());
  run_steps(devices, 6);
  const auto expected = expected_run(assignments, devices, start, 6);
  for (std::size_t j = 0; j < devices.size(); ++j) {
    for (std::size_t e = 0; e < kParams; ++e)
      CHECK(devices[j]->x[e] == doctest::Approx(expected[j][e]).epsilon(1e-5));
    CHECK(devices[j]->peer->counters().missed == 0);
    CHECK(devices[j]->peer->counters().received == 12);  // 2 neighbours x 6 steps
    CHECK(devices[j]->peer->distances().size() == 2);
    CHECK(devices[j]->peer->traffic().bytes_sent > 12 * kParams * sizeof(float));
  }
}

TEST_CASE(
    "a message from a non-neighbour, of another run, or too far ahead is refused and logged") {
  auto devices = make_devices(2);
  auto assignments = ring_assignments(devices, {}, /*deadline_ms=*/200);
  for (std::size_t j = 0; j < devices.size(); ++j)
    REQUIRE(devices[j]->peer->assign(assignments[j], kParams).ok());
  REQUIRE(devices[0]->links->wait_connected(10s).empty());

  // A stranger dials dev-0's peer socket as dev-1's links would.
  auto stranger = open_links();
  PeerAssignment to_dev0;
  to_dev0.neighbours = {{"dev-0", devices[0]->links->endpoint(), "", 1.0}};
  std::vector<PeerAddress> address = {{"dev-0", devices[0]->links->endpoint(), ""}};
  REQUIRE(stranger->set_neighbours(address).ok());
  REQUIRE(stranger->wait_connected(10s).empty());
  const std::vector<float> values(kParams, 1.0f);
  auto send = [&](PeerModel m) {
    REQUIRE(stranger->send_to("dev-0", encode_message(m).value()).ok());
  };
  send({.sender = "mallory", .epoch = 1, .step = 0, .params = f32_tensor(values), .run_id = 77});
  send({.sender = "dev-1", .epoch = 1, .step = 0, .params = f32_tensor(values), .run_id = 78});
  REQUIRE(stranger->send_to("dev-0", encode_message(Heartbeat{.sequence = 1}).value()).ok());
  // Last: a step beyond the bound is refused, but says dev-1 is past step 0 (no more waiting).
  send({.sender = "dev-1", .epoch = 1, .step = 9, .params = f32_tensor(values), .run_id = 77});

  // dev-0 steps alone (dev-1 does not run): everything above is refused, dev-1 is folded.
  auto local = [](std::span<float>) { return Status(); };
  const std::vector<float> before = devices[0]->x;
  auto step = devices[0]->peer->step(0, devices[0]->x, local);
  REQUIRE(step.ok());
  CHECK(step->missed == std::vector<std::string>{"dev-1"});
  CHECK(devices[0]->x == before);  // the fold keeps x: nothing else was mixed in
  CHECK(devices[0]->peer->traffic().refused == 3);
  CHECK(devices[0]->peer->traffic().undecodable == 1);
  std::string log;
  for (const std::string& line : devices[0]->log) log += line + "\n";
  CHECK(log.find("'mallory'") != std::string::npos);
  CHECK(log.find("unknown_device") != std::string::npos);
  CHECK(log.find("of run 78") != std::string::npos);
  CHECK(log.find("out_of_range") != std::string::npos);
  CHECK(log.find("may only send peer_model, not heartbeat") != std::string::npos);
}

TEST_CASE("with CURVE a key outside the neighbour set cannot connect to a peer socket") {
  std::vector<CurveKeyPair> keys;
  for (int i = 0; i < 3; ++i) keys.push_back(generate_curve_keypair().value());
  auto devices = make_devices(2, {keys[0], keys[1]});
  auto assignments =
      ring_assignments(devices, {keys[0].public_z85, keys[1].public_z85}, /*deadline_ms=*/10000);
  for (std::size_t j = 0; j < devices.size(); ++j)
    REQUIRE(devices[j]->peer->assign(assignments[j], kParams).ok());
  for (auto& d : devices) CHECK(d->links->wait_connected(10s).empty());

  // An outsider with its own key dials dev-0, knowing dev-0's public key: the handshake fails.
  auto outsider = open_links(keys[2]);
  REQUIRE(outsider->set_neighbours({{"dev-0", devices[0]->links->endpoint(), keys[0].public_z85}})
              .ok());
  CHECK(outsider->wait_connected(1500ms) == std::vector<std::string>{"dev-0"});
  CHECK_FALSE(outsider->send_to("dev-0", std::vector<uint8_t>{1, 2, 3}).ok());

  // The neighbours still train together, authenticated by key.
  std::vector<std::vector<double>> start;
  for (auto& d : devices) start.emplace_back(d->x.begin(), d->x.end());
  run_steps(devices, 3);
  const auto expected = expected_run(assignments, devices, start, 3);
  for (std::size_t j = 0; j < devices.size(); ++j) {
    for (std::size_t e = 0; e < kParams; ++e)
      CHECK(devices[j]->x[e] == doctest::Approx(expected[j][e]).epsilon(1e-5));
    CHECK(devices[j]->peer->counters().missed == 0);
    CHECK(devices[j]->peer->traffic().refused == 0);
  }
}

TEST_CASE("a peer socket beyond loopback needs CURVE keys or insecure") {
  PeerLinkSettings settings;
  settings.listen = "tcp://0.0.0.0:*";
  auto plain = PeerLinks::open(settings);
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.status().code() == StatusCode::failed_precondition);
  CHECK(plain.status().message().find("without CURVE keys") != std::string::npos);
  settings.insecure = true;
  CHECK(PeerLinks::open(settings).ok());
  settings.insecure = false;
  settings.keys = generate_curve_keypair().value();
  CHECK(PeerLinks::open(settings).ok());
}

TEST_CASE("the peer's counters add up across assignments (a re-wire starts a fresh exchange)") {
  auto devices = make_devices(2);
  auto assignments = ring_assignments(devices, {}, /*deadline_ms=*/100);
  REQUIRE(devices[0]->peer->assign(assignments[0], kParams).ok());
  auto local = [](std::span<float>) { return Status(); };
  REQUIRE(devices[0]->peer->step(0, devices[0]->x, local).ok());  // dev-1 is silent: folded
  CHECK(devices[0]->peer->counters().missed == 1);
  assignments[0].epoch = 2;  // the same neighbour in a new topology epoch
  REQUIRE(devices[0]->peer->assign(assignments[0], kParams).ok());
  CHECK(devices[0]->peer->counters().missed == 1);
  REQUIRE(devices[0]->peer->step(1, devices[0]->x, local).ok());
  CHECK(devices[0]->peer->counters().missed == 2);
}
