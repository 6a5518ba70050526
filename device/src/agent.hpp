// DeviceAgent: the device's state machine over runtime pieces.
//
//   connect -> Join -> Welcome -> resend the outbox -> wait for a Task -> train (on the
//   worker thread) -> write the Update to the outbox (durable) -> send -> Ack -> delete
//
// After a link drop, a silent server, a server restart or a reboot of the device itself it
// reconnects with capped, jittered backoff, rejoins and resends whatever the outbox still
// holds; the server's dedupe makes the resend harmless. A task whose update is already in the
// outbox is never trained again. Everything the device sends is encoded by proto and every
// byte it receives is verified before use.
//
//   auto agent = DeviceAgent::create(config, posix_file_system(), log);
//   auto agent = DeviceAgent::create(config, std::move(my_dataset), posix_file_system(), log);
//   Status end = agent->run(connect, stop);   // ok: the server finished the run
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "device_config.hpp"
#include "edgefl/data_source.hpp"
#include "edgefl/file_system.hpp"
#include "edgefl/outbox.hpp"
#include "edgefl/transport.hpp"
#include "training_worker.hpp"

namespace edgefl::device {

using LogSink = std::function<void(const std::string& line)>;
// Opens a fresh link to the server (a real DeviceTransport, or a fault-injecting one in tests).
using ChannelFactory = std::function<Result<std::unique_ptr<DeviceChannel>>()>;

struct AgentStats {
  uint64_t tasks_trained = 0;
  uint64_t updates_acked = 0;
  uint64_t updates_rejected = 0;
  uint64_t updates_resent = 0;
  uint64_t connections = 0;
  uint64_t offline_periods = 0;
};

class DeviceAgent {
 public:
  // Loads the local data named by config (data, partition.*).
  static Result<std::unique_ptr<DeviceAgent>> create(const DeviceConfig& config, FileSystem& fs,
                                                     LogSink log);
  // Trains on `local_data` instead (an application embedding the agent with its own samples);
  // config's data and partition settings are then unused.
  static Result<std::unique_ptr<DeviceAgent>> create(const DeviceConfig& config, Dataset local_data,
                                                     FileSystem& fs, LogSink log);
  ~DeviceAgent();

  // Runs until the server ends the run (ok), max_tasks are done and acknowledged (ok), `stop`
  // is set (cancelled), or something unrecoverable happens (the outbox cannot be written, the
  // server speaks another protocol version).
  Status run(const ChannelFactory& connect, const std::atomic<bool>& stop);

  const AgentStats& stats() const { return stats_; }
  const std::string& device_id() const { return device_id_; }
  std::size_t sample_count() const { return data_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  enum class SessionEnd { reconnect, finished, stopped };

  DeviceAgent(const DeviceConfig& config, FileSystem& fs, LogSink log);
  Result<SessionEnd> session(DeviceChannel& channel, const std::atomic<bool>& stop);
  Status send_join(DeviceChannel& channel);
  void resend_outbox(DeviceChannel& channel);
  static std::string outbox_id(uint64_t update_id);
  bool sleep_unless_stopped(Clock::duration duration, const std::atomic<bool>& stop);

  DeviceConfig config_;
  FileSystem* fs_;
  LogSink log_;
  std::string device_id_;
  uint64_t boot_counter_ = 0;
  uint64_t memory_budget_ = 0;
  uint64_t process_bytes_ = 0;      // resident size besides data (the Join tells the server)
  Backend backend_ = Backend::xnnpack;
  Dataset data_;
  std::optional<Outbox> outbox_;
  std::unique_ptr<TrainingWorker> worker_;
  AgentStats stats_;
  uint64_t heartbeat_sequence_ = 0;
  Clock::duration heartbeat_interval_;
  Clock::duration peer_timeout_;
  bool finishing_ = false;
  bool joined_this_session_ = false;  // a Welcome arrived on the current link  // max_tasks reached: leave once the outbox is acknowledged
};

}  // namespace edgefl::device
