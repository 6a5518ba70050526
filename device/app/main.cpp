// edgefl-device: the federated learning client for one board.
//
//   edgefl-device --endpoint tcp://192.168.1.10:5555 --device-id pi-kitchen
//                 --partition-index 3 --state-dir /var/lib/edgefl        (one line)
//   edgefl-device --config /etc/edgefl/device.toml
//   edgefl-device status --state-dir /var/lib/edgefl       (what a running device is doing)
//
// Exit status: 0 the server finished the run, 1 an unrecoverable failure (the outbox is kept
// and resent on the next start), 2 a bad flag or configuration, 130 stopped by a signal.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent.hpp"
#include "device_status.hpp"
#include "edgefl/base/timing.hpp"
#include "edgefl/net/curve.hpp"
#include "edgefl/net/net_context.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "upstream_link.hpp"

namespace {

// The only process-wide state: what a signal handler may touch.
std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested.store(true); }

int fail(const edgefl::Status& status, int code) {
  std::fprintf(stderr, "edgefl-device: %s\n", status.to_string().c_str());
  return code;
}


uint64_t unix_ms_now() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// `edgefl-device status --state-dir DIR`: prints the status file a device keeps there.
int print_status(int argc, char** argv) {
  using namespace edgefl;
  std::string state_dir;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--state-dir" && i + 1 < argc) {
      state_dir = argv[++i];
    } else if (arg.rfind("--state-dir=", 0) == 0) {
      state_dir = arg.substr(12);
    } else {
      std::fprintf(stderr, "edgefl-device status: unknown argument '%s'; usage: edgefl-device status --state-dir DIR\n",
                   arg.c_str());
      return 2;
    }
  }
  if (state_dir.empty()) {
    std::fprintf(stderr, "edgefl-device status: usage: edgefl-device status --state-dir DIR\n");
    return 2;
  }
  Result<device::DeviceStatus> status = device::read_device_status(posix_file_system(), state_dir + "/status.json");
  if (!status) {
    if (status.status().code() == StatusCode::not_found) {
      std::fprintf(stderr, "edgefl-device status: no status file in %s (has a device run with this state_dir?)\n",
                   state_dir.c_str());
      return 1;
    }
    return fail(status.status(), 1);
  }
  std::fputs(device::format_device_status(*status, unix_ms_now()).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgefl;
  if (argc >= 2 && std::string(argv[1]) == "status") return print_status(argc, argv);
  std::string help;
  Result<double> time_scale = time_scale_from_env();  // the time_scale default (qemu runs)
  if (!time_scale) return fail(time_scale.status(), 2);
  Result<device::DeviceConfig> config = device::load_device_config(argc, argv, &help, *time_scale);
  if (!config) {
    if (config.status().code() == StatusCode::cancelled) {
      std::printf("%s", help.c_str());
      return 0;
    }
    return fail(config.status(), 2);
  }
  // EDGEFL_DIRECT_ISA stands in for --direct-isa (to compare kernels without editing configs).
  if (const char* isa = std::getenv("EDGEFL_DIRECT_ISA"); isa != nullptr && config->direct_isa == DirectIsa::best) {
    Result<DirectIsa> parsed = parse_direct_isa(isa);
    if (!parsed) return fail(parsed.status().with_context("EDGEFL_DIRECT_ISA"), 2);
    config->direct_isa = *parsed;
  }
  Result<DeviceSecurity> security =
      device::load_upstream_security(config->secret_key_file, config->server_key_file);
  if (!security) return fail(security.status(), 2);
  auto log = [quiet = config->quiet](const std::string& line) {
    if (!quiet || line.rfind("warning", 0) == 0) std::fprintf(stderr, "%s\n", line.c_str());
  };
  Result<std::unique_ptr<device::DeviceAgent>> agent =
      device::DeviceAgent::create(*config, posix_file_system(), log);
  if (!agent) return fail(agent.status(), 2);
  Result<std::unique_ptr<NetContext>> context = NetContext::create();
  if (!context) return fail(context.status(), 1);

  SocketPolicy policy;
  policy.time_scale = config->time_scale;
  device::ChannelFactory connect =
      device::upstream_channel_factory(**context, config->endpoint, policy, std::move(*security));
  if (!config->quiet) {
    std::fprintf(stderr, "edgefl-device %s: %zu local samples, server %s\n", (*agent)->device_id().c_str(),
                 (*agent)->sample_count(), config->endpoint.c_str());
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Status end = (*agent)->run(connect, stop_requested);
  if (end.code() == StatusCode::cancelled) return 130;
  if (!end.ok()) return fail(end, 1);
  return 0;
}
