// edgefl-sensor-logger: an application that logs a sensor and takes part in federated
// training of a model of it, with the edgefl device agent embedded (no edgefl-device process).
//
//   edgefl-sensor-logger --endpoint tcp://192.168.1.10:5555 --device-id pi-attic
//       --sensor-source thermal:/sys/class/thermal/thermal_zone0/temp --sensor-readings 600
//   edgefl-sensor-logger --sensor-source csv:readings.csv --endpoint tcp://127.0.0.1:5555
//
// It reads readings into a bounded history (--sensor-capacity), turns the history into a
// "predict the next reading from the last --sensor-window" dataset and hands that to the
// agent, which trains the server's model on it each round. The server runs the matching
// model without evaluation data:
//   edgefl-server --model linear:8-1 --data none --rounds 5 --round-min-devices 2
// Every edgefl-device setting (--endpoint, --time-scale, --state-dir, --memory-budget, ...,
// or --config file.toml) applies; `--help` lists them. Exit status as edgefl-device's.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "edgefl/device/agent.hpp"
#include "edgefl/net/net_context.hpp"
#include "edgefl/config/option_table.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "sensor_dataset.hpp"
#include "sensor_source.hpp"

namespace {

std::atomic<bool> stop_requested{false};  // what a signal handler may touch
void on_signal(int) { stop_requested.store(true); }

struct SensorOptions {
  std::string source = "thermal:/sys/class/thermal/thermal_zone0/temp";
  uint32_t readings = 256;      // readings to collect before training (0: until the source ends)
  uint32_t capacity = 1024;     // readings kept on the device
  uint32_t window = 8;          // inputs per sample (the model is linear:<window>-1)
  uint32_t interval_ms = 1000;  // between readings of a live source
  float offset = 45.0f;
  float scale = 10.0f;
};

int fail(const edgefl::Status& status, int code) {
  std::fprintf(stderr, "edgefl-sensor-logger: %s\n", status.to_string().c_str());
  return code;
}

// Fills `history` from `source` until `wanted` readings were taken, the source ends or a
// signal arrives.
edgefl::Status collect(sensor_logger::SensorSource& source, const SensorOptions& options,
                       sensor_logger::SensorHistory& history) {
  for (uint32_t taken = 0; options.readings == 0 || taken < options.readings; ++taken) {
    if (stop_requested.load()) return edgefl::make_status(edgefl::StatusCode::cancelled, "stopped");
    edgefl::Result<std::optional<float>> reading = source.next();
    if (!reading) return reading.status();
    if (!reading->has_value()) break;
    history.add(**reading);
    if (source.live()) std::this_thread::sleep_for(std::chrono::milliseconds(options.interval_ms));
  }
  return edgefl::Status();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgefl;
  device::DeviceConfig config;
  config.state_dir = "sensor-logger-state";
  SensorOptions sensor;
  OptionTable table;
  device::bind_device_options(config, table);
  table.add("sensor.source", &sensor.source, "csv:<file> (last column) or thermal:<sysfs file>");
  table.add("sensor.readings", &sensor.readings, "readings to take before training (0: all)");
  table.add("sensor.capacity", &sensor.capacity, "readings kept on the device (oldest drop out)");
  table.add("sensor.window", &sensor.window, "past readings per sample (model linear:<window>-1)");
  table.add("sensor.interval_ms", &sensor.interval_ms, "pause between readings of a live sensor");
  table.add("sensor.offset", &sensor.offset, "standardisation: value = (reading - offset) / scale");
  table.add("sensor.scale", &sensor.scale, "standardisation scale");
  std::string help;
  Status parsed = table.parse_command_line(argc, argv, "edgefl-sensor-logger",
                                           "edgefl-sensor-logger: federated learning on sensor readings", &help);
  if (parsed.code() == StatusCode::cancelled) {
    std::printf("%s", help.c_str());
    return 0;
  }
  if (!parsed.ok()) return fail(parsed, 2);
  if (sensor.window == 0 || sensor.capacity <= sensor.window || !(sensor.scale > 0)) {
    return fail(make_status(StatusCode::invalid_argument,
                            "need sensor.window >= 1, sensor.capacity > sensor.window, sensor.scale > 0"), 2);
  }
  if (config.model.empty()) config.model = "linear:" + std::to_string(sensor.window) + "-1";

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Result<std::unique_ptr<sensor_logger::SensorSource>> source = sensor_logger::open_sensor_source(sensor.source);
  if (!source) return fail(source.status(), 2);
  sensor_logger::SensorHistory history(sensor.capacity, sensor.window, {sensor.offset, sensor.scale});
  Status collected = collect(**source, sensor, history);
  if (collected.code() == StatusCode::cancelled) return 130;
  if (!collected.ok()) return fail(collected, 1);
  Result<Dataset> data = history.dataset();
  if (!data) return fail(data.status(), 1);

  auto log = [quiet = config.quiet](const std::string& line) {
    if (!quiet || line.rfind("warning", 0) == 0) std::fprintf(stderr, "%s\n", line.c_str());
  };
  Result<std::unique_ptr<device::DeviceAgent>> agent =
      device::DeviceAgent::create(config, std::move(*data), posix_file_system(), log);
  if (!agent) return fail(agent.status(), 2);
  std::fprintf(stderr, "edgefl-sensor-logger %s: %zu readings kept, %zu samples, server %s\n",
               (*agent)->device_id().c_str(), history.size(), (*agent)->sample_count(),
               config.endpoint.c_str());

  Result<std::unique_ptr<NetContext>> context = NetContext::create();
  if (!context) return fail(context.status(), 1);
  SocketPolicy policy;
  policy.time_scale = config.time_scale;
  device::ChannelFactory connect = [&]() -> Result<std::unique_ptr<DeviceChannel>> {
    Result<std::unique_ptr<DeviceTransport>> transport =
        DeviceTransport::connect(**context, config.endpoint, policy, DeviceSecurity{});
    if (!transport) return transport.status();
    return std::unique_ptr<DeviceChannel>(std::move(*transport));
  };
  Status end = (*agent)->run(connect, stop_requested);
  if (end.code() == StatusCode::cancelled) return 130;
  if (!end.ok()) return fail(end, 1);
  const device::AgentStats& stats = (*agent)->stats();
  std::printf("{\"device\":\"%s\",\"samples\":%zu,\"tasks_trained\":%llu,\"updates_acked\":%llu}\n",
              (*agent)->device_id().c_str(), (*agent)->sample_count(),
              static_cast<unsigned long long>(stats.tasks_trained),
              static_cast<unsigned long long>(stats.updates_acked));
  return 0;
}
