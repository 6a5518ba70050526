// Coordinator: the server. Owns the global model, the write-ahead log and checkpoints; talks
// to devices through a ServerChannel. `create` picks the scheduling from the strategy:
// synchronous strategies (fedavg, fedavgm, fedadam, nesterov) run rounds (RoundCoordinator),
// asynchronous ones (fedasync, fedbuff) fold updates in as they arrive (AsyncCoordinator).
//
//   auto coordinator = Coordinator::create(config, fs, log);      // loads --resume state
//   while (!coordinator->finished() && !stop) {
//     EDGEFL_RETURN_IF_ERROR(coordinator->poll(channel, 50ms));    // a batch of messages + timers
//   }
//   coordinator->say_goodbye(channel);
//   while (!coordinator->farewell_over() && !stop) coordinator->poll(channel, 50ms);
//
// This class dispatches messages and does what both schedules share, once: Join/Welcome and
// the capacity check, heartbeats, update verification, and the order of durability around an
// update (dedupe, log, Ack). Updates that arrive together share one fsync (group commit): each
// is staged for the log as it is handled, the batch goes to the log's thread at its end, and
// each Ack waits until that thread's sync has made its update durable. Meanwhile the next
// polls keep receiving, decoding and folding; a poll that finds nothing to receive waits for
// the sync instead. Its parts each do one job: UpdateLedger (checkpoint, write-ahead
// log, dedupe), TaskFactory (settings -> Task), Evaluator (held-out score), MetricsSink and
// RoundTally (metrics lines), DeviceRegistry (who is there). A schedule decides which task a
// device gets, whether an update is admitted, what it changes, and when a model version is
// done. Time comes from a TimeSource, so tests drive it over in-memory channels.
// Not thread-safe: one thread polls.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device_registry.hpp"
#include "edgefl/aggregate/server_strategy.hpp"
#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/base/trainable.hpp"
#include "edgefl/net/transport.hpp"
#include "edgefl/proto/aligned_bytes.hpp"
#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/store/file_system.hpp"
#include "evaluator.hpp"
#include "fleet_snapshot.hpp"
#include "join_check.hpp"
#include "log_throttle.hpp"
#include "metrics_sink.hpp"
#include "round_metrics.hpp"
#include "server_config.hpp"
#include "standardization_gate.hpp"
#include "task_factory.hpp"
#include "update_ledger.hpp"

namespace edgefl::server {

// Where the coordinator reports: human lines (progress, warnings). Metrics go to their file.
using LogSink = std::function<void(const std::string& line)>;
class RelayUplink;

class Coordinator {
 public:
  // What an undecodable message costs its sender, in messages of its rate budget (the
  // transport's burst is 400: the eighth junk message in a row ends the connection).
  static constexpr double kJunkCost = 50;

  // A fresh run starts from config.initial_params when given (an ONNX graph's or a weights
  // file's, a pretrained network whose head the run fine-tunes), else from the spec and the
  // seed. A resumed run keeps its checkpoint's model. With config.upstream set the coordinator
  // is a relay (relay_coordinator.hpp) whose upstream side is `uplink` (required then).
  static Result<std::unique_ptr<Coordinator>> create(const ServerConfig& config, FileSystem& fs,
                                                     LogSink log,
                                                     TimeSource& clock = steady_time_source(),
                                                     RelayUplink* uplink = nullptr);
  virtual ~Coordinator();

  // Waits up to `wait` for one message (not at all while the log syncs), handles it and up to
  // kMaxBatch - 1 more that have already arrived, hands the batch's updates to the log's
  // thread, sends the Acks of every update that is durable by then, then runs the timers. A
  // poll that receives nothing while the log syncs waits for the sync.
  // Errors are fatal (the WAL or a checkpoint could not be written): stop serving, restart
  // with --resume.
  // Once finished, every message is answered with Bye(finished).
  Status poll(ServerChannel& channel, std::chrono::milliseconds wait);
  // Rounds closed (synchronous) or model versions produced (asynchronous) reached `rounds`; a
  // relay: its upstream ended the run.
  virtual bool finished() const;
  // Tells every known device the run is over (Bye finished) and starts the farewell: polls
  // still answer a resent update (its Ack was lost) until every device has confirmed the end
  // with its own Bye, or farewell_s has passed.
  void say_goodbye(ServerChannel& channel);
  bool farewell_over() const;

