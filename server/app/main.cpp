// edgefl-server: the aggregation server.
//
//   edgefl-server --model mlp:784-256-128-10:relu --rounds 20 --endpoint tcp://0.0.0.0:5555
//                 --secret-key keys/server.key --allowed-keys keys/devices.txt   (one line)
//   edgefl-server --config server.toml --resume
//   edgefl-server export --checkpoint STATE_DIR --format safetensors|onnx --out FILE
//   edgefl-server predict --checkpoint STATE_DIR --input x.safetensors --out y.safetensors
//
// Exit status: 0 finished, 1 a runtime failure (state is safe: restart with --resume),
// 2 a bad flag or configuration, 130 stopped by a signal (also safe to --resume).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include "coordinator.hpp"
#include "edgefl/base/open_file_limit.hpp"
#include "edgefl/base/timing.hpp"
#include "edgefl/net/curve.hpp"
#include "edgefl/net/net_context.hpp"
#include "edgefl/net/zap_authenticator.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "edgefl/store/rate_limited_file_system.hpp"
#include "model_export.hpp"
#include "predict_command.hpp"
#include "relay_process.hpp"
#include "serve_loop.hpp"
#include "server_config.hpp"
#include "status_http_server.hpp"

namespace {

// The only process-wide state: what a signal handler may touch.
std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested.store(true); }


