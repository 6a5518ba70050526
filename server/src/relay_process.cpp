#include "relay_process.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include <unistd.h>

#include "edgefl/store/file_system.hpp"
#include "upstream_link.hpp"

namespace edgefl::server {

namespace {

std::string default_relay_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "relay";
  return std::string("relay-") + host;
}

std::chrono::milliseconds scaled_ms(double seconds, double time_scale) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * time_scale * 1000));
}

}  // namespace

Join relay_join(const std::string& relay_id) {
  Join join;
  join.device_id = relay_id;
  // Grows from one start to the next, as a device's boot counter does.
  join.boot_counter = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  join.capabilities.arch = device::host_arch();
  join.capabilities.cores = std::max(1u, std::thread::hardware_concurrency());
  join.capabilities.codecs = {CodecKind::f32, CodecKind::f16, CodecKind::int8_block,
                              CodecKind::topk};
  join.capabilities.software_version = "edgefl-server 0.1.0 (relay)";
  join.relay = true;
  return join;
}

Result<std::unique_ptr<RelayProcess>> RelayProcess::create(const ServerConfig& config,
                                                           NetContext& context, LogSink log) {
  std::unique_ptr<RelayProcess> relay(new RelayProcess());
  Result<Outbox> outbox = Outbox::open(posix_file_system(), config.state_dir + "/upstream-outbox");
  if (!outbox) return outbox.status();
  relay->outbox_.emplace(std::move(*outbox));
  relay->uplink_ = std::make_unique<RelayUplink>(*relay->outbox_);
  Result<DeviceSecurity> security =
      device::load_upstream_security(config.upstream_secret_key, config.upstream_server_key);
  if (!security) return security.status();
  SocketPolicy policy;
  policy.time_scale = config.time_scale;
  relay->connect_ =
      device::upstream_channel_factory(context, config.upstream, policy, std::move(*security));

  device::UpstreamOptions options;
  options.endpoint = config.upstream;
  options.join = relay_join(config.upstream_id.empty() ? default_relay_id() : config.upstream_id);
  options.heartbeat_interval = scaled_ms(config.heartbeat_s, config.time_scale);
  options.time_scale = config.time_scale;
  options.backoff_seed = std::hash<std::string>()(options.join.device_id) ^ config.seed;
  options.give_up_after = scaled_ms(config.upstream_give_up_s, config.time_scale);
  relay->session_ = std::make_unique<device::UpstreamSession>(
      std::move(options), *relay->outbox_, steady_time_source(),
      [log = std::move(log)](const std::string& line) { log("upstream: " + line); });
  return relay;
}

void RelayProcess::run() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { uplink_->end(session_->run(connect_, *uplink_, stop_)); });
}

Status RelayProcess::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return uplink_->ended() ? uplink_->end_status() : make_status(StatusCode::cancelled, "stopped");
}

RelayProcess::~RelayProcess() {
  (void)stop();
}

}  // namespace edgefl::server
