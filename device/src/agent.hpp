// DeviceAgent: a training device — an UpstreamSession (upstream_session.hpp) whose Tasks go
// to a TrainingWorker and whose finished updates go to the outbox and out.
//
//   connect -> Join -> Welcome -> resend the outbox -> wait for a Task -> train (on the
//   worker thread) -> write the Update to the outbox (durable) -> send -> Ack -> delete
//
// After a link drop, a silent server, a server restart or a reboot of the device itself it
// reconnects with capped, jittered backoff, rejoins and resends whatever the outbox still
// holds; the server's dedupe makes the resend harmless. A task whose update is already in the
// outbox is never trained again. Everything the device sends is encoded by proto and every
// byte it receives is verified before use. The simulate.* settings wrap the pieces: a slowed
// trainer (slowed_trainer.hpp) and links with seeded outages (simulated_outage.hpp).
//
//   auto agent = DeviceAgent::create(config, posix_file_system(), log);
//   auto agent = DeviceAgent::create(config, std::move(my_dataset), posix_file_system(), log);
//   Status end = agent->run(connect, stop);   // ok: the server finished the run
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "device_config.hpp"
#include "edgefl/data/data_source.hpp"
#include "edgefl/store/file_system.hpp"
#include "edgefl/store/outbox.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/net/transport.hpp"
#include "dpsgd_worker.hpp"
#include "simulated_outage.hpp"
#include "training_worker.hpp"
#include "upstream_session.hpp"

namespace edgefl::device {

struct AgentStats {
  uint64_t tasks_trained = 0;
  uint64_t updates_acked = 0;
  uint64_t updates_rejected = 0;
  uint64_t updates_resent = 0;
  uint64_t connections = 0;
  uint64_t offline_periods = 0;
};

class DeviceAgent final : private UpstreamClient {
 public:
  // Loads the local data named by config (data, partition.*). Protocol timers read `clock`.
  static Result<std::unique_ptr<DeviceAgent>> create(const DeviceConfig& config, FileSystem& fs, LogSink log,
                                                     TimeSource& clock = steady_time_source());
  // Trains on `local_data` instead (an application embedding the agent with its own samples);
  // config's data and partition settings are then unused.
  static Result<std::unique_ptr<DeviceAgent>> create(const DeviceConfig& config, Dataset local_data,
                                                     FileSystem& fs, LogSink log,
                                                     TimeSource& clock = steady_time_source());
  ~DeviceAgent() override;

  // Runs until the server ends the run (ok), max_tasks are done and acknowledged (ok), `stop`
  // is set (cancelled), or something unrecoverable happens (the outbox cannot be written, the
  // server speaks another protocol version).
  Status run(const ChannelFactory& connect, const std::atomic<bool>& stop);

  AgentStats stats() const;
  const std::string& device_id() const { return device_id_; }
  std::size_t sample_count() const { return data_.size(); }

 private:
  DeviceAgent(const DeviceConfig& config, FileSystem& fs, LogSink log);
  Join join_message() const;

  // UpstreamClient
  Status turn(UpstreamSession& session) override;
  void on_task(const Task& task, Bytes message) override;
  uint64_t working_on() const override { return worker_->working_on(); }
  bool finishing() const override { return finishing_; }
  void on_peer_assignment(const PeerAssignment& assignment, Bytes message) override;
  // Opens the peer socket (peer.listen) and the decentralised-training worker.
  Status open_peer_mode();

  DeviceConfig config_;
  FileSystem* fs_;
  LogSink log_;
  std::string device_id_;
  uint64_t boot_counter_ = 0;
  uint64_t memory_budget_ = 0;
  uint64_t process_bytes_ = 0;      // resident size besides data (the Join tells the server)
  Dataset data_;
  std::optional<Outbox> outbox_;
  std::unique_ptr<TrainingWorker> worker_;
  std::unique_ptr<UpstreamSession> session_;
  std::unique_ptr<SimulatedOutages> outages_;  // simulate.offline_probability > 0
  std::string peer_endpoint_;                  // what the Join advertises (peer mode)
  std::unique_ptr<DpsgdWorker> dpsgd_;         // peer.listen set
  static constexpr std::size_t kMaxUnsentReports = 64;
  std::deque<Bytes> unsent_reports_;           // PeerReports waiting for a joined link
  uint64_t tasks_trained_ = 0;
  bool finishing_ = false;  // max_tasks reached: leave once the outbox is acknowledged
};

}  // namespace edgefl::device
