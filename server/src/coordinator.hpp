// Coordinator: the synchronous-round server. Owns the global model, the round state machine,
// the write-ahead log and checkpoints; talks to devices through a ServerChannel.
//
//   auto coordinator = Coordinator::create(config, fs, log);      // loads --resume state
//   while (!coordinator->finished() && !stop) {
//     EDGEFL_RETURN_IF_ERROR(coordinator->poll(channel, 50ms));    // one message + timers
//   }
//   coordinator->say_goodbye(channel);
//
// A round: open (select devices, send Task) -> collect Updates (verify, dedupe, WAL + fsync,
// Ack, accumulate) -> close at all-answered, min_updates + grace, or the deadline -> apply the
// strategy -> evaluate -> checkpoint (atomic) -> rotate the WAL -> metrics. The WAL generation
// of a round is its number, so a restart replays exactly the updates of the round that was
// open and none of a closed one (write_ahead_log.hpp). Not thread-safe: one thread polls.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "device_registry.hpp"
#include "edgefl/aligned_bytes.hpp"
#include "edgefl/compute.hpp"
#include "edgefl/dataset.hpp"
#include "edgefl/exact_mean.hpp"
#include "edgefl/file_system.hpp"
#include "edgefl/float_buffer.hpp"
#include "edgefl/model_spec.hpp"
#include "edgefl/proto.hpp"
#include "edgefl/server_strategy.hpp"
#include "edgefl/transport.hpp"
#include "edgefl/write_ahead_log.hpp"
#include "round_metrics.hpp"
#include "server_config.hpp"

namespace edgefl::server {

// Where the coordinator reports: human lines (progress, warnings). Metrics go to their file.
using LogSink = std::function<void(const std::string& line)>;

class Coordinator {
 public:
  static Result<std::unique_ptr<Coordinator>> create(const ServerConfig& config, FileSystem& fs,
                                                     LogSink log);
  ~Coordinator();

  // Waits up to `wait` for one message, handles it, then runs the round timers. Errors are
  // fatal (the WAL or a checkpoint could not be written): stop serving, restart with --resume.
  Status poll(ServerChannel& channel, std::chrono::milliseconds wait);
  bool finished() const;
  // Tells every known device the run is over (Bye finished).
  void say_goodbye(ServerChannel& channel);

  std::span<const float> global() const { return global_.span(); }
  uint64_t version() const { return version_; }
  uint64_t rounds_closed() const { return rounds_closed_; }
  const std::vector<RoundMetrics>& history() const { return history_; }
  // Update ids accepted per (device, round), for exactly-once checks in tests.
  const std::map<std::pair<std::string, uint64_t>, uint64_t>& accepted() const { return accepted_; }
  const WalRecovery& recovery() const { return wal_->recovery(); }

 private:
  Coordinator(const ServerConfig& config, FileSystem& fs, LogSink log, ModelSpec spec);

  Status load_state();
  Status replay(std::span<const std::byte> record);
  Status handle(ServerChannel& channel, Inbound& inbound);
  Status handle_update(ServerChannel& channel, const std::string& device_id, const std::string& peer,
                       const DecodedMessage& decoded, std::span<const uint8_t> raw);
  Status run_timers(ServerChannel& channel);
  Status open_round(ServerChannel& channel);
  Status close_round(ServerChannel& channel);
  Status send_task(ServerChannel& channel, const DeviceRecord& device);
  Status send(ServerChannel& channel, const std::string& peer, const Message& message);
  void reject(ServerChannel& channel, const std::string& peer, const Status& why,
              std::optional<uint64_t> update_id);
  Status write_checkpoint();
  Status evaluate(RoundMetrics& metrics);
  // resource_exhausted when a device's memory budget cannot hold this run's training.
  Status check_fits(const Capabilities& capabilities) const;
  void warn(const std::string& line);
  Clock::duration scaled(double seconds) const;

  ServerConfig config_;
  FileSystem* fs_;
  LogSink log_;
  ModelSpec spec_;
  DecodeLimits limits_;
  uint64_t session_ = 0;

  FloatBuffer global_;
  FloatBuffer scratch_;   // one decoded update
  FloatBuffer mean_delta_;
  std::unique_ptr<ServerStrategy> strategy_;
  std::unique_ptr<ExactMean> mean_;
  std::optional<WriteAheadLog> wal_;
  AlignedBytes decode_scratch_;

  std::unique_ptr<ComputeContext> compute_;
  std::optional<Dataset> test_data_;

  DeviceRegistry devices_;
  uint64_t version_ = 0;
  uint64_t rounds_closed_ = 0;  // the open round is rounds_closed_ + 1

  // The open round.
  bool round_open_ = false;
  Clock::time_point round_opened_at_;
  std::optional<Clock::time_point> enough_at_;  // when min_updates was reached
  std::vector<uint8_t> task_bytes_;             // the round's Task, encoded once
  std::set<std::string> asked_;
  std::set<std::string> answered_;
  std::map<std::pair<std::string, uint64_t>, uint64_t> accepted_;  // (device, round) -> update id
  RoundMetrics current_;
  double loss_sum_ = 0;  // sample-weighted train loss of the round
  uint64_t batch_sum_ = 0;

  Clock::time_point started_at_;
  Clock::time_point waiting_since_;
  std::vector<RoundMetrics> history_;
  std::FILE* metrics_file_ = nullptr;
};

}  // namespace edgefl::server
