// NeighbourExchange: one device's side of a DPSGD step — which neighbour models it takes, how
// long it waits, and what it mixes. No sockets: the caller feeds it decoded peer messages and
// reads the time from an injected TimeSource, so tests drive it over in-memory channels.
//
//   auto ex = edgefl::NeighbourExchange::create(settings, epoch, row_self, neighbours, P, clock);
//   ex->begin_step(t);                              // own model of step t goes out now
//   while (!ex->complete() && !ex->deadline_passed()) ex->offer(next_decoded_message());
//   auto out = ex->finish();                        // folded row + the models that arrived
//   edgefl::mix_into(params, sent, out->row, out->models);
//
// A model is taken only from a current neighbour, for this topology epoch, with the right
// length and finite values, for the current step or a later one within the staleness bound
// (a faster neighbour: kept until this device gets there). Older steps are refused as stale.
// A neighbour still missing when the step finishes has its weight folded onto this device.
// Each outgoing model carries "I missed your model of the previous step"
// (missed_previous()); a neighbour that receives that flag after it did mix ours counts a
// one-sided miss (the step where W was not symmetric), so each one is counted once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/decentral/mixing.hpp"

namespace edgefl {

// A neighbour's model as it arrived: already size-checked, copied aligned and verified by the
// message layer; the exchange adds the DPSGD checks.
struct PeerModelIn {
  std::string from;
  uint64_t epoch = 0;
  uint64_t step = 0;
  bool missed_previous = false;  // the sender did not get our model of step - 1 in time
  std::span<const float> parameters;
};

struct ExchangeSettings {
  std::chrono::milliseconds deadline{1000};  // per step, counted from begin_step()
  uint64_t staleness_bound = 2;              // models up to this many steps ahead are kept
};

struct ExchangeNeighbour {
  std::string id;
  double weight = 0.0;
};

struct StepOutcome {
  uint64_t step = 0;
  MixingRow row;                               // folded: missed neighbours weigh 0
  std::vector<std::span<const float>> models;  // one per neighbour, empty when missed; valid
                                               // until the next begin_step()
  std::vector<std::string> missed;             // ids of the neighbours folded this step
};

struct ExchangeCounters {
  uint64_t received = 0;          // models taken
  uint64_t refused = 0;           // models refused by offer()
  uint64_t missed = 0;            // neighbour-steps folded
  uint64_t one_sided_misses = 0;  // steps a neighbour missed our model while we mixed theirs
};

class NeighbourExchange {
 public:
  // Weights must be finite, non-negative and sum with self_weight to 1 (within 1e-9); ids
  // unique and non-empty; parameters > 0.
  static Result<NeighbourExchange> create(const ExchangeSettings& settings, uint64_t epoch,
                                          double self_weight,
                                          std::vector<ExchangeNeighbour> neighbours,
                                          std::size_t parameters, const TimeSource& clock);

  uint64_t epoch() const { return epoch_; }
  const std::vector<ExchangeNeighbour>& neighbours() const { return neighbours_; }

  // Starts step `step` (after the previous one finished, steps only move forward) and its
  // deadline; models that came early for it count as arrived.
  Status begin_step(uint64_t step);
  // Takes one neighbour model or says why not: unknown_device (not a current neighbour),
  // stale (older epoch, or a step already finished), failed_precondition (a newer epoch:
  // this device has not had its new topology yet), out_of_range (beyond the staleness bound),
  // duplicate, shape_mismatch, non_finite. A refusal changes nothing but the counters, except
  // that a neighbour's step beyond the bound is remembered: it has passed the steps before it.
  Status offer(const PeerModelIn& model);
  // Every neighbour's model of this step is here, or the neighbour already sent a later step
  // (it is ahead and will not send this one; also when that step was beyond the bound).
  bool complete() const;
  bool deadline_passed() const;
  SteadyTime deadline() const { return deadline_; }
  // Ends the step: failed_precondition before it is complete or past its deadline.
  Result<StepOutcome> finish();

  // Whether `neighbour`'s model of the last finished step was missed (the outgoing flag).
  bool missed_previous(std::string_view neighbour) const;
  const ExchangeCounters& counters() const { return counters_; }

 private:
  struct Arrived {
    FloatBuffer parameters;
    bool missed_previous = false;
  };
  // What this device holds of one neighbour (parallel to neighbours_).
  struct Slot {
    std::map<uint64_t, Arrived> models;  // by step: the current one and early ones
    bool mixed_last = false;             // its model was mixed at the last finished step
    uint64_t passed = 0;  // the newest step it sent beyond the staleness bound (not kept)
  };

  NeighbourExchange(const ExchangeSettings& settings, uint64_t epoch, double self_weight,
                    std::vector<ExchangeNeighbour> neighbours, std::size_t parameters,
                    const TimeSource& clock);
  Status refuse(Status why);
  // Index of `id` in neighbours_, or size() when it is not a neighbour.
  std::size_t index_of(std::string_view id) const;

  ExchangeSettings settings_;
  uint64_t epoch_;
  double self_weight_;
  std::vector<ExchangeNeighbour> neighbours_;
  std::vector<Slot> slots_;
  std::size_t parameters_;
  const TimeSource* clock_;
  bool in_step_ = false;
  bool begun_any_ = false;
  uint64_t step_ = 0;  // the current step, or the last finished one between steps
  SteadyTime deadline_{};
  ExchangeCounters counters_;
};

}  // namespace edgefl
