// DpsgdWorker: decentralised training on the device (docs/protocol.md §14). On its own thread
// it runs DPSGD steps (DpsgdPeer over the device's PeerLinks) on the model, initial
// parameters and training settings of the server's PeerAssignment, takes each new assignment
// (a re-wired topology) between two steps, and queues a PeerReport every report_interval
// steps for the agent to send upstream. The server never receives the model unless the
// assignment asks for snapshots.
//
//   DpsgdWorker worker(options, std::move(links), log);
//   worker.assign(std::move(assignment_message));     // session thread
//   for (Bytes& report : worker.take_reports()) session.send(report);
//   if (worker.finished()) ...                        // ran start.config.local_steps steps
//
// Each step is one minibatch of train.batch_size from a per-epoch shuffle seeded by the
// run's seed and the device's, with the optimizer and lr schedule of the assignment's Task.
//
// Reboots and late joins (docs/protocol.md §14.7): every persist_interval steps the worker
// writes its parameters and step (a checkpoint file, atomically). At its first assignment of a
// run in progress (start.config.start_step > 0) it listens to its neighbours for up to two step
// deadlines: it resumes its persisted state if that is within the staleness bound of the
// newest step they sent, and otherwise (and with nothing persisted) adopts the mean of their
// models and the step after theirs, with fresh optimizer state.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "edgefl/data/dataset.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/store/file_system.hpp"
#include "peer_links.hpp"
#include "upstream_session.hpp"

namespace edgefl::device {

struct DpsgdWorkerOptions {
  std::string device_id;          // what this device's PeerModels say as sender
  const Dataset* data = nullptr;  // outlives the worker, as do `rows`
  std::span<const uint32_t> rows;  // this device's rows of `data` when devices share it (empty: all)
  DatasetView local_data() const { return rows.empty() ? DatasetView(*data) : DatasetView(*data, rows); }
  uint32_t threads = 1;
  Backend backend = default_backend();
  uint64_t device_seed = 0;  // mixed into the run's seed: devices draw different batches
  DecodeLimits limits;
  FileSystem* fs = nullptr;        // where the state file lives (nullptr: nothing is persisted)
  std::string state_path;          // parameters and step, written atomically
  uint32_t persist_interval = 10;  // steps between writes of the state file (0: never)
  // Simulated weak boards (simulate.slowdown / offline_probability, edgefl-sim): each local
  // step takes `slowdown` times its compute time; after each step the device goes off the
  // network with `offline_probability` for `offline` (draws seeded by offline_seed and the
  // device's offline_stream), calling on_offline first so its upstream link goes down too.
  double slowdown = 1.0;
  float offline_probability = 0;
  std::chrono::milliseconds offline{0};
  uint64_t offline_seed = 0;
  uint64_t offline_stream = 0;
  std::function<void()> on_offline;
};

class DpsgdWorker {
 public:
  DpsgdWorker(DpsgdWorkerOptions options, std::unique_ptr<PeerLinks> links, LogSink log);
  ~DpsgdWorker();  // stops after the current step and joins the thread
  DpsgdWorker(const DpsgdWorker&) = delete;
  DpsgdWorker& operator=(const DpsgdWorker&) = delete;

  // An encoded PeerAssignment (already decoded once by the session): taken before the next step.
  void assign(Bytes message);
  // Encoded PeerReports queued since the last call.
  std::vector<Bytes> take_reports();
  // The run's steps are done (start.config.local_steps), or training failed (error()).
  bool finished() const { return finished_.load(); }
  Status error() const;
  uint64_t steps_done() const { return steps_done_.load(); }

  struct State;  // model, trainer, peer: built and used on the worker thread only

 private:
  void run();
  Status train(State& state);
  // The step a run's first assignment starts at, with the parameters it starts from in state.
  Result<uint64_t> first_step(State& state, const PeerAssignment& assignment);
  // After time away, at `own` (the step it would continue at, with its parameters in
  // state.params; nullopt: none): listens to the neighbours for two step deadlines and keeps
  // `own` if that is within the staleness bound of the newest step they sent, otherwise adopts
  // their mean and the step after theirs with fresh optimizer state. `fallback`: the step when
  // there is no own step and no neighbour spoke; `own_name` says what `own` is, for the log.
  Result<uint64_t> rejoin(State& state, std::optional<uint64_t> own, uint64_t fallback,
                          std::string_view own_name);
  // A simulated outage after a step: silent for options_.offline, then what arrived meanwhile
  // is dropped and the device rejoins at `step`. The step to continue at.
  Result<uint64_t> outage(State& state, uint64_t step);
  // Waits `duration` unless the worker is stopped first (false then).
  bool pause(std::chrono::steady_clock::duration duration);

  DpsgdWorkerOptions options_;
  std::unique_ptr<PeerLinks> links_;
  LogSink log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Bytes> pending_;  // the newest assignment not yet taken
  std::vector<Bytes> reports_;
  Status error_;
  bool stop_ = false;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> steps_done_{0};
  std::thread thread_;
};

}  // namespace edgefl::device