  bool asynchronous() const { return strategy_->asynchronous(); }
  // Messages handled per poll at most: a batch shares one fsync, and timers still run often.
  static constexpr int kMaxBatch = 64;
  // Bytes handed to the log and not yet durable beyond which a poll waits for the log before
  // receiving more: when the disk is slower than the arrivals, memory stays bounded.
  static constexpr uint64_t kMaxLogBacklog = uint64_t{128} << 20;
  std::span<const float> global() const { return global_.span(); }
  uint64_t version() const { return version_; }
  // Synchronous: rounds closed. Asynchronous: model versions produced (== version()).
  uint64_t rounds_closed() const { return rounds_closed_; }
  const std::vector<RoundMetrics>& history() const { return history_; }
  // Update ids accepted per dedupe key, for exactly-once checks in tests. Entries too old to
  // matter (two rounds back; beyond max_staleness) are dropped.
  const std::map<AcceptedKey, uint64_t>& accepted() const { return ledger_->accepted_map(); }
  const WalRecovery& recovery() const { return ledger_->recovery(); }
  // What the status endpoint shows, copied now (O(devices)): call it on a timer, not per poll.
  std::shared_ptr<const FleetSnapshot> snapshot() const;
  // The standardisation the devices apply (empty: none, or federated statistics still pending).
  const Standardization& standardization() const { return standardization_->fixed(); }
  // When the open round closes whatever arrived; none between rounds and in asynchronous runs.
  virtual std::optional<Clock::time_point> round_deadline() const { return std::nullopt; }

 protected:
  Coordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
              std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator);

  // What a schedule says about an arriving update.
  struct Admission {
    Status refusal;          // not ok: reject with this status
    bool late = false;       // the refusal is for a closed round (counted as late)
    uint64_t staleness = 0;  // versions between the update's base and the current model
  };

  // ---- The schedule's hooks ----
  virtual AcceptedKey dedupe_key(const std::string& device_id, const Update& update) const = 0;
  virtual Admission admit(const Update& update) const = 0;
  // Folds verified update values into the state. An error refuses the update (nothing changed).
  virtual Status fold(const std::string& device_id, const Update& update, std::span<const float> values,
                      const Admission& admission) = 0;
  // Folds a relay's exact partial sum (Update.partial_sum) into the state. Only rounds can:
  // the default refuses, naming the strategy.
  virtual Status fold_partial_sum(const std::string& device_id, const Update& update,
                                  const Admission& admission);
  // After the update is durable (live) or replayed from the log.
  virtual Status after_logged(const std::string& device_id, const Update& update, const Admission& admission,
                              bool replaying) = 0;
  // After the Ack (live only): hand out the next task, publish a new version.
  virtual Status after_ack(ServerChannel&, const std::string& /*device_id*/, const Update&) { return Status(); }
  // After an update from `device_id` was refused.
  virtual Status after_refusal(ServerChannel&, const std::string& /*device_id*/, const Update&) { return Status(); }
  virtual Status on_joined(ServerChannel& channel, DeviceRecord& device) = 0;
  virtual Status on_heartbeat(ServerChannel& channel, DeviceRecord& device, uint64_t working_on) = 0;
  virtual Status run_timers(ServerChannel& channel) = 0;
  // Checkpoint extras: scalars only this schedule needs, read back before the log replays.
  virtual void save_extras(Checkpoint&) const {}
  virtual Status restore_extras(const Checkpoint& checkpoint) = 0;
  // After the checkpoint and the log were recovered, before the first message.
  virtual Status after_recovery() { return Status(); }
  // A message of a type the shared dispatch does not handle (decentralised training's
  // PeerReport): true when the schedule took it, false to refuse it as not for a device to send.
  virtual Result<bool> handle_other(ServerChannel&, DeviceRecord&, const DecodedMessage&) { return false; }
  // A device said Bye and was forgotten.
  virtual void on_left(const std::string& /*device_id*/) {}
  // Whether a relay (Join.relay, protocol 1.7) may join: only synchronous rounds fold partial sums.
  virtual bool takes_relays() const { return false; }
  // The run id updates must carry (a relay: its upstream's).
  virtual uint64_t bound_run_id() const;