int fail(const edgefl::Status& status, int code) {
  std::fprintf(stderr, "edgefl-server: %s\n", status.to_string().c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgefl;
  if (argc > 1 && std::string(argv[1]) == "export") return server::run_export_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "predict") return server::run_predict_command(argc - 1, argv + 1);
  std::string help;
  Result<double> time_scale = time_scale_from_env();  // the time_scale default (qemu runs)
  if (!time_scale) return fail(time_scale.status(), 2);
  Result<server::ServerConfig> config = server::load_server_config(argc, argv, &help, *time_scale);
  if (!config) {
    if (config.status().code() == StatusCode::cancelled) {
      std::printf("%s", help.c_str());
      return 0;
    }
    return fail(config.status(), 2);
  }

  // One descriptor per connected device: the soft limit goes up to the hard one (systemd's
  // LimitNOFILE=, packaging/edgefl-server.service), and a limit still short is said aloud.
  Result<uint64_t> open_files = raise_open_file_limit();
  if (!open_files) {
    std::fprintf(stderr, "edgefl-server: warning: %s\n", open_files.status().to_string().c_str());
  } else if (*open_files < uint64_t{config->max_devices} + 64) {
    std::fprintf(stderr,
                 "edgefl-server: warning: the open-file limit %llu is below max_devices (%u) + 64: "
                 "raise the "
                 "hard limit (ulimit -Hn, systemd LimitNOFILE=)\n",
                 static_cast<unsigned long long>(*open_files), config->max_devices);
  }
  Result<std::unique_ptr<NetContext>> context = NetContext::create();
  if (!context) return fail(context.status(), 1);
  std::unique_ptr<ZapAuthenticator> zap;
  ServerSecurity security;
  security.insecure = config->insecure;
  if (!config->secret_key_file.empty()) {
    Result<CurveKeyPair> keys = load_curve_keypair(config->secret_key_file);
    if (!keys) return fail(keys.status(), 2);
    Result<std::vector<std::string>> allowed = load_public_key_list(config->allowed_keys_dir);
    if (!allowed) return fail(allowed.status(), 2);
    Result<std::unique_ptr<ZapAuthenticator>> started = ZapAuthenticator::start(**context, *allowed);
    if (!started) return fail(started.status(), 1);
    zap = std::move(*started);
    security.curve = *keys;
    security.authenticator = zap.get();
  }
  SocketPolicy policy;
  policy.time_scale = config->time_scale;
  policy.link_events = false;  // the coordinator reads no link events: no monitor per connection
  Result<std::unique_ptr<ServerTransport>> transport =
      ServerTransport::bind(**context, config->endpoint, policy, security);
  if (!transport) return fail(transport.status(), 2);

  if (!config->endpoint_file.empty()) {
    const std::string& bound = (*transport)->endpoint();
    Status written = atomic_write_file(config->endpoint_file, std::as_bytes(std::span(bound)));
    if (!written.ok()) return fail(written, 2);
  }
  // The status endpoint reads the board on its own threads. It starts (binds, reads its token
  // and certificate) before any state is touched, so bad settings cost nothing; it answers 503
  // until the first snapshot is published.
  server::SnapshotBoard board;
  std::unique_ptr<server::StatusHttpServer> status_http;
  if (!config->status.listen.empty()) {
    Result<std::unique_ptr<server::StatusHttpServer>> started = server::StatusHttpServer::start(config->status, board);
    if (!started) return fail(started.status(), 2);
    status_http = std::move(*started);
  }
  auto log = [quiet = config->quiet](const std::string& line) {
    if (!quiet || line.rfind("warning", 0) == 0) std::fprintf(stderr, "%s\n", line.c_str());
  };
  // A relay links upstream on a thread of its own (relay_process.hpp) once its state is recovered.
  std::unique_ptr<server::RelayProcess> relay;
  if (!config->upstream.empty()) {
    Result<std::unique_ptr<server::RelayProcess>> created =
        server::RelayProcess::create(*config, **context, log);
    if (!created) return fail(created.status(), 2);
    relay = std::move(*created);
  }
  // Benchmarks: the log, checkpoints and metrics behind an emulated slow disk (emulate_disk_mbps).
  // Declared before the coordinator, which writes through it until destroyed.
  Result<std::optional<double>> disk_rate = server::emulated_disk_bytes_per_second(*config);
  if (!disk_rate) return fail(disk_rate.status(), 2);
  std::unique_ptr<RateLimitedFileSystem> emulated_disk;
  if (*disk_rate) {
    Result<std::unique_ptr<RateLimitedFileSystem>> created =
        RateLimitedFileSystem::create(posix_file_system(), **disk_rate);
    if (!created) return fail(created.status(), 2);
    emulated_disk = std::move(*created);
  }
  FileSystem& state_fs = emulated_disk ? static_cast<FileSystem&>(*emulated_disk) : posix_file_system();
  Result<std::unique_ptr<server::Coordinator>> coordinator = server::Coordinator::create(
      *config, state_fs, log, steady_time_source(), relay ? &relay->uplink() : nullptr);
  if (!coordinator) return fail(coordinator.status(), 2);
  if (relay) {
    std::fprintf(stderr, "edgefl-server: relay listening on %s, upstream %s, model %s%s\n",
                 (*transport)->endpoint().c_str(), config->upstream.c_str(), config->model.c_str(),
                 security.curve ? ", CURVE" : "");
    relay->run();
  } else {
    std::fprintf(stderr, "edgefl-server: listening on %s, model %s, %u rounds, strategy %s%s\n",
                 (*transport)->endpoint().c_str(), config->model.c_str(), config->rounds,
                 config->strategy.name.c_str(), security.curve ? ", CURVE" : "");
  }
  board.publish((*coordinator)->snapshot());  // the recovered state, before the first poll
  if (status_http) {
    if (!config->status.listen_file.empty()) {
      Status written = atomic_write_file(config->status.listen_file, std::as_bytes(std::span(status_http->address())));
      if (!written.ok()) return fail(written, 2);
    }
    std::fprintf(stderr, "edgefl-server: status on %s://%s/\n", status_http->tls() ? "https" : "http",
                 status_http->address().c_str());
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  server::ServeOptions options;
  options.poll_wait = std::chrono::milliseconds(50);
  options.stop = [] { return stop_requested.load(); };
  options.snapshots = &board;
  Status served = server::serve(**coordinator, **transport, options);
  if (!served.ok()) return fail(served, 1);
  if (relay) {
    Status upstream = relay->stop();
    if (!upstream.ok() && upstream.code() != StatusCode::cancelled)
      return fail(upstream.with_context("upstream"), 1);
  }
  if (stop_requested.load()) {
    std::fprintf(stderr, "edgefl-server: stopped; continue with --resume\n");
    return 130;
  }
  const auto& history = (*coordinator)->history();
  if (!history.empty() && history.back().test_accuracy >= 0) {
    std::printf("final test accuracy %.2f%% after %llu rounds (model version %llu)\n",
                100.0 * history.back().test_accuracy,
                static_cast<unsigned long long>((*coordinator)->rounds_closed()),
                static_cast<unsigned long long>((*coordinator)->version()));
  }
  return 0;
}
