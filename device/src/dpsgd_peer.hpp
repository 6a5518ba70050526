// DpsgdPeer: one device's DPSGD steps over its PeerLinks (docs/protocol.md §14.4).
//
//   edgefl::DpsgdPeer peer(*links, "pi-3", run_id, limits, clock, log);
//   EDGEFL_RETURN_IF_ERROR(peer.assign(assignment, params.size()));
//   for (uint64_t t = 0; t < steps; ++t) {
//     auto done = peer.step(t, params.span(), [&](std::span<float> x) { return trainer.step(x); });
//   }
//
// A step sends this device's parameters x_j^t to every neighbour (ZeroMQ sends in its I/O
// thread, so the transfer overlaps the local step), runs the local step in place, waits for the
// neighbours' step-t models until all are there or the step deadline passes, and mixes:
// x_j <- (x_j^t - alpha d_j) + sum_k W'_jk (x_k^t - x_j^t), W' folding late neighbours onto self.
// Every inbound message is decoded like a server message (size limit, aligned copy, verifier,
// semantic checks), must be a PeerModel of this run, from a current neighbour (under CURVE:
// the neighbour whose key the connection authenticated), for a step within the staleness bound.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/decentral/neighbour_exchange.hpp"
#include "edgefl/proto/proto.hpp"
#include "peer_links.hpp"

namespace edgefl {

struct PeerStepResult {
  uint64_t step = 0;
  std::vector<std::string> missed;  // neighbours folded this step
  std::size_t sent_to = 0;          // neighbours whose link took our model
};

struct PeerTraffic {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t undecodable = 0;  // bytes that are no valid message, or not a PeerModel
  uint64_t refused = 0;      // decoded PeerModels refused (wrong sender, run, step, ...)
};

class DpsgdPeer {
 public:
  using LocalStep = std::function<Status(std::span<float>)>;
  using Log = std::function<void(std::string_view)>;

  DpsgdPeer(PeerLinks& links, std::string self_id, uint64_t run_id, const DecodeLimits& limits,
            const TimeSource& clock, Log log);

  // Takes this device's place in a (new) topology: dials the neighbours, admits their keys,
  // and starts a fresh exchange for the assignment's epoch.
  Status assign(const PeerAssignment& assignment, std::size_t parameters);
  Result<PeerStepResult> step(uint64_t step, std::span<float> params, const LocalStep& local_step);
  // For a device joining a run in progress (docs/protocol.md §14.7), before its first step:
  // listens up to `wait` for its neighbours' models (checked as in a step) and, if any came,
  // sets `params` to the mean of each neighbour's newest model and returns the newest step
  // among them; nullopt when none came.
  Result<std::optional<uint64_t>> adopt_neighbours(std::span<float> params,
                                                   std::chrono::milliseconds wait);

  // Since this peer was made, across assignments (each re-wire starts a fresh exchange).
  ExchangeCounters counters() const;
  const PeerTraffic& traffic() const { return traffic_; }
  // Drops every message already waiting on the peer socket (what arrived while the device was
  // off the network), unread and uncounted; returns how many.
  Result<std::size_t> discard_inbound();
  // ||x_j - x_k||^2 per neighbour, at the last step its model arrived.
  const std::map<std::string, double>& distances() const { return distances_; }

 private:
  void handle(const Inbound& inbound);
  // Decodes and checks an inbound message up to the exchange's own checks; the model's values
  // are then in incoming_. nullptr (counted and logged) when it is refused.
  const PeerModel* verify(const Inbound& inbound, std::optional<DecodedMessage>& decoded);
  void refuse(const std::string& sender, const Status& why);

  PeerLinks* links_;
  std::string self_id_;
  uint64_t run_id_;
  DecodeLimits limits_;
  const TimeSource* clock_;
  Log log_;
  std::optional<NeighbourExchange> exchange_;
  ExchangeCounters retired_;  // of the exchanges of earlier assignments
  FloatBuffer sent_;
  FloatBuffer incoming_;  // a decoded neighbour model before the exchange copies it
  AlignedBytes scratch_;
  PeerTraffic traffic_;
  std::map<std::string, double> distances_;
  std::map<std::pair<std::string, StatusCode>, uint64_t> refusals_;  // for the log throttle
};

}  // namespace edgefl