  // ---- Shared machinery for the schedules ----
  // A Task for `task_id` with the run's training settings and the current global model.
  Result<std::vector<uint8_t>> encode_task(uint64_t task_id, uint64_t round,
                                           std::span<const float> optimizer_state = {},
                                           uint64_t optimizer_steps = 0) const;
  // Sends an encoded task to a device; a dead link is only a warning (resent on rejoin). A
  // task the device was already sent counts as a resend in the metrics.
  Status send_task_bytes(ServerChannel& channel, DeviceRecord& device, std::span<const uint8_t> task,
                         uint64_t task_id);
  // Whether a device that says it is idle may be sent its task again: once per two heartbeat
  // intervals, so a device heartbeating fast cannot make the server stream Tasks at it.
  bool may_resend(const DeviceRecord& device) const;
  Status send(ServerChannel& channel, const std::string& peer, const Message& message);
  // Queues an Ack until every update appended so far is durable (release_acks).
  void acknowledge(const std::string& peer, const std::string& device_id, const Update& update, AckStatus status);
  void reject(ServerChannel& channel, const std::string& peer, const Status& why, std::optional<uint64_t> update_id);
  // The log cannot store updates (disk full or failing): the device keeps this one (no Ack)
  // and hears why; the server then stops, since nothing more can be made durable.
  void reject_unstored(ServerChannel& channel, const std::string& peer, uint64_t update_id);
  // Checkpoint (atomic) naming `generation` as the log that follows, then rotate the log.
  Status checkpoint_and_rotate(uint64_t generation);
  // model_hash of the current global model, remembered per version for check_binding.
  uint32_t current_hash() const;
  // Rewrites the current generation's checkpoint (the log that follows must be empty).
  Status checkpoint_in_place() { return write_checkpoint(std::nullopt); }
  // The export.* model file, when the run has reached a multiple of export.every_rounds.
  void export_if_due();
  uint64_t generation() const { return ledger_->generation(); }
  // Completes the tally (loss, evaluation, timing), writes the metrics line and starts a new one.
  Status publish_metrics(Clock::time_point started_at);
  // Writes one JSON line of the schedule's own kind to the metrics file (durably).
  Status write_metrics_line(const std::string& json);
  const Evaluator& evaluator() const { return evaluator_; }
  Clock::time_point now() const { return clock_->now(); }
  // Whether enough devices (min_devices) are live and eligible; times out the wait only while
  // fewer than min_devices are live at all.
  Result<bool> enough_devices(Clock::time_point now);
  std::vector<std::string> live_devices(Clock::time_point now);
  // Live devices that did not say they must not train (heartbeat eligibility, protocol 1.6).
  std::vector<std::string> eligible_devices(Clock::time_point now);
  void note_eligibility(DeviceRecord& device, const Heartbeat& heartbeat);
  void warn(const std::string& line);
  Clock::duration scaled(double seconds) const;

  ServerConfig config_;
  LogSink log_;
  TimeSource* clock_;
  ModelSpec spec_;
  DecodeLimits limits_;
  std::unique_ptr<ServerStrategy> strategy_;
  FloatBuffer global_;
  DeviceRegistry devices_;
  uint64_t version_ = 0;
  uint64_t rounds_closed_ = 0;
  std::optional<UpdateLedger> ledger_;
  RoundTally tally_;         // the round or version being built
  Clock::time_point started_at_;
  Clock::time_point farewell_until_{};
  Clock::time_point waiting_since_;

