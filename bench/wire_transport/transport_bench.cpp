// Loopback throughput of edgefl's transport vs a raw ZeroMQ DEALER/ROUTER pair, same run.
//
//   edgefl-transport-bench [--bytes 1048576] [--messages 200] [--reps 3]
//
// One device thread sends `messages` updates of `bytes` each; the server side receives them.
// Measured from the first send to the last receive, median of `reps` alternating runs, for
// plaintext and for CURVE (+ ZAP on the edgefl side). One JSON object per line on stdout,
// a table on stderr. Goal: transport_mb_s >= 0.5 x raw_mb_s.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "edgefl/net/zap_authenticator.hpp"
#include "edgefl/net/zmq_transport.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  size_t bytes = size_t{1} << 20;
  int messages = 200;
  int reps = 3;
};

double mb_per_s(const Options& o, Clock::duration elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  return static_cast<double>(o.bytes) * o.messages / (1024.0 * 1024.0) / seconds;
}

// Raw cppzmq: ROUTER receives, DEALER sends; optional CURVE without authentication.
double run_raw(const Options& o, const std::vector<uint8_t>& payload,
               const edgefl::CurveKeyPair* server, const edgefl::CurveKeyPair* client) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  router.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::linger, 0);
  if (server) {
    router.set(zmq::sockopt::curve_server, 1);
    router.set(zmq::sockopt::curve_secretkey, server->secret_z85);
    dealer.set(zmq::sockopt::curve_serverkey, server->public_z85);
    dealer.set(zmq::sockopt::curve_publickey, client->public_z85);
    dealer.set(zmq::sockopt::curve_secretkey, client->secret_z85);
  }
  router.bind("tcp://127.0.0.1:*");
  dealer.connect(router.get(zmq::sockopt::last_endpoint));

  auto start = Clock::now();
  std::thread sender([&] {
    for (int i = 0; i < o.messages; ++i) {
      zmq::message_t m(payload.data(), payload.size());
      dealer.send(m, zmq::send_flags::none);
    }
  });
  for (int i = 0; i < o.messages; ++i) {
    zmq::message_t id, body;
    (void)router.recv(id);
    (void)router.recv(body);
    if (body.size() != payload.size()) std::abort();
  }
  auto elapsed = Clock::now() - start;
  sender.join();
  return mb_per_s(o, elapsed);
}

// edgefl transport: DeviceTransport -> ServerTransport with the default policy.
double run_transport(const Options& o, const std::vector<uint8_t>& payload,
                     const edgefl::CurveKeyPair* server, const edgefl::CurveKeyPair* client) {
  auto ctx = edgefl::NetContext::create();
  if (!ctx) std::abort();
  edgefl::SocketPolicy policy;
  policy.max_message_bytes = static_cast<int64_t>(o.bytes) + 4096;
  std::unique_ptr<edgefl::ZapAuthenticator> zap;
  edgefl::ServerSecurity server_security;
  edgefl::DeviceSecurity device_security;
  if (server) {
    auto z = edgefl::ZapAuthenticator::start(**ctx, {client->public_z85});
    if (!z) std::abort();
    zap = std::move(*z);
    server_security = {*server, zap.get(), false};
    device_security = {*client, server->public_z85};
  }
  auto srv = edgefl::ServerTransport::bind(**ctx, "tcp://127.0.0.1:*", policy, server_security);
  if (!srv) {
    std::fprintf(stderr, "bind: %s\n", srv.status().to_string().c_str());
    std::abort();
  }
  auto dev = edgefl::DeviceTransport::connect(**ctx, (*srv)->endpoint(), policy, device_security);
  if (!dev) std::abort();

  auto start = Clock::now();
  std::thread sender([&] {
    for (int i = 0; i < o.messages; ++i) {
      while (!(*dev)->send(payload).ok()) {
      }
    }
  });
  for (int i = 0; i < o.messages;) {
    auto in = (*srv)->receive(std::chrono::seconds(10));
    if (!in || !in->has_value()) std::abort();
    if ((*in)->payload.size() != payload.size()) std::abort();
    ++i;
  }
  auto elapsed = Clock::now() - start;
  sender.join();
  dev->reset();
  srv->reset();
  zap.reset();
  return mb_per_s(o, elapsed);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"edgefl transport loopback throughput vs raw ZeroMQ"};
  app.add_option("--bytes", o.bytes, "message size in bytes")->check(CLI::Range(1, 1 << 28));
  app.add_option("--messages", o.messages, "messages per run")->check(CLI::Range(1, 100000));
  app.add_option("--reps", o.reps, "alternating runs per variant (median reported)")
      ->check(CLI::Range(1, 50));
  CLI11_PARSE(app, argc, argv);

  std::vector<uint8_t> payload(o.bytes);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 131);
  auto server_keys = edgefl::generate_curve_keypair();
  auto client_keys = edgefl::generate_curve_keypair();
  if (!server_keys || !client_keys) std::abort();

  std::fprintf(stderr, "%-10s %12s %16s %8s\n", "mode", "raw MB/s", "transport MB/s", "ratio");
  for (bool curve : {false, true}) {
    const edgefl::CurveKeyPair* s = curve ? &*server_keys : nullptr;
    const edgefl::CurveKeyPair* c = curve ? &*client_keys : nullptr;
    std::vector<double> raw, transport;
    for (int r = 0; r < o.reps; ++r) {
      raw.push_back(run_raw(o, payload, s, c));
      transport.push_back(run_transport(o, payload, s, c));
    }
    double raw_mb = median(raw), transport_mb = median(transport);
    const char* mode = curve ? "curve" : "plain";
    std::printf(
        "{\"bench\":\"transport_loopback\",\"mode\":\"%s\",\"message_bytes\":%zu,"
        "\"messages\":%d,\"reps\":%d,\"raw_mb_s\":%.1f,\"transport_mb_s\":%.1f,\"ratio\":%.3f}\n",
        mode, o.bytes, o.messages, o.reps, raw_mb, transport_mb, transport_mb / raw_mb);
    std::fprintf(stderr, "%-10s %12.1f %16.1f %8.3f\n", mode, raw_mb, transport_mb,
                 transport_mb / raw_mb);
  }
  return 0;
}
