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
// board's steps (step_pacer.hpp) and links with seeded outages (simulated_outage.hpp).
//
// Eligibility (protocol 1.6): once a second the agent reads the board (system_probe.hpp) and
// judges it by the rule of the server's Welcome (eligibility_monitor.hpp); heartbeats carry
// the reasons. A Task that arrives while the device is ineligible is not trained (the server
// sends it again once the device heartbeats eligible and idle); a task in training when the
// device turns ineligible is finished and its update sent. What the agent is doing is kept in
// <state_dir>/status.json (device_status.hpp) for `edgefl-device status`.
//
//   auto agent = DeviceAgent::create(config, posix_file_system(), log);
//   auto agent = DeviceAgent::create(config, std::move(my_dataset), posix_file_system(), log);
//   auto agent = DeviceAgent::create(config, SharedSamples{dataset, rows}, fs, log, &pool);
//   Status end = agent->run(connect, stop);   // ok: the server finished the run
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "device_config.hpp"
#include "device_status.hpp"
#include "eligibility_monitor.hpp"
#include "edgefl/data/data_source.hpp"
#include "edgefl/store/file_system.hpp"
#include "edgefl/store/outbox.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/net/transport.hpp"
#include "dpsgd_worker.hpp"
#include "simulated_outage.hpp"
#include "system_probe.hpp"
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

// Samples several agents in one process share (the simulator): one dataset in memory, each
// agent an index list into it, nothing copied or decompressed per agent.
struct SharedSamples {
  std::shared_ptr<const Dataset> dataset;
  std::vector<uint32_t> rows;  // this device's rows, each below dataset->size() (empty: all)
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
  // Trains on its rows of a shared dataset, on `pool`'s threads when given (else on a thread
  // of its own); the pool outlives the agent.
  static Result<std::unique_ptr<DeviceAgent>> create(const DeviceConfig& config,
                                                     SharedSamples samples, FileSystem& fs,
                                                     LogSink log, TrainingPool* pool,
                                                     TimeSource& clock = steady_time_source());
  ~DeviceAgent() override;

  // Runs until the server ends the run (ok), max_tasks are done and acknowledged (ok), `stop`
  // is set (cancelled), or something unrecoverable happens (the outbox cannot be written, the
  // server speaks another protocol version).
  Status run(const ChannelFactory& connect, const std::atomic<bool>& stop);

  AgentStats stats() const;
  // kIneligible* bits as of the last reading (0: may train).
  uint32_t ineligible() const override { return monitor_.reasons(); }
  const std::string& device_id() const { return device_id_; }
  std::size_t sample_count() const { return data_view().size(); }

 private:
  DeviceAgent(const DeviceConfig& config, FileSystem& fs, LogSink log, TimeSource& clock);
  Join join_message() const;
  DatasetView data_view() const;

  // UpstreamClient
  Status turn(UpstreamSession& session) override;
  Status deliver_result(UpstreamSession& session);
  void on_task(const Task& task, Bytes message) override;
  uint64_t working_on() const override { return worker_->working_on(); }
  bool finishing() const override { return finishing_; }
  void on_welcome(const Welcome& welcome) override;
  void on_link_end() override;

  // Reads the board and judges it when a second has passed since the last reading (or `now_too`).
  void check_eligibility(bool now_too);
  DeviceStatus current_status(const std::string& state) const;
  void publish_status(const std::string& state, bool force);
  void on_peer_assignment(const PeerAssignment& assignment, Bytes message) override;
  // Opens the peer socket (peer.listen) and the decentralised-training worker.
  Status open_peer_mode();

  DeviceConfig config_;
  FileSystem* fs_;
  TimeSource* clock_;
  LogSink log_;  // records warnings as the last error, then passes every line on
  std::string device_id_;
  uint64_t boot_counter_ = 0;
  uint64_t memory_budget_ = 0;
  uint64_t process_bytes_ = 0;      // resident size besides data (the Join tells the server)
  SharedSamples data_;
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

  std::unique_ptr<SystemProbe> probe_;
  EligibilityMonitor monitor_;
  SteadyTime last_probe_{};
  bool probed_ = false;
  uint64_t skipped_task_ = 0;  // the last Task not trained because the device was ineligible
  uint64_t training_round_ = 0;
  bool linked_ = false;        // on a welcomed link
  std::string last_error_;
  uint64_t last_error_unix_ms_ = 0;
  std::unique_ptr<StatusFile> status_file_;
  bool status_failed_ = false;  // its write failure was logged once
};

}  // namespace edgefl::device