 private:
  Status open_services(FileSystem& fs);
  Status restore(const Checkpoint& checkpoint);
  Status replay(const std::string& device_id, std::span<const uint8_t> update_message);
  Status handle(ServerChannel& channel, Inbound& inbound);
  // Handles one batch of messages and hands its updates to the log's thread.
  Status handle_batch(ServerChannel& channel, std::chrono::milliseconds wait);
  // Sends, in order, the queued Acks whose updates are durable, and runs after_ack for the
  // accepted ones. Once the log failed, the accepted updates not durable are refused (the
  // devices keep them) and the log's error is returned.
  Status release_acks(ServerChannel& channel);
  // Waits for the log's thread (every submitted update durable, or its error) and counts its
  // fsyncs in the tally.
  Status settle_log();
  // `version`: the Join's envelope version (a 1.5 device cannot standardise its data; a 1.6
  // device reports its eligibility).
  Status handle_join(ServerChannel& channel, const Inbound& inbound, const Join& join,
                     uint16_t version, Clock::time_point now);
  // ---- Federated standardisation (standardization_gate.hpp): before round 1 ----
  // A device's DataStatistics: kept, or refused (the device is then shut out of the run).
  Status handle_statistics(ServerChannel& channel, const DeviceRecord& device,
                           const std::string& peer, const DataStatistics& statistics);
  // The statistics phase's timer: fixes the standardisation once every live device (at least
  // min_devices) reported, or join_timeout_s passed with min_devices reports.
  Status gather_statistics();
  // Hands the fixed standardisation to the tasks and the evaluator.
  Status apply_standardization();
  // The checkpoint of the current state: as `rotate_to`, followed by a new log; or (nullopt)
  // rewritten in place of the current generation's (UpdateLedger::rewrite_checkpoint).
  Status write_checkpoint(std::optional<uint64_t> rotate_to);
  Status handle_update(ServerChannel& channel, const DeviceRecord& device, const std::string& peer,
                       const DecodedMessage& decoded, std::span<const uint8_t> raw);
  // Decodes the payload and folds it in, or says why not.
  Status verify_and_fold(const std::string& device_id, const Update& update, const DecodedMessage& decoded,
                         const Admission& admission);
  // out_of_range when an update claims more samples than its device declared or the cap.
  Status check_sample_weight(const DeviceRecord& device, const Update& update) const;
  // stale when an update was trained for another run or on a model other than its base
  // version's (updates from 1.1 devices carry no run id and are not checked).
  Status check_binding(const Update& update) const;
  // The device a message came from: by authenticated identity, else by routing id.
  DeviceRecord* sender(const Inbound& inbound, Clock::time_point now);

  struct PendingAck {
    std::string peer;
    std::string device_id;
    Update update;  // without its payload, which points into the received bytes
    AckStatus status = AckStatus::accepted;
    uint64_t durable_at = 0;  // the log sequence that must be durable first
  };
  std::deque<PendingAck> pending_acks_;
  bool batch_accepted_ = false;  // the batch being handled holds a new update
  bool releasing_acks_ = false;  // release_acks is on the stack (after_ack sends tasks)
  uint64_t session_ = 0;
  FloatBuffer scratch_;  // one decoded update
  // With frozen layers an update carries the trainable slices only: decoded into trained_part_,
  // spread over scratch_, whose frozen entries stay 0 (so the mean leaves those layers alone).
  TrainableSlices trainable_;
  FloatBuffer trained_part_;
  AlignedBytes decode_scratch_;
  TaskFactory tasks_;
  Evaluator evaluator_;
  JoinCheck join_check_;
  std::optional<StandardizationGate> standardization_;
  LogThrottle junk_log_{std::chrono::seconds(1)};  // undecodable messages: a peer can send any number
  LogThrottle unsent_log_{std::chrono::seconds(1)};  // replies lost to a peer that does not read
  mutable std::map<uint64_t, uint32_t> version_hashes_;  // recent versions' model_hash
  std::optional<MetricsSink> metrics_;
  std::vector<RoundMetrics> history_;
  FleetTotals totals_;  // of the closed rounds in history_
};

}  // namespace edgefl::server
